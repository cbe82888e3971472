//! Two `postern run` nodes (loopback transport) and the mail commands, through the real binary.

mod common;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use common::{json, ok, postern, start_node};

struct Node(Child);
impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(dir: &Path, reg: &Path) -> Node {
    Node(start_node(
        dir,
        reg,
        &["--retry-first", "1", "--retry-max", "2"],
    ))
}

fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn send_inbox_read_outbox_requests() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b, reg) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("reg"),
    );
    for (dir, name) in [(&a, "alice"), (&b, "bob")] {
        ok(postern(dir).arg("init"));
        ok(postern(dir).args(["identity", "new", name, "--display-name", name]));
    }
    let card = |dir: &Path, who: &str| {
        json(postern(dir).args(["--json", "identity", "export-card", who]))["card"]
            .as_str()
            .expect("card")
            .to_owned()
    };
    let bob_card = card(&b, "bob");
    let alice_card = card(&a, "alice");
    ok(postern(&a).args(["contact", "add", "-i", "alice", &bob_card]));
    let bob_addr = json(postern(&b).args(["--json", "identity", "show", "bob"]))["address"]
        .as_str()
        .expect("a")
        .to_owned();

    // Queue while no node runs: it waits in the outbox.
    let file = tmp.path().join("notes.txt");
    std::fs::write(&file, "attached words\n").expect("file");
    let queued = json(postern(&a).args([
        "--json",
        "send",
        "--from",
        "alice",
        "--to",
        &bob_addr,
        "--subject",
        "Hello Bob",
        "--body",
        "First message.",
        "--attach",
        file.to_str().expect("p"),
    ]));
    assert_eq!(queued["state"], "queued");
    // A file larger than a message can carry is refused by its size, before it is read (a
    // 32 GiB sparse file would not fit in memory): the command fails and nothing is queued.
    let huge = tmp.path().join("huge.iso");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(32 << 30))
        .expect("sparse file");
    let o = postern(&a)
        .args([
            "send",
            "--from",
            "alice",
            "--to",
            &bob_addr,
            "--subject",
            "Too big",
            "--attach",
        ])
        .arg(&huge)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("at most 25 MiB"),
        "{err}"
    );
    let human = ok(postern(&a).arg("outbox"));
    assert!(!human.contains("Too big"), "{human}");
    assert!(
        human.contains("Hello Bob") && human.contains("[queued]"),
        "{human}"
    );

    let _na = run(&a, &reg);
    let _nb = run(&b, &reg);
    let inbox_or_requests = until("Bob to receive it", || {
        let r = json(postern(&b).args(["--json", "requests"]));
        r.as_array().filter(|a| !a.is_empty()).cloned()
    });
    // Bob does not know Alice yet: a contact request.
    let m = &inbox_or_requests[0];
    assert_eq!(m["subject"], "Hello Bob");
    assert_eq!(m["verification"], "first_contact");
    let id = m["id"].as_i64().expect("id").to_string();
    let saved = tmp.path().join("saved");
    let read = json(postern(&b).args([
        "--json",
        "read",
        &id,
        "--save-attachments",
        saved.to_str().expect("p"),
    ]));
    assert_eq!(read["text"], "First message.");
    assert_eq!(
        std::fs::read_to_string(saved.join("notes.txt")).expect("saved"),
        "attached words\n"
    );
    let shown = ok(postern(&b).args(["read", &id]));
    assert!(
        shown.contains("Subject:  Hello Bob") && shown.contains("First message."),
        "{shown}"
    );

    ok(postern(&b).args(["requests", "--accept", &id]));
    let inbox = json(postern(&b).args(["--json", "inbox"]));
    assert_eq!(inbox.as_array().expect("a").len(), 1);
    let contacts = json(postern(&b).args(["--json", "contact", "list", "-i", "bob"]));
    assert_eq!(contacts[0]["display_name"], "alice");

    // Search (Bob's one identity, so no -i needed): ranked results with the match marked.
    let found = ok(postern(&b).args(["search", "first"]));
    assert!(
        found.contains("Hello Bob") && found.contains("[First]"),
        "{found}"
    );
    assert!(ok(postern(&b).args(["search", "nothinglikethis"])).contains("Nothing found"));
    let hits = json(postern(&b).args(["--json", "search", "from:alice"]));
    assert_eq!(hits.as_array().expect("a").len(), 1, "{hits}");
    // Events, one JSON object per line: the request arriving, the contact added.
    let events = ok(postern(&b).args(["--json", "events", "--after", "0"]));
    let events: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "message" && e["detail"] == "requests"),
        "{events:?}"
    );
    assert!(events.iter().any(|e| e["kind"] == "contact"), "{events:?}");

    until("Alice's outbox to show delivered", || {
        let o = json(postern(&a).args(["--json", "outbox"]));
        (o[0]["state"] == "delivered").then_some(())
    });
    let _ = alice_card;

    // The mailbox model from the command line: Bob replies (threaded by References), Alice sees
    // the conversation, her mailboxes and flags; a move and its way back.
    let reply = json(postern(&b).args(["--json", "reply", &id, "--body", "Hello Alice."]));
    assert_eq!(reply["subject"], "Re: Hello Bob");
    let sent = json(postern(&b).args(["--json", "list", "-i", "bob", "-m", "sent"]));
    assert_eq!(sent[0]["subject"], "Re: Hello Bob", "{sent}");
    let answered = json(postern(&b).args(["--json", "list", "-i", "bob"]));
    assert_eq!(answered[0]["answered"], true, "{answered}");
    let got = until("Alice to receive the reply", || {
        let r = json(postern(&a).args(["--json", "list", "-i", "alice"]));
        r.as_array().filter(|a| !a.is_empty()).cloned()
    });
    let reply_id = got[0]["id"].as_i64().expect("id").to_string();
    let thread = json(postern(&a).args(["--json", "thread", &reply_id]));
    let subjects: Vec<&str> = thread
        .as_array()
        .expect("a")
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(subjects, ["Hello Bob", "Re: Hello Bob"]);
    let read = json(postern(&a).args(["--json", "read", &reply_id]));
    assert!(
        read["text"]
            .as_str()
            .expect("t")
            .contains("> First message."),
        "{read}"
    );
    let boxes = ok(postern(&a).args(["mailboxes", "-i", "alice"]));
    assert!(
        boxes.contains("Inbox") && boxes.contains("UIDVALIDITY"),
        "{boxes}"
    );
    let flagged = json(postern(&a).args(["--json", "flag", &reply_id, "--star", "--unread"]));
    assert_eq!(
        (flagged[0]["flagged"].clone(), flagged[0]["read"].clone()),
        (true.into(), false.into())
    );
    ok(postern(&a).args(["move", &reply_id, "archive"]));
    let archived = json(postern(&a).args(["--json", "list", "-i", "alice", "-m", "archive"]));
    assert_eq!(archived[0]["uid"], 1, "{archived}");
    let refused = postern(&a)
        .args(["move", &reply_id, "sent"])
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("cannot be moved"),
        "{refused:?}"
    );
    ok(postern(&a).args(["move", &reply_id, "inbox"]));

    // The node keeps no passphrase in its environment (it came in POSTERN_PASSPHRASE).
    for node in [&_na, &_nb] {
        let environ = std::fs::read(format!("/proc/{}/environ", node.0.id())).expect("environ");
        let text = String::from_utf8_lossy(&environ);
        assert!(!text.contains("POSTERN_PASSPHRASE=pw"), "{text}");
    }

    // What others wrote never reaches the terminal raw: an escape sequence in a subject and a
    // text-direction override in a body are shown, not obeyed.
    // Postern itself refuses to send such a subject: a hostile peer composes by hand.
    let evil_subject = "\u{1b}[1;32m\u{2714} Verified\u{1b}[0m";
    let alice_keys = postern_core::Postern::open(&a, b"pw")
        .expect("open")
        .identity_keys("alice")
        .expect("keys");
    let bob_card = postern_card::ContactCard::from_text(&bob_card).expect("card");
    let bob_key =
        postern_crypto::PublicKeyInfo::parse(bob_card.public_key().expect("key")).expect("key");
    let mut rng = rand::thread_rng();
    let msg = postern_mime::compose(
        &postern_mime::Draft {
            from: alice_keys.address().clone(),
            from_name: String::new(),
            to: bob_addr.parse().expect("addr"),
            subject: evil_subject.into(),
            text: "invoice\u{202e}fdp.exe".into(),
            attachments: vec![],
            headers: vec![],
        },
        postern_mime::SenderKeys::of(&alice_keys),
        bob_key.cert(),
        1_800_000_000,
        &postern_mime::random_message_id(&mut rng),
        &mut rng,
    )
    .expect("compose");
    {
        use std::io::Write;
        let label = bob_card.address().onion().label();
        let addr = std::fs::read_to_string(reg.join(format!("{label}.25"))).expect("registry");
        let mut s = std::net::TcpStream::connect(addr.trim()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut buf = Vec::new();
        assert_eq!(common::smtp_code(&mut s, &mut buf), Some(220));
        write!(
            s,
            "EHLO t\r\nMAIL FROM:<{}>\r\nRCPT TO:<{bob_addr}>\r\nDATA\r\n",
            alice_keys.address()
        )
        .expect("write");
        for want in [250, 250, 250, 354] {
            assert_eq!(common::smtp_code(&mut s, &mut buf), Some(want));
        }
        s.write_all(&postern_smtp::data_block(&msg)).expect("data");
        assert_eq!(common::smtp_code(&mut s, &mut buf), Some(250));
    }
    let evil = until("the second message", || {
        let i = json(postern(&b).args(["--json", "inbox"]));
        i.as_array()?
            .iter()
            .find(|m| m["subject"] == evil_subject)
            .map(|m| m["id"].as_i64().expect("id").to_string())
    });
    for shown in [
        ok(postern(&b).arg("inbox")),
        ok(postern(&b).args(["read", &evil])),
    ] {
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{202e}'),
            "{shown:?}"
        );
        assert!(shown.contains("\\u{1b}[1;32m"), "{shown}");
    }
    assert!(ok(postern(&b).args(["read", &evil])).contains("invoice\\u{202e}fdp.exe"));

    // Deleting a message; deleting it again is "not found".
    ok(postern(&b).args(["delete", &evil]));
    let o = postern(&b).args(["delete", &evil]).output().expect("run");
    assert_eq!(o.status.code(), Some(6));

    // Invites: listed, withdrawn (once), and a withdrawn one is no longer open.
    let link = ok(postern(&a).args(["link", "alice"]));
    assert!(link.contains("--withdraw"), "{link}");
    let list = json(postern(&a).args(["--json", "invites", "-i", "alice"]));
    let open = list
        .as_array()
        .expect("array")
        .iter()
        .find(|i| i["state"] == "open")
        .expect("an open invite");
    let n = open["id"].as_i64().expect("id").to_string();
    ok(postern(&a).args(["invites", "-i", "alice", "--withdraw", &n]));
    let again = postern(&a)
        .args(["invites", "-i", "alice", "--withdraw", &n])
        .output()
        .expect("run");
    assert_eq!(again.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not open"));
    let undo = postern(&a)
        .args(["invites", "-i", "alice", "--undo", &n])
        .output()
        .expect("run");
    assert_eq!(undo.status.code(), Some(6));

    // Saving attachments never overwrites, never follows a link, never writes a dotfile.
    let again = |dir: &Path| {
        ok(postern(&b).args(["read", &id, "--save-attachments", dir.to_str().expect("p")]))
    };
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "untouched").expect("victim");
    std::os::unix::fs::symlink(&victim, saved.join("notes (2).txt")).expect("link");
    again(&saved);
    again(&saved);
    assert_eq!(
        std::fs::read_to_string(saved.join("notes.txt")).expect("first"),
        "attached words\n"
    );
    assert_eq!(
        std::fs::read_to_string(saved.join("notes (1).txt")).expect("second"),
        "attached words\n"
    );
    assert_eq!(
        std::fs::read_to_string(saved.join("notes (3).txt")).expect("third"),
        "attached words\n"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "untouched"
    );

    // One node per data directory.
    let second = postern(&a)
        .args(["run", "--loopback"])
        .arg(&reg)
        .output()
        .expect("run");
    assert_eq!(second.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"));

    // Errors a person can act on.
    let o = postern(&a)
        .args([
            "send",
            "--from",
            "alice",
            "--to",
            "nobody@example.com",
            "--body",
            "x",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(".onion"));
    let o = postern(&b).args(["read", "999"]).output().expect("run");
    assert_eq!(o.status.code(), Some(6));
}
