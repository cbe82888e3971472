//! Compose and open, and what the outside of a message may and may not show.

use postern_crypto::IdentityKeys;
use postern_mime::{
    compose, open, random_message_id, Attachment, Draft, Letter, MimeError, SenderKeys, SignerCheck,
};
use postern_types::LocalPart;
use sequoia_openpgp::Cert;

fn keys(name: &str, display: &str) -> IdentityKeys {
    IdentityKeys::generate(LocalPart::new(name).expect("lp"), display).expect("keys")
}

fn public(k: &IdentityKeys) -> Cert {
    k.openpgp_cert().clone().strip_secret_key_material()
}

fn draft(from: &IdentityKeys, to: &IdentityKeys) -> Draft {
    Draft {
        from: from.address().clone(),
        from_name: "Alice Ørsted".into(),
        to: to.address().clone(),
        subject: "Secret plans für Mittwoch".into(),
        text: "Hello Bob,\n.\nA line with a dot above.\n".into(),
        attachments: vec![Attachment {
            name: "plan.bin".into(),
            content_type: "application/octet-stream".into(),
            data: (0..=255u8).cycle().take(5000).collect(),
        }],
        headers: Vec::new(),
    }
}

fn seal(from: &IdentityKeys, to: &IdentityKeys) -> (Vec<u8>, String) {
    let mut rng = rand::thread_rng();
    let id = random_message_id(&mut rng);
    let msg = compose(
        &draft(from, to),
        SenderKeys::of(from),
        &public(to),
        1_800_000_000,
        &id,
        &mut rng,
    )
    .expect("compose");
    (msg, id)
}

#[test]
fn round_trip_with_protected_headers_and_attachment() {
    let alice = keys("alice", "Alice Ørsted");
    let bob = keys("bob", "");
    let (msg, id) = seal(&alice, &bob);

    let opened = open(&msg, bob.openpgp_cert(), Some(&public(&alice))).expect("open");
    assert_eq!(
        opened.signer,
        SignerCheck::Good {
            fingerprint: alice.binding().fingerprint().to_vec()
        }
    );
    let letter = Letter::parse(&opened.inner).expect("parse");
    assert_eq!(letter.from, alice.address().to_string());
    assert_eq!(letter.from_name.as_deref(), Some("Alice Ørsted"));
    assert_eq!(letter.to, vec![bob.address().to_string()]);
    assert_eq!(letter.subject, "Secret plans für Mittwoch");
    assert_eq!(letter.message_id.as_deref(), Some(id.as_str()));
    assert_eq!(letter.date, Some(1_800_000_000));
    assert!(
        letter.text.contains("A line with a dot above."),
        "{:?}",
        letter.text
    );
    assert_eq!(letter.attachments.len(), 1);
    assert_eq!(letter.attachments[0].name, "plan.bin");
    assert_eq!(letter.attachments[0].data.len(), 5000);
    // The sender's key and binding travel inside.
    let key = letter.sender_key.expect("autocrypt key");
    assert_eq!(
        Cert::from_bytes_checked(&key).fingerprint().as_bytes(),
        alice.binding().fingerprint()
    );
    let b = letter.sender_binding.expect("binding");
    assert_eq!(b.display_name, "Alice Ørsted");
    assert_eq!(&b.signature, alice.binding().signature());
}

trait FromBytesChecked {
    fn from_bytes_checked(b: &[u8]) -> Cert;
}
impl FromBytesChecked for Cert {
    fn from_bytes_checked(b: &[u8]) -> Cert {
        use sequoia_openpgp::parse::Parse;
        Cert::from_bytes(b).expect("cert")
    }
}

#[test]
fn signer_unknown_without_the_senders_key_and_bad_with_another() {
    let alice = keys("alice", "");
    let bob = keys("bob", "");
    let mallory = keys("mallory", "");
    let (msg, _) = seal(&alice, &bob);
    assert_eq!(
        open(&msg, bob.openpgp_cert(), None).expect("open").signer,
        SignerCheck::UnknownKey
    );
    // Giving the wrong sender key: the signature's issuer is not there.
    let o = open(&msg, bob.openpgp_cert(), Some(&public(&mallory))).expect("open");
    assert_eq!(o.signer, SignerCheck::UnknownKey);
}

#[test]
fn only_the_recipient_can_open_and_tampering_is_caught() {
    let alice = keys("alice", "");
    let bob = keys("bob", "");
    let eve = keys("eve", "");
    let (msg, _) = seal(&alice, &bob);
    assert!(matches!(
        open(&msg, eve.openpgp_cert(), None),
        Err(MimeError::Undecryptable)
    ));
    // Nor can the sender: the sealed message is for the recipient alone (the sender keeps
    // its own copy unsealed), so the sender's key, stolen later, opens none of it.
    assert!(matches!(
        open(&msg, alice.openpgp_cert(), Some(&public(&alice))),
        Err(MimeError::Undecryptable)
    ));
    // Flip one character inside the armored body, past the session keys, in the data.
    let text = String::from_utf8(msg.clone()).expect("ascii");
    let begin = text.find("-----BEGIN PGP MESSAGE-----").expect("armor");
    let end = text.find("-----END PGP MESSAGE-----").expect("armor end");
    let start = begin + (end - begin) * 2 / 3;
    let mut bytes = msg.clone();
    bytes[start] = if bytes[start] == b'A' { b'B' } else { b'A' };
    match open(&bytes, bob.openpgp_cert(), Some(&public(&alice))) {
        Err(_) => {}
        Ok(o) => assert!(
            !matches!(o.signer, SignerCheck::Good { .. }),
            "tampered message verified"
        ),
    }
    // Plain mail is not accepted as encrypted.
    let plain = b"From: a@b\r\nSubject: hi\r\n\r\nhello\r\n";
    assert!(matches!(
        open(plain, bob.openpgp_cert(), None),
        Err(MimeError::NotEncrypted)
    ));
}

