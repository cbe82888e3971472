//! The gateway's public SMTP server against the ordinary world: Debian's Postfix relays a
//! correspondent's reply to it over STARTTLS, SPF/DKIM/DMARC are checked against a DNS server
//! on loopback, forged and misdirected replies bounce with the gateway's words, and every
//! open-relay probe, smuggling attempt, oversize message and DMARC-rejected forgery is refused
//! with nothing handed on.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postern_gateway::testing::client::Probe;
use postern_gateway::testing::dns::{serve, Entry, Zone};
use postern_gateway::testing::postfix::Postfix;
use postern_gateway::{
    mint_local_part, resolver, tls_acceptor, Dns, InboundMail, InboundPolicy, PublicLimits,
    PublicServer, ReplySecret, ReplySink,
};
use postern_smtp::Reply;
use tokio::net::TcpListener;

const GATEWAY: &str = "gw.example.net";
const NOW: u64 = 1_800_000_000;
const DAY: u64 = 86_400;

fn secret() -> ReplySecret {
    ReplySecret::from_bytes([9; 32])
}

fn reply_address(route: u64, correspondent: &str) -> String {
    format!(
        "{}@{GATEWAY}",
        mint_local_part(&secret(), route, NOW + 30 * DAY, correspondent)
    )
}

fn zone() -> Zone {
    Zone::default()
        .with("example.org", Entry::Mx(10, "mx.example.org"))
        .with("example.org", Entry::Txt("v=spf1 ip4:127.0.0.1 -all"))
        .with("_dmarc.example.org", Entry::Txt("v=DMARC1; p=reject"))
        .with("mx.example.org", Entry::A(Ipv4Addr::LOCALHOST))
        // A domain whose mail never comes from here, and which asks for forgeries to be refused.
        .with("strict.example", Entry::Txt("v=spf1 ip4:192.0.2.1 -all"))
        .with("_dmarc.strict.example", Entry::Txt("v=DMARC1; p=reject"))
}

#[derive(Default)]
struct Collected(Mutex<Vec<InboundMail>>);

#[async_trait::async_trait]
impl ReplySink for Collected {
    async fn take(&self, mail: InboundMail) -> Result<(), Reply> {
        self.0.lock().expect("lock").push(mail);
        Ok(())
    }
}

impl Collected {
    fn all(&self) -> Vec<InboundMail> {
        self.0.lock().expect("lock").clone()
    }
}

fn self_signed(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg(format!("/CN={GATEWAY}"))
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl");
    assert!(status.status.success());
    (
        std::fs::read(dir.join("cert.pem")).expect("cert"),
        std::fs::read(dir.join("key.pem")).expect("key"),
    )
}

