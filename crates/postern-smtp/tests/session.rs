//! The server session, table-driven, with input split at every byte boundary.

use postern_smtp::{Envelope, Event, Reply, ServerConfig, ServerSession, SessionKind};

const BOB: &str = "bob@2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";
const ALICE: &str = "alice@2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";

fn config() -> ServerConfig {
    ServerConfig {
        hostname: "bobhost.onion".into(),
        local_addresses: vec![BOB.into()],
        max_message_size: 10_000,
        max_recipients: 5,
        max_errors: 5,
        max_commands: 40,
        kind: SessionKind::Peer,
    }
}

/// Reply codes in order, delivered messages, and whether the session closed.
type Outcome = (Vec<u16>, Vec<(Envelope, Vec<u8>)>, bool);

/// Run a transcript. Every Message is answered with `250` at once. Returns (codes of replies in
/// order, delivered messages, closed).
fn run_chunks(chunks: &[&[u8]], cfg: ServerConfig) -> Outcome {
    let mut s = ServerSession::new(cfg);
    let mut codes = Vec::new();
    let mut messages = Vec::new();
    let mut pending: Vec<Event> = s.greet();
    let handle = |s: &mut ServerSession,
                  evs: Vec<Event>,
                  codes: &mut Vec<u16>,
                  messages: &mut Vec<(Envelope, Vec<u8>)>| {
        let mut queue = evs;
        while !queue.is_empty() {
            let mut next = Vec::new();
            for e in queue {
                match e {
                    Event::Reply(r) => codes.push(r.code),
                    Event::Message { envelope, data } => {
                        messages.push((envelope, data));
                        next.extend(s.delivered(Reply::new(250, "2.0.0", "Stored")));
                    }
                    Event::CardRequest(_) => next.extend(s.card(Some("POSTERN-CARD:AAAA".into()))),
                    Event::Control { verb, args } => next.extend(s.answer(Reply::new(
                        250,
                        "2.0.0",
                        format!("{verb} {}", args.len()),
                    ))),
                    Event::Auth { user, password } => {
                        let ok = password == "right" && user == ALICE;
                        next.extend(s.authenticated(ok.then(|| ALICE.to_owned())))
                    }
                    // Public sessions: reply addresses start with "r-"; TLS "starts" at once
                    // and is recorded as code 1.
                    Event::Recipient { address, .. } => {
                        next.extend(s.recipient(if address.starts_with("r-") {
                            Ok(())
                        } else {
                            Err(Reply::new(550, "5.7.1", "Relaying denied"))
                        }))
                    }
                    Event::StartTls => {
                        codes.push(1);
                        next.extend(s.tls_started());
                    }
                    Event::Close => {}
                }
            }
            queue = next;
        }
    };
    handle(
        &mut s,
        std::mem::take(&mut pending),
        &mut codes,
        &mut messages,
    );
    for c in chunks {
        let evs = s.input(c);
        handle(&mut s, evs, &mut codes, &mut messages);
    }
    let closed = s.is_closed();
    (codes, messages, closed)
}

fn run(input: &[u8]) -> Outcome {
    run_chunks(&[input], config())
}

fn envelope(data: &str) -> Vec<u8> {
    format!("EHLO client\r\nMAIL FROM:<{ALICE}>\r\nRCPT TO:<{BOB}>\r\nDATA\r\n{data}").into_bytes()
}

#[test]
fn a_message_is_delivered_unstuffed_and_the_same_at_every_split() {
    let mut input = envelope("Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\n");
    input.extend_from_slice(b"QUIT\r\n");
    let whole = run(&input);
    assert_eq!(whole.0, vec![220, 250, 250, 250, 354, 250, 221]);
    assert_eq!(whole.1.len(), 1);
    assert_eq!(whole.1[0].0.mail_from, ALICE);
    assert_eq!(whole.1[0].0.rcpt_to, vec![BOB.to_string()]);
    assert_eq!(whole.1[0].1, b"Subject: hi\r\n\r\n.leading dot\r\nbody\r\n");
    assert!(whole.2);
    for split in 0..input.len() {
        let (a, b) = input.split_at(split);
        assert_eq!(run_chunks(&[a, b], config()), whole, "split at {split}");
    }
    // Byte by byte.
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run_chunks(&bytes, config()), whole);
}

