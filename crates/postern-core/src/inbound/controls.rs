//! What a verified message may carry besides mail: an invite token (the handshake), introduced
//! cards, a revocation, its sender's carriers. Applied by the writer in the transaction that
//! stores the message, and only if the message is new; each refusal is a specific SMTP reply
//! and undoes everything the message did. Also the contact-request quota.
//!
//! | refusal | reply |
//! |---|---|
//! | invite token unknown, malformed, expired or used by another sender | `550 5.7.1` |
//! | invite redeemed by an address held with a different key | `550 5.7.1` |
//! | an introduced vCard that does not verify | `550 5.7.1` |
//! | a revocation that does not verify, or is not the sender's own | `550 5.7.1` |
//! | a key revocation for a key this address book does not hold | `550 5.7.1` |
//! | too many waiting contact requests from one sender | `452 4.2.2` |

use postern_card::ContactCard;
use postern_crypto::{PublicKeyInfo, Revocation, RevocationScope};
use postern_mime::Letter;
use postern_smtp::Reply;
use postern_store::{ContactRecord, NewContact, NewIntroduction, NewRevocation, Redemption, Store};
use postern_types::MailAddress;

use crate::context::LocalIdentity;
use crate::introductions::{INTRODUCED, KIND_INTRODUCTION};
use crate::invites::{token_from_text, token_hash, KIND_HANDSHAKE, VERIFIED_BY_SCAN};
use crate::lists::{FRAME_TYPE, KIND_LIST};
use crate::mail::{INBOX, KIND_CARRIERS, REQUESTS, SYSTEM};
use crate::InboundLimits;
use postern_carry as carry;

/// Most cards one introduction may carry.
const MAX_INTRODUCED: usize = 16;

fn refuse(text: &str) -> Reply {
    Reply::new(550, "5.7.1", text)
}

fn busy(e: postern_store::StoreError) -> Reply {
    tracing::error!("store: {e}");
    Reply::new(451, "4.3.0", "Cannot record this now; try again later")
}

fn fingerprint_of(key: &[u8]) -> Option<Vec<u8>> {
    PublicKeyInfo::parse(key).ok().map(|k| k.fingerprint())
}

/// Whether the message carries a valid revocation of the contact's current key by the sender,
/// naming as successor exactly the key the message carries (and is to be verified with).
pub(super) fn rotates_key(
    letter: &Letter,
    sender: &MailAddress,
    contact: Option<&ContactRecord>,
) -> bool {
    let (Some(contact), Some(stmt), Some(key)) = (contact, &letter.revocation, &letter.sender_key)
    else {
        return false;
    };
    let Ok(r) = Revocation::decode(stmt) else {
        return false;
    };
    r.address() == sender
        && r.scope() == RevocationScope::Key
        && r.revoked() == contact.fingerprint.as_slice()
        && r.successor()
            .is_some_and(|s| Some(s.to_vec()) == fingerprint_of(key))
}

/// Apply the message's controls. `folder` is where it goes without them; returns the folder to
/// store it in, if that changes.
pub(super) fn apply(
    store: &mut Store,
    now: i64,
    me: &LocalIdentity,
    contact: Option<&ContactRecord>,
    letter: &Letter,
    folder: &'static str,
) -> Result<Option<&'static str>, Reply> {
    let mut changed = None;
    if let Some(stmt) = &letter.revocation {
        revocation(store, now, me, contact, letter, stmt)?;
    }
    if let Some(token) = &letter.invite {
        if letter.kind.as_deref() == Some(KIND_HANDSHAKE) {
            redeem(store, now, me, letter, token)?;
            changed = Some(INBOX);
        }
    }
    let from_contact = folder == INBOX || changed == Some(INBOX);
    if letter.kind.as_deref() == Some(KIND_INTRODUCTION) && from_contact {
        introduction(store, now, me, letter)?;
    }
    let announcement = letter.kind.as_deref() == Some(KIND_CARRIERS);
    if from_contact && (letter.carriers.is_some() || announcement) {
        if let Ok(sender) = letter.from.parse::<MailAddress>() {
            let own = me.keys.address().to_string();
            let header = letter.carriers.as_deref().unwrap_or_default();
            let list: Vec<postern_store::ContactCarrier> =
                carry::parse_carriers(header, &sender, &own, now)
                    .into_iter()
                    .map(|c| postern_store::ContactCarrier {
                        carrier: c.carrier,
                        pass: c.pass,
                        expires_at: c.expires_at,
                    })
                    .collect();
            store
                .set_contact_carriers(me.id, &letter.from, &list)
                .map_err(busy)?;
        }
    }
    if announcement && from_contact {
        changed = Some(SYSTEM);
    }
    if letter.kind.as_deref() == Some(crate::gateway::KIND_OUT) {
        // Only a contact may have a gateway carry its mail out.
        if !from_contact {
            return Err(refuse("This gateway carries mail only for its contacts"));
        }
        crate::gateway::hand_over(store, now, me, letter)?;
        changed = Some(SYSTEM);
    }
    if letter.kind.as_deref() == Some(crate::gateway::KIND_IN) {
        // Only a gateway this identity chose (sent through) brings it mail from ordinary
        // addresses: no other contact can make mail look like it came from one.
        let chosen = from_contact && store.is_gateway_choice(me.id, &letter.from).map_err(busy)?;
        if !chosen {
            return Err(refuse("You are not a gateway this identity sends through"));
        }
    }
    if letter.kind.as_deref() == Some(KIND_LIST) && from_contact {
        list_mail(store, now, me, letter)?;
        changed = Some(SYSTEM);
    }
    Ok(changed)
}

