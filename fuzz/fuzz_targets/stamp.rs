//! Proof-of-work stamps at the head of a message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(s) = postern_mime::stamp::find(data) {
        let _ = s.holds("bob@example.onion", &[1; 20], 20_000, 8);
    }
});
