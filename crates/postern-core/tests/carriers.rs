//! Carriers over loopback: store-and-forward for a recipient who is offline, with hand-over
//! authentication, pull, receipts, several carriers, quota and expiry.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use postern_core::NodeConfig;
use postern_smtp::data_block;

const WAIT: Duration = Duration::from_secs(25);

/// A carrier that retries forwarding only after an hour: delivery to a recipient that comes
/// back happens because the recipient pulls.
fn patient_carrier() -> NodeConfig {
    let mut c = test_config();
    c.retry.first_retry = Duration::from_secs(3600);
    c.retry.max_interval = Duration::from_secs(3600);
    c.receipt_retry = Duration::from_secs(1);
    c
}

fn quick() -> NodeConfig {
    let mut c = test_config();
    c.receipt_retry = Duration::from_secs(1);
    c
}

/// Alice and Bob are contacts; each carrier carries for Bob, and Bob designated it.
fn people(root: &std::path::Path, carriers: &[&str]) -> (Device, Device, Vec<Device>) {
    let mut alice = Device::new(root, "alice");
    let mut bob = Device::new(root, "bob");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    let mut cs = Vec::new();
    for name in carriers {
        let mut c = Device::new(root, name);
        c.add_contact(&bob, true);
        c.api.set_carrier_mode(name, true).expect("carrier on");
        c.api
            .set_carrier_policy(name, &[bob.address.clone()], &[], None, None)
            .expect("policy");
        bob.api
            .designate_carrier("bob", &c.address, true)
            .expect("designate");
        cs.push(c);
    }
    (alice, bob, cs)
}

fn held(d: &Device) -> usize {
    d.api
        .carriers(&d.name(), 0.999)
        .expect("carriers")
        .held
        .iter()
        .filter(|h| h.state == "held")
        .count()
}

