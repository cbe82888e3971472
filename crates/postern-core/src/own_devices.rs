//! Devices of one person that carry for each other (docs/protocol.md §18). Each device has its
//! own identity (its own onion address and keys); linking two of them takes one scan: the
//! first shows a device invite, the second redeems it. From then on each is the other's
//! carrier (mail for a device that is off waits on the other), mail from contacts that reaches
//! one is copied to the other, and flags set on one (read, starred, answered, deleted) are set
//! on the other's copy. Copies and flags travel as signed, encrypted control messages between
//! the person's own devices, through the same outbox, retries and carriers as any mail.
//!
//! | control | `Postern-Kind` | carries |
//! |---|---|---|
//! | a copy | `device-copy` | the original's decrypted message, one `message/rfc822` part |
//! | flags | `device-flags` | one line per message: `<Message-ID> ±seen ±answered ±flagged ±deleted` |

use std::time::Duration;

use postern_mime::device_flags::{self, FlagLine};
use postern_mime::{random_message_id, Attachment, Letter};
use postern_smtp::Reply;
use postern_store::{Flags, Store, StoreError};
use serde::Serialize;

use crate::invites::{Handshake, InviteView};
use crate::mail::draft::QueuedDraft;
use crate::mail::{ARCHIVE, INBOX, KIND_CARRIERS, TRASH};
use crate::{CoreError, Postern};

/// `Postern-Kind` of a copy of received mail for the person's other device.
pub(crate) const KIND_DEVICE_COPY: &str = "device-copy";
/// `Postern-Kind` of flags set on the person's other device.
pub(crate) const KIND_DEVICE_FLAGS: &str = "device-flags";
/// How a copied message's sender was verified: by the device that received it.
pub const VERIFIED_BY_OWN_DEVICE: &str = "own_device";
/// What a device invite's text starts with (then a contact invite's `POSTERN:` text).
pub const DEVICE_INVITE_PREFIX: &str = "POSTERN-OWN-DEVICE:";
/// How long a device invite is valid: it makes its redeemer an own device, so briefly.
pub const DEVICE_INVITE_VALIDITY: Duration = Duration::from_secs(10 * 60);
const COPY_TYPE: &str = "message/rfc822";

/// One of an identity's own devices.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OwnDeviceView {
    /// The device's identity address.
    pub address: String,
    /// Its name, as its binding signs it.
    pub display_name: String,
}

impl Postern {
    /// A device invite for `identity`: show it to your other device only. Whoever redeems it
    /// becomes an own device (carries, gets copies of mail from contacts, syncs flags).
    pub fn offer_device_link(&mut self, identity: &str) -> Result<InviteView, CoreError> {
        let mut invite = self.create_invite_for(identity, DEVICE_INVITE_VALIDITY, "device")?;
        // Marked, so that it is never taken for a contact invite, nor a contact invite for it.
        invite.link = format!("{DEVICE_INVITE_PREFIX}{}", invite.link);
        Ok(invite)
    }

    /// Redeem another device's device invite for `identity`: both become each other's own
    /// device once the handshake arrives. This side links at once and tells its contacts its
    /// new carrier.
    pub fn accept_device_link(
        &mut self,
        identity: &str,
        text: &str,
    ) -> Result<Handshake, CoreError> {
        let t = text.trim();
        let invite = t
            .get(..DEVICE_INVITE_PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(DEVICE_INVITE_PREFIX))
            .map(|_| &t[DEVICE_INVITE_PREFIX.len()..])
            .ok_or_else(|| {
                CoreError::NotADeviceInvite(format!(
                    "it starts with {DEVICE_INVITE_PREFIX} (shown by `postern device \
                     link` on your other device); a contact's invite is added with Meet"
                ))
            })?;
        let handshake = self.accept_invite(identity, invite)?;
        let me = self.find_identity(identity)?;
        let now = self.clock.now_unix();
        let device = handshake.contact.address.clone();
        self.store.link_own_device(me.id, &device, now)?;
        announce_carriers(&mut self.store, me.id, &device, now)?;
        Ok(handshake)
    }

    /// The own devices of `identity`.
    pub fn own_devices(&self, identity: &str) -> Result<Vec<OwnDeviceView>, CoreError> {
        let me = self.find_identity(identity)?;
        let mut out = Vec::new();
        for address in self.store.own_devices(me.id)? {
            let display_name = match self.store.contact(me.id, &address) {
                Ok(c) => c.display_name,
                Err(StoreError::NotFound(_)) => String::new(),
                Err(e) => return Err(e.into()),
            };
            out.push(OwnDeviceView {
                address,
                display_name,
            });
        }
        Ok(out)
    }

    /// Stop treating `device` as an own device of `identity` (it stays a contact).
    pub fn unlink_own_device(&mut self, identity: &str, device: &str) -> Result<(), CoreError> {
        let me = self.find_identity(identity)?;
        if self.store.unlink_own_device(me.id, device.trim())? {
            // Contacts learn that it no longer carries for this identity.
            let now = self.clock.now_unix();
            announce_carriers(&mut self.store, me.id, device.trim(), now)?;
            Ok(())
        } else {
            Err(CoreError::NotOwnDevice(device.trim().to_owned()))
        }
    }

    /// Tell the identity's own devices which flags of a message changed (from `before` to
    /// `after`).
    pub(crate) fn share_flags(
        &mut self,
        m: &postern_store::MessageRecord,
        before: Flags,
        after: Flags,
    ) -> Result<(), CoreError> {
        let now = self.clock.now_unix();
        Ok(share_flags_in(&mut self.store, m, before, after, now)?)
    }
}

