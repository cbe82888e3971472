//! Introducing one contact to another: "introduce Carol to Alice" sends Alice Carol's card as a
//! vCard 4 (with key and the signed Postern card inside) in an encrypted message, and
//! optionally Alice's card to Carol.
//!
//! On arrival (see `mail::receive`), an introduction from a contact is recorded with who made it
//! and when; an unknown address is added as `introduced`; a card whose key contradicts the one
//! held for that address is recorded as a conflict and never merged. Two independent
//! introducers raise the trust shown from `introduced` to `vouched`.

use postern_card::ContactCard;
use postern_crypto::Binding;
use postern_mime::Attachment;
use postern_store::ContactRecord;

use crate::mail::draft::QueuedDraft;
use crate::{CoreError, OutboxView, Postern};

/// `Postern-Kind` of an introduction.
pub(crate) const KIND_INTRODUCTION: &str = "introduction";
/// Verification state of a contact first learned from an introduction.
pub const INTRODUCED: &str = "introduced";

fn card_of_contact(c: &ContactRecord) -> Result<ContactCard, CoreError> {
    let Some(key) = &c.public_key else {
        return Err(CoreError::BadDraft(format!(
            "{} has no key here yet; exchange a message first",
            c.display_name
        )));
    };
    let sig: [u8; 64] = c
        .binding_sig
        .as_slice()
        .try_into()
        .map_err(|_| CoreError::Corrupt("a contact's binding has a bad length".into()))?;
    let binding = Binding::from_parts(
        c.address.parse()?,
        c.display_name.clone(),
        c.fingerprint.clone(),
        sig,
    )?;
    Ok(ContactCard::from_parts(binding, Some(key.clone()))?)
}

impl Postern {
    /// As `identity`, introduce the contact `whom` to the contact `to` (and, with `both_ways`,
    /// `to` to `whom`). Returns the queued introductions.
    pub fn introduce(
        &mut self,
        identity: &str,
        whom: &str,
        to: &str,
        both_ways: bool,
    ) -> Result<Vec<OutboxView>, CoreError> {
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        let find = |s: &Self, a: &str| match s.store.contact(me.id, a.trim()) {
            Ok(c) => Ok(c),
            Err(postern_store::StoreError::NotFound(_)) => {
                Err(CoreError::ContactNotFound(a.trim().to_owned()))
            }
            Err(e) => Err(CoreError::from(e)),
        };
        let (whom, to) = (find(self, whom)?, find(self, to)?);
        if whom.address == to.address {
            return Err(CoreError::BadDraft(
                "introduce a contact to someone else, not to themselves".into(),
            ));
        }
        let mut pairs = vec![(&whom, &to)];
        if both_ways {
            pairs.push((&to, &whom));
        }
        // Check everything before queuing anything.
        let mut drafts = Vec::new();
        for (subject, recipient) in pairs {
            self.refuse_revoked(&me, &recipient.address)?;
            self.refuse_revoked(&me, &subject.address)?;
            let card = card_of_contact(subject)?;
            let name = card.display_name().as_str().to_owned();
            let shown = if name.is_empty() {
                card.address().redacted()
            } else {
                name.clone()
            };
            let draft = QueuedDraft::new(
                &format!("Introducing {shown}"),
                &format!(
                    "I would like to introduce {shown} <{}>.\nTheir card is attached.\n",
                    card.address()
                ),
                &[Attachment {
                    name: "contact.vcf".into(),
                    content_type: "text/vcard".into(),
                    data: card.to_vcard().into_bytes(),
                }],
            )
            .with_headers(vec![("Postern-Kind".into(), KIND_INTRODUCTION.into())]);
            drafts.push((recipient.address.clone(), draft));
        }
        drafts
            .into_iter()
            .map(|(to, d)| self.queue(me.id, &to, d))
            .collect()
    }
}
