//! List mail's frame (the attachment of a message between two members): decoded (and, when it
//! decodes, encoded back to the same frame); an invitation's charter is used to join, a wire
//! message handed to a list member from a linked neighbour.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_list::{Config, Frame, ListNode, MemberId, SigningKey};

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = Frame::decode(data) else {
        return;
    };
    assert_eq!(Frame::decode(&frame.encode()).as_ref(), Ok(&frame));
    match frame {
        Frame::Invite { charter, sponsor } => {
            let _ = ListNode::join(
                Config::default(),
                SigningKey::from_bytes(&[3; 32]),
                charter,
                sponsor,
                [0; 64],
                1_000,
            );
        }
        Frame::Wire { wire, .. } => {
            let mut node = ListNode::create(
                Config::default(),
                SigningKey::from_bytes(&[1; 32]),
                "fuzzed list",
                [0; 16],
                vec![],
                1_000,
            );
            let neighbour = MemberId::of(&SigningKey::from_bytes(&[2; 32]));
            node.link(neighbour, 1_000);
            node.handle(2_000, neighbour, wire);
            while node.poll_transmit().is_some() {}
        }
        Frame::Accept { .. } | Frame::Welcome { .. } => {}
    }
});