/// List mail from a contact: its frame waits for the node's list loop (`crate::lists`), kept
/// with the message. Anything else in it is refused.
fn list_mail(
    store: &mut Store,
    now: i64,
    me: &LocalIdentity,
    letter: &Letter,
) -> Result<(), Reply> {
    let [frame] = letter.attachments.as_slice() else {
        return Err(refuse("List mail carries exactly one frame"));
    };
    if frame.content_type != FRAME_TYPE || frame.data.len() > postern_list::frame::MAX_FRAME {
        return Err(refuse("List mail carries exactly one frame"));
    }
    let message_id = letter.message_id.as_deref().unwrap_or_default();
    store
        .push_list_mail(me.id, &letter.from, &frame.data, message_id, now)
        .map_err(busy)
}

/// Contact requests are kept within a quota per identity (the oldest go first) and a few per
/// sender: a stranger cannot fill the disk.
pub(super) fn make_room_for_request(
    store: &mut Store,
    identity_id: i64,
    sender: &str,
    size: i64,
    limits: &InboundLimits,
) -> Result<(), Reply> {
    let waiting = store
        .count_from(identity_id, sender, REQUESTS)
        .map_err(busy)?;
    if waiting >= limits.requests_per_sender {
        return Err(Reply::new(
            452,
            "4.2.2",
            "Enough of your messages wait here to be accepted; try again once they are",
        ));
    }
    if size > limits.requests_quota_bytes {
        return Err(Reply::new(552, "5.3.4", "Too large for a contact request"));
    }
    let evicted = store
        .evict_oldest(identity_id, REQUESTS, limits.requests_quota_bytes, size)
        .map_err(busy)?;
    if evicted > 0 {
        tracing::info!("contact requests over quota: {evicted} oldest dropped");
    }
    Ok(())
}

fn redeem(
    store: &mut Store,
    now: i64,
    me: &LocalIdentity,
    letter: &Letter,
    token: &str,
) -> Result<(), Reply> {
    let token = token_from_text(token).ok_or_else(|| refuse("The invite token is malformed"))?;
    let (Some(key), Some(binding)) = (&letter.sender_key, &letter.sender_binding) else {
        return Err(refuse(
            "A handshake must carry the sender's key and binding",
        ));
    };
    let fingerprint =
        fingerprint_of(key).ok_or_else(|| refuse("The sender's key is not usable"))?;
    let outcome = store
        .redeem_invite(
            &token_hash(&token),
            now,
            &NewContact {
                identity_id: me.id,
                address: &letter.from,
                display_name: &binding.display_name,
                fingerprint: &fingerprint,
                binding_sig: &binding.signature,
                public_key: Some(key),
                verification: VERIFIED_BY_SCAN,
                added_at: now,
            },
        )
        .map_err(busy)?;
    match outcome {
        Redemption::Added(_) => {
            // A device invite: the redeemer is now an own device, and a carrier to announce.
            let own = store.own_devices(me.id).map_err(busy)?;
            if own.contains(&letter.from) {
                crate::own_devices::announce_carriers(store, me.id, &letter.from, now)
                    .map_err(busy)?;
            }
            Ok(())
        }
        Redemption::Unknown => Err(refuse(
            "This invite is unknown here: it was not issued by this identity, or was withdrawn",
        )),
        Redemption::Expired(at) => Err(refuse(&format!(
            "This invite expired on {} UTC; ask for a new QR code or link",
            postern_types::utc_minute(at)
        ))),
        Redemption::AlreadyUsed => Err(refuse(
            "This invite was already used by someone else; ask for a new QR code or link",
        )),
        Redemption::Conflict => Err(refuse(
            "Your address is in this address book with a different key",
        )),
    }
}

