//! Stopping cleanly (`Node::stop`, before the device sleeps): a message being received gets
//! its grace to arrive and is stored; idle sessions are told the node goes offline; nobody new
//! gets in; a message not finished in time is cut off and not stored; and mail sent meanwhile
//! waits with a carrier until the node is back.

mod common;

use std::time::{Duration, Instant};

use common::*;
use postern_smtp::data_block;

const W: Duration = Duration::from_secs(10);

/// Alice and Bob are contacts; Bob's node runs. A message from Alice to Bob, and a session
/// from her in the middle of its DATA (half of it sent).
async fn half_sent(reg: &std::path::Path, alice: &Device, bob: &Device) -> (RawSmtp, Vec<u8>) {
    let keys = alice.api.identity_keys(&alice.name()).expect("keys");
    let bob_key = bob
        .api
        .identity_keys(&bob.name())
        .expect("keys")
        .openpgp_public()
        .expect("pub");
    let (msg, _) = compose_as(
        &keys,
        &alice.address,
        &bob.address,
        &bob_key,
        "just before sleep",
    );
    let block = data_block(&msg);
    let mut s = smtp_to(reg, bob).await;
    assert_eq!(s.code(W).await, Some(220));
    let cmds = format!(
        "EHLO a\r\nMAIL FROM:<{}>\r\nRCPT TO:<{}>\r\nDATA\r\n",
        alice.address, bob.address
    );
    s.send(cmds.as_bytes()).await;
    for code in [250, 250, 250, 354] {
        assert_eq!(s.code(W).await, Some(code));
    }
    let half = block.len() / 2;
    s.send(&block[..half]).await;
    (s, block[half..].to_vec())
}

fn people(root: &std::path::Path) -> (Device, Device) {
    let mut alice = Device::new(root, "alice");
    let mut bob = Device::new(root, "bob");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    (alice, bob)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_lets_the_message_in_flight_arrive_and_closes_the_rest() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (alice, mut bob) = people(tmp.path());
    bob.start(loopback(&reg)).await;
    let (mut sending, rest) = half_sent(&reg, &alice, &bob).await;
    let mut idle = smtp_to(&reg, &bob).await;
    assert_eq!(idle.code(W).await, Some(220));
    idle.send(b"EHLO idle\r\n").await;
    assert_eq!(idle.code(W).await, Some(250));

    let node = bob.node.take().expect("node");
    let started = Instant::now();
    let stopping = tokio::spawn(node.stop(Duration::from_secs(20)));
    // The idle session is closed at once, saying why.
    let (code, text) = idle.reply(W).await.expect("a reply to the idle session");
    assert_eq!(code, 421);
    assert!(text.contains("offline"), "{text}");
    assert!(idle.closed(W).await);
    // Nobody new gets in.
    let t = postern_transport::LoopbackTransport::new(&reg).expect("loopback");
    use postern_transport::Transport;
    t.start().await.expect("start");
    let addr: postern_types::MailAddress = bob.address.parse().expect("address");
    if let Ok(stream) = t.connect(addr.onion(), addr.onion(), 25).await {
        let mut late = RawSmtp::new(stream);
        assert_ne!(
            late.code(Duration::from_secs(3)).await,
            Some(220),
            "a new session got in"
        );
    }
    // The message being sent finishes and is accepted: stored, not cut off.
    sending.send(&rest).await;
    assert_eq!(sending.code(W).await, Some(250));
    // Another message on the same session is not begun: the node is going offline.
    let again = format!("MAIL FROM:<{}>\r\n", alice.address);
    sending.send(again.as_bytes()).await;
    let (code, text) = sending.reply(W).await.expect("told");
    assert_eq!(code, 421, "{text}");
    assert!(text.contains("offline"), "{text}");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the node stops once the message is in")
        .expect("stop");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopping waited for the whole grace: {:?}",
        started.elapsed()
    );
    let inbox = bob.api.inbox(None).expect("inbox");
    assert!(inbox.iter().any(|m| m.subject == "just before sleep"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_not_finished_within_the_grace_is_cut_off_and_not_stored() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (alice, mut bob) = people(tmp.path());
    let mut config = test_config();
    config.smtp.data_timeout = Duration::from_secs(60);
    bob.start_with(loopback(&reg), config).await;
    let (mut sending, _rest) = half_sent(&reg, &alice, &bob).await;
    let node = bob.node.take().expect("node");
    let started = Instant::now();
    node.stop(Duration::from_secs(1)).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );
    let (code, text) = sending.reply(W).await.expect("told");
    assert_eq!(code, 421, "{text}");
    assert!(sending.closed(W).await);
    assert!(bob.api.inbox(None).expect("inbox").is_empty());
}
