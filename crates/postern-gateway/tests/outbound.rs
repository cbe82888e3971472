//! Outbound through the gateway to an ordinary mail server: the message is built from the
//! gateway's domain, DKIM-signed (checked by an independent verifier, Python's `dkim`), its MX
//! found over DNS, and delivered to Debian's Postfix over STARTTLS into a Maildir. Refusals
//! and unreachable servers come back as permanent or transient outcomes.

use std::net::Ipv4Addr;

use postern_gateway::testing::dns::{serve, Entry, Zone};
use postern_gateway::testing::postfix::Postfix;
use postern_gateway::{
    mint_local_part, resolver, DeliveryOutcome, DkimKey, Dns, MxDelivery, OutboundMessage,
    Outgoing, ReplySecret,
};

const GATEWAY: &str = "gw.example.net";
const SELECTOR: &str = "postern1";
const NOW: u64 = 1_800_000_000;

fn zone() -> Zone {
    Zone::default()
        .with("example.org", Entry::Mx(10, "mx.example.org"))
        .with("mx.example.org", Entry::A(Ipv4Addr::LOCALHOST))
        // RFC 7505 null MX: this domain takes no mail.
        .with("nomail.example.org", Entry::Mx(0, ""))
        // An MX whose server is down (nothing listens on the port there).
        .with("down.example.org", Entry::Mx(10, "mx.down.example.org"))
        .with("mx.down.example.org", Entry::A(Ipv4Addr::new(127, 0, 0, 2)))
}

fn dkim_key() -> DkimKey {
    DkimKey::from_pem(postern_gateway::testing::dkim::KEY_PEM, GATEWAY, SELECTOR)
        .expect("test DKIM key")
}

fn message(to: &str, text: &str) -> Vec<u8> {
    let secret = ReplySecret::from_bytes([5; 32]);
    let reply = format!(
        "{}@{GATEWAY}",
        mint_local_part(&secret, 11, NOW + 86_400 * 30, to)
    );
    let msg = OutboundMessage {
        sender_name: "Alice Example".into(),
        reply_address: reply,
        to: to.into(),
        subject: "Lunch on Thursday? — café".into(),
        text: text.into(),
        message_id: format!("m1.abcdef@{GATEWAY}"),
        in_reply_to: Some("earlier@example.org".into()),
        date: NOW as i64,
        gateway_domain: GATEWAY.into(),
        attachments: vec![("menu.txt".into(), "text/plain".into(), b"soup\n".to_vec())],
    };
    dkim_key()
        .sign(&msg.render().expect("render"))
        .expect("sign")
}

fn dkim_verifies(message: &[u8]) -> bool {
    // The record the gateway tells its operator to publish is the key openssl wrote.
    assert_eq!(
        DkimKey::dns_record(postern_gateway::testing::dkim::KEY_PEM).expect("record"),
        format!(
            "v=DKIM1; k=rsa; p={}",
            postern_gateway::testing::dkim::PUBLIC_B64.trim()
        )
    );
    postern_gateway::testing::dkim::verifies(message, SELECTOR, GATEWAY)
}

