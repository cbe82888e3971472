//! How people meet and part, between nodes over loopback: the invite handshake (and its
//! refusals), introductions with provenance, revocation received and enforced.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use postern_card::ContactCard;
use postern_core::{CoreError, Postern, RevocationScope};
use postern_crypto::IdentityKeys;

const WAIT: Duration = Duration::from_secs(20);

fn outbox_settled(d: &Device) -> Option<Vec<postern_core::OutboxView>> {
    let o = d.api.outbox(None).ok()?;
    (!o.is_empty()
        && o.iter()
            .all(|m| m.state == "delivered" || m.state == "failed"))
    .then_some(o)
}

/// Compose a message as `keys` (possibly an old key of the sender) to `to_key`.
fn message_from(keys: &IdentityKeys, to: &str, to_key: &[u8], subject: &str) -> Vec<u8> {
    compose_as(keys, &keys.address().to_string(), to, to_key, subject).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_handshake_leaves_both_sides_verified() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");

    let invite = alice
        .api
        .create_invite("alice", Duration::from_secs(3600))
        .expect("invite");
    // The QR code carries exactly the link.
    let png = Postern::qr_png(&invite.link, 4).expect("png");
    let preview = bob.api.scan_image(&png).expect("scan");
    assert_eq!(preview.kind, "invite");
    assert_eq!(preview.text, invite.link);
    assert_eq!(preview.address, alice.address);
    assert_eq!(preview.display_name, "alice (test)");
    // Scanning stores nothing.
    assert!(bob.api.contacts("bob").expect("contacts").is_empty());

    let h = bob.api.accept_invite("bob", &preview.text).expect("accept");
    assert_eq!(h.contact.verification, "scanned");
    assert_eq!(h.contact.trust, "verified");
    assert!(
        !h.contact.has_key,
        "the QR code has no key; it comes over the onion channel"
    );
    alice.start(loopback(&reg)).await;
    bob.start(loopback(&reg)).await;
    let o = wait_for(WAIT, "the handshake to be delivered", || {
        outbox_settled(&bob)
    })
    .await;
    assert_eq!(o[0].state, "delivered", "{o:?}");

    let at_alice = alice
        .api
        .contact("alice", &bob.address)
        .expect("Bob at Alice");
    assert_eq!(at_alice.verification, "scanned");
    assert_eq!(at_alice.trust, "verified");
    assert!(at_alice.has_key);
    assert_eq!(at_alice.display_name, "bob (test)");
    let at_bob = bob
        .api
        .contact("bob", &alice.address)
        .expect("Alice at Bob");
    assert!(
        at_bob.has_key,
        "Bob learned Alice's key, matching the scanned fingerprint"
    );
    // Alice sees who joined, in the inbox (not in requests).
    let inbox = alice.api.inbox(None).expect("inbox");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].subject, "Contact exchange");
    assert!(alice.api.requests(None).expect("requests").is_empty());

    // Mail both ways now arrives as from contacts.
    alice
        .api
        .send("alice", &bob.address, "hello", "hi", &[])
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    let m = wait_for(WAIT, "Bob's inbox", || {
        bob.api.inbox(None).ok()?.into_iter().next()
    })
    .await;
    assert_eq!(m.verification, "contact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_expired_and_unknown_invites_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let alice_clock = Arc::new(ShiftClock::default());
    let mut alice = Device::with_clock(tmp.path(), "alice", alice_clock.clone());
    let mut bob = Device::new(tmp.path(), "bob");
    let mut carol = Device::new(tmp.path(), "carol");
    let mut dave = Device::new(tmp.path(), "dave");
    alice.start(loopback(&reg)).await;

    // Bob redeems; Carol replays the same link.
    let first = alice
        .api
        .create_invite("alice", Duration::from_secs(3600))
        .expect("invite");
    bob.api.accept_invite("bob", &first.link).expect("bob");
    bob.start(loopback(&reg)).await;
    wait_for(WAIT, "Bob's handshake", || outbox_settled(&bob)).await;
    carol
        .api
        .accept_invite("carol", &first.link)
        .expect("carol");
    carol.start(loopback(&reg)).await;
    let o = wait_for(WAIT, "Carol's handshake", || outbox_settled(&carol)).await;
    assert_eq!(o[0].state, "failed");
    let why = o[0].last_error.clone().unwrap_or_default();
    assert!(
        why.contains("550 5.7.1") && why.contains("already used"),
        "{why}"
    );

    // Dave accepts an invite in time, but it expires before his handshake arrives.
    let second = alice
        .api
        .create_invite("alice", Duration::from_secs(3600))
        .expect("invite");
    dave.api.accept_invite("dave", &second.link).expect("dave");
    alice_clock.advance(2 * 3600);
    dave.start(loopback(&reg)).await;
    let o = wait_for(WAIT, "Dave's handshake", || outbox_settled(&dave)).await;
    let why = o[0].last_error.clone().unwrap_or_default();
    assert!(
        why.contains("550 5.7.1") && why.contains("expired"),
        "{why}"
    );

    // Nothing of Carol's or Dave's was stored at Alice.
    let contacts = alice.api.contacts("alice").expect("contacts");
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0].address, bob.address);
    assert_eq!(alice.api.inbox(None).expect("inbox").len(), 1);
    assert!(alice.api.requests(None).expect("requests").is_empty());

    // Read after expiry, an invite is refused before anything is stored or sent.
    let third = alice
        .api
        .create_invite("alice", Duration::from_secs(60))
        .expect("invite");
    let late = Device::with_clock(tmp.path(), "erin", {
        let c = ShiftClock::default();
        c.advance(2 * 3600 + 3600);
        Arc::new(c)
    });
    assert!(matches!(
        late.api.read_scanned(&third.link),
        Err(CoreError::InviteExpired(_))
    ));
    // A tampered link does not verify.
    let mut bad = third.link.clone().into_bytes();
    let i = bad.len() - 20;
    bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
    assert!(bob
        .api
        .read_scanned(&String::from_utf8(bad).expect("ascii"))
        .is_err());
    // Its own invite cannot be accepted by the same identity.
    assert!(matches!(
        alice.api.accept_invite("alice", &third.link),
        Err(CoreError::OwnCard)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introductions_record_provenance_raise_trust_and_flag_conflicts() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    let mut dave = Device::new(tmp.path(), "dave");
    let mut eve = Device::new(tmp.path(), "eve");
    let carol = Device::new(tmp.path(), "carol");
    for d in [&bob, &dave, &eve] {
        alice.add_contact(d, true);
    }
    for d in [&mut bob, &mut dave] {
        d.add_contact(&alice, true);
        d.add_contact(&carol, true);
    }
    eve.add_contact(&alice, true);
    // Eve holds a different, validly bound key for Carol's address (say, one Carol has since
    // replaced): what she introduces contradicts what Alice will hold.
    let other_key = carol
        .api
        .identity_keys("carol")
        .expect("keys")
        .with_new_openpgp_key()
        .expect("new key");
    let other_card = ContactCard::for_identity(&other_key, true).expect("card");
    eve.api
        .add_contact("eve", &other_card.to_text())
        .expect("eve adds carol");
    for d in [&mut alice, &mut bob, &mut dave, &mut eve] {
        d.start(loopback(&reg)).await;
    }

    bob.api
        .introduce("bob", &carol.address, &alice.address, false)
        .expect("introduce");
    bob.node.as_ref().expect("node").wake_outbox();
    let c = wait_for(WAIT, "Carol in Alice's book", || {
        alice.api.contact("alice", &carol.address).ok()
    })
    .await;
    assert_eq!(c.verification, "introduced");
    assert_eq!(c.trust, "introduced");
    assert!(c.has_key);
    assert_eq!(c.introductions.len(), 1);
    assert_eq!(c.introductions[0].introducer, bob.address);
    assert!(c.introductions[0].received_at > 0);
    assert!(
        c.trust_label.contains("introduced by bob (test)"),
        "{}",
        c.trust_label
    );

    dave.api
        .introduce("dave", &carol.address, &alice.address, false)
        .expect("introduce");
    dave.node.as_ref().expect("node").wake_outbox();
    let c = wait_for(WAIT, "a second introducer", || {
        let c = alice.api.contact("alice", &carol.address).ok()?;
        (c.introductions.len() == 2).then_some(c)
    })
    .await;
    assert_eq!(c.trust, "vouched");
    assert!(
        c.trust_label.contains("bob (test) and dave (test)"),
        "{}",
        c.trust_label
    );
    // The same introducer again does not count twice.
    bob.api
        .introduce("bob", &carol.address, &alice.address, false)
        .expect("again");
    bob.node.as_ref().expect("node").wake_outbox();
    wait_for(WAIT, "Bob's second introduction", || {
        let o = bob.api.outbox(None).ok()?;
        (o.len() == 2 && o.iter().all(|m| m.state == "delivered")).then_some(())
    })
    .await;
    assert_eq!(
        alice
            .api
            .contact("alice", &carol.address)
            .expect("carol")
            .introductions
            .len(),
        2
    );

    let held = alice
        .api
        .contact("alice", &carol.address)
        .expect("carol")
        .fingerprint;
    eve.api
        .introduce("eve", &carol.address, &alice.address, false)
        .expect("introduce");
    eve.node.as_ref().expect("node").wake_outbox();
    let c = wait_for(WAIT, "the conflicting introduction", || {
        let c = alice.api.contact("alice", &carol.address).ok()?;
        (c.introductions.len() == 3).then_some(c)
    })
    .await;
    assert_eq!(c.fingerprint, held, "a conflicting card is never merged");
    let flagged: Vec<_> = c.introductions.iter().filter(|i| i.conflict).collect();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].introducer, eve.address);
    assert_eq!(c.trust, "vouched");
    assert!(c.trust_label.contains("not merged"), "{}", c.trust_label);

    // Introducing someone whose key we do not hold is a clear error, and queues nothing.
    let before = bob.api.outbox(None).expect("outbox").len();
    let stranger = Device::new(tmp.path(), "frank");
    bob.add_contact(&stranger, false);
    assert!(matches!(
        bob.api
            .introduce("bob", &stranger.address, &alice.address, true),
        Err(CoreError::BadDraft(_))
    ));
    assert_eq!(bob.api.outbox(None).expect("outbox").len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_revocation_is_received_and_enforced() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    let old_keys = alice.api.identity_keys("alice").expect("keys");
    let old_public = old_keys.openpgp_public().expect("pub");

    let r = alice
        .api
        .revoke("alice", RevocationScope::Key, "laptop stolen")
        .expect("revoke");
    assert_eq!(r.notified, 1);
    let new_fp = r.successor.clone().expect("successor");
    assert_ne!(new_fp, r.fingerprint);
    alice.start(loopback(&reg)).await;
    bob.start(loopback(&reg)).await;

    let c = wait_for(WAIT, "Bob to learn the new key", || {
        let c = bob.api.contact("bob", &alice.address).ok()?;
        (c.fingerprint == new_fp).then_some(c)
    })
    .await;
    assert_eq!(c.revocations.len(), 1);
    assert_eq!(c.revocations[0].reason, "laptop stolen");
    let notice = bob.api.inbox(None).expect("inbox");
    assert_eq!(notice[0].subject, "My key changed");

    // Mail from the new key is accepted; to the new key is delivered.
    alice
        .api
        .send("alice", &bob.address, "new key", "hi", &[])
        .expect("send");
    bob.api
        .send("bob", &alice.address, "to the new key", "hi", &[])
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    bob.node.as_ref().expect("node").wake_outbox();
    wait_for(WAIT, "both delivered", || {
        let a = alice.api.outbox(None).ok()?;
        let b = bob.api.outbox(None).ok()?;
        (a.iter().all(|m| m.state == "delivered") && b.iter().all(|m| m.state == "delivered"))
            .then_some(())
    })
    .await;

    // A message still encrypted to the revoked key is refused, saying why.
    let bob_keys = bob.api.identity_keys("bob").expect("keys");
    let to_old = message_from(&bob_keys, &alice.address, &old_public, "to the old key");
    let (code, text) = submit(&reg, &bob.address, &alice, &to_old).await;
    assert_eq!(code, 550, "{text}");
    assert!(
        text.contains("5.7.1") && text.contains("revoked") && text.contains("laptop stolen"),
        "{text}"
    );
    // Whoever holds the old key cannot write as Alice any more.
    let bob_public = bob_keys.openpgp_public().expect("pub");
    let from_old = message_from(
        &old_keys,
        &bob.address,
        &bob_public,
        "signed by the old key",
    );
    // A revoked key authenticates nobody: the same reply as any unauthenticated message.
    let (_, text) = submit(&reg, &alice.address, &bob, &from_old).await;
    assert_eq!(text, format!("550 5.7.1 {}", postern_core::UNAUTHENTICATED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_revocation_stops_mail_both_ways() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    let alice_keys = alice.api.identity_keys("alice").expect("keys");

    // A running node holds the keys: revoking waits for it to stop.
    alice.start(loopback(&reg)).await;
    assert!(matches!(
        alice
            .api
            .revoke("alice", RevocationScope::Address, "moving on"),
        Err(CoreError::NodeRunning(..))
    ));
    alice.stop();
    alice
        .api
        .revoke("alice", RevocationScope::Address, "moving on")
        .expect("revoke");
    assert!(matches!(
        alice.api.send("alice", &bob.address, "x", "y", &[]),
        Err(CoreError::Revoked(_))
    ));
    alice.start(loopback(&reg)).await;
    bob.start(loopback(&reg)).await;

    let c = wait_for(WAIT, "Bob to learn of the revocation", || {
        let c = bob.api.contact("bob", &alice.address).ok()?;
        (c.trust == "revoked").then_some(c)
    })
    .await;
    assert!(c.trust_label.contains("moving on"), "{}", c.trust_label);
    match bob
        .api
        .send("bob", &alice.address, "still there?", "?", &[])
    {
        Err(CoreError::Revoked(why)) => {
            assert!(
                why.contains("revoked this address") && why.contains("moving on"),
                "{why}"
            )
        }
        other => panic!("sending to a revoked address: {other:?}"),
    }
    // Mail from the revoked address is refused too (someone with its keys).
    let bob_public = bob
        .api
        .identity_keys("bob")
        .expect("keys")
        .openpgp_public()
        .expect("pub");
    let late = message_from(&alice_keys, &bob.address, &bob_public, "after revocation");
    let (_, text) = submit(&reg, &alice.address, &bob, &late).await;
    assert_eq!(text, format!("550 5.7.1 {}", postern_core::UNAUTHENTICATED));
}

/// Accepting an invite and writing at once: the message must not overtake the handshake (it
/// would reach someone who does not know us yet, unstamped, and be refused for good). Mail to
/// one recipient leaves in the order it was written. Several rounds, as the race was one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_written_right_after_accepting_an_invite_follows_the_handshake() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    alice.start(loopback(&reg)).await;
    bob.start(loopback(&reg)).await;
    let invite = alice
        .api
        .create_invite("alice", Duration::from_secs(3600))
        .expect("invite");
    bob.api.accept_invite("bob", &invite.link).expect("accept");
    for i in 0..3 {
        bob.api
            .send(
                "bob",
                &alice.address,
                &format!("Straight away {i}"),
                "Hello!",
                &[],
            )
            .expect("send");
    }
    bob.node.as_ref().expect("node").wake_outbox();
    let o = wait_for(WAIT, "Bob's outbox to settle", || outbox_settled(&bob)).await;
    assert!(o.iter().all(|m| m.state == "delivered"), "{o:?}");
    let inbox = alice.api.inbox(None).expect("inbox");
    for i in 0..3 {
        assert!(
            inbox
                .iter()
                .any(|m| m.subject == format!("Straight away {i}")),
            "message {i} in Alice's inbox, not refused or in requests: {inbox:?}"
        );
    }
    assert!(alice.api.requests(None).expect("requests").is_empty());
}
