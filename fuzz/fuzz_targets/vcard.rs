//! Introduced vCards: what a contact's introduction carries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_card::ContactCard;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ContactCard::from_vcard(text);
    }
});
