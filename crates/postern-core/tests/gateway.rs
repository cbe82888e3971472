//! Gateway mode end to end, over loopback nodes and real ordinary-mail software: Alice's
//! message to bob@example.org travels sealed to her gateway contact, leaves it DKIM-signed
//! through a DNS-found MX into Debian's Postfix; Bob's reply, relayed by Postfix over STARTTLS
//! to the gateway's public server, reaches Alice's inbox as from bob@example.org "via gateway",
//! never as verified; mail Postfix refuses comes back to Alice as a bounce. Bob's reply carried
//! an Autocrypt header, so Alice's next message to him leaves encrypted to his key; a message
//! to Carol leaves encrypted to the key Alice gave — GnuPG reads both. Once between loopback
//! nodes, once between arti nodes on the project's private Tor network. And the gateway's
//! outbound policy: who may send through it, and how much a day.

mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use postern_core::{GatewayNetwork, RetryPolicy, Transport};
use postern_gateway::testing::dns::{serve, Entry, Zone};
use postern_gateway::testing::postfix::Postfix;

const DOMAIN: &str = "gw.example.net";
const SELECTOR: &str = "postern1";
const W: Duration = Duration::from_secs(120);

/// The message in the Maildir whose `To` is `to`, the `nth` such (0-based).
fn delivered_to(postfix: &Postfix, to: &str, nth: usize) -> Option<String> {
    postfix
        .delivered()
        .into_iter()
        .map(|m| String::from_utf8_lossy(&m).into_owned())
        .filter(|m| m.lines().any(|l| l.starts_with("To:") && l.contains(to)))
        .nth(nth)
}

/// `Autocrypt: addr=…; prefer-encrypt=mutual; keydata=…`, folded as mail software folds it.
fn autocrypt_header(addr: &str, key: &[u8]) -> String {
    let b64 = data_encoding::BASE64.encode(key);
    let mut folded = String::new();
    for (i, chunk) in b64.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            folded.push_str("\r\n ");
        }
        folded.push_str(std::str::from_utf8(chunk).expect("ascii"));
    }
    format!("Autocrypt: addr={addr}; prefer-encrypt=mutual; keydata=\r\n {folded}\r\n")
}

