//! What carriers and recipients sign: the Postern-Carriers header, receipt outcomes, and the
//! base64 of passes and proofs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let alice = postern_fuzz::alice().address();
    let bob = postern_fuzz::bob().address().to_string();
    for c in postern_carry::parse_carriers(text, alice, &bob, 1_800_000_000) {
        assert!(c.expires_at > 1_800_000_000);
    }
    let _ = postern_carry::Outcome::parse(text);
    if let Some(bytes) = postern_carry::unb64(text) {
        let _ = postern_carry::pass_ok(alice, &bob, &bob, 0, &bytes);
        let _ = postern_carry::pull_ok(alice, &bob, 0, &bytes);
    }
});
