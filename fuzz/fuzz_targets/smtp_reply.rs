//! The client's reply parser: whatever a peer answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_smtp::ReplyParser;

fuzz_target!(|data: &[u8]| {
    let mut p = ReplyParser::new();
    for chunk in data.chunks(7) {
        p.feed(chunk);
        while let Ok(Some(_)) = p.next_reply() {}
    }
});
