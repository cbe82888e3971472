//! Mail over real Tor: arti nodes on the project's private Tor network. Skips loudly only where
//! `tor` is not installed; CI sets POSTERN_REQUIRE_TOR=1 so that it must run.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use postern_core::{Network, Transport};
use postern_testnet::Testnet;

fn tor_network(net: &Testnet) -> Network {
    Network::Tor {
        network_toml: Some(net.arti_network_toml()),
        bootstrap_timeout: Duration::from_secs(60),
    }
}

fn transport(d: &Device, net: &Testnet) -> Arc<dyn Transport> {
    tor_network(net).transport(&d.dir).expect("arti")
}

fn network() -> &'static Testnet {
    Testnet::shared().expect("private Tor network")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(tor_missing, ignore = "needs `tor` (apt-get install tor); CI runs it")]
async fn alice_mails_bob_over_tor_and_bob_offline_gets_it_later() {
    let net = network();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,tor_netdir=error".into()),
        )
        .with_test_writer()
        .try_init();
    let tmp = tempfile::tempdir().expect("tmp");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    let mut carol = Device::new(tmp.path(), "carol");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    alice.add_contact(&carol, false);

    let t = transport(&alice, net);
    alice.start(t).await;
    let t = transport(&bob, net);
    bob.start(t).await;

    // 1. Both online.
    let sent = Instant::now();
    alice
        .api
        .send(
            "alice",
            &bob.address,
            "Over Tor",
            "Hello through onion services.",
            &[],
        )
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    let id = wait_for(Duration::from_secs(120), "Bob's inbox", || {
        bob.api.inbox(None).ok()?.first().map(|m| m.id)
    })
    .await;
    eprintln!("send -> stored at Bob over Tor: {:?}", sent.elapsed());
    let m = bob.api.read(id).expect("read");
    assert_eq!(m.summary.from, alice.address);
    assert_eq!(m.summary.verification, "contact");
    assert!(m.text.contains("Hello through onion services."));

    // 2. Carol is offline when Alice sends; the outbox retries until Carol's node is up. Alice
    //    holds only Carol's card without key, so the key is fetched over Carol's onion service.
    alice
        .api
        .send(
            "alice",
            &carol.address,
            "While you were away",
            "Queued for you.",
            &[],
        )
        .expect("send");
    let failed = wait_for(Duration::from_secs(120), "a failed attempt", || {
        let o = alice.api.outbox(None).ok()?;
        let o = o.into_iter().find(|o| o.to == carol.address)?;
        (o.attempts >= 1 && o.state == "queued").then_some(o)
    })
    .await;
    eprintln!("attempt while Carol is offline: {:?}", failed.last_error);
    let t = transport(&carol, net);
    carol.start(t).await;
    wait_for(
        Duration::from_secs(180),
        "delivery to Carol after retry",
        || {
            let o = alice.api.outbox(None).ok()?;
            o.iter()
                .any(|o| o.to == carol.address && o.state == "delivered")
                .then_some(())
        },
    )
    .await;
    let reqs = carol.api.requests(None).expect("requests");
    assert_eq!(
        reqs.len(),
        1,
        "Alice is not Carol's contact: a contact request"
    );
    assert_eq!(reqs[0].subject, "While you were away");
    assert!(
        alice
            .api
            .contact("alice", &carol.address)
            .expect("c")
            .has_key
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(tor_missing, ignore = "needs `tor` (apt-get install tor); CI runs it")]
async fn invite_handshake_over_tor() {
    let net = network();
    let tmp = tempfile::tempdir().expect("tmp");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    let t = transport(&alice, net);
    alice.start(t).await;
    let invite = alice
        .api
        .create_invite("alice", Duration::from_secs(600))
        .expect("invite");
    // Bob photographs the QR code.
    let png = postern_core::Postern::qr_png(&invite.link, 6).expect("png");
    let preview = bob.api.scan_image(&png).expect("scan");
    bob.api.accept_invite("bob", &preview.text).expect("accept");
    let t = transport(&bob, net);
    bob.start(t).await;
    let started = Instant::now();
    let o = wait_for(Duration::from_secs(120), "the handshake over Tor", || {
        let o = bob.api.outbox(None).ok()?.into_iter().next()?;
        (o.state == "delivered" || o.state == "failed").then_some(o)
    })
    .await;
    assert_eq!(o.state, "delivered", "{o:?}");
    eprintln!("handshake over Tor: {:?}", started.elapsed());
    let at_alice = alice
        .api
        .contact("alice", &bob.address)
        .expect("Bob at Alice");
    assert_eq!(at_alice.trust, "verified");
    assert!(at_alice.has_key);
    let at_bob = bob
        .api
        .contact("bob", &alice.address)
        .expect("Alice at Bob");
    assert_eq!(at_bob.trust, "verified");
    assert!(at_bob.has_key);
}

