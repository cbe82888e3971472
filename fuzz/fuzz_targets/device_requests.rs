//! What one of a person's devices sends another over their identity's service (`XDEVICE`'s
//! arguments), and the lease it answers with.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let alice = postern_fuzz::alice().address();
    let args: Vec<String> = text.split(' ').map(str::to_owned).collect();
    if let Ok(r) = postern_crypto::DeviceRequest::parse(alice, &args) {
        // Only alice's key signs what verifies as hers: the seed, never a mutation of it.
        assert_eq!(r.args(), text);
    }
    if let Ok(l) = postern_crypto::Lease::from_token(alice, text) {
        assert_eq!(l.token(), text);
    }
});
