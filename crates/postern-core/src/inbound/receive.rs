//! The receive path: every message that reaches one of our identities is authenticated (decrypt
//! once, verify against the key it carries and the binding to the sender's onion address), then
//! — only then — looked up in the address book and classified, then stored with its effects in
//! one transaction, or refused storing nothing.
//!
//! | refusal | reply |
//! |---|---|
//! | anything before the sender is authenticated: not PGP/MIME, not for this identity's key, malformed, larger than allowed once decrypted, `From` ≠ envelope sender, no key or binding, a binding or signature that does not verify, a revoked key or address | `550 5.7.1` (one text: [`UNAUTHENTICATED`]) |
//! | encrypted to a key this identity revoked | `550 5.7.1` (says so) |
//! | the signed `To` does not name this identity (a signed message forwarded) | `550 5.7.1` |
//! | a signed display name with control, invisible or text-direction characters | `550 5.7.1` |
//! | signed by another key than the one in the address book (and not a rotation) | `550 5.7.1` |
//! | no Message-ID | `554 5.6.0` |
//! | a device copy or flags from a contact that is not (yet) linked as an own device | `451 4.7.1` |
//! | a device copy or flags from a stranger | `550 5.7.1` |
//! | a device copy without exactly one readable plain message, flags not in their form | `550 5.7.1` |
//! | a stranger's first message: larger than the stranger limit | `552 5.3.4` |
//! | a stranger's first message without a valid proof-of-work stamp | `550 5.7.1` |
//! | too many waiting contact requests from that sender | `452 4.2.2` |
//! | the store cannot commit it now | `451 4.3.0` (the sender retries) |

use std::sync::Arc;

use postern_smtp::{Envelope, Reply};
use postern_store::{ContactRecord, NewMessage, RevocationRecord, StoreError};
use postern_types::MailAddress;

use super::authenticate::{authenticate, Authenticated, Unauthenticated};
use super::controls;
use super::mailroom::Mailroom;
use super::writer::{Effects, Filing, Stored};
use crate::context::LocalIdentity;
use crate::invites::KIND_HANDSHAKE;
use crate::mail::{INBOX, REQUESTS, SYSTEM};
use crate::own_devices::{self, KIND_DEVICE_COPY, KIND_DEVICE_FLAGS};
use postern_mime::stamp;

/// The one reply to every message whose sender is not authenticated, whatever went wrong and
/// whoever it claims to be from.
pub const UNAUTHENTICATED: &str =
    "Refused: not an encrypted message signed by a key bound to its sender's address";

fn refuse(code: u16, enhanced: &str, text: &str) -> Reply {
    Reply::new(code, enhanced, text)
}

fn unauthenticated() -> Reply {
    refuse(550, "5.7.1", UNAUTHENTICATED)
}

fn busy(e: StoreError) -> Reply {
    tracing::error!("store: {e}");
    refuse(
        451,
        "4.3.0",
        "Cannot check this message now; try again later",
    )
}

/// Take in one message for `me`. The reply is what the SMTP session sends after DATA.
pub(super) async fn receive(
    room: &Mailroom,
    me: Arc<LocalIdentity>,
    envelope: Envelope,
    data: Vec<u8>,
) -> Reply {
    if let Some(why) = &me.revoked {
        return refuse(550, "5.7.1", &format!("{why}; mail to it is refused"));
    }
    let Ok(sender) = envelope.mail_from.parse::<MailAddress>() else {
        return unauthenticated();
    };
    let now = room.clock.now_unix();
    // Decrypting holds up to the message limit in memory: a bounded number at once.
    let Ok(permit) = room.decrypt_slots.clone().acquire_owned().await else {
        return refuse(451, "4.3.0", "Shutting down; try again later");
    };
    let max = room.max_message_size;
    let (me2, sender2, certs) = (me.clone(), sender.clone(), room.certs.clone());
    let checked = tokio::task::spawn_blocking(move || {
        let a = authenticate(&me2, &sender2, &data, max, &certs, now);
        (a, data)
    })
    .await;
    drop(permit);
    let (a, data) = match checked {
        Ok(x) => x,
        Err(_) => return refuse(451, "4.3.0", "Internal error; try again later"),
    };
    let a = match a {
        Ok(a) => a,
        Err(Unauthenticated::Refused) => return unauthenticated(),
        Err(Unauthenticated::RevokedKey(why)) => {
            return refuse(
                550,
                "5.7.1",
                &format!("Encrypted to a revoked key: {why}. Fetch the new card and send again"),
            )
        }
    };
    // From here on the sender is known to hold the key bound to its address.
    match classify(room, &me, &sender, &a, &data, now) {
        Ok(arrival) => store(room, me, a, arrival, data, now).await,
        Err(reply) => reply,
    }
}

