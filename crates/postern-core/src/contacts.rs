//! Adding contacts from cards, and reading the address book.

use postern_card::ContactCard;
use postern_store::{ContactRecord, NewContact, StoreError};

use crate::views::{hex, ContactView};
use crate::{CoreError, Postern};

/// Verification state of a contact added from a card handed over out of band.
pub const VERIFIED_BY_CARD: &str = "card";

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
                return Ok(contact_view(existing));
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
        Ok(contact_view(rec))
    }

    /// `identity`'s address book.
    pub fn contacts(&self, identity: &str) -> Result<Vec<ContactView>, CoreError> {
        let me = self.find_identity(identity)?;
        Ok(self
            .store
            .contacts(me.id)?
            .into_iter()
            .map(contact_view)
            .collect())
    }

    /// One contact of `identity`, by address.
    pub fn contact(&self, identity: &str, address: &str) -> Result<ContactView, CoreError> {
        let me = self.find_identity(identity)?;
        match self.store.contact(me.id, address.trim()) {
            Ok(c) => Ok(contact_view(c)),
            Err(StoreError::NotFound(_)) => Err(CoreError::ContactNotFound(address.to_owned())),
            Err(e) => Err(e.into()),
        }
    }
}

pub(crate) fn contact_view(c: ContactRecord) -> ContactView {
    ContactView {
        id: c.id,
        identity_id: c.identity_id,
        address: c.address,
        display_name: c.display_name,
        fingerprint: hex(&c.fingerprint),
        has_key: c.public_key.is_some(),
        verification: c.verification,
        added_at: c.added_at,
    }
}
