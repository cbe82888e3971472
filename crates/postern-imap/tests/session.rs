//! The IMAP session against an in-memory mail store, driven byte by byte where it matters.

use postern_imap::{ImapSession, Limits, MemoryStore as Memory, Step};

/// Feed `input` in chunks of `split` bytes; everything written, and whether it closed.
fn run(s: &mut ImapSession<Memory>, input: &[u8], split: usize) -> (String, bool) {
    let mut out = Vec::new();
    let mut chunks = input.chunks(split.max(1));
    loop {
        match s.step() {
            Step::Write(b) => out.extend(b),
            Step::Close => return (String::from_utf8_lossy(&out).into_owned(), true),
            Step::NeedInput => match chunks.next() {
                Some(c) => s.feed(c),
                None => return (String::from_utf8_lossy(&out).into_owned(), false),
            },
        }
    }
}

fn session(n: u32) -> ImapSession<Memory> {
    ImapSession::new(Memory::with(n), Limits::default())
}

#[test]
fn a_conversation_is_the_same_at_every_split() {
    let script = b"a1 CAPABILITY\r\na2 LOGIN me pw\r\na3 SELECT INBOX\r\n\
        a4 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n\
        a5 STORE 2 +FLAGS (\\Flagged)\r\na6 SEARCH FLAGGED\r\na7 UID SEARCH TEXT \"body 1\"\r\n\
        a8 UID MOVE 1 Archive\r\na9 FETCH 1 (UID)\r\na10 LOGOUT\r\n";
    let mut first = None;
    for split in [script.len(), 13, 1] {
        let mut s = session(3);
        let (out, closed) = run(&mut s, script, split);
        assert!(closed, "{out}");
        for want in [
            "a1 OK",
            "a2 OK",
            "* 3 EXISTS",
            "[UIDVALIDITY 7]",
            "a3 OK [READ-WRITE]",
            "* 1 FETCH (UID 1 FLAGS () BODY[HEADER.FIELDS (SUBJECT)] {22}\r\nSubject: message 0\r\n\r\n)",
            "* 2 FETCH (FLAGS (\\Flagged))",
            "* SEARCH 2\r\n",
            "* SEARCH 2\r\na7",
            "[COPYUID 8 1 4]",
            "* 1 EXPUNGE",
            "* 1 FETCH (UID 2)",
            "* BYE",
            "a10 OK",
        ] {
            assert!(out.contains(want), "split {split}: {want:?} missing in\n{out}");
        }
        match &first {
            None => first = Some(out),
            Some(f) => assert_eq!(f, &out, "split {split}"),
        }
    }
}

#[test]
fn nothing_before_login_and_one_answer_for_wrong_logins() {
    let mut s = session(1);
    let (out, _) = run(
        &mut s,
        b"b1 SELECT INBOX\r\nb2 LOGIN me nope\r\nb3 LOGIN you pw\r\nb4 FETCH 1 FLAGS\r\n",
        64,
    );
    assert!(out.contains("b1 NO log in first"), "{out}");
    let wrong: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("b2 ") || l.starts_with("b3 "))
        .map(|l| &l[3..])
        .collect();
    assert_eq!(wrong.len(), 2, "{out}");
    assert_eq!(wrong[0], wrong[1], "no oracle: {out}");
    assert!(out.contains("b4 NO"), "{out}");
    assert!(!s.logged_in());
}

#[test]
fn malformed_commands_get_a_tagged_bad_and_a_flood_ends_with_bye() {
    let mut s = session(1);
    let (out, closed) = run(
        &mut s,
        b"c1 LOGIN me pw\r\nc2 FETCH 1 (NOSUCH)\r\nc3 SELECT INBOX\r\nc4 FETCH 2 FLAGS\r\n\
          c5 UID FETCH 2 FLAGS\r\nc6 STORE 1:3 +FLAGS (\\Seen)\r\n",
        100,
    );
    assert!(out.contains("c2 BAD"), "{out}");
    assert!(
        out.contains("c4 BAD invalid message sequence number"),
        "{out}"
    );
    assert!(
        out.contains("c5 OK"),
        "a UID that is not there is no error: {out}"
    );
    assert!(out.contains("c6 BAD"), "{out}");
    assert!(!closed);
    let mut s = session(1);
    let (out, closed) = run(&mut s, &b"\x00\x01garbage\r\n".repeat(20), 7);
    assert!(closed, "{out}");
    assert!(out.contains("* BYE"), "{out}");
    assert_eq!(
        out.matches("BAD").count(),
        Limits::default().max_errors as usize,
        "{out}"
    );
}

#[test]
fn idle_reports_new_mail_and_flag_changes() {
    let mut s = session(1);
    let (out, _) = run(
        &mut s,
        b"d1 LOGIN me pw\r\nd2 SELECT INBOX\r\nd3 IDLE\r\n",
        5,
    );
    assert!(out.contains("+ idling"), "{out}");
    assert!(s.idling());
    s.store_mut().add("Subject: new\r\n\r\nnew\r\n");
    s.changed();
    let (out, _) = run(&mut s, b"", 1);
    assert_eq!(out, "* 2 EXISTS\r\n");
    let (out, _) = run(&mut s, b"DONE\r\n", 2);
    assert!(out.starts_with("d3 OK"), "{out}");
    assert!(!s.idling());
}

#[test]
fn an_oversized_literal_is_refused_before_it_is_sent() {
    let limits = Limits {
        max_literal: 100,
        max_command: 200,
        max_errors: 5,
    };
    let mut s = ImapSession::new(Memory::with(0), limits);
    let (out, _) = run(&mut s, b"e1 LOGIN me pw\r\ne2 APPEND INBOX {1000}\r\n", 100);
    assert!(out.contains("e2 BAD"), "{out}");
    assert!(out.contains("e2 BAD literal too large"), "{out}");
    assert!(
        !out.contains("\r\n+ "),
        "no continuation for a literal over the limit: {out}"
    );
}

#[test]
fn copy_moves_and_the_source_keeps_its_numbers_until_expunge() {
    let mut s = session(3);
    let script = b"a1 LOGIN me pw\r\na2 SELECT INBOX\r\na3 COPY 2 Archive\r\n\
        a4 NOOP\r\na5 FETCH 3 (UID)\r\na6 STORE 2 +FLAGS (\\Deleted)\r\na7 STATUS Archive (MESSAGES)\r\n\
        a8 EXPUNGE\r\na9 FETCH 2 (UID)\r\na10 COPY 1 Nowhere\r\na11 LOGOUT\r\n";
    let (out, _) = run(&mut s, script, script.len());
    for want in [
        "a3 OK [COPYUID 8 2 4] COPY done",
        "* 3 FETCH (UID 3)",
        "* 2 FETCH (FLAGS (\\Deleted))",
        "* STATUS Archive (MESSAGES 1)",
        "* 2 EXPUNGE\r\na8 OK",
        "* 2 FETCH (UID 3)",
        "a10 NO [TRYCREATE]",
    ] {
        assert!(out.contains(want), "{want:?} missing in\n{out}");
    }
    // Between COPY and EXPUNGE the client was told of no removal.
    let before_expunge = &out[..out.find("a7 OK").expect("a7 answered")];
    assert!(!before_expunge.contains("EXPUNGE"), "{out}");
}