#[test]
fn pipelined_commands_get_replies_in_order() {
    let input = format!(
        "EHLO c\r\nMAIL FROM:<{ALICE}>\r\nRCPT TO:<{BOB}>\r\nRCPT TO:<x@example.com>\r\nDATA\r\nhi\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n"
    );
    let (codes, msgs, closed) = run(input.as_bytes());
    assert_eq!(
        codes,
        vec![220, 250, 250, 250, 550, 354, 250, 250, 250, 221]
    );
    assert_eq!(msgs.len(), 1);
    assert!(closed);
}

#[test]
fn talking_before_the_greeting_is_refused() {
    let mut s = ServerSession::new(config());
    assert!(s.input(b"EHLO early\r\n").is_empty());
    let evs = s.greet();
    assert!(matches!(&evs[0], Event::Reply(r) if r.code == 554));
    assert_eq!(evs.last(), Some(&Event::Close));
    assert!(s.is_closed());
}

/// Every SMTP-smuggling variant closes the connection with 521 and delivers nothing.
#[test]
fn smuggling_variants_are_rejected_never_split() {
    let smuggled = format!(
        "MAIL FROM:<{ALICE}>\r\nRCPT TO:<{BOB}>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n"
    );
    for (name, end) in [
        ("LF.LF", "\n.\n"),
        ("LF.CRLF", "\n.\r\n"),
        ("CR.CRLF", "\r.\r\n"),
        ("CRLF.LF", "\r\n.\n"),
        ("CRLF.CR", "\r\n.\r"),
        ("CR.CR", "\r.\r"),
        ("bare LF line", "\nmore\r\n"),
    ] {
        let input = envelope(&format!("Subject: a\r\n\r\nbody{end}{smuggled}"));
        let (codes, msgs, closed) = run(&input);
        assert!(msgs.is_empty(), "{name}: delivered {:?}", msgs);
        assert_eq!(codes.last(), Some(&521), "{name}: {codes:?}");
        assert!(closed, "{name}");
    }
    // A NUL before the dot does not end the message either; the message is refused, once.
    let input = envelope(&format!("Subject: a\r\n\r\nbody\r\n\0.\r\n{smuggled}"));
    let (codes, msgs, _) = run(&input);
    assert!(msgs.is_empty());
    assert_eq!(codes, vec![220, 250, 250, 250, 354, 554]);
}

