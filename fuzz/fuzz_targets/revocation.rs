//! Signed revocation statements.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_crypto::Revocation;

fuzz_target!(|data: &[u8]| {
    let _ = Revocation::decode(data);
});
