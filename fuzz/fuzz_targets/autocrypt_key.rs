//! A gateway reading an ordinary correspondent's key: an `Autocrypt` header from any mail on
//! the Internet, or key bytes a sender gave. Never a panic; a key taken encrypts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_mime::OutsiderKey;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(key) = OutsiderKey::from_autocrypt(&text, "carol@example.org") {
        assert!(key.encrypt(b"\r\n").is_ok());
    }
    if let Ok(key) = OutsiderKey::parse(data) {
        let bytes = key.to_bytes().expect("a parsed key serializes");
        assert!(OutsiderKey::parse(&bytes).is_ok());
    }
});