/// The carrier scenario over the private Tor network, with three real arti nodes: Bob is
/// offline, Alice's message goes to Carol, Alice goes offline, Bob comes back and pulls, Alice
/// comes back and learns "delivered via Carol".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(tor_missing, ignore = "needs `tor` (apt-get install tor); CI runs it")]
async fn carrier_holds_mail_for_an_offline_recipient_over_tor() {
    let net = network();
    let tmp = tempfile::tempdir().expect("tmp");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    let mut carol = Device::new(tmp.path(), "carol");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    carol.add_contact(&bob, true);
    carol.api.set_carrier_mode("carol", true).expect("on");
    carol
        .api
        .set_carrier_policy("carol", &[bob.address.clone()], &[], None, None)
        .expect("policy");
    bob.api
        .designate_carrier("bob", &carol.address, true)
        .expect("designate");
    let mut quick = test_config();
    quick.receipt_retry = Duration::from_secs(2);
    let mut patient = quick.clone();
    patient.retry.first_retry = Duration::from_secs(3600);
    patient.retry.max_interval = Duration::from_secs(3600);
    let wait = Duration::from_secs(150);

    let t = transport(&alice, net);
    alice.start_with(t, quick.clone()).await;
    let t = transport(&bob, net);
    bob.start_with(t, quick.clone()).await;
    let t = transport(&carol, net);
    carol.start_with(t, patient).await;
    wait_for(wait, "Alice to learn Bob's carrier", || {
        let v = alice.api.carriers("alice", 0.999).ok()?;
        (!v.contacts.is_empty()).then_some(())
    })
    .await;
    bob.stop();

    let started = Instant::now();
    alice
        .api
        .send("alice", &bob.address, "carried over tor", "hello", &[])
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    wait_for(wait, "the hand-over to Carol", || {
        alice
            .api
            .outbox(None)
            .ok()?
            .into_iter()
            .find(|m| m.state == "carried")
    })
    .await;
    eprintln!("send -> held by Carol over Tor: {:?}", started.elapsed());
    alice.stop();

    let t = transport(&bob, net);
    let back = Instant::now();
    bob.start_with(t, quick.clone()).await;
    let m = wait_for(wait, "Bob to receive from Carol", || {
        bob.api
            .inbox(None)
            .ok()?
            .into_iter()
            .find(|m| m.subject == "carried over tor")
    })
    .await;
    eprintln!(
        "Bob online -> message from Carol over Tor: {:?}",
        back.elapsed()
    );
    assert_eq!(m.from, alice.address);

    let t = transport(&alice, net);
    alice.start_with(t, quick).await;
    let o = wait_for(wait, "Alice to see delivered via Carol", || {
        alice
            .api
            .outbox(None)
            .ok()?
            .into_iter()
            .find(|m| m.subject == "carried over tor" && m.state == "delivered")
    })
    .await;
    assert_eq!(o.delivered_via.as_deref(), Some(carol.address.as_str()));
}
