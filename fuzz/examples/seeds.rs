//! Writes the seed corpus (`corpus/<target>/seed-*`): a valid example of each input, made with
//! the fixture keys, so that fuzzing starts from bytes that reach deep into each parser.
//! Run: `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (stable is enough).

use std::path::Path;

use postern_card::{ContactCard, Invite};
use postern_crypto::{Revocation, RevocationScope};
use postern_fuzz::{alice, bob};
use postern_mime::{compose, random_message_id, Attachment, Draft, SenderKeys};

fn put(target: &str, n: usize, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join(format!("seed-{n}")), bytes).expect("write");
}

fn main() {
    let (a, b) = (alice(), bob());
    let card = ContactCard::for_identity(a, true).expect("card");
    put("card", 0, &card.encode());
    put("card", 1, card.to_text().as_bytes());
    put(
        "card",
        2,
        &ContactCard::for_identity(a, false).expect("card").encode(),
    );
    let invite = Invite::new(
        ContactCard::for_identity(b, false).expect("card"),
        [7; 16],
        1_900_000_000,
    );
    put("invite", 0, invite.to_text().as_bytes());
    put("vcard", 0, card.to_vcard().as_bytes());
    let r = Revocation::sign(
        a,
        RevocationScope::Key,
        Some(&[9; 20]),
        1_800_000_000,
        "lost",
    )
    .expect("revocation");
    put("revocation", 0, r.encoded());
    let r =
        Revocation::sign(a, RevocationScope::Address, None, 1_800_000_000, "").expect("revocation");
    put("revocation", 1, r.encoded());
    let header = postern_carry::carriers_header(
        a,
        &[b.address().to_string()],
        &b.address().to_string(),
        1_800_000_000,
    )
    .expect("header");
    put("carrier_statements", 0, header.as_bytes());
    put("carrier_statements", 1, b"delivered");
    let device = postern_crypto::DeviceId::from_bytes([5; 16]);
    let lease = postern_crypto::Lease::issue(a, device, 2, 1_900_000_000);
    let request = postern_crypto::DeviceRequest::sign(
        a,
        postern_crypto::DeviceAsk::Check,
        device,
        1_800_000_000,
        Some(&lease),
    );
    put("device_requests", 0, request.args().as_bytes());
    put("device_requests", 1, lease.token().as_bytes());
    put(
        "device_flags",
        0,
        b"<a.1@alice.onion> carol@c.onion +seen +flagged\n<b@c> bob@d.onion -seen +deleted -answered\n",
    );
    // A reply address as the gateway target's policy issues it, then relay forms.
    let secret = postern_gateway::ReplySecret::from_bytes([1; 32]);
    let token = postern_gateway::mint_local_part(&secret, 7, 1_800_000_000 + 86_400, "bob@example.org");
    put(
        "gateway_recipient",
        0,
        format!("{token}@gw.example.net\nbob@example.org").as_bytes(),
    );
    put(
        "gateway_recipient",
        1,
        b"victim%other.example@gw.example.net\n",
    );
    put("gateway_recipient", 2, b"@gw.example.net:victim@other.example\n<>");
    // Carol's key (the core tests' GnuPG fixture) in an Autocrypt header, and as given.
    let carol = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/postern-core/tests/fixtures/gnupg/carol.sec.asc"),
    )
    .expect("fixture key");
    let carol = postern_mime::OutsiderKey::parse(&carol)
        .and_then(|k| k.to_bytes())
        .expect("key");
    put(
        "autocrypt_key",
        0,
        format!(
            "addr=carol@example.org; prefer-encrypt=mutual; keydata={}",
            data_encoding::BASE64.encode(&carol)
        )
        .as_bytes(),
    );
    put("autocrypt_key", 1, &carol);

    let mut rng = rand::thread_rng();
    let msg = compose(
        &Draft {
            from: a.address().clone(),
            from_name: "Alice".into(),
            to: b.address().clone(),
            subject: "Seed".into(),
            text: "A seed message.\r\n".into(),
            attachments: vec![Attachment {
                name: "a.txt".into(),
                content_type: "text/plain".into(),
                data: b"attached".to_vec(),
            }],
            headers: vec![("Postern-Kind".into(), "introduction".into())],
        },
        SenderKeys {
            cert: a.openpgp_cert(),
            binding: a.binding(),
        },
        b.openpgp_cert(),
        1_800_000_000,
        &random_message_id(&mut rng),
        &mut rng,
    )
    .expect("compose");
    put("pgp_mime_open", 0, &msg);
    let inner = postern_mime::decrypt(&msg, b.openpgp_cert(), 1 << 20)
        .expect("decrypt")
        .inner;
    put("letter", 0, &inner);
    put(
        "stamp",
        0,
        &postern_mime::stamp::mint(&msg, &b.address().to_string(), &[1; 20], 20_000, 4),
    );

    for (n, bytes) in list_wires().iter().enumerate() {
        put("list_wire", n, bytes);
    }
    for (n, bytes) in list_frames().iter().enumerate() {
        put("list_frame", n, bytes);
    }

    let (from, to) = (a.address().to_string(), b.address().to_string());
    let mut session = vec![16u8];
    session.extend_from_slice(
        format!("EHLO x\r\nCARD bob\r\nMAIL FROM:<{from}> SIZE=100\r\nRCPT TO:<{to}>\r\nDATA\r\n")
            .as_bytes(),
    );
    session.extend_from_slice(&postern_smtp::data_block(
        b"Subject: x\r\n\r\n.leading dot\r\n",
    ));
    session.extend_from_slice(b"XPULL a b c\r\nRSET\r\nNOOP\r\nQUIT\r\n");
    put("smtp_server", 0, &session);
    let mut carry = vec![200u8];
    carry.extend_from_slice(
        format!("EHLO x\r\nXCARRY {to} 1 AA BB\r\nMAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\nx\n.\r\n").as_bytes(),
    );
    put("smtp_server", 1, &carry);
    put(
        "smtp_reply",
        0,
        b"220 host ESMTP\r\n250-host\r\n250-SIZE 100\r\n250 CARD\r\n354 go\r\n550 5.7.1 no\r\n",
    );
}

