//! What a verified message may carry besides mail: an invite token (the handshake), introduced
//! cards, a revocation. Applied after the message's signature checked out and before it is
//! stored; each refusal is a specific SMTP reply and changes nothing.
//!
//! | refusal | reply |
//! |---|---|
//! | invite token unknown, malformed, expired or used by another sender | `550 5.7.1` |
//! | invite redeemed by an address held with a different key | `550 5.7.1` |
//! | an introduced vCard that does not verify | `550 5.7.1` |
//! | a revocation that does not verify, or is not the sender's own | `550 5.7.1` |
//! | a key revocation for a key this address book does not hold | `550 5.7.1` |
//! | signed by a key its owner revoked | `550 5.7.1` |

use postern_card::ContactCard;
use postern_crypto::{PublicKeyInfo, Revocation, RevocationScope};
use postern_mime::Letter;
use postern_smtp::Reply;
use postern_store::{
    ContactRecord, NewContact, NewIntroduction, NewRevocation, Redemption, RevocationRecord, Store,
};
use postern_types::MailAddress;

use super::carry;
use super::receive::{Accepted, LocalIdentity};
use super::{INBOX, KIND_CARRIERS, SYSTEM};
use crate::introductions::{INTRODUCED, KIND_INTRODUCTION};
use crate::invites::{token_from_text, token_hash, KIND_HANDSHAKE, VERIFIED_BY_SCAN};
use crate::revoke::revoked_sentence;

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

/// A refusal if the key the message carries is one its owner revoked.
pub(super) fn revoked_signer(letter: &Letter, revocations: &[RevocationRecord]) -> Option<Reply> {
    let fp = fingerprint_of(letter.sender_key.as_deref()?)?;
    let r = revocations.iter().find(|r| r.fingerprint == fp)?;
    Some(refuse(&format!(
        "Signed with a revoked key: {}",
        revoked_sentence(r, "the sender")
    )))
}

/// Apply the message's controls. Returns the folder to store it in, if that changes.
pub(super) fn apply(
    store: &mut Store,
    now: i64,
    me: &LocalIdentity,
    contact: Option<&ContactRecord>,
    a: &Accepted,
) -> Result<Option<&'static str>, Reply> {
    let mut folder = None;
    if let Some(stmt) = &a.letter.revocation {
        revocation(store, now, me, contact, &a.letter, stmt)?;
    }
    if let Some(token) = &a.letter.invite {
        if a.letter.kind.as_deref() == Some(KIND_HANDSHAKE) {
            redeem(store, now, me, &a.letter, token)?;
            folder = Some(INBOX);
        }
    }
    let from_contact = a.folder == INBOX || folder == Some(INBOX);
    if a.letter.kind.as_deref() == Some(KIND_INTRODUCTION) && from_contact {
        introduction(store, now, me, &a.letter)?;
    }
    let announcement = a.letter.kind.as_deref() == Some(KIND_CARRIERS);
    if from_contact && (a.letter.carriers.is_some() || announcement) {
        if let Ok(sender) = a.letter.from.parse::<MailAddress>() {
            let own = me.keys.address().to_string();
            let header = a.letter.carriers.as_deref().unwrap_or_default();
            let list = carry::parse_carriers(header, &sender, &own, now);
            store
                .set_contact_carriers(me.id, &a.letter.from, &list)
                .map_err(busy)?;
        }
    }
    if a.letter.kind.as_deref() == Some(KIND_CARRIERS) && from_contact {
        folder = Some(SYSTEM);
    }
    Ok(folder)
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
        Redemption::Added(_) => Ok(()),
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