/// Queue, for each own device of the message's identity, the flags of `m` that changed. Only
/// received mail kept in the Inbox, Archive or Trash has copies to flag.
pub(crate) fn share_flags_in(
    store: &mut Store,
    m: &postern_store::MessageRecord,
    before: Flags,
    after: Flags,
    now: i64,
) -> Result<(), StoreError> {
    if ![INBOX, ARCHIVE, TRASH].contains(&m.folder.as_str()) {
        return Ok(());
    }
    let changed = |b: bool, a: bool| (b != a).then_some(a);
    let line = FlagLine {
        message_id: m.message_id.clone(),
        sender: m.sender.clone(),
        seen: changed(before.seen, after.seen),
        answered: changed(before.answered, after.answered),
        flagged: changed(before.flagged, after.flagged),
        deleted: changed(before.deleted, after.deleted),
    };
    // A Message-ID or sender that cannot be written in a flags line is not shared.
    let Some(text) = line.to_line() else {
        return Ok(());
    };
    for device in store.own_devices(m.identity_id)? {
        let draft = QueuedDraft::new("Flags", &format!("{text}\n"), &[])
            .with_headers(vec![("Postern-Kind".into(), KIND_DEVICE_FLAGS.into())]);
        let id = random_message_id(&mut rand::rngs::OsRng);
        store.enqueue(m.identity_id, &device, &id, &draft.to_bytes(), now)?;
    }
    Ok(())
}

/// Queue a "my carriers" announcement to every contact of `identity_id` but `except`.
pub(crate) fn announce_carriers(
    store: &mut Store,
    identity_id: i64,
    except: &str,
    now: i64,
) -> Result<(), StoreError> {
    for c in store.contacts(identity_id)? {
        if c.address == except {
            continue;
        }
        let draft = QueuedDraft::new("My carriers", "", &[])
            .with_headers(vec![("Postern-Kind".into(), KIND_CARRIERS.into())]);
        let id = random_message_id(&mut rand::rngs::OsRng);
        store.enqueue(identity_id, &c.address, &id, &draft.to_bytes(), now)?;
    }
    Ok(())
}

/// Whether a decrypted message of `inner_len` bytes still fits the limit once copied: the
/// copy carries it base64-encoded (with line breaks), inside an armored PGP/MIME message —
/// about 1.85 times its size; twice, plus 64 KiB, to be sure.
pub(crate) fn copy_fits(inner_len: usize, max_message_size: usize) -> bool {
    inner_len.saturating_mul(2).saturating_add(64 * 1024) <= max_message_size
}

/// Queue a copy of a received message (its decrypted form) for an own device.
pub(crate) fn queue_copy(
    store: &mut Store,
    identity_id: i64,
    device: &str,
    subject: &str,
    inner: &[u8],
    now: i64,
) -> Result<(), StoreError> {
    let draft = QueuedDraft::new(
        subject,
        "",
        &[Attachment {
            name: "message.eml".into(),
            content_type: COPY_TYPE.into(),
            data: inner.to_vec(),
        }],
    )
    .with_headers(vec![("Postern-Kind".into(), KIND_DEVICE_COPY.into())]);
    let id = random_message_id(&mut rand::rngs::OsRng);
    store.enqueue(identity_id, device, &id, &draft.to_bytes(), now)?;
    Ok(())
}

/// The copied message in a `device-copy`: exactly one `message/rfc822` part holding plain mail
/// (no control of its own) with a Message-ID.
pub(crate) fn open_copy(letter: &Letter) -> Result<(Letter, Vec<u8>), Reply> {
    let refuse = |why: &str| Reply::new(550, "5.7.1", why);
    let [part] = letter.attachments.as_slice() else {
        return Err(refuse("A device copy carries exactly one message"));
    };
    if !part.content_type.eq_ignore_ascii_case(COPY_TYPE) {
        return Err(refuse("A device copy carries exactly one message"));
    }
    let copied = Letter::parse(&part.data)
        .map_err(|_| refuse("The message in this device copy cannot be read"))?;
    if copied.kind.is_some() || copied.for_holder {
        return Err(refuse("A device copy carries plain mail only"));
    }
    if copied.message_id.is_none() {
        return Err(Reply::new(
            554,
            "5.6.0",
            "The copied message has no Message-ID",
        ));
    }
    Ok((copied, part.data.clone()))
}

/// Read a flags message's text; a malformed one is refused.
pub(crate) fn parse_flags(text: &str) -> Result<Vec<FlagLine>, Reply> {
    device_flags::parse(text).map_err(|e| Reply::new(550, "5.7.1", format!("Flags refused: {e}")))
}

/// Set flags from an own device on the messages this identity holds, found by sender and
/// Message-ID (messages it does not hold are passed over: their copy may still be on its way);
/// only the flags named change.
pub(crate) fn apply_flags(
    store: &mut Store,
    identity_id: i64,
    lines: &[FlagLine],
) -> Result<usize, StoreError> {
    let mut applied = 0;
    for l in lines {
        let Some(id) = store.stored_message(identity_id, &l.sender, &l.message_id)? else {
            continue;
        };
        let m = store.message(id)?;
        if ![INBOX, ARCHIVE, TRASH].contains(&m.folder.as_str()) {
            continue;
        }
        let f = m.flags;
        let flags = Flags {
            seen: l.seen.unwrap_or(f.seen),
            answered: l.answered.unwrap_or(f.answered),
            flagged: l.flagged.unwrap_or(f.flagged),
            deleted: l.deleted.unwrap_or(f.deleted),
        };
        store.set_flags(id, flags)?;
        applied += 1;
    }
    Ok(applied)
}
