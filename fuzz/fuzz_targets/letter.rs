//! The decrypted inner message: headers (protected, Autocrypt, Postern-*), body, attachments.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = postern_mime::Letter::parse(data);
});