/// Start everyone, let Bob's carrier announcements reach Alice, then take Bob offline (his
/// device sleeps; when it wakes, his node starts again and pulls from his carriers).
async fn announce_then_bob_offline(
    reg: &std::path::Path,
    alice: &mut Device,
    bob: &mut Device,
    carriers: &mut [Device],
    n: usize,
) {
    alice.start_with(loopback(reg), quick()).await;
    bob.start_with(loopback(reg), quick()).await;
    for c in carriers.iter_mut() {
        c.start_with(loopback(reg), patient_carrier()).await;
    }
    wait_for(WAIT, "Alice to learn Bob's carriers", || {
        let v = alice.api.carriers("alice", 0.999).ok()?;
        (v.contacts.first()?.carriers.len() == n).then_some(())
    })
    .await;
    // Bob's device goes to sleep: his node stops as it does then (cleanly, `Node::stop`).
    let node = bob.node.take().expect("Bob's node");
    node.stop(Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_recipient_gets_mail_through_a_carrier_and_the_sender_learns_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (mut alice, mut bob, mut cs) = people(tmp.path(), &["carol"]);
    announce_then_bob_offline(&reg, &mut alice, &mut bob, &mut cs, 1).await;
    let carol_address = cs[0].address.clone();
    // Carol is told what she can see.
    let mode = cs[0].api.carrier_mode("carol").expect("mode");
    assert!(mode.note.contains("cannot read"));

    alice
        .api
        .send("alice", &bob.address, "while you were out", "hello", &[])
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    let o = wait_for(WAIT, "the hand-over", || {
        let o = alice.api.outbox(None).ok()?;
        o.into_iter().find(|m| m.state == "carried")
    })
    .await;
    assert!(o
        .last_error
        .unwrap_or_default()
        .contains("held by 1 carrier"));
    assert_eq!(held(&cs[0]), 1);

    // Alice goes offline; Bob comes back and pulls from Carol (who would otherwise wait an hour).
    alice.stop();
    bob.start_with(loopback(&reg), quick()).await;
    let m = wait_for(WAIT, "Bob's inbox", || {
        bob.api
            .inbox(None)
            .ok()?
            .into_iter()
            .find(|m| m.subject == "while you were out")
    })
    .await;
    assert_eq!(m.from, alice.address);
    assert_eq!(m.verification, "contact");

    // Alice comes back: Carol's receipt says who delivered it.
    alice.start_with(loopback(&reg), quick()).await;
    let o = wait_for(WAIT, "Alice to see it delivered", || {
        let o = alice.api.outbox(None).ok()?;
        o.into_iter()
            .find(|m| m.subject == "while you were out" && m.state == "delivered")
    })
    .await;
    assert_eq!(o.delivered_via.as_deref(), Some(carol_address.as_str()));
    // Delivered mail is no longer held.
    assert_eq!(held(&cs[0]), 0);
    let v = alice.api.carriers("alice", 0.999).expect("carriers");
    let carol = &v.contacts[0].carriers[0];
    assert_eq!((carol.successes, carol.failures), (1, 0));
    assert!((carol.availability - 2.0 / 3.0).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_carriers_deliver_one_copy() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (mut alice, mut bob, mut cs) = people(tmp.path(), &["carol", "dave"]);
    announce_then_bob_offline(&reg, &mut alice, &mut bob, &mut cs, 2).await;
    // Unknown carriers count as p = 1/2: 1 - 1/4 < 99.9%, so both get it.
    let v = alice.api.carriers("alice", 0.999).expect("carriers");
    assert_eq!(v.contacts[0].k, 2);
    assert!((v.contacts[0].estimate - 0.75).abs() < 1e-9);
    alice
        .api
        .send("alice", &bob.address, "twice carried", "x", &[])
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    wait_for(WAIT, "both carriers to hold it", || {
        (held(&cs[0]) == 1 && held(&cs[1]) == 1).then_some(())
    })
    .await;
    bob.start_with(loopback(&reg), quick()).await;
    wait_for(WAIT, "both carriers to deliver", || {
        (held(&cs[0]) == 0 && held(&cs[1]) == 0).then_some(())
    })
    .await;
    let inbox: Vec<_> = bob
        .api
        .inbox(None)
        .expect("inbox")
        .into_iter()
        .filter(|m| m.subject == "twice carried")
        .collect();
    assert_eq!(inbox.len(), 1, "one copy, however many carriers");
    let o = wait_for(WAIT, "delivered via a carrier", || {
        alice
            .api
            .outbox(None)
            .ok()?
            .into_iter()
            .find(|m| m.subject == "twice carried" && m.state == "delivered")
    })
    .await;
    let via = o.delivered_via.expect("via");
    assert!(via == cs[0].address || via == cs[1].address);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_carrier_says_so_and_the_sender_tries_another() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (mut alice, mut bob, mut cs) = people(tmp.path(), &["carol", "dave"]);
    cs[0]
        .api
        .set_carrier_policy("carol", &[], &[], Some(100), None)
        .expect("tiny quota");
    announce_then_bob_offline(&reg, &mut alice, &mut bob, &mut cs, 2).await;
    alice
        .api
        .send("alice", &bob.address, "too big for carol", "x", &[])
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    wait_for(WAIT, "Dave to hold it", || {
        (held(&cs[1]) == 1).then_some(())
    })
    .await;
    assert_eq!(held(&cs[0]), 0, "Carol refused: her quota is full");
    let o = alice.api.outbox(None).expect("outbox");
    let m = o
        .iter()
        .find(|m| m.subject == "too big for carol")
        .expect("row");
    assert_eq!(m.state, "carried");
    // Carol answered (452): she counts as reachable.
    let v = alice.api.carriers("alice", 0.999).expect("carriers");
    let carol = v.contacts[0]
        .carriers
        .iter()
        .find(|c| c.carrier == cs[0].address)
        .expect("carol");
    assert_eq!((carol.successes, carol.failures), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_mail_expires_and_the_sender_is_told() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let clock = Arc::new(ShiftClock::default());
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    let mut carol = Device::with_clock(tmp.path(), "carol", clock.clone());
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    carol.add_contact(&bob, true);
    carol.api.set_carrier_mode("carol", true).expect("on");
    carol
        .api
        .set_carrier_policy("carol", &[bob.address.clone()], &[], None, Some(60))
        .expect("policy");
    bob.api
        .designate_carrier("bob", &carol.address, true)
        .expect("designate");
    let mut cs = vec![carol];
    announce_then_bob_offline(&reg, &mut alice, &mut bob, &mut cs, 1).await;
    alice
        .api
        .send("alice", &bob.address, "too late", "x", &[])
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    wait_for(WAIT, "Carol to hold it", || {
        (held(&cs[0]) == 1).then_some(())
    })
    .await;
    clock.advance(120);
    let o = wait_for(WAIT, "Alice to be told it expired", || {
        alice
            .api
            .outbox(None)
            .ok()?
            .into_iter()
            .find(|m| m.subject == "too late" && m.state == "failed")
    })
    .await;
    let why = o.last_error.unwrap_or_default();
    assert!(why.contains("holding time"), "{why}");
    let v = cs[0].api.carriers("carol", 0.999).expect("carriers");
    assert_eq!(v.held[0].state, "expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_overs_without_the_recipients_pass_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (mut alice, mut bob, mut cs) = people(tmp.path(), &["carol"]);
    let mallory = Device::new(tmp.path(), "mallory");
    let dave = Device::new(tmp.path(), "dave");
    announce_then_bob_offline(&reg, &mut alice, &mut bob, &mut cs, 1).await;
    let carol = &cs[0];
    // Alice's real pass for Bob at Carol, as Alice stored it.
    let pass =
        alice.api.carriers("alice", 0.999).expect("v").contacts[0].carriers[0].pass_expires_at;
    // Whatever is wrong, the carrier answers the same: nobody learns whom it carries for.
    let cases: Vec<(String, String)> = vec![
        // Mallory presents nonsense.
        (
            mallory.address.clone(),
            format!("XCARRY {} 99999999999 AAAA BBBB", bob.address),
        ),
        // Mallory, no pass at all.
        (mallory.address.clone(), format!("XCARRY {}", bob.address)),
        // Carol does not carry for Dave.
        (
            mallory.address.clone(),
            format!("XCARRY {} {pass} AAAA BBBB", dave.address),
        ),
    ];
    for (from, xcarry) in cases {
        let mut s = smtp_to(&reg, carol).await;
        let w = Duration::from_secs(5);
        assert_eq!(s.code(w).await, Some(220));
        s.send(b"EHLO x\r\n").await;
        assert_eq!(s.code(w).await, Some(250));
        s.send(format!("{xcarry}\r\n").as_bytes()).await;
        assert_eq!(s.code(w).await, Some(250), "{xcarry}");
        let rcpt = xcarry
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        s.send(format!("MAIL FROM:<{from}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes())
            .await;
        assert_eq!(s.code(w).await, Some(250));
        assert_eq!(s.code(w).await, Some(250));
        assert_eq!(s.code(w).await, Some(354));
        s.send(&data_block(b"Subject: x\r\n\r\nnot really\r\n"))
            .await;
        let (code, text) = s.reply(w).await.expect("reply");
        assert_eq!(code, 550, "{text}");
        assert_eq!(
            text,
            format!("550 5.7.1 {}", postern_core::HANDOVER_REFUSED),
            "{xcarry}"
        );
    }
    // A foreign recipient without XCARRY is not relayed.
    let mut s = smtp_to(&reg, carol).await;
    let w = Duration::from_secs(5);
    assert_eq!(s.code(w).await, Some(220));
    s.send(
        format!(
            "EHLO x\r\nMAIL FROM:<{}>\r\nRCPT TO:<{}>\r\n",
            mallory.address, bob.address
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(s.code(w).await, Some(250));
    assert_eq!(s.code(w).await, Some(250));
    assert_eq!(s.code(w).await, Some(550));
    assert_eq!(held(carol), 0, "nothing was held");
}
