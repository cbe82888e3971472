//! A decrypted message's attachments taken out and put back (what is stored of others' mail):
//! never a panic; the stored skeleton names exactly the cargo taken; putting back gives a
//! message that parses to the same attachments.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_mime::cargo;

fuzz_target!(|data: &[u8]| {
    let Ok((skeleton, taken)) = cargo::take_out(data) else {
        return;
    };
    if taken.is_empty() {
        return;
    }
    let hashes: Vec<[u8; 32]> = taken.iter().map(|c| c.hash).collect();
    assert_eq!(cargo::cargo_hashes(&skeleton), hashes);
    let back = cargo::put_back(&skeleton, |h| {
        taken.iter().find(|c| &c.hash == h).map(|c| c.data.clone())
    });
    // Taking out again finds the same content.
    if let Ok((_, again)) = cargo::take_out(&back) {
        let again: Vec<[u8; 32]> = again.iter().map(|c| c.hash).collect();
        assert_eq!(again, hashes);
    }
});
