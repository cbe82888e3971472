//! A second device by link: the offering device serves a one-time onion service; the new one
//! proves it holds the secret and pulls the backup. Over loopback (with a wrong secret first,
//! refused, and the link dead once used) and over the private Tor network.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use postern_core::{CoreError, DeviceLink, Network, Postern, Transport};
use tokio::sync::watch;

const PATIENCE: Duration = Duration::from_secs(120);

/// Alice with a contact and a sent message; she offers her device while `receive` runs with the
/// link; returns the new device.
async fn transfer(
    root: &std::path::Path,
    offering: Arc<dyn Transport>,
    receiving: impl Fn() -> Arc<dyn Transport>,
    wrong_first: bool,
) -> (Device, Postern) {
    let mut alice = Device::new(root, "alice");
    let bob = Device::new(root, "bob");
    alice.add_contact(&bob, true);
    alice
        .api
        .send("alice", &bob.address, "Kept", "Sent before the move.", &[])
        .expect("queue");
    let (tx, mut rx) = watch::channel(String::new());
    let new_dir = root.join("alice-phone");
    let offer = async {
        let mut shown = |link: &str| {
            let _ = tx.send(link.to_owned());
        };
        alice
            .api
            .offer_device(
                offering,
                true,
                Duration::from_secs(300),
                &mut shown,
                &mut |_, _| {},
            )
            .await
    };
    let receive = async {
        let link = rx.wait_for(|l| !l.is_empty()).await.expect("link").clone();
        if wrong_first {
            // The same onion service, another secret: refused, and nothing is written.
            let at = link.rfind(':').expect("secret") + 1;
            let first = &link[at..at + 1];
            let bad = format!(
                "{}{}{}",
                &link[..at],
                if first == "a" { "b" } else { "a" },
                &link[at + 1..]
            );
            let wrong = DeviceLink::parse(&bad).expect("parses");
            let e = Postern::receive_device(
                &root.join("stranger"),
                receiving(),
                &wrong,
                b"x",
                PATIENCE,
                &mut |_, _| {},
            )
            .await
            .expect_err("a wrong secret");
            assert!(matches!(e, CoreError::DeviceTransfer(_)), "{e}");
            assert!(e.to_string().contains("refused"), "{e}");
            assert!(!Postern::exists(&root.join("stranger")));
        }
        let link = DeviceLink::parse(&link).expect("link");
        let mut seen = (0, 0);
        let got = Postern::receive_device(
            &new_dir,
            receiving(),
            &link,
            b"phone",
            PATIENCE,
            &mut |d, t| seen = (d, t),
        )
        .await
        .expect("received");
        assert!(
            seen.0 > 0 && seen.0 == seen.1,
            "progress to the end: {seen:?}"
        );
        (got, link)
    };
    let (sent, ((phone, summary), link)) = tokio::join!(offer, receive);
    let sent = sent.expect("offered");
    assert_eq!(sent, summary);
    assert_eq!(summary.identities, vec![alice.address.clone()]);
    assert_eq!(summary.messages, 1);
    if wrong_first {
        // The link is used up: its service is gone (over loopback at once; over Tor only once
        // the descriptor ages out, which this test does not wait for).
        let late = root.join("late");
        let mut quiet = |_, _| {};
        let again = Postern::receive_device(
            &late,
            receiving(),
            &link,
            b"x",
            Duration::from_secs(3),
            &mut quiet,
        );
        let r = tokio::time::timeout(Duration::from_secs(30), again).await;
        assert!(matches!(r, Ok(Err(_))), "a used link must not work again");
        assert!(!Postern::exists(&root.join("late")));
    }
    (alice, phone)
}

fn same_device(alice: &Device, phone: &Postern) {
    let a: Vec<String> = alice
        .api
        .identities()
        .expect("ids")
        .into_iter()
        .map(|i| i.address)
        .collect();
    let b: Vec<String> = phone
        .identities()
        .expect("ids")
        .into_iter()
        .map(|i| i.address)
        .collect();
    assert_eq!(a, b);
    let contacts = |p: &Postern| -> Vec<String> {
        p.contacts("alice")
            .expect("contacts")
            .into_iter()
            .map(|c| c.address)
            .collect()
    };
    assert_eq!(contacts(&alice.api), contacts(phone));
    let sent = |p: &Postern| -> Vec<String> {
        p.mailbox("alice", "sent")
            .expect("sent")
            .into_iter()
            .map(|m| m.subject)
            .collect()
    };
    assert_eq!(sent(phone), vec!["Kept".to_owned()]);
    assert_eq!(sent(&alice.api), sent(phone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_pulls_the_identities_over_loopback_and_a_wrong_secret_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (alice, phone) = transfer(tmp.path(), loopback(&reg), || loopback(&reg), true).await;
    same_device(&alice, &phone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(tor_missing, ignore = "needs `tor` (apt-get install tor); CI runs it")]
async fn a_new_device_pulls_the_identities_over_tor() {
    let net = postern_testnet::Testnet::shared().expect("private Tor network");
    let tor = |dir: &std::path::Path| {
        Network::Tor {
            network_toml: Some(net.arti_network_toml()),
            bootstrap_timeout: Duration::from_secs(60),
        }
        .transport(dir)
        .expect("arti")
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let state = tmp.path().join("tor-states");
    let offering = tor(&state.join("offer"));
    let n = std::sync::atomic::AtomicUsize::new(0);
    let receiving = || {
        tor(&state.join(format!(
            "receive-{}",
            n.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        )))
    };
    let (alice, phone) = transfer(tmp.path(), offering, receiving, false).await;
    same_device(&alice, &phone);
}
