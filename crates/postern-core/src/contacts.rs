//! Adding contacts from cards, and reading the address book.

use postern_card::ContactCard;
use postern_store::{ContactRecord, NewContact, StoreError};

use crate::invites::VERIFIED_BY_SCAN;
use crate::revoke;
use crate::views::{hex, ContactView, IntroductionView};
use crate::{CoreError, Postern};

/// Verification state of a contact added from a card handed over out of band.
pub const VERIFIED_BY_CARD: &str = "card";
/// Verification state of a contact whose fingerprint its owner confirmed by hand.
pub const CONFIRMED: &str = "confirmed";

impl Postern {
    /// Add a contact to `identity`'s address book from a card's text form. The card's binding
    /// (and key, if it carries one) is verified first; a refused card changes nothing.
    /// Adding the same card again is a no-op that returns the existing contact; a card for a
    /// known address with a *different* key is refused, never merged.
    pub fn add_contact(
        &mut self,
        identity: &str,
        card_text: &str,
    ) -> Result<ContactView, CoreError> {
        let card = ContactCard::from_text(card_text)?;
        let me = self.find_identity(identity)?;
        let address = card.address().to_string();
        if address == format!("{}@{}", me.local_part, me.onion) {
            return Err(CoreError::OwnCard);
        }
        match self.store.contact(me.id, &address) {
            Ok(existing) => {
                if existing.fingerprint != card.binding().fingerprint() {
                    return Err(CoreError::ConflictingContact(card.address().redacted()));
                }
                return self.describe(existing);
            }
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let rec = self.store.insert_contact(&NewContact {
            identity_id: me.id,
            address: &address,
            display_name: card.display_name().as_str(),
            fingerprint: card.binding().fingerprint(),
            binding_sig: card.binding().signature(),
            public_key: card.public_key(),
            verification: VERIFIED_BY_CARD,
            added_at: self.clock.now_unix(),
        })?;
        self.describe(rec)
    }

    /// `identity`'s address book.
    pub fn contacts(&self, identity: &str) -> Result<Vec<ContactView>, CoreError> {
        let me = self.find_identity(identity)?;
        self.store
            .contacts(me.id)?
            .into_iter()
            .map(|c| self.describe(c))
            .collect()
    }

    /// One contact of `identity`, by address.
    pub fn contact(&self, identity: &str, address: &str) -> Result<ContactView, CoreError> {
        let c = self.contact_record(identity, address)?;
        self.describe(c)
    }
}

impl Postern {
    /// A contact with its provenance, revocations and the trust they add up to.
    pub(crate) fn describe(&self, c: ContactRecord) -> Result<ContactView, CoreError> {
        let intros = self.store.introductions(c.identity_id, &c.address)?;
        let revocations = self.store.revocations(c.identity_id, &c.address)?;
        let mut introductions = Vec::new();
        let mut vouching: Vec<String> = Vec::new();
        for i in &intros {
            let introducer_name = self
                .store
                .contact(c.identity_id, &i.introducer)
                .map(|x| x.display_name)
                .unwrap_or_default();
            if !i.conflict && i.fingerprint == c.fingerprint {
                let name = if introducer_name.is_empty() {
                    i.introducer
                        .parse::<postern_types::MailAddress>()
                        .map(|a| a.redacted())
                        .unwrap_or_default()
                } else {
                    introducer_name.clone()
                };
                if !vouching.contains(&name) {
                    vouching.push(name);
                }
            }
            introductions.push(IntroductionView {
                introducer: i.introducer.clone(),
                introducer_name,
                received_at: i.received_at,
                fingerprint: hex(&i.fingerprint),
                conflict: i.conflict || i.fingerprint != c.fingerprint,
            });
        }
        let address_revoked = revocations.iter().find(|r| r.scope == "address");
        let verified = matches!(c.verification.as_str(), VERIFIED_BY_SCAN | CONFIRMED);
        let trust = if address_revoked.is_some() {
            "revoked"
        } else if verified {
            "verified"
        } else if vouching.len() >= 2 {
            "vouched"
        } else if vouching.len() == 1 {
            "introduced"
        } else {
            "unverified"
        };
        let mut label = match c.verification.as_str() {
            VERIFIED_BY_SCAN => "verified by scan".to_owned(),
            CONFIRMED => "fingerprint confirmed".to_owned(),
            VERIFIED_BY_CARD => "added from a card".to_owned(),
            "first_contact" => "first contact (unverified)".to_owned(),
            _ => String::new(),
        };
        if !vouching.is_empty() {
            if !label.is_empty() {
                label.push_str("; ");
            }
            label.push_str(&format!("introduced by {}", vouching.join(" and ")));
        }
        let conflicts = introductions.iter().filter(|i| i.conflict).count();
        if conflicts > 0 {
            label.push_str(&format!(
                "; {conflicts} introduction(s) with a different key (not merged)"
            ));
        }
        if let Some(r) = address_revoked {
            label = revoke::revoked_sentence(r, "its owner");
        }
        Ok(ContactView {
            id: c.id,
            identity_id: c.identity_id,
            address: c.address,
            display_name: c.display_name,
            fingerprint: hex(&c.fingerprint),
            has_key: c.public_key.is_some(),
            verification: c.verification,
            added_at: c.added_at,
            trust: trust.into(),
            trust_label: label,
            introductions,
            revocations: revocations
                .iter()
                .map(|r| revoke::revocation_view(r, 0))
                .collect(),
        })
    }

    /// Mark a contact verified by its owner, after comparing fingerprints out of band.
    pub fn confirm_contact(
        &mut self,
        identity: &str,
        address: &str,
    ) -> Result<ContactView, CoreError> {
        let c = self.contact_record(identity, address)?;
        self.store.set_contact_verification(c.id, CONFIRMED)?;
        self.contact(identity, address)
    }

    fn contact_record(&self, identity: &str, address: &str) -> Result<ContactRecord, CoreError> {
        let me = self.find_identity(identity)?;
        match self.store.contact(me.id, address.trim()) {
            Ok(c) => Ok(c),
            Err(StoreError::NotFound(_)) => Err(CoreError::ContactNotFound(address.to_owned())),
            Err(e) => Err(e.into()),
        }
    }
}