#[test]
fn bare_newlines_in_commands_close_the_session() {
    for input in [&b"EHLO x\n"[..], b"EHLO x\rMAIL\r\n", b"NOOP\r\nEHLO\n"] {
        let (codes, msgs, closed) = run(input);
        assert_eq!(
            codes.last(),
            Some(&521),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert!(closed && msgs.is_empty());
    }
}

#[test]
fn limits() {
    // Command longer than 512 octets: refused, session continues.
    let long = format!("NOOP {}\r\nNOOP\r\n", "x".repeat(600));
    assert_eq!(run(long.as_bytes()).0, vec![220, 500, 250]);
    // An over-long command split into pieces is still one error.
    let (a, b) = long.as_bytes().split_at(300);
    assert_eq!(run_chunks(&[a, b], config()).0, vec![220, 500, 250]);

    // Text line over 1000 octets: whole message refused after the dot.
    let input = envelope(&format!("{}\r\n.\r\n", "y".repeat(1200)));
    let (codes, msgs, _) = run(&input);
    assert_eq!(codes.last(), Some(&554));
    assert!(msgs.is_empty());

    // Message over the size limit.
    let body: String = "z".repeat(998) + "\r\n";
    let input = envelope(&format!("{}.\r\n", body.repeat(11)));
    let (codes, msgs, _) = run(&input);
    assert_eq!(codes.last(), Some(&552));
    assert!(msgs.is_empty());

    // Declared SIZE over the limit is refused at MAIL.
    let input = format!("EHLO c\r\nMAIL FROM:<{ALICE}> SIZE=999999\r\n");
    assert_eq!(run(input.as_bytes()).0, vec![220, 250, 552]);

    // Too many recipients.
    let many: Vec<String> = (0..4)
        .map(|i| format!("r{i}@2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"))
        .collect();
    let cfg = ServerConfig {
        local_addresses: many.clone(),
        max_recipients: 2,
        ..config()
    };
    let mut input = format!("EHLO c\r\nMAIL FROM:<{ALICE}>\r\n");
    for r in &many[..3] {
        input.push_str(&format!("RCPT TO:<{r}>\r\n"));
    }
    assert_eq!(
        run_chunks(&[input.as_bytes()], cfg).0,
        vec![220, 250, 250, 250, 250, 452]
    );
}

#[test]
fn sequence_errors_and_garbage() {
    let cases: Vec<(&str, String, Vec<u16>)> = vec![
        ("DATA without anything", "DATA\r\n".into(), vec![220, 503]),
        (
            "MAIL before EHLO",
            format!("MAIL FROM:<{ALICE}>\r\n"),
            vec![220, 503],
        ),
        (
            "DATA without RCPT",
            format!("EHLO c\r\nMAIL FROM:<{ALICE}>\r\nDATA\r\n"),
            vec![220, 250, 250, 503],
        ),
        (
            "RCPT without MAIL",
            format!("EHLO c\r\nRCPT TO:<{BOB}>\r\n"),
            vec![220, 250, 503],
        ),
        (
            "non-Postern sender",
            "EHLO c\r\nMAIL FROM:<a@example.com>\r\n".into(),
            vec![220, 250, 553],
        ),
        (
            "null sender",
            "EHLO c\r\nMAIL FROM:<>\r\n".into(),
            vec![220, 250, 553],
        ),
        (
            "unknown recipient",
            format!("EHLO c\r\nMAIL FROM:<{ALICE}>\r\nRCPT TO:<{ALICE}>\r\n"),
            vec![220, 250, 250, 550],
        ),
        ("garbage", "\u{1}\u{2}\u{7f}zz\r\n".into(), vec![220, 500]),
        (
            "STARTTLS",
            "EHLO c\r\nSTARTTLS\r\n".into(),
            vec![220, 250, 502],
        ),
        ("CARD before EHLO", "CARD bob\r\n".into(), vec![220, 503]),
        (
            "CARD bad name",
            "EHLO c\r\nCARD a/b\r\n".into(),
            vec![220, 250, 501],
        ),
        ("CARD", "EHLO c\r\nCARD bob\r\n".into(), vec![220, 250, 250]),
    ];
    for (name, input, want) in cases {
        let (codes, msgs, _) = run(input.as_bytes());
        assert_eq!(codes, want, "{name}");
        assert!(msgs.is_empty(), "{name}");
    }
    // Binary garbage never panics and ends in a closed session once errors pile up.
    let garbage: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let (codes, msgs, _) = run(&garbage);
    assert!(msgs.is_empty());
    assert!(codes.iter().all(|c| *c == 220 || *c >= 400), "{codes:?}");
    let many_errors = "BOGUS\r\n".repeat(10);
    let (codes, _, closed) = run(many_errors.as_bytes());
    assert_eq!(codes.last(), Some(&421));
    assert!(closed);
}

#[test]
fn the_reply_to_data_is_the_callers_and_waits_for_it() {
    let mut s = ServerSession::new(config());
    s.greet();
    let mut evs = s.input(&envelope("hello\r\n.\r\nQUIT\r\n"));
    let Some(Event::Message { .. }) = evs.pop() else {
        panic!("no message: {evs:?}")
    };
    assert!(s.is_waiting());
    // Nothing more happens until the commit outcome is known.
    assert!(s.input(b"NOOP\r\n").is_empty());
    let evs = s.delivered(Reply::new(451, "4.3.0", "Try again later"));
    let codes: Vec<u16> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Reply(r) => Some(r.code),
            _ => None,
        })
        .collect();
    assert_eq!(codes, vec![451, 221]);
}

#[test]
fn timeout_says_421() {
    let mut s = ServerSession::new(config());
    s.greet();
    let evs = s.timeout();
    assert!(matches!(&evs[0], Event::Reply(r) if r.code == 421));
    assert!(s.is_closed());
}

