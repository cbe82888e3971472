//! Devices of one person that carry for each other, over loopback: linked with one device
//! invite; mail from a contact that reaches one is copied to the other; flags set on one are
//! set on the other; mail for the device that is off waits on the other and is pulled when it
//! comes back. Device copies and flags from anyone but an own device are refused. The linking,
//! a copy and read flags also over the private Tor network.

mod common;

use std::time::Duration;

use common::*;
use postern_core::{FlagChange, MessageSummary, Network, NodeConfig};

const WAIT: Duration = Duration::from_secs(40);
/// Reaching freshly published onion services on the private Tor network can take minutes.
const TOR_WAIT: Duration = Duration::from_secs(240);

fn quick() -> NodeConfig {
    let mut c = test_config();
    c.receipt_retry = Duration::from_secs(1);
    c
}

fn find(d: &Device, subject: &str) -> Option<MessageSummary> {
    d.api
        .inbox(None)
        .ok()?
        .into_iter()
        .find(|m| m.subject == subject)
}

/// A laptop and a phone of one person, each with its own identity, and Carol, who knows both.
fn person_and_carol(root: &std::path::Path) -> (Device, Device, Device) {
    let mut laptop = Device::new(root, "laptop");
    let mut phone = Device::new(root, "phone");
    let mut carol = Device::new(root, "carol");
    carol.add_contact(&laptop, true);
    carol.add_contact(&phone, true);
    laptop.add_contact(&carol, true);
    phone.add_contact(&carol, true);
    (laptop, phone, carol)
}

/// One step: the laptop shows a device invite; the phone redeems it and is linked at once.
fn link(laptop: &mut Device, phone: &mut Device) {
    let invite = laptop.api.offer_device_link("laptop").expect("offer");
    let h = phone
        .api
        .accept_device_link("phone", &invite.link)
        .expect("accept");
    assert_eq!(h.contact.address, laptop.address);
    let linked = phone.api.own_devices("phone").expect("own devices");
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].address, laptop.address);
    let mode = phone.api.carrier_mode("phone").expect("mode");
    assert!(mode.enabled && mode.carrying_for.contains(&laptop.address));
    let mine = phone.api.carriers("phone", 0.999).expect("carriers");
    assert_eq!(mine.my_carriers, vec![laptop.address.clone()]);
}

