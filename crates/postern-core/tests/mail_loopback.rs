//! Mail between nodes in one process, over loopback TCP: the same SMTP, outbox and receive code
//! that runs over Tor.

mod common;

use std::time::Duration;

use common::*;
use postern_core::Attachment;
use postern_crypto::PublicKeyInfo;
use postern_mime::{compose, random_message_id, Draft, SenderKeys};
use postern_types::MailAddress;

const WAIT: Duration = Duration::from_secs(15);

fn delivered(d: &Device) -> Option<()> {
    let o = d.api.outbox(None).expect("outbox");
    (!o.is_empty() && o.iter().all(|m| m.state == "delivered")).then_some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_exchange_mail_with_attachments() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    alice.start(loopback(&reg)).await;
    bob.start(loopback(&reg)).await;

    let file: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let queued = alice
        .api
        .send(
            "alice",
            &bob.address,
            "Lunch on Friday?",
            "Hi Bob,\n\n.\nShall we?\n",
            &[Attachment {
                name: "menu.bin".into(),
                content_type: "application/octet-stream".into(),
                data: file.clone(),
            }],
        )
        .expect("send");
    assert_eq!(queued.state, "queued");
    alice.node.as_ref().expect("node").wake_outbox();

    let id = wait_for(WAIT, "Bob's inbox", || {
        bob.api.inbox(None).ok()?.first().map(|m| m.id)
    })
    .await;
    let m = bob.api.read(id).expect("read");
    assert_eq!(m.summary.from, alice.address);
    assert_eq!(m.summary.from_name, "alice (test)");
    assert_eq!(m.summary.subject, "Lunch on Friday?");
    assert_eq!(m.summary.verification, "contact");
    assert!(m.text.contains("Shall we?"));
    assert!(
        m.text.contains("\n.\n"),
        "a lone dot line survives dot-stuffing: {:?}",
        m.text
    );
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(bob.api.attachments(id).expect("att")[0].data, file);
    wait_for(WAIT, "Alice's outbox to say delivered", || {
        delivered(&alice)
    })
    .await;
    assert!(bob.api.requests(None).expect("requests").is_empty());

    // And back.
    bob.api
        .send("bob", &alice.address, "Re: Lunch", "Yes!", &[])
        .expect("reply");
    wait_for(WAIT, "Alice's inbox", || {
        alice.api.inbox(None).ok()?.first().map(|m| m.id)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_contact_fetches_the_key_and_lands_in_requests() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    let mut carol = Device::new(tmp.path(), "carol");
    // Alice holds Bob's card without the key; Carol knows only Bob's address.
    alice.add_contact(&bob, false);
    for d in [&mut alice, &mut bob, &mut carol] {
        d.start(loopback(&reg)).await;
    }
    alice
        .api
        .send("alice", &bob.address, "From a card", "hello", &[])
        .expect("send");
    carol
        .api
        .send("carol", &bob.address, "Out of the blue", "hi", &[])
        .expect("send");
    wait_for(WAIT, "two requests", || {
        (bob.api.requests(None).ok()?.len() == 2).then_some(())
    })
    .await;
    wait_for(WAIT, "Alice delivered", || delivered(&alice)).await;
    wait_for(WAIT, "Carol delivered", || delivered(&carol)).await;
    // Alice learned Bob's key over Bob's onion service; Carol now has Bob as a contact.
    assert!(
        alice
            .api
            .contact("alice", &bob.address)
            .expect("contact")
            .has_key
    );
    let c = carol
        .api
        .contact("carol", &bob.address)
        .expect("carol learned bob");
    assert_eq!(c.verification, "first_contact");
    assert!(bob.api.inbox(None).expect("inbox").is_empty());

    let reqs = bob.api.requests(None).expect("requests");
    let from_carol = reqs
        .iter()
        .find(|m| m.from == carol.address)
        .expect("carol's");
    assert_eq!(from_carol.verification, "first_contact");
    let added = bob.api.accept_request(from_carol.id).expect("accept");
    assert_eq!(added.address, carol.address);
    assert!(added.has_key);
    assert_eq!(bob.api.requests(None).expect("r").len(), 1);
    assert_eq!(bob.api.inbox(None).expect("i").len(), 1);
    // A message that is not a request cannot be accepted.
    assert!(bob.api.accept_request(from_carol.id).is_err());

    // Now Carol is a contact: her next message goes straight to the inbox.
    carol
        .api
        .send("carol", &bob.address, "Again", "hi again", &[])
        .expect("send");
    wait_for(WAIT, "second message in inbox", || {
        (bob.api.inbox(None).ok()?.len() == 2).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_until_the_recipient_comes_up() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    alice.add_contact(&bob, true);
    alice.start(loopback(&reg)).await;
    alice
        .api
        .send("alice", &bob.address, "Are you there?", "ping", &[])
        .expect("send");
    // Bob is offline: the attempt fails and a retry is scheduled, with the reason shown.
    let o = wait_for(WAIT, "a failed attempt", || {
        let o = alice.api.outbox(None).ok()?.into_iter().next()?;
        (o.attempts >= 1 && o.state == "queued").then_some(o)
    })
    .await;
    let err = o.last_error.expect("reason");
    assert!(err.contains("unreachable"), "{err}");
    assert!(o.next_attempt.is_some());
    // Bob comes online; the next retry gets through.
    bob.start(loopback(&reg)).await;
    wait_for(WAIT, "delivery after retry", || delivered(&alice)).await;
    assert_eq!(bob.api.requests(None).expect("r").len(), 1);
}

/// Compose a message from `from` to `to` the way a node would.
fn sealed(from: &Device, to: &Device, subject: &str) -> (Vec<u8>, String) {
    forged(from, from, to, subject)
}

/// A message that claims to be from `claimed` but is signed (and carries the key and binding)
/// of `signer`.
fn forged(signer: &Device, claimed: &Device, to: &Device, subject: &str) -> (Vec<u8>, String) {
    let keys = signer.api.identity_keys(&signer.name()).expect("keys");
    let to_key = to
        .api
        .identity_keys(&to.name())
        .expect("keys")
        .openpgp_public()
        .expect("pub");
    compose_as(&keys, &claimed.address, &to.address, &to_key, subject)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_message_twice_is_stored_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    bob.add_contact(&alice, true);
    bob.start(loopback(&reg)).await;
    let (msg, _) = sealed(&alice, &bob, "once");
    let first = submit(&reg, &alice.address, &bob, &msg).await;
    let second = submit(&reg, &alice.address, &bob, &msg).await;
    assert_eq!(first.0, 250, "{first:?}");
    assert_eq!(second.0, 250, "{second:?}");
    assert!(second.1.contains("Already stored"), "{second:?}");
    assert_eq!(bob.api.inbox(None).expect("inbox").len(), 1);
}

/// Every bad input through a real socket: the expected reply, and nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_precise_replies_and_store_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let alice = Device::new(tmp.path(), "alice");
    let mallory = Device::new(tmp.path(), "mallory");
    let eve = Device::new(tmp.path(), "eve");
    let carol = Device::new(tmp.path(), "carol");
    let mut bob = Device::new(tmp.path(), "bob");
    bob.add_contact(&alice, true);
    bob.start(loopback(&reg)).await;
    let w = Duration::from_secs(5);
    let a = alice.address.clone();
    let b = bob.address.clone();

    // --- Protocol-level cases: (name, bytes after the greeting, expected reply codes in order).
    let envelope = format!("EHLO t\r\nMAIL FROM:<{a}>\r\nRCPT TO:<{b}>\r\nDATA\r\n");
    let smuggle = format!("MAIL FROM:<{a}>\r\nRCPT TO:<{b}>\r\nDATA\r\nsmuggled\r\n.\r\n");
    let cases: Vec<(&str, String, Vec<u16>)> = vec![
        (
            "smuggling LF.LF",
            format!("{envelope}x\n.\n{smuggle}"),
            vec![250, 250, 250, 354, 521],
        ),
        (
            "smuggling LF.CRLF",
            format!("{envelope}x\n.\r\n{smuggle}"),
            vec![250, 250, 250, 354, 521],
        ),
        (
            "smuggling CR.CRLF",
            format!("{envelope}x\r.\r\n{smuggle}"),
            vec![250, 250, 250, 354, 521],
        ),
        (
            "smuggling CRLF.LF",
            format!("{envelope}x\r\n.\n{smuggle}"),
            vec![250, 250, 250, 354, 521],
        ),
        (
            "NUL before dot",
            format!("{envelope}x\r\n\0.\r\n{smuggle}"),
            vec![250, 250, 250, 354, 554],
        ),
        (
            "long command",
            format!("NOOP {}\r\nQUIT\r\n", "a".repeat(600)),
            vec![500, 221],
        ),
        (
            "long text line",
            format!("{envelope}{}\r\n.\r\n", "b".repeat(1200)),
            vec![250, 250, 250, 354, 554],
        ),
        (
            "oversize message",
            format!(
                "{envelope}{}.\r\n",
                format!("{}\r\n", "c".repeat(998)).repeat(300)
            ),
            vec![250, 250, 250, 354, 552],
        ),
        (
            "too many recipients",
            format!("EHLO t\r\nMAIL FROM:<{a}>\r\nRCPT TO:<{b}>\r\nRCPT TO:<{b}>\r\n"),
            vec![250, 250, 250, 452],
        ),
        (
            "foreign recipient",
            format!("EHLO t\r\nMAIL FROM:<{a}>\r\nRCPT TO:<{a}>\r\n"),
            vec![250, 250, 550],
        ),
        (
            "DATA without RCPT",
            format!("EHLO t\r\nMAIL FROM:<{a}>\r\nDATA\r\n"),
            vec![250, 250, 503],
        ),
        ("garbage", "\u{1}\u{2}\u{3}xyz\r\n".into(), vec![500]),
        (
            "not a Postern sender",
            "EHLO t\r\nMAIL FROM:<x@example.com>\r\n".into(),
            vec![250, 553],
        ),
    ];
    for (name, bytes, want) in cases {
        let mut s = smtp_to(&reg, &bob).await;
        assert_eq!(s.code(w).await, Some(220), "{name}");
        s.send(bytes.as_bytes()).await;
        let mut got = Vec::new();
        for _ in 0..want.len() {
            match s.code(w).await {
                Some(c) => got.push(c),
                None => break,
            }
        }
        assert_eq!(got, want, "{name}");
        if want.last() == Some(&521) {
            assert!(s.closed(w).await, "{name}: connection must be closed");
        }
    }

    // Talking before the greeting.
    let mut s = smtp_to(&reg, &bob).await;
    s.send(b"EHLO early\r\n").await;
    assert_eq!(s.code(w).await, Some(554));

    // Idle client and slowloris: the command timeout (2 s in tests) ends both.
    let mut s = smtp_to(&reg, &bob).await;
    assert_eq!(s.code(w).await, Some(220));
    assert_eq!(s.code(Duration::from_secs(5)).await, Some(421));
    let mut s = smtp_to(&reg, &bob).await;
    assert_eq!(s.code(w).await, Some(220));
    let started = std::time::Instant::now();
    let mut got = None;
    for b in b"EHLO slowly-but-surely-and-never-ending" {
        s.send(&[*b]).await;
        if let Some(c) = s.code(Duration::from_millis(300)).await {
            got = Some(c);
            break;
        }
    }
    assert_eq!(got, Some(421), "slowloris not cut off");
    assert!(started.elapsed() < Duration::from_secs(5));

    // --- Message-level cases: well-framed mail that fails the checks.
    let (good, _) = sealed(&alice, &bob, "good");
    let (to_eve, _) = sealed(&alice, &eve, "for eve");
    let (by_mallory, _) = sealed(&mallory, &bob, "mallory's own");
    let (as_alice, _) = forged(&mallory, &alice, &bob, "I am Alice");
    let (as_carol, _) = forged(&mallory, &carol, &bob, "I am Carol");
    let plain =
        format!("From: {a}\r\nTo: {b}\r\nSubject: plain\r\nMessage-ID: <x@y>\r\n\r\nhello\r\n");
    let mut tampered = good.clone();
    let at = String::from_utf8_lossy(&good)
        .find("-----BEGIN PGP MESSAGE-----")
        .expect("armor")
        + 400;
    tampered[at] = if tampered[at] == b'Q' { b'R' } else { b'Q' };

    // Before the sender is authenticated, every failure gets the same reply: nobody learns
    // from it whether an address is in Bob's address book, or what exactly went wrong.
    let mail_cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("not encrypted", &a, plain.into_bytes()),
        ("encrypted to someone else", &a, to_eve),
        ("contact's address, signed by another key", &a, as_alice),
        (
            "stranger's address, binding by another onion key",
            &carol.address,
            as_carol,
        ),
        ("envelope sender differs from From", &a, by_mallory),
        ("tampered", &a, tampered),
    ];
    let uniform = format!("550 5.7.1 {}", postern_core::UNAUTHENTICATED);
    for (name, from, msg) in mail_cases {
        let (_, text) = submit(&reg, from, &bob, &msg).await;
        assert_eq!(text, uniform, "{name}");
    }
    assert!(
        bob.api.inbox(None).expect("inbox").is_empty(),
        "nothing may be stored"
    );
    assert!(
        bob.api.requests(None).expect("requests").is_empty(),
        "nothing may be stored"
    );

    // And after all that, good mail still gets in.
    let (code, text) = submit(&reg, &a, &bob, &good).await;
    assert_eq!(code, 250, "{text}");
    assert_eq!(bob.api.inbox(None).expect("inbox").len(), 1);
}

/// A stranger whose binding signs a name with text-direction or control characters is refused:
/// the name would be shown to a person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_display_names_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut bob = Device::new(tmp.path(), "bob");
    bob.start(loopback(&reg)).await;
    let bob_key = PublicKeyInfo::parse(
        &bob.api
            .identity_keys("bob")
            .expect("keys")
            .openpgp_public()
            .expect("pub"),
    )
    .expect("key");
    for name in ["Bank\u{202E}gnp.exe", "Alice\nBcc: everyone", "a\u{200B}b"] {
        let evil = postern_crypto::IdentityKeys::generate(
            postern_types::LocalPart::new("evil").expect("lp"),
            name,
        )
        .expect("keys");
        let mut rng = rand::thread_rng();
        let msg = compose(
            &Draft {
                from: evil.address().clone(),
                from_name: String::new(),
                to: bob.address.parse::<MailAddress>().expect("addr"),
                subject: "hi".into(),
                text: "hi".into(),
                attachments: vec![],
                headers: Vec::new(),
            },
            SenderKeys::of(&evil),
            bob_key.cert(),
            1_800_000_000,
            &random_message_id(&mut rng),
            &mut rng,
        )
        .expect("compose");
        let (code, text) = submit(&reg, &evil.address().to_string(), &bob, &msg).await;
        assert_eq!(code, 550, "{name:?}: {text}");
        assert!(text.contains("display name"), "{text}");
    }
    assert!(bob.api.requests(None).expect("requests").is_empty());
}