/// List mail frames: an invitation, its acceptance and welcome, and wire messages.
fn list_frames() -> Vec<Vec<u8>> {
    use postern_list::{Config, Frame, ListNode, MemberId, SigningKey, Wire};
    let k1 = SigningKey::from_bytes(&[1; 32]);
    let a = ListNode::create(Config::default(), k1, "fuzzed list", [0; 16], vec![], 1_000);
    let charter = a.charter().expect("charter");
    let list = a.list();
    let member = MemberId::of(&SigningKey::from_bytes(&[3; 32]));
    let mut out = vec![
        Frame::Invite {
            charter,
            sponsor: a.me(),
        }
        .encode(),
        Frame::Accept { list, member }.encode(),
        Frame::Welcome {
            list,
            sponsor: a.me(),
            sponsorship: a.sponsor(&member),
        }
        .encode(),
    ];
    for bytes in list_wires().iter().take(6) {
        let wire = Wire::decode(bytes).expect("wire");
        out.push(Frame::Wire { list, wire }.encode());
    }
    out
}

/// A list's first exchanges (a join, heads, announcements, fetches, a post with a blob) and the
/// anti-entropy messages (since, digest) as wire bytes, with the fuzz target's keys (member 1
/// creates the list, member 2 is its neighbour).
fn list_wires() -> Vec<Vec<u8>> {
    use postern_list::{Config, ListNode, MemberId, SigningKey, Wire};
    let (k1, k2) = (
        SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]),
    );
    let mut a = ListNode::create(Config::default(), k1, "fuzzed list", [0; 16], vec![], 1_000);
    let charter = a.charter().expect("charter");
    let sponsorship = a.sponsor(&MemberId::of(&k2));
    let mut b =
        ListNode::join(Config::default(), k2, charter, a.me(), sponsorship, 1_000).expect("join");
    let (ia, ib) = (a.me(), b.me());
    a.link(ib, 1_000);
    b.link(ia, 1_000);
    let mut out = Vec::new();
    for round in 0..6 {
        if round == 3 {
            let blob: std::sync::Arc<[u8]> = std::sync::Arc::from(&b"a small blob"[..]);
            b.post(
                2_000,
                b"Subject: hello\r\n\r\nhello list".to_vec(),
                vec![blob],
            )
            .expect("post");
        }
        while let Some((_, w)) = a.poll_transmit() {
            out.push(w.encode());
            b.handle(2_000, ia, w);
        }
        while let Some((_, w)) = b.poll_transmit() {
            out.push(w.encode());
            a.handle(2_000, ib, w);
        }
    }
    // The anti-entropy messages the first exchanges do not make.
    out.push(Wire::Since { after: 1_000 }.encode());
    out.push(
        Wire::Digest {
            cutoff: 2_000,
            digest: [9; 32],
        }
        .encode(),
    );
    out
}