/// What the address book says of an authenticated sender.
struct Arrival {
    contact: Option<ContactRecord>,
    folder: &'static str,
    verification: &'static str,
    sender_name: String,
    /// A key to record for a contact we knew without one.
    learned_key: Option<(i64, Vec<u8>)>,
    /// Whether the sender is one of this identity's own devices.
    own_device: bool,
    /// The identity's own devices (a contact's mail is copied to each).
    own_devices: Vec<String>,
}

fn classify(
    room: &Mailroom,
    me: &LocalIdentity,
    sender: &MailAddress,
    a: &Authenticated,
    data: &[u8],
    now: i64,
) -> Result<Arrival, Reply> {
    let own = me.keys.address().to_string();
    if !a.letter.to.iter().any(|t| t.eq_ignore_ascii_case(&own)) {
        return Err(refuse(
            550,
            "5.7.1",
            "This message is addressed to someone else; a signed message forwarded here is refused",
        ));
    }
    if postern_card::DisplayName::new(&a.display_name).is_err() {
        return Err(refuse(
            550,
            "5.7.1",
            "The sender's display name contains control, invisible or text-direction characters",
        ));
    }
    let from = sender.to_string();
    let (contact, revocations, own_devices) = room
        .with_reader(|s| -> Result<_, StoreError> {
            let contact = match s.contact(me.id, &from) {
                Ok(c) => Some(c),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            Ok((contact, s.revocations(me.id, &from)?, s.own_devices(me.id)?))
        })
        .map_err(busy)?;
    if revoked(&revocations, &a.fingerprint) {
        // A revoked address or key does not authenticate anyone.
        return Err(unauthenticated());
    }
    if a.letter.message_id.is_none() {
        return Err(refuse(554, "5.6.0", "Message has no Message-ID"));
    }
    let rotation = controls::rotates_key(&a.letter, sender, contact.as_ref());
    match contact {
        Some(c) if c.fingerprint == a.fingerprint || rotation => {
            let learned_key = (c.public_key.is_none() && !rotation).then(|| (c.id, a.key.clone()));
            Ok(Arrival {
                sender_name: c.display_name.clone(),
                contact: Some(c),
                folder: INBOX,
                verification: "contact",
                learned_key,
                own_device: own_devices.contains(&from),
                own_devices,
            })
        }
        Some(_) => Err(refuse(
            550,
            "5.7.1",
            "The sender's key differs from the one in the address book",
        )),
        None => {
            let handshake = a.letter.kind.as_deref() == Some(KIND_HANDSHAKE);
            if !handshake {
                stranger_checks(room, me, a, data, now)?;
            }
            Ok(Arrival {
                contact: None,
                folder: REQUESTS,
                verification: "first_contact",
                sender_name: a.display_name.clone(),
                learned_key: None,
                own_device: false,
                own_devices: Vec::new(),
            })
        }
    }
}

/// Whether the sender's address, or the key it signed with, was revoked.
fn revoked(revocations: &[RevocationRecord], fingerprint: &[u8]) -> bool {
    revocations
        .iter()
        .any(|r| r.scope == "address" || r.fingerprint == fingerprint)
}

/// A first message from someone who is not a contact: small, and paid for with a stamp.
fn stranger_checks(
    room: &Mailroom,
    me: &LocalIdentity,
    a: &Authenticated,
    data: &[u8],
    now: i64,
) -> Result<(), Reply> {
    let limits = &room.limits;
    if data.len() > limits.stranger_max_message {
        return Err(refuse(
            552,
            "5.3.4",
            &format!(
                "A first message to someone who does not know you may be at most {} KiB; \
                 ask them to add you first",
                limits.stranger_max_message / 1024
            ),
        ));
    }
    if room.stamp_bits > 0 {
        let holds = stamp::find(data).is_some_and(|s| {
            s.holds(
                &me.keys.address().to_string(),
                &a.fingerprint,
                stamp::day_of(now),
                room.stamp_bits,
            )
        });
        if !holds {
            return Err(refuse(
                550,
                "5.7.1",
                &format!(
                    "A first message to someone who does not know you must carry a \
                     proof-of-work stamp ({} of at least {} bits)",
                    stamp::HEADER,
                    room.stamp_bits
                ),
            ));
        }
    }
    Ok(())
}

async fn store(
    room: &Mailroom,
    me: Arc<LocalIdentity>,
    a: Authenticated,
    arrival: Arrival,
    raw: Vec<u8>,
    now: i64,
) -> Reply {
    let Authenticated {
        letter,
        inner,
        key,
        binding_sig,
        ..
    } = a;
    let kind = letter.kind.as_deref();
    if matches!(kind, Some(KIND_DEVICE_COPY | KIND_DEVICE_FLAGS)) && !arrival.own_device {
        // A contact may be a device whose link this one has not taken yet (its handshake is
        // still on the way): it tries again later. Anyone else is refused for good.
        return if arrival.contact.is_some() {
            refuse(
                451,
                "4.7.1",
                "Not linked as one of this identity's devices (yet); try again later",
            )
        } else {
            refuse(
                550,
                "5.7.1",
                "Device copies and flags are taken only from this identity's own devices",
            )
        };
    }
    let device_flags = match kind {
        Some(KIND_DEVICE_FLAGS) => match own_devices::parse_flags(&letter.text) {
            Ok(lines) => Some(lines),
            Err(reply) => return reply,
        },
        _ => None,
    };
    // A copy from an own device is stored as the message it copies, shown as verified there.
    let copied = match kind {
        Some(KIND_DEVICE_COPY) => match own_devices::open_copy(&letter) {
            Ok(c) => Some(c),
            Err(reply) => return reply,
        },
        _ => None,
    };
    // Mail from a contact is copied to the identity's own devices, in the same transaction.
    let copy_out = (kind.is_none()
        && arrival.folder == INBOX
        && !arrival.own_device
        && !letter.for_holder
        && !arrival.own_devices.is_empty())
    .then(|| inner.clone())
    .filter(|i| {
        let fits = own_devices::copy_fits(i.len(), room.max_message_size);
        if !fits {
            tracing::warn!("a message too large to copy to own devices was not copied");
        }
        fits
    });
    let shown = copied.as_ref().map_or(&letter, |(l, _)| l);
    let (verification, sender_name) = if copied.is_some() {
        let name = room
            .with_reader(|s| s.contact(me.id, &shown.from))
            .map(|c| c.display_name)
            .unwrap_or_else(|_| {
                // Not a contact here: the copied message's own name, if it is a clean one.
                shown
                    .from_name
                    .as_deref()
                    .and_then(|n| postern_card::DisplayName::new(n).ok())
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default()
            });
        (own_devices::VERIFIED_BY_OWN_DEVICE, name)
    } else {
        (arrival.verification, arrival.sender_name.clone())
    };
    // A reply from an ordinary address, brought in by a gateway that is a contact: filed as
    // from that address, and never as verified.
    let through_gateway =
        (kind == Some(crate::gateway::KIND_IN) && arrival.contact.is_some() && copied.is_none())
            .then(|| {
                let gateway_name = sender_name.clone();
                letter
                    .gateway
                    .as_deref()
                    .and_then(|h| crate::gateway::origin(h, &gateway_name))
            })
            .flatten();
    let (verification, sender_name) = match &through_gateway {
        Some((_, shown_name)) => (crate::gateway::VERIFIED_BY_GATEWAY, shown_name.clone()),
        None => (verification, sender_name),
    };
    // Mail through a gateway keeps the ordinary message's own Message-ID (what a reply to it
    // answers).
    let message_id = through_gateway
        .as_ref()
        .and(letter.gateway.as_deref())
        .and_then(|h| {
            crate::gateway::fields(h)
                .into_iter()
                .find(|(k, _)| k == "id")
                .and_then(|(_, v)| crate::gateway::portable_message_id(&v))
        })
        .or_else(|| shown.message_id.clone())
        .unwrap_or_default();
    let (sender, subject, sent_at, text) = (
        through_gateway
            .map(|(from, _)| from)
            .unwrap_or_else(|| shown.from.clone()),
        shown.subject.clone(),
        shown.date,
        shown.text.clone(),
    );
    let threading = postern_store::Threading {
        in_reply_to: shown.in_reply_to.clone().unwrap_or_default(),
        references: shown.references.clone(),
        thread: String::new(),
    };
    let inner = match copied {
        Some((_, copied_inner)) => copied_inner,
        None => inner,
    };
    let keep_raw = verification != own_devices::VERIFIED_BY_OWN_DEVICE;
    // The attachments are stored once by content, outside the message's row.
    let (inner, cargo) = postern_mime::cargo::take_out(&inner).unwrap_or((inner, Vec::new()));
    let message = NewMessage {
        identity_id: me.id,
        message_id,
        sender: sender.clone(),
        sender_name: sender_name.clone(),
        subject: subject.clone(),
        folder: arrival.folder.to_owned(),
        verification: verification.to_owned(),
        sent_at,
        received_at: now,
        inner,
        // The signed, encrypted original is kept as evidence, unless it carries attachments:
        // those are stored once, by content, and a second copy inside `raw` would defeat that.
        // A copy's evidence is on the device that received it.
        raw: if cargo.is_empty() && keep_raw {
            raw.clone()
        } else {
            Vec::new()
        },
        sender_key: arrival.contact.is_none().then_some(key),
        sender_binding_sig: arrival.contact.is_none().then(|| binding_sig.to_vec()),
        threading,
        recipients: String::new(),
        seen: false,
    };
    let limits = room.limits.clone();
    // What it will take up, counted as `folder_usage` counts what is stored.
    let stored =
        message.inner.len() + message.raw.len() + cargo.iter().map(|c| c.data.len()).sum::<usize>();
    let size = i64::try_from(stored).unwrap_or(i64::MAX);
    drop(raw);
    let identity_id = me.id;
    let list_mail = letter.kind.as_deref() == Some(crate::lists::KIND_LIST);
    let copy_to = arrival.own_devices.clone();
    let effects: Effects = Box::new(move |s| {
        let folder = controls::apply(
            s,
            now,
            &me,
            arrival.contact.as_ref(),
            &letter,
            arrival.folder,
        )?;
        if let Some((contact_id, key)) = &arrival.learned_key {
            s.set_contact_key(*contact_id, key).map_err(busy)?;
        }
        if folder.unwrap_or(arrival.folder) == REQUESTS {
            controls::make_room_for_request(s, me.id, &letter.from, size, &limits)?;
        }
        if let Some(copy) = &copy_out {
            for device in &copy_to {
                own_devices::queue_copy(s, me.id, device, &letter.subject, copy, now)
                    .map_err(busy)?;
            }
        }
        if let Some(lines) = &device_flags {
            own_devices::apply_flags(s, me.id, lines).map_err(busy)?;
            return Ok(Some(SYSTEM));
        }
        Ok(folder)
    });
    let filing: Filing = Box::new(move |s, id| {
        let mut names = Vec::new();
        for (position, c) in cargo.iter().enumerate() {
            let hash = s.put_blob(&c.data)?;
            s.add_message_attachment(id, position as i64, &c.name, &c.content_type, &hash)?;
            names.push(c.name.as_str());
        }
        s.index_message(
            id,
            identity_id,
            &postern_store::SearchText {
                subject: &subject,
                body: &text,
                sender_name: &sender_name,
                sender: &sender,
                attachment_names: &names.join(" "),
            },
        )
    });
    match room.writer.store(message, effects, filing).await {
        Stored::New => {
            if list_mail {
                room.list_wake.notify_one();
            }
            Reply::new(250, "2.0.0", "Stored")
        }
        Stored::Duplicate => Reply::new(250, "2.0.0", "Already stored"),
        Stored::Refused(reply) => reply,
        Stored::Failed(e) => {
            tracing::error!("storing a message failed: {e}");
            refuse(
                451,
                "4.3.0",
                "Cannot store the message now; try again later",
            )
        }
    }
}
