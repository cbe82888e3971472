//! The SMTP server session: any bytes, split anywhere, answered like a node answers. It must
//! never panic, and nothing it hands on may exceed the size limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_smtp::{Event, Reply, ServerConfig, ServerSession, SessionKind};

const LIMIT: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let mut s = ServerSession::new(ServerConfig {
        hostname: "fuzz.onion".into(),
        local_addresses: vec![postern_fuzz::bob().address().to_string()],
        max_message_size: LIMIT,
        max_recipients: 4,
        max_errors: 10,
        max_commands: 1000,
        // The low bits of the split byte: the node's session, a mail client's submission, or a
        // gateway's public server (with STARTTLS).
        kind: match split % 3 {
            0 => SessionKind::Peer,
            1 => SessionKind::Submission,
            _ => SessionKind::Public { starttls: true },
        },
    });
    let mut queue = s.greet();
    let step = usize::from(split).max(1);
    let mut chunks = rest.chunks(step);
    loop {
        while !queue.is_empty() {
            let mut next = Vec::new();
            for e in queue {
                match e {
                    Event::Message { data, .. } => {
                        assert!(data.len() <= LIMIT);
                        next.extend(s.delivered(Reply::new(250, "2.0.0", "Stored")));
                    }
                    Event::CardRequest(_) => next.extend(s.card(Some("POSTERN-CARD:AA".into()))),
                    Event::Control { .. } => next.extend(s.answer(Reply::new(550, "5.7.1", "no"))),
                    Event::Auth { password, .. } => {
                        let ok = password == "pw";
                        next.extend(s.authenticated(ok.then(|| "a@b.onion".to_owned())))
                    }
                    Event::Recipient { address, .. } => {
                        let ok = address.starts_with('r');
                        next.extend(s.recipient(if ok {
                            Ok(())
                        } else {
                            Err(Reply::new(550, "5.7.1", "Relaying denied"))
                        }))
                    }
                    Event::StartTls => next.extend(s.tls_started()),
                    Event::Reply(_) | Event::Close => {}
                }
            }
            queue = next;
        }
        match chunks.next() {
            Some(c) => queue = s.input(c),
            None => break,
        }
    }
    let _ = s.timeout();
});