#[test]
fn the_outside_shows_no_subject_host_agent_or_local_time() {
    let alice = keys("alice", "Alice");
    let bob = keys("bob", "");
    let (msg, id) = seal(&alice, &bob);
    let text = String::from_utf8(msg).expect("ascii");
    let (head, _) = text.split_once("\r\n\r\n").expect("headers");
    assert!(head.contains("Subject: ..."), "{head}");
    assert!(!text.contains("Secret plans"));
    assert!(!text.contains("Alice"), "display name must stay inside");
    for banned in ["User-Agent", "X-Mailer", "Received"] {
        assert!(!head.contains(banned), "{banned} in {head}");
    }
    let date = head.lines().find(|l| l.starts_with("Date:")).expect("date");
    assert!(date.ends_with("+0000"), "{date}");
    let (_, rhs) = id.split_once('@').expect("@");
    assert!(!rhs.contains(&alice.address().onion().label()[..10]));
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if host.len() > 3 {
            assert!(!text.contains(host), "host name leaked");
        }
    }
}

#[test]
fn two_identities_messages_share_no_random_tokens() {
    let a = keys("a", "");
    let b = keys("b", "");
    let bob = keys("bob", "");
    let (m1, id1) = seal(&a, &bob);
    let (m2, id2) = seal(&b, &bob);
    let boundary = |m: &[u8]| -> String {
        let t = String::from_utf8_lossy(m).into_owned();
        let i = t.find("boundary=\"").expect("boundary") + 10;
        t[i..].split('"').next().expect("b").to_owned()
    };
    assert_ne!(boundary(&m1), boundary(&m2));
    assert_ne!(id1.split('@').nth(1), id2.split('@').nth(1));
}

#[test]
fn postern_control_headers_travel_inside_the_encryption() {
    let alice = keys("alice", "Alice");
    let bob = keys("bob", "Bob");
    let mut d = draft(&alice, &bob);
    let long = "QUJD".repeat(150);
    d.headers = vec![
        ("Postern-Kind".into(), "handshake".into()),
        ("Postern-Invite".into(), "ABCDEFGHIJKLMNOP".into()),
        ("Postern-Revocation".into(), long.clone()),
    ];
    let mut rng = rand::thread_rng();
    let msg = compose(
        &d,
        SenderKeys::of(&alice),
        &public(&bob),
        1_800_000_000,
        "x@y",
        &mut rng,
    )
    .expect("compose");
    let outer = String::from_utf8_lossy(&msg);
    assert!(!outer.contains("Postern-Kind") && !outer.contains("handshake"));
    let opened = open(&msg, bob.openpgp_cert(), Some(&public(&alice))).expect("open");
    let letter = Letter::parse(&opened.inner).expect("parse");
    assert_eq!(letter.kind.as_deref(), Some("handshake"));
    assert_eq!(letter.invite.as_deref(), Some("ABCDEFGHIJKLMNOP"));
    assert_eq!(letter.revocation.as_deref(), Some(&b"ABC".repeat(150)[..]));
    // Only Postern- headers, never the binding, never line breaks.
    for (name, value) in [
        ("Subject", "x"),
        ("Postern-Binding", "x"),
        ("Postern-Kind", "a\r\nBcc: x"),
    ] {
        d.headers = vec![(name.into(), value.into())];
        let r = compose(
            &d,
            SenderKeys::of(&alice),
            &public(&bob),
            1,
            "x@y",
            &mut rng,
        );
        assert!(r.is_err(), "{name}: {value:?} accepted");
    }
}

#[test]
fn long_header_values_survive_folding() {
    // An address, a number and base64 in one value, longer than a header line: folded only at
    // inserted spaces, read back whole.
    let alice = keys("alice", "Alice");
    let bob = keys("bob", "Bob");
    let mut d = draft(&alice, &bob);
    let v = format!("{};1795382608;{}", bob.address(), "A".repeat(300));
    d.headers = vec![("Postern-Carriers".into(), v.clone())];
    let mut rng = rand::thread_rng();
    let msg = compose(
        &d,
        SenderKeys::of(&alice),
        &public(&bob),
        1,
        "x@y",
        &mut rng,
    )
    .expect("compose");
    let opened = open(&msg, bob.openpgp_cert(), Some(&public(&alice))).expect("open");
    let inner = String::from_utf8_lossy(&opened.inner).into_owned();
    let head = &inner[..inner.find("\r\n\r\n").expect("end of headers")];
    assert!(head.lines().all(|l| l.len() <= 998 && !l.trim().is_empty()));
    let letter = Letter::parse(&opened.inner).expect("parse");
    assert_eq!(letter.carriers, Some(v));
    assert!(
        letter.sender_key.is_some(),
        "the Autocrypt key survives too"
    );
}
