//! Contact cards, binary and text: whatever decodes must verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_card::ContactCard;

fuzz_target!(|data: &[u8]| {
    if let Ok(card) = ContactCard::decode(data) {
        assert!(card.binding().verify().is_ok());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ContactCard::from_text(text);
    }
});
