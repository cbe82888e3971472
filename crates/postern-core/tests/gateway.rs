//! Gateway mode end to end, over loopback nodes and real ordinary-mail software: Alice's
//! message to bob@example.org travels sealed to her gateway contact, leaves it DKIM-signed
//! through a DNS-found MX into Debian's Postfix; Bob's reply, relayed by Postfix over STARTTLS
//! to the gateway's public server, reaches Alice's inbox as from bob@example.org "via gateway",
//! never as verified; mail Postfix refuses comes back to Alice as a bounce. Once between
//! loopback nodes, once between arti nodes on the project's private Tor network.

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

    // Back: Bob replies; Postfix relays to the gateway; Alice gets it, marked as such.
    postfix.submit(
        "bob@example.org",
        &reply_to,
        &format!(
            "From: Bob <bob@example.org>\r\nTo: <{reply_to}>\r\nSubject: Re: Lunch?\r\n\
             Message-ID: <re1@example.org>\r\n\r\nNoon is perfect.\r\n"
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
    assert_eq!(postfix.delivered().len(), 1, "{}", postfix.log());
}
