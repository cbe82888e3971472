//! The flags text one of a person's devices sends another (`device-flags`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(lines) = postern_mime::device_flags::parse(text) {
            // What parses writes back to the same lines.
            let again: Vec<String> = lines
                .iter()
                .map(|l| l.to_line().expect("a parsed line writes back"))
                .collect();
            assert_eq!(postern_mime::device_flags::parse(&again.join("\n")), Ok(lines));
        }
    }
});
