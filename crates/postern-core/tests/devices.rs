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
    let (mut alice, phone) = transfer(tmp.path(), offering, receiving, false).await;
    same_device(&alice, &phone);

    // One active service over Tor: the laptop serves; the phone asks it, at the identity's own
    // onion address, to hand over; the laptop stops; the phone serves.
    alice.start(tor(&state.join("laptop-node"))).await;
    let taken = phone
        .take_over(tor(&state.join("take-over")), "alice", PATIENCE)
        .await
        .expect("take over");
    assert!(
        matches!(taken, postern_core::TakeOver::HandedOver { .. }),
        "{taken:?}"
    );
    assert_eq!(alice.node.as_ref().expect("node").standing_by().len(), 1);
    assert!(alice.node.as_ref().expect("node").serving().is_empty());
    let mut config = test_config();
    config.devices.check_patience = Duration::from_secs(30);
    let node = postern_core::Node::start(&phone, tor(&state.join("phone-node")), config)
        .await
        .expect("phone node");
    assert_eq!(node.serving(), [alice.address.clone()]);
}

/// Start a node for `p` on `t` with the test configuration.
async fn node_of(p: &Postern, t: Arc<dyn Transport>) -> postern_core::Node {
    postern_core::Node::start(p, t, test_config())
        .await
        .expect("node")
}

fn here(p: &Postern) -> (bool, u32) {
    let s = p.services().expect("services");
    assert_eq!(s.len(), 1, "{s:?}");
    (s[0].here, s[0].term)
}

/// One active service: the new device stands by while the old one serves; a stranger's
/// `XDEVICE` looks like any unknown command; a take-over makes the old device stop first and
/// sign the next term; the old device, started again, stands by; a device outranked while it
/// was off finds the other at its address and refuses to serve, saying which device serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_device_serves_an_identity_and_a_take_over_moves_the_service() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (mut alice, phone) = transfer(tmp.path(), loopback(&reg), || loopback(&reg), false).await;
    let laptop_id = alice.api.device_id().expect("id").short();
    let phone_id = phone.device_id().expect("id").short();
    assert_ne!(laptop_id, phone_id, "a copied store is another device");
    assert_eq!(here(&alice.api), (true, 1));
    assert_eq!(here(&phone), (false, 1));
    assert_eq!(
        phone.services().expect("s")[0].device.as_deref(),
        Some(laptop_id.as_str())
    );

    alice.start(loopback(&reg)).await;
    let standby = node_of(&phone, loopback(&reg)).await;
    assert!(standby.serving().is_empty(), "{:?}", standby.serving());
    assert_eq!(
        standby.standing_by(),
        vec![(alice.address.clone(), laptop_id.clone())]
    );
    drop(standby);

    // Without the identity's key, XDEVICE is an unknown command: the same reply, word for word.
    let mut raw = smtp_to_address(&reg, &alice.address).await;
    let wait = Duration::from_secs(5);
    raw.code(wait).await.expect("greeting");
    raw.send(b"EHLO x\r\n").await;
    raw.code(wait).await.expect("ehlo");
    raw.send(b"XNOSUCH a b\r\n").await;
    let unknown = raw.reply(wait).await.expect("reply");
    let forged = format!(
        "XDEVICE CHECK {} 1 {} - {}\r\n",
        "0".repeat(32),
        "0".repeat(32),
        "0".repeat(128)
    );
    raw.send(forged.as_bytes()).await;
    assert_eq!(raw.reply(wait).await.expect("reply"), unknown);
    assert_eq!(unknown.0, 500);

    // The phone takes over while the laptop serves: the laptop stops, then the phone serves.
    let taken = phone
        .take_over(loopback(&reg), "alice", Duration::from_secs(20))
        .await
        .expect("take over");
    assert_eq!(
        taken,
        postern_core::TakeOver::HandedOver {
            from: laptop_id.clone()
        }
    );
    assert_eq!(here(&phone), (true, 2));
    let laptop_node = alice.node.as_ref().expect("node");
    assert_eq!(
        laptop_node.standing_by(),
        vec![(alice.address.clone(), phone_id.clone())]
    );
    assert_eq!(here(&alice.api), (false, 2));
    let label = alice.address.split('@').nth(1).expect("onion");
    let entry = reg.join(format!("{}.25", label.trim_end_matches(".onion")));
    wait_for(
        Duration::from_secs(10),
        "the laptop's service to stop",
        || (!entry.exists()).then_some(()),
    )
    .await;
    let mut serving = node_of(&phone, loopback(&reg)).await;
    assert_eq!(serving.serving(), [alice.address.clone()]);
    assert!(entry.exists());

    // The laptop, started again, stands by: its store says the phone serves.
    alice.stop();
    alice.start(loopback(&reg)).await;
    let laptop_node = alice.node.as_ref().expect("node");
    assert!(laptop_node.serving().is_empty());
    assert_eq!(laptop_node.standing_by().len(), 1);
    alice.stop();

    // The phone is off; the laptop takes over (nobody answers) and serves, term 3.
    drop(serving);
    let taken = alice
        .api
        .take_over(loopback(&reg), "alice", Duration::from_secs(5))
        .await
        .expect("take over");
    assert_eq!(taken, postern_core::TakeOver::NobodyAnswered);
    assert_eq!(here(&alice.api), (true, 3));
    alice.start(loopback(&reg)).await;
    assert_eq!(
        alice.node.as_ref().expect("node").serving(),
        [alice.address.clone()]
    );
    // The phone comes back still holding term 2: it finds the laptop at its address, and
    // refuses to serve, saying so.
    assert_eq!(here(&phone), (true, 2));
    serving = node_of(&phone, loopback(&reg)).await;
    assert!(serving.serving().is_empty());
    assert_eq!(
        serving.standing_by(),
        vec![(alice.address.clone(), laptop_id.clone())]
    );
    assert_eq!(here(&phone), (false, 3));
    // And the laptop still serves.
    assert!(entry.exists());
    assert!(alice.node.as_ref().expect("node").standing_by().is_empty());
}

