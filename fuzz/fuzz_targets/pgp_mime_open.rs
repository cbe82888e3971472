//! Opening PGP/MIME: any message to Bob, decrypted (bounded) and checked against Alice's key.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bob = postern_fuzz::bob();
    if let Ok(d) = postern_mime::decrypt(data, bob.openpgp_cert(), 256 * 1024) {
        assert!(d.inner.len() <= 256 * 1024);
        let _ = d.verify(postern_fuzz::alice().openpgp_cert(), std::time::UNIX_EPOCH);
        let _ = postern_mime::Letter::parse(&d.inner);
    }
    let _ = postern_mime::encrypted_for(data, bob.openpgp_cert());
});