const CAROL: &str = "carol@2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";

#[test]
fn a_hand_over_allows_exactly_its_one_foreign_recipient() {
    // Without XCARRY a foreign recipient is refused; with it, only the carried one passes, and
    // the claim travels with the envelope to the driver.
    let input = format!(
        "EHLO c\r\nMAIL FROM:<{ALICE}>\r\nRCPT TO:<{CAROL}>\r\nRSET\r\n\
         XCARRY {CAROL} pass proof\r\nMAIL FROM:<{ALICE}>\r\nRCPT TO:<{BOB}>\r\nRCPT TO:<{CAROL}>\r\n\
         DATA\r\nhi\r\n.\r\nMAIL FROM:<{ALICE}>\r\nRCPT TO:<{CAROL}>\r\n"
    );
    let (codes, messages, _) = run(input.as_bytes());
    assert_eq!(
        codes,
        vec![220, 250, 250, 550, 250, 250, 250, 550, 250, 354, 250, 250, 550]
    );
    assert_eq!(messages.len(), 1);
    let claim = messages[0].0.carry.clone().expect("claim");
    assert_eq!(claim.recipient, CAROL);
    assert_eq!(claim.credentials, vec!["pass", "proof"]);
    assert_eq!(messages[0].0.rcpt_to, vec![CAROL.to_owned()]);
}

#[test]
fn hand_over_and_control_commands_have_their_order() {
    let input = format!(
        "XCARRY {CAROL} x\r\nEHLO c\r\nXCARRY not-an-address x\r\n\
         XCARRY {CAROL} x\r\nXCARRY {CAROL} x\r\nMAIL FROM:<{ALICE}>\r\nXPULL a\r\nRSET\r\nXPULL a b\r\n"
    );
    let (codes, _, _) = run(input.as_bytes());
    assert_eq!(
        codes,
        vec![220, 503, 250, 501, 250, 503, 250, 503, 250, 250]
    );
}

#[test]
fn the_kept_tail_of_an_over_long_line_never_ends_data() {
    // A DATA line longer than 1000 octets whose last kept byte is "." followed later by CRLF:
    // before the fix the tail ended the message and the rest ran as SMTP commands.
    for split in [false, true] {
        let mut body = "x".repeat(1500);
        body.push('.');
        let first = envelope(&body);
        let rest =
            format!("\r\nMAIL FROM:<{ALICE}>\r\nRCPT TO:<{BOB}>\r\nDATA\r\nsmuggled\r\n.\r\n");
        let (codes, messages, _) = if split {
            run_chunks(&[&first, rest.as_bytes()], config())
        } else {
            let mut all = first.clone();
            all.extend_from_slice(rest.as_bytes());
            run_chunks(&[&all], config())
        };
        assert!(messages.is_empty(), "split {split}: {messages:?}");
        // EHLO, MAIL, RCPT, DATA; then everything up to the one real end is message text, and
        // the over-long line refuses it.
        assert_eq!(codes, vec![220, 250, 250, 250, 354, 554], "split {split}");
    }
}

#[test]
fn refused_cards_and_controls_count_as_errors_and_cards_are_limited() {
    let mut s = ServerSession::new(config());
    s.greet();
    s.input(b"EHLO c\r\n");
    let mut closed_after = None;
    for i in 0..10 {
        s.input(b"XPULL a b c\r\n");
        let evs = s.answer(Reply::new(550, "5.7.1", "no"));
        if evs.iter().any(|e| matches!(e, Event::Close)) {
            closed_after = Some(i + 1);
            break;
        }
    }
    assert_eq!(
        closed_after,
        Some(6),
        "max_errors 5: the sixth refusal closes"
    );

    // Unknown cards count: four refused by the driver, then two refused by the session (over
    // MAX_CARD_REQUESTS): the sixth error closes the session.
    let mut s = ServerSession::new(config());
    s.greet();
    s.input(b"EHLO c\r\n");
    for i in 1..=6 {
        assert!(!s.is_closed(), "closed before card {i}");
        let evs = s.input(b"CARD nobody\r\n");
        if matches!(evs[..], [Event::CardRequest(_)]) {
            s.card(None);
        }
    }
    assert!(s.is_closed());

    // Beyond MAX_CARD_REQUESTS a CARD is refused without asking the driver.
    let mut s = ServerSession::new(ServerConfig {
        max_errors: 100,
        ..config()
    });
    s.greet();
    s.input(b"EHLO c\r\n");
    for _ in 0..postern_smtp::MAX_CARD_REQUESTS {
        assert!(matches!(
            s.input(b"CARD bob\r\n")[..],
            [Event::CardRequest(_)]
        ));
        s.card(Some("POSTERN-CARD:AAAA".into()));
    }
    let evs = s.input(b"CARD bob\r\n");
    assert!(
        matches!(&evs[..], [Event::Reply(r)] if r.code == 503),
        "{evs:?}"
    );
}

