//! The IMAP session: any bytes, split anywhere, logged in or not. It must never panic, and what
//! it writes stays bounded by what it is asked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_imap::{ImapSession, Limits, MemoryStore, Step};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_literal: 4096,
        max_command: 8192,
        max_errors: 10,
    };
    let mut s = ImapSession::new(MemoryStore::with(3), limits);
    // The high bit: start logged in, so the selected-state commands are reached too.
    let mut input: Vec<u8> = Vec::new();
    if split & 0x80 != 0 {
        input.extend_from_slice(b"x LOGIN me pw\r\ny SELECT INBOX\r\n");
    }
    input.extend_from_slice(rest);
    let step = usize::from(split & 0x7f).max(1);
    let mut chunks = input.chunks(step);
    let mut written = 0usize;
    loop {
        match s.step() {
            Step::Write(b) => {
                written += b.len();
                assert!(written < 64 * 1024 * 1024);
            }
            Step::Close => break,
            Step::NeedInput => match chunks.next() {
                Some(c) => {
                    s.feed(c);
                    if s.idling() {
                        s.store_mut().add("Subject: new\r\n\r\nnew\r\n");
                        s.changed();
                    }
                }
                None => break,
            },
        }
    }
});