async fn gateway(limits: PublicLimits) -> (u16, Arc<Collected>, tempfile::TempDir) {
    let dns = serve(zone()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = self_signed(dir.path());
    let sink = Arc::new(Collected::default());
    let server = Arc::new(PublicServer::new(
        GATEWAY,
        InboundPolicy {
            domain: GATEWAY.into(),
            secret: secret(),
        },
        Some(tls_acceptor(&cert, &key).expect("TLS")),
        resolver(&Dns::Server(dns)).expect("resolver"),
        limits,
        sink.clone(),
        Arc::new(|| NOW),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(server.serve(listener));
    (port, sink, dir)
}

fn letter(from: &str, to: &str, text: &str) -> String {
    format!(
        "From: Bob <{from}>\r\nTo: <{to}>\r\nSubject: Re: Lunch\r\nMessage-ID: <r1@example.org>\r\n\
         Date: Thu, 14 Jan 2027 10:00:00 +0000\r\n\r\n{text}\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_relayed_by_postfix_arrives_over_tls_checked_and_forgeries_bounce() {
    if !Postfix::available() {
        return;
    }
    let (port, sink, _dir) = gateway(PublicLimits::default()).await;
    let postfix = Postfix::start(&[], Some((GATEWAY, port)));

    let to = reply_address(11, "bob@example.org");
    postfix.submit(
        "bob@example.org",
        &to,
        &letter("bob@example.org", &to, "Noon works."),
    );
    let started = std::time::Instant::now();
    while sink.all().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{}",
            postfix.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = sink.all();
    assert_eq!(got.len(), 1);
    let mail = &got[0];
    assert_eq!(mail.routes.len(), 1);
    assert_eq!(mail.routes[0].route, 11);
    assert_eq!(mail.mail_from, "bob@example.org");
    assert!(mail.tls, "Postfix used STARTTLS");
    assert_eq!(
        (
            mail.checks.spf.as_str(),
            mail.checks.dkim.as_str(),
            mail.checks.dmarc.as_str()
        ),
        ("pass", "none", "pass"),
        "{}",
        mail.checks.header
    );
    assert!(
        mail.checks.header.contains("spf=pass"),
        "{}",
        mail.checks.header
    );
    assert!(String::from_utf8_lossy(&mail.data).contains("Noon works."));

    // A made-up reply address, and one issued to Carol but sent by Bob: Postfix is refused,
    // and its bounce to Bob carries the gateway's words.
    let forged = format!("r-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@{GATEWAY}");
    let carols = reply_address(12, "carol@example.org");
    for to in [&forged, &carols] {
        postfix.submit(
            "bob@example.org",
            to,
            &letter("bob@example.org", to, "Hello?"),
        );
    }
    let bounces = postfix.wait_for(2);
    for bounce in &bounces {
        let text = String::from_utf8_lossy(bounce);
        assert!(text.contains("No such reply address here"), "{text}");
    }
    assert_eq!(sink.all().len(), 1, "nothing more was handed on");
}

async fn refused_rcpt(port: u16, rcpt: &str) -> (u16, String) {
    let (mut p, code, _) = Probe::connect(port).await;
    assert_eq!(code, 220);
    assert_eq!(p.cmd("EHLO prober.example").await.0, 250);
    assert_eq!(p.cmd("MAIL FROM:<spammer@example.org>").await.0, 250);
    p.cmd(&format!("RCPT TO:<{rcpt}>")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_relay_probes_and_bad_replies_are_refused_and_nothing_is_handed_on() {
    let (port, sink, _dir) = gateway(PublicLimits {
        max_message_size: 64 * 1024,
        ..PublicLimits::default()
    })
    .await;
    let token = mint_local_part(&secret(), 1, NOW + DAY, "spammer@example.org");
    // The classic relay-test list, aimed at victim@other.example.
    let relay_forms = [
        "victim@other.example".to_owned(),
        format!("victim%other.example@{GATEWAY}"),
        format!("other.example!victim@{GATEWAY}"),
        format!("\"victim@other.example\"@{GATEWAY}"),
        format!("@{GATEWAY}:victim@other.example"),
        "victim@[192.0.2.1]".to_owned(),
        format!("{token}@other.example"),
        format!("{token}%other.example@{GATEWAY}"),
        "victim".to_owned(),
        "postmaster".to_owned(),
    ];
    for rcpt in &relay_forms {
        let (code, text) = refused_rcpt(port, rcpt).await;
        assert!(code >= 500, "{rcpt}: {code} {text}");
        if code == 550 {
            assert!(text.contains("5.7.1 Relaying denied"), "{rcpt}: {text}");
        }
    }
    // In the gateway's domain but not issued, expired, or issued to someone else: one answer.
    let expired = format!(
        "{}@{GATEWAY}",
        mint_local_part(&secret(), 1, NOW - DAY, "spammer@example.org")
    );
    let others = format!(
        "{}@{GATEWAY}",
        mint_local_part(&secret(), 1, NOW + DAY, "bob@example.org")
    );
    let made_up = format!("r-{}@{GATEWAY}", "b".repeat(36));
    let answers: Vec<String> = [
        refused_rcpt(port, &expired).await,
        refused_rcpt(port, &others).await,
        refused_rcpt(port, &made_up).await,
    ]
    .into_iter()
    .map(|(code, text)| {
        assert_eq!(code, 550, "{text}");
        text
    })
    .collect();
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "no oracle: {answers:?}"
    );

    let good = format!("{token}@{GATEWAY}");
    // Smuggling: a bare LF before "." ends the session, nothing is handed on.
    let (mut p, _, _) = Probe::connect(port).await;
    p.cmd("EHLO a").await;
    p.cmd("MAIL FROM:<spammer@example.org>").await;
    assert_eq!(p.cmd(&format!("RCPT TO:<{good}>")).await.0, 250);
    assert_eq!(p.cmd("DATA").await.0, 354);
    p.send(b"From: <spammer@example.org>\r\n\r\nhi\n.\r\nMAIL FROM:<x@example.org>\r\n")
        .await;
    assert_eq!(p.reply().await.0, 521);
    // Oversize: 552 after the data, nothing handed on.
    let (mut p, _, _) = Probe::connect(port).await;
    p.cmd("EHLO a").await;
    p.cmd("MAIL FROM:<spammer@example.org>").await;
    p.cmd(&format!("RCPT TO:<{good}>")).await;
    p.cmd("DATA").await;
    let lines = vec!["x".repeat(900); 100].join("\r\n");
    let big = format!("From: <spammer@example.org>\r\n\r\n{lines}\r\n.");
    assert_eq!(p.cmd(&big).await.0, 552);
    // A forgery of a domain whose DMARC policy is reject: refused after the data.
    let strict = mint_local_part(&secret(), 1, NOW + DAY, "ceo@strict.example");
    let (mut p, _, _) = Probe::connect(port).await;
    p.cmd("EHLO a").await;
    p.cmd("MAIL FROM:<ceo@strict.example>").await;
    assert_eq!(p.cmd(&format!("RCPT TO:<{strict}@{GATEWAY}>")).await.0, 250);
    p.cmd("DATA").await;
    let (code, text) = p
        .cmd(&format!(
            "{}.",
            letter("ceo@strict.example", "x", "Pay this invoice.")
        ))
        .await;
    assert_eq!(
        code,
        550,
        "{text} {:?}",
        sink.all().iter().map(|m| &m.checks).collect::<Vec<_>>()
    );
    assert!(text.contains("DMARC"), "{text}");
    assert!(sink.all().is_empty(), "nothing may be handed on");

    // And the same connection path does take a real reply.
    let (mut p, _, _) = Probe::connect(port).await;
    p.cmd("EHLO a").await;
    p.cmd("MAIL FROM:<spammer@example.org>").await;
    p.cmd(&format!("RCPT TO:<{good}>")).await;
    p.cmd("DATA").await;
    let (code, text) = p
        .cmd(&format!(
            "{}.",
            letter("spammer@example.org", &good, "Fine, thanks.")
        ))
        .await;
    assert_eq!(code, 250, "{text}");
    assert_eq!(sink.all().len(), 1);
    assert!(!sink.all()[0].tls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_address_gets_a_bounded_number_of_sessions() {
    let (port, _sink, _dir) = gateway(PublicLimits {
        max_sessions_per_ip: 3,
        ..PublicLimits::default()
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let (p, code, _) = Probe::connect(port).await;
        assert_eq!(code, 220);
        open.push(p);
    }
    let (_, code, text) = Probe::connect(port).await;
    assert_eq!(code, 421, "{text}");
    drop(open);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, code, _) = Probe::connect(port).await;
    assert_eq!(code, 220, "sessions are given back when they end");
}
