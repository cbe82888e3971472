//! Invite links (QR payloads): anything pasted or scanned.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_card::Invite;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(i) = Invite::from_text(text) {
            assert_eq!(Invite::from_text(&i.to_text()).ok().as_ref(), Some(&i));
        }
    }
});