#[test]
fn a_session_has_a_command_budget() {
    let noops = b"NOOP\r\n".repeat(60);
    let mut input = b"EHLO c\r\n".to_vec();
    input.extend_from_slice(&noops);
    let (codes, _, closed) = run(&input);
    assert!(closed);
    // Greeting, then 40 commands answered, then 421.
    assert_eq!(codes.len(), 1 + 40 + 1);
    assert_eq!(codes.last(), Some(&421));
}

fn plain(user: &str, password: &str) -> String {
    let raw = format!("\0{user}\0{password}");
    data_encoding::BASE64.encode(raw.as_bytes())
}

#[test]
fn submission_needs_a_login_and_the_logged_in_sender() {
    let cfg = || ServerConfig {
        kind: SessionKind::Submission,
        max_errors: 20,
        ..config()
    };
    // Before AUTH: no mail; wrong password: 535; other mechanisms: 504; node verbs: 502.
    let input = format!(
        "EHLO c\r\nMAIL FROM:<{ALICE}>\r\nAUTH LOGIN\r\nAUTH PLAIN {}\r\nCARD bob\r\n\
         AUTH PLAIN\r\n{}\r\nAUTH PLAIN {}\r\nMAIL FROM:<{BOB}>\r\nMAIL FROM:<{ALICE}>\r\n\
         RCPT TO:<someone@example.org>\r\nRCPT TO:<{BOB}>\r\nDATA\r\nSubject: hi\r\n\r\nyo\r\n.\r\nQUIT\r\n",
        plain(ALICE, "wrong"),
        plain(ALICE, "right"),
        plain(ALICE, "right"),
    );
    for split in [input.len(), 7, 1] {
        let chunks: Vec<&[u8]> = input.as_bytes().chunks(split).collect();
        let (codes, messages, closed) = run_chunks(&chunks, cfg());
        assert_eq!(
            codes,
            [220, 250, 530, 504, 535, 502, 334, 235, 503, 553, 250, 550, 250, 354, 250, 221],
            "split {split}"
        );
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].0.mail_from, ALICE);
        assert_eq!(messages[0].0.rcpt_to, [BOB]);
        assert!(closed);
    }
    // The EHLO reply offers AUTH PLAIN on submission and never CARD there.
    let mut s = ServerSession::new(cfg());
    s.greet();
    let ehlo = s.input(b"EHLO c\r\n");
    let Event::Reply(r) = &ehlo[0] else {
        panic!("{ehlo:?}")
    };
    assert!(r.lines.iter().any(|l| l == "AUTH PLAIN"), "{r:?}");
    assert!(!r.lines.iter().any(|l| l == "CARD"), "{r:?}");
}

fn public() -> ServerConfig {
    ServerConfig {
        kind: SessionKind::Public { starttls: true },
        ..config()
    }
}

fn ehlo_lines(cfg: ServerConfig, chunks: &[&[u8]]) -> Vec<Vec<String>> {
    let mut s = ServerSession::new(cfg);
    s.greet();
    let mut lines = Vec::new();
    for chunk in chunks {
        let mut queue = s.input(chunk);
        while !queue.is_empty() {
            let mut next = Vec::new();
            for e in queue {
                match e {
                    Event::Reply(r) if r.code == 250 && r.lines.len() > 1 => lines.push(r.lines),
                    Event::StartTls => next.extend(s.tls_started()),
                    _ => {}
                }
            }
            queue = next;
        }
    }
    lines
}

