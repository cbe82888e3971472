//! A list neighbour's wire message: decoded (and, when it decodes, encoded back to the same
//! message), then handed to a list member as bytes from a linked neighbour.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_list::{Config, ListNode, MemberId, SigningKey, Wire};

fuzz_target!(|data: &[u8]| {
    if let Ok(wire) = Wire::decode(data) {
        assert_eq!(Wire::decode(&wire.encode()).as_ref(), Ok(&wire));
    }
    let key = SigningKey::from_bytes(&[1; 32]);
    let mut node = ListNode::create(
        Config::default(),
        key,
        "fuzzed list",
        [0; 16],
        vec![],
        1_000,
    );
    let neighbour = MemberId::of(&SigningKey::from_bytes(&[2; 32]));
    node.link(neighbour, 1_000);
    node.handle_bytes(2_000, neighbour, data);
    node.handle_timeout(20_000);
    while node.poll_transmit().is_some() {}
});