fn introduction(
    store: &mut Store,
    now: i64,
    me: &LocalIdentity,
    letter: &Letter,
) -> Result<(), Reply> {
    let cards: Vec<&postern_mime::Attachment> = letter
        .attachments
        .iter()
        .filter(|a| a.content_type.eq_ignore_ascii_case("text/vcard"))
        .collect();
    if cards.len() > MAX_INTRODUCED {
        return Err(refuse("Too many cards in one introduction"));
    }
    let own = me.keys.address().to_string();
    let mut parsed = Vec::new();
    for a in cards {
        let text = std::str::from_utf8(&a.data)
            .map_err(|_| refuse("An introduced card is not UTF-8 text"))?;
        let card = ContactCard::from_vcard(text)
            .map_err(|e| refuse(&format!("An introduced card is not acceptable: {e}")))?;
        if card.public_key().is_none() {
            return Err(refuse("An introduced card must carry its key"));
        }
        parsed.push(card);
    }
    for card in parsed {
        let address = card.address().to_string();
        if address == own || address == letter.from {
            continue;
        }
        let existing = store.contact(me.id, &address).ok();
        let conflict = existing
            .as_ref()
            .is_some_and(|c| c.fingerprint != card.binding().fingerprint());
        if existing.is_none() {
            let r = store.insert_contact(&NewContact {
                identity_id: me.id,
                address: &address,
                display_name: card.display_name().as_str(),
                fingerprint: card.binding().fingerprint(),
                binding_sig: card.binding().signature(),
                public_key: card.public_key(),
                verification: INTRODUCED,
                added_at: now,
            });
            match r {
                Ok(_) | Err(postern_store::StoreError::Duplicate(_)) => {}
                Err(e) => return Err(busy(e)),
            }
        }
        if conflict {
            tracing::warn!(
                contact = %card.address().redacted(),
                "an introduction contradicts the address book; recorded, not merged"
            );
        }
        store
            .record_introduction(&NewIntroduction {
                identity_id: me.id,
                address: &address,
                fingerprint: card.binding().fingerprint(),
                introducer: &letter.from,
                received_at: now,
                conflict,
                card: &card.to_text(),
            })
            .map_err(busy)?;
    }
    Ok(())
}

fn revocation(
    store: &mut Store,
    now: i64,
    me: &LocalIdentity,
    contact: Option<&ContactRecord>,
    letter: &Letter,
    stmt: &[u8],
) -> Result<(), Reply> {
    let r = Revocation::decode(stmt).map_err(|e| refuse(&format!("{e}")))?;
    if r.address().to_string() != letter.from {
        return Err(refuse(
            "A revocation may only come from the address it revokes",
        ));
    }
    let Some(contact) = contact else {
        // Nothing of a stranger's is held here: nothing to revoke.
        return Ok(());
    };
    if r.scope() == RevocationScope::Key {
        let successor = r.successor().unwrap_or_default();
        if contact.fingerprint == r.revoked() {
            match (r.successor(), &letter.sender_key, &letter.sender_binding) {
                (Some(next), Some(key), Some(binding))
                    if fingerprint_of(key).as_deref() == Some(next) =>
                {
                    store
                        .replace_contact_key(contact.id, next, &binding.signature, Some(key))
                        .map_err(busy)?;
                }
                // A revocation without a successor: the key stays, marked revoked; nothing
                // more is sent to it.
                (None, _, _) => {}
                _ => {
                    return Err(refuse(
                        "A key revocation must come with the successor key it names",
                    ))
                }
            }
        } else if contact.fingerprint != successor {
            return Err(refuse(
                "This revocation is for a key this address book does not hold",
            ));
        }
    }
    let address = letter.from.as_str();
    store
        .record_revocation(&NewRevocation {
            identity_id: me.id,
            address,
            scope: r.scope().as_str(),
            fingerprint: r.revoked(),
            successor: r.successor(),
            revoked_at: r.revoked_at(),
            received_at: now,
            reason: r.reason(),
            statement: r.encoded(),
            public_key: None,
        })
        .map_err(busy)?;
    tracing::info!(
        contact = %contact.address.parse::<MailAddress>().map(|a| a.redacted()).unwrap_or_default(),
        scope = r.scope().as_str(),
        "revocation received"
    );
    Ok(())
}