#[test]
fn a_public_session_offers_starttls_once_and_no_postern_verbs() {
    let lines = ehlo_lines(public(), &[b"EHLO mx.example.org\r\nSTARTTLS\r\n"]);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains(&"STARTTLS".to_owned()), "{lines:?}");
    assert!(!lines[0]
        .iter()
        .any(|l| l == "CARD" || l == "XCARRY" || l.starts_with("AUTH")));
    let (codes, _, _) = run_chunks(
        &[b"EHLO a\r\nSTARTTLS\r\n", b"EHLO a\r\n", b"STARTTLS\r\n"],
        public(),
    );
    // 220 greeting, 250 EHLO, 220 + TLS started, 250 EHLO (without STARTTLS), 503 already TLS.
    assert_eq!(codes, vec![220, 250, 220, 1, 250, 503]);
    let after_tls = ehlo_lines(public(), &[b"EHLO a\r\nSTARTTLS\r\n", b"EHLO a\r\n"]);
    assert!(
        !after_tls[1].contains(&"STARTTLS".to_owned()),
        "{after_tls:?}"
    );
    // Every Postern verb is unknown to the public.
    let (codes, _, _) = run_chunks(
        &[b"EHLO a\r\nCARD bob\r\nXCARRY x@y.onion z\r\nXPULL a\r\nAUTH PLAIN AGEAYg==\r\n"],
        public(),
    );
    assert_eq!(codes, vec![220, 250, 502, 502, 502, 502]);
    // A peer or submission session does not do STARTTLS.
    let (codes, _, _) = run(b"EHLO a\r\nSTARTTLS\r\n");
    assert_eq!(codes, vec![220, 250, 502]);
}

#[test]
fn commands_pipelined_after_starttls_are_dropped() {
    // CVE-2011-0411: a command injected in clear behind STARTTLS must not run inside TLS.
    let (codes, messages, _) = run_chunks(
        &[
            b"EHLO a\r\nSTARTTLS\r\nMAIL FROM:<evil@example.org>\r\n",
            b"EHLO a\r\nRCPT TO:<r-x@gw.example>\r\n",
        ],
        public(),
    );
    // The injected MAIL never happened: RCPT after the new EHLO has no sender.
    assert_eq!(codes, vec![220, 250, 220, 1, 250, 503]);
    assert!(messages.is_empty());
}

#[test]
fn a_public_session_takes_any_sender_and_asks_about_each_recipient() {
    let (codes, messages, closed) = run_chunks(
        &[b"EHLO a\r\nMAIL FROM:<>\r\nRCPT TO:<victim@other.example>\r\nRCPT TO:<r-abc@gw.example>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n"],
        public(),
    );
    assert_eq!(codes, vec![220, 250, 250, 550, 250, 354, 250]);
    assert!(!closed);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0.mail_from, "");
    assert_eq!(messages[0].0.rcpt_to, vec!["r-abc@gw.example".to_owned()]);
    let (codes, _, _) = run_chunks(
        &[b"EHLO a\r\nMAIL FROM:<bob@example.org>\r\nRSET\r\nMAIL FROM:<nobody>\r\nMAIL FROM:<\"a b\"@example.org>\r\n"],
        public(),
    );
    assert_eq!(codes[..4], [220, 250, 250, 250]);
    assert!(codes[4..].iter().all(|c| *c >= 500), "{codes:?}");
    // Refused recipients count as errors: a relay prober is cut off.
    let mut probe: Vec<u8> = b"EHLO a\r\nMAIL FROM:<spam@example.org>\r\n".to_vec();
    for i in 0..20 {
        probe.extend_from_slice(format!("RCPT TO:<victim{i}@other.example>\r\n").as_bytes());
    }
    let (codes, messages, closed) = run_chunks(&[&probe], public());
    assert!(closed, "{codes:?}");
    assert_eq!(codes.last(), Some(&421));
    assert!(messages.is_empty());
}