/// With every node running: the handshake links the laptop too and both announce their new
/// carrier to Carol; Carol writes to the laptop; the phone gets a copy; opened on the phone, the
/// laptop's message is read too. Returns the laptop's message and the phone's copy.
async fn in_step(
    laptop: &Device,
    phone: &mut Device,
    carol: &mut Device,
    wait: Duration,
) -> (MessageSummary, MessageSummary) {
    // The handshake links the laptop too, in the transaction that stores it.
    wait_for(wait, "the laptop to link the phone", || {
        let d = laptop.api.own_devices("laptop").ok()?;
        (d.len() == 1 && d[0].address == phone.address).then_some(())
    })
    .await;
    let mode = laptop.api.carrier_mode("laptop").expect("mode");
    assert!(mode.enabled && mode.carrying_for.contains(&phone.address));
    // Both announce their new carrier to Carol.
    wait_for(wait, "Carol to learn both carriers", || {
        let v = carol.api.carriers("carol", 0.999).ok()?;
        let carries = |who: &str, by: &str| {
            v.contacts
                .iter()
                .any(|c| c.contact == who && c.carriers.iter().any(|k| k.carrier == by))
        };
        (carries(&laptop.address, &phone.address) && carries(&phone.address, &laptop.address))
            .then_some(())
    })
    .await;

    // Carol writes to the laptop: the phone gets a copy, said to be verified by the laptop.
    carol
        .api
        .send("carol", &laptop.address, "to the laptop", "hello", &[])
        .expect("send");
    let on_laptop = wait_for(wait, "the laptop's inbox", || find(laptop, "to the laptop")).await;
    let on_phone = wait_for(wait, "the phone's copy", || find(phone, "to the laptop")).await;
    assert_eq!(on_laptop.verification, "contact");
    assert_eq!(on_phone.from, carol.address);
    assert_eq!(on_phone.verification, "own_device");
    assert_eq!(on_phone.message_id, on_laptop.message_id);
    assert!(!on_laptop.read && !on_phone.read);

    // Opened on the phone: the laptop's message is read too.
    let body = phone.api.read(on_phone.id).expect("read");
    assert_eq!(body.text.trim(), "hello");
    wait_for(wait, "the laptop's message read", || {
        find(laptop, "to the laptop")?.read.then_some(())
    })
    .await;
    (on_laptop, on_phone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_devices_copy_mail_keep_flags_in_step_and_carry_for_each_other() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (mut laptop, mut phone, mut carol) = person_and_carol(tmp.path());
    link(&mut laptop, &mut phone);
    laptop.start_with(loopback(&reg), quick()).await;
    phone.start_with(loopback(&reg), quick()).await;
    carol.start_with(loopback(&reg), quick()).await;
    let (on_laptop, on_phone) = in_step(&laptop, &mut phone, &mut carol, WAIT).await;
    // Starred on the phone: the laptop's message follows.
    phone
        .api
        .set_flags(
            on_phone.id,
            FlagChange {
                flagged: Some(true),
                ..FlagChange::default()
            },
        )
        .expect("flags");
    wait_for(WAIT, "the laptop's message starred", || {
        let m = find(&laptop, "to the laptop")?;
        (m.read && m.flagged).then_some(())
    })
    .await;
    // Flags taken from a device are not sent back to it.
    let echoes = |d: &Device| {
        d.api
            .outbox(None)
            .expect("outbox")
            .iter()
            .filter(|o| o.subject == "Flags")
            .count()
    };
    assert_eq!(echoes(&laptop), 0);
    assert_eq!(echoes(&phone), 2);
    // Marked unread on the laptop: the phone follows.
    laptop
        .api
        .set_flags(
            on_laptop.id,
            FlagChange {
                seen: Some(false),
                ..FlagChange::default()
            },
        )
        .expect("flags");
    wait_for(WAIT, "the phone's copy unread again", || {
        let m = find(&phone, "to the laptop")?;
        (!m.read && m.flagged).then_some(())
    })
    .await;

    // The phone is off: Carol's mail for it waits on the laptop, and comes when it is back.
    phone.stop();
    carol
        .api
        .send(
            "carol",
            &phone.address,
            "while the phone was off",
            "hi",
            &[],
        )
        .expect("send");
    wait_for(WAIT, "the hand-over to the laptop", || {
        let o = carol.api.outbox(None).ok()?;
        o.into_iter()
            .find(|m| m.subject == "while the phone was off" && m.state == "carried")
    })
    .await;
    phone.start_with(loopback(&reg), quick()).await;
    let m = wait_for(WAIT, "the phone to pull it from the laptop", || {
        find(&phone, "while the phone was off")
    })
    .await;
    assert_eq!(
        (m.from.as_str(), m.verification.as_str()),
        (carol.address.as_str(), "contact")
    );
    // …and the laptop gets its copy of it.
    let c = wait_for(WAIT, "the laptop's copy", || {
        find(&laptop, "while the phone was off")
    })
    .await;
    assert_eq!(c.verification, "own_device");

    // Unlinked: mail from Carol is no longer copied.
    laptop
        .api
        .unlink_own_device("laptop", &phone.address)
        .expect("unlink");
    assert!(laptop.api.own_devices("laptop").expect("own").is_empty());
    assert!(laptop
        .api
        .unlink_own_device("laptop", &phone.address)
        .is_err());
    carol
        .api
        .send("carol", &laptop.address, "after unlinking", "x", &[])
        .expect("send");
    wait_for(WAIT, "the laptop's inbox", || {
        find(&laptop, "after unlinking")
    })
    .await;
    assert!(laptop
        .api
        .outbox(None)
        .expect("outbox")
        .iter()
        .all(|o| o.subject != "after unlinking"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(tor_missing, ignore = "needs `tor` (apt-get install tor); CI runs it")]
async fn linked_devices_copy_mail_and_flags_over_tor() {
    let net = postern_testnet::Testnet::shared().expect("private Tor network");
    let tmp = tempfile::tempdir().expect("tmp");
    let (mut laptop, mut phone, mut carol) = person_and_carol(tmp.path());
    link(&mut laptop, &mut phone);
    for d in [&mut laptop, &mut phone, &mut carol] {
        let transport = Network::Tor {
            network_toml: Some(net.arti_network_toml()),
            bootstrap_timeout: Duration::from_secs(60),
        }
        .transport(&tmp.path().join(format!("tor-{}", d.name())))
        .expect("arti");
        d.start_with(transport, quick()).await;
    }
    in_step(&laptop, &mut phone, &mut carol, TOR_WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_copies_and_flags_from_others_or_malformed_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (mut laptop, mut phone, carol) = person_and_carol(tmp.path());
    let dave = Device::new(tmp.path(), "dave");
    // A contact invite is not a device invite, nor a device invite a contact invite.
    let contact_invite = laptop
        .api
        .create_invite("laptop", Duration::from_secs(600))
        .expect("invite");
    assert!(matches!(
        phone.api.accept_device_link("phone", &contact_invite.link),
        Err(postern_core::CoreError::NotADeviceInvite(_))
    ));
    let device_invite = laptop.api.offer_device_link("laptop").expect("offer");
    assert!(device_invite
        .link
        .starts_with(postern_core::DEVICE_INVITE_PREFIX));
    assert!(phone
        .api
        .accept_invite("phone", &device_invite.link)
        .is_err());
    assert!(phone.api.own_devices("phone").expect("own").is_empty());
    phone
        .api
        .accept_device_link("phone", &device_invite.link)
        .expect("accept");
    laptop.start_with(loopback(&reg), quick()).await;
    phone.start_with(loopback(&reg), quick()).await;
    wait_for(WAIT, "the link", || {
        (!laptop.api.own_devices("laptop").ok()?.is_empty()).then_some(())
    })
    .await;
    let laptop_key = laptop
        .api
        .identity_keys("laptop")
        .expect("keys")
        .openpgp_public()
        .expect("pub");
    let send = |from: &Device, subject: &str, text: &str, parts, kind: &str| {
        let keys = from.api.identity_keys(&from.name()).expect("keys");
        compose_with(
            &keys,
            &from.address,
            &laptop.address,
            &laptop_key,
            subject,
            text,
            parts,
            vec![("Postern-Kind".into(), kind.into())],
        )
        .0
    };
    let copy = |inner: &[u8]| {
        vec![postern_core::Attachment {
            name: "message.eml".into(),
            content_type: "message/rfc822".into(),
            data: inner.to_vec(),
        }]
    };
    let plain = b"From: <x@y.onion>\r\nTo: <z@y.onion>\r\nSubject: planted\r\nMessage-ID: <p1@y.onion>\r\n\r\nplanted\r\n";
    let flags = "<p1@y.onion> x@y.onion +seen -flagged\n";
    let before = laptop.api.inbox(None).expect("inbox").len();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        // Carol is a contact, not an own device: she may be one whose link is on its way,
        // so she is told to try later; Dave, a stranger, is refused for good.
        ("copy from a contact", send(&carol, "a", "", copy(plain), "device-copy"), 451),
        ("flags from a contact", send(&carol, "b", flags, vec![], "device-flags"), 451),
        ("copy from a stranger", send(&dave, "a2", "", copy(plain), "device-copy"), 550),
        // From the phone, but malformed.
        ("copy of nothing", send(&phone, "c", "", vec![], "device-copy"), 550),
        (
            "copy of a control",
            send(
                &phone,
                "d",
                "",
                copy(b"From: <x@y.onion>\r\nTo: <z@y.onion>\r\nSubject: s\r\nMessage-ID: <p2@y.onion>\r\nPostern-Kind: handshake\r\n\r\nx\r\n"),
                "device-copy",
            ),
            550,
        ),
        (
            "copy without a Message-ID",
            send(&phone, "e", "", copy(b"From: <x@y.onion>\r\nTo: <z@y.onion>\r\nSubject: s\r\n\r\nx\r\n"), "device-copy"),
            554,
        ),
        ("flags not in their form", send(&phone, "f", "<p1@y.onion> x@y.onion\n", vec![], "device-flags"), 550),
        ("flags with an unknown flag", send(&phone, "f2", "<p1@y.onion> x@y.onion +recent\n", vec![], "device-flags"), 550),
    ];
    for (what, msg, code) in cases {
        let from = if what.contains("contact") {
            &carol.address
        } else if what.contains("stranger") {
            &dave.address
        } else {
            &phone.address
        };
        let (got, text) = submit_to(&reg, from, &laptop.address, &msg).await;
        assert_eq!(got, code, "{what}: {text}");
    }
    assert_eq!(laptop.api.inbox(None).expect("inbox").len(), before);
    // Nothing was queued for the phone either.
    assert!(laptop
        .api
        .outbox(None)
        .expect("outbox")
        .iter()
        .all(|o| o.subject != "planted"));
    // A well-formed copy from the phone is taken.
    let good = send(&phone, "g", "", copy(plain), "device-copy");
    let (got, text) = submit_to(&reg, &phone.address, &laptop.address, &good).await;
    assert_eq!(got, 250, "{text}");
    let m = find(&laptop, "planted").expect("the copy");
    assert_eq!(
        (m.from.as_str(), m.verification.as_str()),
        ("x@y.onion", "own_device")
    );
    // Flags name the message by sender and Message-ID: another sender's message with the same
    // Message-ID is not touched.
    let other = send(&phone, "h", "", copy(b"From: <w@y.onion>\r\nTo: <z@y.onion>\r\nSubject: same id\r\nMessage-ID: <p1@y.onion>\r\n\r\nx\r\n"), "device-copy");
    assert_eq!(
        submit_to(&reg, &phone.address, &laptop.address, &other)
            .await
            .0,
        250
    );
    let flags = send(
        &phone,
        "i",
        "<p1@y.onion> w@y.onion +flagged\n",
        vec![],
        "device-flags",
    );
    assert_eq!(
        submit_to(&reg, &phone.address, &laptop.address, &flags)
            .await
            .0,
        250
    );
    let planted = find(&laptop, "planted").expect("planted");
    let same = find(&laptop, "same id").expect("same id");
    assert!(same.flagged && !planted.flagged);
    // Undoing the device invite removes the phone as a contact, and so as an own device.
    laptop
        .api
        .undo_invite("laptop", device_invite.id)
        .expect("undo");
    assert!(laptop.api.own_devices("laptop").expect("own").is_empty());
    let mode = laptop.api.carrier_mode("laptop").expect("mode");
    assert!(mode.carrying_for.is_empty());
}