/// A lost device: the phone declares the laptop lost while the laptop still serves. The phone
/// takes the next term and replaces the OpenPGP key (contacts are told); started, it finds the
/// laptop at the address with an older term, and the laptop yields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_device_is_outranked_and_its_key_revoked() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (mut laptop, mut phone) =
        transfer(tmp.path(), loopback(&reg), || loopback(&reg), false).await;
    laptop.start(loopback(&reg)).await;
    let old_key = phone.identity("alice").expect("id").fingerprint;
    let lost = phone
        .device_lost("alice", postern_core::RevocationScope::Key, "laptop stolen")
        .expect("lost");
    assert_eq!(lost.term, 2);
    assert_eq!(lost.revocation.scope, "key");
    assert_eq!(lost.revocation.notified, 1, "bob is told");
    assert_eq!(lost.revocation.fingerprint, old_key);
    let new_key = phone.identity("alice").expect("id").fingerprint;
    assert_ne!(new_key, old_key);
    assert_eq!(lost.revocation.successor.as_deref(), Some(new_key.as_str()));
    assert_eq!(here(&phone), (true, 2));
    // The notice to bob waits in the phone's outbox.
    assert!(phone
        .outbox(None)
        .expect("outbox")
        .iter()
        .any(|o| o.subject == "My key changed"));

    let node = node_of(&phone, loopback(&reg)).await;
    assert_eq!(node.serving(), [laptop.address.clone()]);
    let phone_id = phone.device_id().expect("id").short();
    let laptop_node = laptop.node.as_ref().expect("node");
    assert_eq!(
        laptop_node.standing_by(),
        vec![(laptop.address.clone(), phone_id)]
    );
    assert!(laptop_node.serving().is_empty());
}