/// A message the gateway sent encrypted: PGP/MIME outside, DKIM-valid, subject hidden; what
/// `reader` decrypts (the inner entity).
fn read_encrypted(reader: &gnupg::Holder, text: &str) -> String {
    assert!(
        text.contains("multipart/encrypted") && text.contains("application/pgp-encrypted"),
        "{text}"
    );
    assert!(text.contains("Subject: ..."), "{text}");
    assert!(
        postern_gateway::testing::dkim::verifies(text.as_bytes(), SELECTOR, DOMAIN),
        "{text}"
    );
    let (ok, plain, status) = reader.decrypt_unsigned(text);
    assert!(ok, "GnuPG decrypts: {status}");
    plain
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg(format!("/CN={DOMAIN}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(out.status.success());
    (cert, key)
}

/// The `r-…@gw.example.net` address in a delivered message's From.
fn reply_address(message: &str) -> String {
    let unfolded = message.replace("\r\n\t", " ").replace("\r\n ", " ");
    let from = unfolded
        .lines()
        .find(|l| l.starts_with("From:"))
        .expect("From");
    let start = from.find("<r-").expect("a reply address") + 1;
    let end = from[start..].find('>').expect(">") + start;
    from[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_loopback_mail_leaves_through_the_gateway_and_the_reply_comes_back() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    scenario(tmp.path(), &|_: &Device| loopback(&reg)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(tor_missing, ignore = "needs `tor` (apt-get install tor); CI runs it")]
async fn over_tor_mail_leaves_through_the_gateway_and_the_reply_comes_back() {
    let net = postern_testnet::Testnet::shared().expect("private Tor network");
    let tmp = tempfile::tempdir().expect("tmp");
    let tor = |d: &Device| {
        postern_core::Network::Tor {
            network_toml: Some(net.arti_network_toml()),
            bootstrap_timeout: Duration::from_secs(60),
        }
        .transport(&d.dir)
        .expect("arti")
    };
    scenario(tmp.path(), &tor).await;
}

async fn scenario(root: &std::path::Path, transport: &dyn Fn(&Device) -> Arc<dyn Transport>) {
    if !Postfix::available() {
        return;
    }
    let tmp = root;
    let mut alice = Device::new(tmp, "alice");
    let mut gw = Device::new(tmp, "gateway");
    alice.add_contact(&gw, true);
    gw.add_contact(&alice, true);
    let view = gw
        .api
        .enable_gateway(
            &gw.name(),
            DOMAIN,
            SELECTOR,
            postern_gateway::testing::dkim::KEY_PEM,
        )
        .expect("enable gateway");
    assert_eq!(
        view.dkim_record,
        format!(
            "v=DKIM1; k=rsa; p={}",
            postern_gateway::testing::dkim::PUBLIC_B64.trim()
        )
    );

    let dns = serve(
        Zone::default()
            .with("example.org", Entry::Mx(10, "mx.example.org"))
            .with("example.org", Entry::Txt("v=spf1 ip4:127.0.0.1 -all"))
            .with("_dmarc.example.org", Entry::Txt("v=DMARC1; p=none"))
            .with("mx.example.org", Entry::A(Ipv4Addr::LOCALHOST)),
    )
    .await;
    let listen = free_port();
    let postfix = Postfix::start(
        &["nobody@example.org = 550 5.1.1 No such user here"],
        Some((DOMAIN, listen)),
    );
    let (cert, key) = self_signed(tmp);
    let mut config = test_config();
    config.gateway = GatewayNetwork {
        listen: Some(([127, 0, 0, 1], listen).into()),
        hostname: Some(DOMAIN.into()),
        tls_cert: Some(cert),
        tls_key: Some(key),
        dns: postern_gateway::Dns::Server(dns),
        smtp_port: postfix.port,
        retry: RetryPolicy {
            first_retry: Duration::from_secs(1),
            max_interval: Duration::from_secs(2),
            give_up_after: Duration::from_secs(3600),
        },
        ..GatewayNetwork::default()
    };
    let t = transport(&gw);
    gw.start_with(t, config).await;
    let t = transport(&alice);
    alice.start(t).await;

    // Out: Alice → her gateway → the MX → Bob's mailbox, signed by the gateway's domain.
    alice
        .api
        .send_via_gateway(
            &alice.name(),
            &gw.address,
            "bob@example.org",
            "Lunch?",
            "Thursday at noon?\n",
            &[],
            None,
        )
        .expect("send via gateway");
    alice.node.as_ref().expect("node").wake_outbox();
    let delivered = wait_for(W, "Bob's mailbox", || {
        postfix.delivered().into_iter().next()
    })
    .await;
    let text = String::from_utf8_lossy(&delivered).into_owned();
    assert!(text.contains("Thursday at noon?"), "{text}");
    assert!(text.contains("Subject: Lunch?"), "{text}");
    assert!(
        !text.contains(".onion"),
        "no onion address leaves the gateway:\n{text}"
    );
    assert!(
        postern_gateway::testing::dkim::verifies(&delivered, SELECTOR, DOMAIN),
        "{text}"
    );
    let reply_to = reply_address(&text);
    let answered = text
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .expect("a Message-ID")
        .trim()
        .to_owned();
    assert!(!answered.contains(".onion"), "{answered}");

    // Back: Bob replies (his mail program adds its Autocrypt header); Postfix relays to the
    // gateway; Alice gets it, marked as such.
    let bob = gnupg::Holder::from_fixture(&tmp.join("bob-gnupg"), "bob");
    postfix.submit(
        "bob@example.org",
        &reply_to,
        &format!(
            "From: Bob <bob@example.org>\r\nTo: <{reply_to}>\r\nSubject: Re: Lunch?\r\n\
             Message-ID: <re1@example.org>\r\nIn-Reply-To: {answered}\r\n\
             References: {answered}\r\n{}\r\nNoon is perfect.\r\n",
            autocrypt_header("bob@example.org", &bob.public_binary())
        ),
    );
    let summary = wait_for(W, "the reply in Alice's inbox", || {
        alice
            .api
            .inbox(None)
            .ok()?
            .into_iter()
            .find(|m| m.subject == "Re: Lunch?")
    })
    .await;
    assert_eq!(summary.from, "bob@example.org");
    assert_eq!(summary.verification, postern_core::VERIFIED_BY_GATEWAY);
    assert!(
        summary.from_name.contains("via gateway") && summary.from_name.contains("SPF pass"),
        "{}",
        summary.from_name
    );
    let m = alice.api.read(summary.id).expect("read");
    assert!(m.text.contains("Noon is perfect."), "{}", m.text);

    // What Alice sent is in her Sent as to Bob's address; his reply threads under it (its
    // In-Reply-To is her message's own id).
    let sent = alice
        .api
        .mailbox(&alice.name(), "sent")
        .expect("sent")
        .into_iter()
        .find(|o| o.subject == "Lunch?")
        .expect("in Sent");
    assert_eq!(sent.to, "bob@example.org");
    assert_eq!(summary.thread, sent.thread, "one conversation");
    let conversation = alice.api.thread(summary.id).expect("thread");
    assert_eq!(conversation.len(), 2, "{conversation:?}");

    // Alice answers from her mailbox, as with any mail: the reply goes back through the
    // gateway that brought Bob's, threaded (In-Reply-To his Message-ID). The gateway learnt
    // Bob's key from his authenticated reply, so it leaves encrypted to it, and his GnuPG
    // reads it.
    let draft = alice.api.reply(summary.id, false).expect("reply");
    assert_eq!(draft.to, "bob@example.org");
    assert_eq!(draft.via_gateway.as_deref(), Some(gw.address.as_str()));
    assert_eq!(draft.in_reply_to.as_deref(), Some("re1@example.org"));
    let draft = alice
        .api
        .save_draft(
            &postern_core::DraftInput {
                id: Some(draft.id),
                identity: alice.name(),
                to: draft.to.clone(),
                subject: "Second thoughts".into(),
                text: format!("Make it one o'clock.\n{}", draft.text),
                ..Default::default()
            },
            &[],
        )
        .expect("save");
    assert_eq!(
        draft.via_gateway.as_deref(),
        Some(gw.address.as_str()),
        "kept"
    );
    alice.api.send_draft(draft.id).expect("send the reply");
    alice.node.as_ref().expect("node").wake_outbox();
    let second = wait_for(W, "the second message in Bob's mailbox", || {
        delivered_to(&postfix, "bob@example.org", 1)
    })
    .await;
    assert!(!second.contains("one o'clock"), "not in clear:\n{second}");
    assert!(
        second.contains("In-Reply-To: <re1@example.org>"),
        "{second}"
    );
    let inner = read_encrypted(&bob, &second);
    assert!(inner.contains("Make it one o'clock."), "{inner}");
    assert!(inner.contains("Subject: Second thoughts"), "{inner}");
    assert!(inner.contains(&format!("<{reply_to}>")), "{inner}");

    // A key Alice gives: her message to Carol leaves encrypted to it.
    let carol = gnupg::Holder::from_fixture(&tmp.join("carol-gnupg"), "carol");
    alice
        .api
        .send_via_gateway(
            &alice.name(),
            &gw.address,
            "carol@example.org",
            "For your eyes",
            "The plans are attached.\n",
            &[postern_mime::Attachment {
                name: "plans.txt".into(),
                content_type: "text/plain".into(),
                data: b"step one\n".to_vec(),
            }],
            Some(&carol.public),
        )
        .expect("send with a key");
    alice.node.as_ref().expect("node").wake_outbox();
    let to_carol = wait_for(W, "Carol's message", || {
        delivered_to(&postfix, "carol@example.org", 0)
    })
    .await;
    let inner = read_encrypted(&carol, &to_carol);
    assert!(inner.contains("The plans are attached."), "{inner}");
    assert!(inner.contains("Subject: For your eyes"), "{inner}");
    assert!(inner.contains("plans.txt"), "{inner}");
    // Bob cannot read Carol's.
    let (ok, _, _) = bob.decrypt_unsigned(&to_carol);
    assert!(!ok, "only Carol's key opens it");

    // A recipient the MX refuses: Alice is told, by her gateway.
    alice
        .api
        .send_via_gateway(
            &alice.name(),
            &gw.address,
            "nobody@example.org",
            "Hello",
            "Hi\n",
            &[],
            None,
        )
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    let bounce = wait_for(W, "the bounce in Alice's inbox", || {
        alice
            .api
            .inbox(None)
            .ok()?
            .into_iter()
            .find(|m| m.subject == "Undelivered: Hello")
    })
    .await;
    assert_eq!(bounce.from, gw.address);
    let m = alice.api.read(bounce.id).expect("read");
    assert!(m.text.contains("No such user here"), "{}", m.text);
    assert_eq!(postfix.delivered().len(), 3, "{}", postfix.log());
}

/// The gateway's outbound policy: only the contacts it names may send through it, each a few
/// messages and bytes a day; what is over is refused at hand-over with a reply that says why,
/// and nothing refused is counted or queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_carries_only_whom_it_allows_and_only_so_much_a_day() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut dave = Device::new(tmp.path(), "dave");
    let mut gw = Device::new(tmp.path(), "gateway");
    for d in [&mut alice, &mut dave] {
        d.add_contact(&gw, true);
    }
    gw.add_contact(&alice, true);
    gw.add_contact(&dave, true);
    gw.api
        .enable_gateway(
            &gw.name(),
            DOMAIN,
            SELECTOR,
            postern_gateway::testing::dkim::KEY_PEM,
        )
        .expect("enable gateway");
    assert!(
        gw.api
            .set_gateway_rules(
                &gw.name(),
                &postern_core::GatewayRules {
                    senders: vec!["nobody-known".into()],
                    ..Default::default()
                },
            )
            .is_err(),
        "only contacts can be allowed"
    );
    let view = gw
        .api
        .set_gateway_rules(
            &gw.name(),
            &postern_core::GatewayRules {
                senders: vec![alice.address.clone()],
                max_messages_per_day: 2,
                max_bytes_per_day: 512 * 1024,
            },
        )
        .expect("rules");
    assert!(!view.all_contacts);
    assert_eq!(view.senders, vec![alice.address.clone()]);

    // No MX anywhere: what the gateway takes is bounced back to its sender, which is fine here.
    let dns = serve(Zone::default()).await;
    let mut config = test_config();
    config.gateway = GatewayNetwork {
        dns: postern_gateway::Dns::Server(dns),
        ..GatewayNetwork::default()
    };
    gw.start_with(loopback(&reg), config).await;
    alice.start(loopback(&reg)).await;
    dave.start(loopback(&reg)).await;

    let send = |d: &mut Device, subject: &str, attachments: &[postern_mime::Attachment]| {
        let name = d.name();
        d.api
            .send_via_gateway(
                &name,
                &gw.address,
                "someone@example.org",
                subject,
                "Hello\n",
                attachments,
                None,
            )
            .expect("queued");
        d.node.as_ref().expect("node").wake_outbox();
    };
    let outcome = |d: &Device, subject: &str| {
        d.api.outbox(None).ok()?.into_iter().find(|o| {
            o.subject == subject
                && (matches!(o.state.as_str(), "failed" | "delivered")
                    || (o.state == "queued" && o.last_error.is_some()))
        })
    };

    // A contact that is not a gateway Alice sends through cannot bring her "replies from
    // ordinary addresses": refused, nothing filed.
    alice.add_contact(&dave, true);
    let alice_key = alice
        .api
        .identity_keys(&alice.name())
        .expect("keys")
        .openpgp_public()
        .expect("pub");
    let alice_address = alice.address.clone();
    let forged = |from: &Device| {
        let keys = from.api.identity_keys(&from.name()).expect("keys");
        compose_with(
            &keys,
            &from.address,
            &alice_address,
            &alice_key,
            "Your account",
            "Please log in at once.",
            vec![],
            vec![
                ("Postern-Kind".into(), "gateway-in".into()),
                (
                    "Postern-Gateway".into(),
                    "from=security@bank.example; spf=pass; dkim=pass; dmarc=pass; tls=yes; gateway=bank.example".into(),
                ),
            ],
        )
        .0
    };
    let (code, text) = submit(&reg, &dave.address, &alice, &forged(&dave)).await;
    assert_eq!(code, 550, "{text}");
    assert!(
        text.contains("not a gateway this identity sends through"),
        "{text}"
    );
    assert!(alice
        .api
        .inbox(None)
        .expect("inbox")
        .iter()
        .all(|m| m.subject != "Your account"));

    // Dave is a contact, but not one the gateway carries for: refused for good.
    send(&mut dave, "From Dave", &[]);
    let o = wait_for(W, "Dave's refusal", || outcome(&dave, "From Dave")).await;
    assert_eq!(o.state, "failed", "{o:?}");
    assert!(
        o.last_error
            .as_deref()
            .is_some_and(|e| e.contains("5.7.1") && e.contains("does not carry your mail")),
        "{o:?}"
    );

    // More than a day's bytes in one message: refused for good.
    send(
        &mut alice,
        "Too big",
        &[postern_mime::Attachment {
            name: "big.bin".into(),
            content_type: "application/octet-stream".into(),
            data: vec![7; 600 * 1024],
        }],
    );
    let o = wait_for(W, "the oversize refusal", || outcome(&alice, "Too big")).await;
    assert_eq!(o.state, "failed", "{o:?}");
    assert!(
        o.last_error.as_deref().is_some_and(|e| e.contains("5.3.4")),
        "{o:?}"
    );

    // Two a day: the first two are taken, the third waits for tomorrow (a temporary refusal,
    // so Alice's node keeps it and tries again).
    for subject in ["One", "Two"] {
        send(&mut alice, subject, &[]);
        let o = wait_for(W, "a hand-over", || outcome(&alice, subject)).await;
        assert_eq!(o.state, "delivered", "{o:?}");
    }
    let (code, text) = submit(&reg, &gw.address, &alice, &forged(&gw)).await;
    assert_eq!(
        code, 250,
        "the gateway Alice sends through brings her replies: {text}"
    );
    send(&mut alice, "Three", &[]);
    let o = wait_for(W, "the daily limit", || outcome(&alice, "Three")).await;
    assert_eq!(o.state, "queued", "{o:?}");
    assert!(
        o.last_error
            .as_deref()
            .is_some_and(|e| e.contains("4.5.3") && e.contains("2 messages")),
        "{o:?}"
    );
}
