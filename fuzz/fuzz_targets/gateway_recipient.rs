//! The gateway's public server deciding on `RCPT TO`: any address and any sender from the
//! Internet. It must never panic, never take an address in another domain or in a routing
//! form, and take a reply address only as issued.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_gateway::{
    mint_local_part, verify_local_part, InboundPolicy, RecipientVerdict, ReplySecret,
};

const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (rcpt, from) = text.split_once('\n').unwrap_or((&text, "bob@example.org"));
    let policy = InboundPolicy {
        domain: "gw.example.net".into(),
        secret: ReplySecret::from_bytes([1; 32]),
    };
    if let RecipientVerdict::Accept(route) = policy.recipient(rcpt, from, NOW) {
        let (local, domain) = rcpt.rsplit_once('@').expect("accepted addresses have a domain");
        assert!(domain.trim_end_matches('.').eq_ignore_ascii_case("gw.example.net"));
        assert!(!local.contains(['%', '!', ':', '"', '@']));
        assert!(route.expires >= NOW);
    }
    // A minted address for any correspondent verifies for exactly that one.
    let local = mint_local_part(&policy.secret, 7, NOW + 86_400, from);
    assert!(verify_local_part(&policy.secret, &local, from, NOW).is_ok());
    let _ = verify_local_part(&policy.secret, rcpt, from, NOW);
});