#[test]
fn the_dkim_signature_verifies_independently_and_breaks_when_altered() {
    let signed = message("bob@example.org", "See you at noon.\n");
    assert!(
        dkim_verifies(&signed),
        "{}",
        String::from_utf8_lossy(&signed)
    );
    let text = String::from_utf8(signed.clone()).expect("ascii");
    let altered = text.replace("See you at noon.", "See you at one.");
    assert_ne!(altered, text);
    assert!(
        !dkim_verifies(altered.as_bytes()),
        "a changed body must fail"
    );
    let refrom = text.replacen(
        "From: ",
        "From: \"Mallory\" <m@evil.example>\r\nX-Old-From: ",
        1,
    );
    assert!(
        !dkim_verifies(refrom.as_bytes()),
        "a changed From must fail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_to_the_mx_over_starttls_into_postfix() {
    if !Postfix::available() {
        return;
    }
    let postfix = Postfix::start(
        &[
            "nobody@example.org = 550 5.1.1 No such user",
            "busy@example.org = 451 4.3.0 Try again later",
        ],
        None,
    );
    let dns = serve(zone()).await;
    let delivery = MxDelivery::new(
        resolver(&Dns::Server(dns)).expect("resolver"),
        postfix.port,
        GATEWAY,
    );
    let bounce = format!(
        "{}@{GATEWAY}",
        mint_local_part(&ReplySecret::from_bytes([5; 32]), 11, NOW, "")
    );

    let signed = message("bob@example.org", "See you at noon.\n");
    let outcome = delivery.deliver(&bounce, "bob@example.org", &signed).await;
    assert_eq!(
        outcome,
        DeliveryOutcome::Delivered {
            host: "mx.example.org".into(),
            tls: true
        }
    );
    let got = postfix.wait_for(1);
    let stored = String::from_utf8_lossy(&got[0]).into_owned();
    assert!(
        stored.contains(&format!("Return-Path: <{bounce}>")),
        "{stored}"
    );
    assert!(
        stored.contains("(using TLS"),
        "Postfix saw no TLS:\n{stored}"
    );
    let unfolded = stored.replace("\r\n\t", " ").replace("\n\t", " ");
    assert!(unfolded.contains("From: \"Alice Example\" <r-"), "{stored}");
    assert!(stored.contains("See you at noon."), "{stored}");
    assert!(stored.contains("filename=\"menu.txt\""), "{stored}");
    // What the recipient's server stored still verifies (Postfix added Received and
    // Return-Path headers above the signature; they are not signed).
    assert!(dkim_verifies(&got[0]), "{stored}");

    // The recipient's server refuses: permanent, with its words.
    match delivery
        .deliver(&bounce, "nobody@example.org", &signed)
        .await
    {
        DeliveryOutcome::Permanent(why) => assert!(why.contains("No such user"), "{why}"),
        other => panic!("{other:?}"),
    }
    // It asks to try later: transient.
    match delivery.deliver(&bounce, "busy@example.org", &signed).await {
        DeliveryOutcome::Transient(why) => assert!(why.contains("Try again later"), "{why}"),
        other => panic!("{other:?}"),
    }
    // A null MX: permanent without connecting; no such domain: permanent; a server that does
    // not answer: transient.
    assert!(matches!(
        delivery.deliver(&bounce, "x@nomail.example.org", &signed).await,
        DeliveryOutcome::Permanent(why) if why.contains("null MX")
    ));
    assert!(matches!(
        delivery.deliver(&bounce, "x@nowhere.example.org", &signed).await,
        DeliveryOutcome::Permanent(why) if why.contains("no such domain")
    ));
    assert!(matches!(
        delivery
            .deliver(&bounce, "x@down.example.org", &signed)
            .await,
        DeliveryOutcome::Transient(_)
    ));
    // Nothing else reached the mailbox.
    assert_eq!(postfix.delivered().len(), 1, "{}", postfix.log());

    // Several messages in one session: a refusal in the middle is answered by RSET and the
    // session goes on; each message gets its own outcome.
    let for_carol = message("carol@example.org", "Carol's copy.\n");
    let many = [
        Outgoing {
            mail_from: &bounce,
            rcpt: "bob@example.org",
            message: &signed,
        },
        Outgoing {
            mail_from: &bounce,
            rcpt: "nobody@example.org",
            message: &signed,
        },
        Outgoing {
            mail_from: &bounce,
            rcpt: "busy@example.org",
            message: &signed,
        },
        Outgoing {
            mail_from: &bounce,
            rcpt: "carol@example.org",
            message: &for_carol,
        },
        Outgoing {
            mail_from: &bounce,
            rcpt: "x@nomail.example.org",
            message: &signed,
        },
    ];
    let outcomes = delivery.deliver_many(&many, 2).await;
    assert!(
        matches!(outcomes[0], DeliveryOutcome::Delivered { tls: true, .. }),
        "{outcomes:?}"
    );
    assert!(matches!(&outcomes[1], DeliveryOutcome::Permanent(w) if w.contains("No such user")));
    assert!(matches!(&outcomes[2], DeliveryOutcome::Transient(w) if w.contains("Try again later")));
    assert!(
        matches!(outcomes[3], DeliveryOutcome::Delivered { .. }),
        "{outcomes:?}"
    );
    assert!(matches!(&outcomes[4], DeliveryOutcome::Permanent(w) if w.contains("null MX")));
    let got = postfix.wait_for(3);
    assert!(String::from_utf8_lossy(&got.concat()).contains("Carol's copy."));
    // The four example.org messages went over (at most) the two sessions asked for: with the
    // three single deliveries before, at most five sessions that sent mail (Postfix logs each
    // as "disconnect from … mail=…"; its own readiness probes send none).
    let sessions = postfix
        .log()
        .lines()
        .filter(|l| l.contains("]: disconnect from") && l.contains(" mail="))
        .count();
    assert!(
        (3..=5).contains(&sessions),
        "{sessions} sessions\n{}",
        postfix.log()
    );
}
