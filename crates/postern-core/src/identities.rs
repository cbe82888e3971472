//! Creating, finding, exporting and deleting identities.

use postern_card::{ContactCard, DisplayName};
use postern_crypto::IdentityKeys;
use postern_store::{IdentityRecord, NewIdentity};
use postern_types::{LocalPart, MailAddress};

use crate::views::{hex, IdentityView};
use crate::{CoreError, Postern};

impl Postern {
    /// Create a new identity: a new onion key, a new OpenPGP key, and their binding.
    pub fn create_identity(
        &mut self,
        local_part: &str,
        display_name: &str,
    ) -> Result<IdentityView, CoreError> {
        let local = LocalPart::new(local_part)?;
        let name = DisplayName::new(display_name)?;
        let keys = IdentityKeys::generate(local, name.as_str())?;
        let onion = keys.address().onion().to_string();
        let public_key = keys.openpgp_public()?;
        let secret = keys.openpgp_secret()?;
        let rec = self.store.insert_identity(&NewIdentity {
            local_part: keys.address().local().as_str(),
            onion: &onion,
            display_name: name.as_str(),
            fingerprint: keys.binding().fingerprint(),
            binding_sig: keys.binding().signature(),
            public_key: &public_key,
            onion_secret: keys.onion_seed(),
            openpgp_secret: &secret,
            created_at: self.clock.now_unix(),
            host_id: None,
        })?;
        self.view(rec)
    }

    /// Every identity on this device, oldest first.
    pub fn identities(&self) -> Result<Vec<IdentityView>, CoreError> {
        self.store
            .identities()?
            .into_iter()
            .map(|r| self.view(r))
            .collect()
    }

    /// Find one identity by number, full address, or local part (if only one has it).
    pub fn identity(&self, selector: &str) -> Result<IdentityView, CoreError> {
        let rec = self.find_identity(selector)?;
        self.view(rec)
    }

    /// Delete an identity with its keys and address book. Its onion address is gone for good.
    pub fn delete_identity(&mut self, selector: &str) -> Result<IdentityView, CoreError> {
        let rec = self.find_identity(selector)?;
        let view = self.view(rec.clone())?;
        self.store.delete_identity(rec.id)?;
        Ok(view)
    }

    /// The identity's contact card, in text form (`POSTERN-CARD:…`).
    pub fn export_card(&self, selector: &str, include_key: bool) -> Result<String, CoreError> {
        let rec = self.find_identity(selector)?;
        Ok(self.card_of(&rec, include_key)?.to_text())
    }

    /// Load an identity's keys (unsealing its secrets).
    pub fn identity_keys(&self, selector: &str) -> Result<IdentityKeys, CoreError> {
        let rec = self.find_identity(selector)?;
        let secrets = self.store.identity_secrets(rec.id)?;
        Ok(IdentityKeys::from_secrets(
            LocalPart::new(&rec.local_part)?,
            &rec.display_name,
            &secrets.onion_secret,
            &secrets.openpgp_secret,
        )?)
    }

    pub(crate) fn card_of(
        &self,
        rec: &IdentityRecord,
        include_key: bool,
    ) -> Result<ContactCard, CoreError> {
        let address = MailAddress::new(
            LocalPart::new(&rec.local_part)?,
            rec.onion
                .parse()
                .map_err(postern_types::AddressError::from)?,
        );
        let signature: [u8; 64] = rec
            .binding_sig
            .as_slice()
            .try_into()
            .map_err(|_| postern_crypto::CryptoError::BadBinding)?;
        let binding = postern_crypto::Binding::from_parts(
            address,
            rec.display_name.clone(),
            rec.fingerprint.clone(),
            signature,
        )?;
        let key = include_key.then(|| rec.public_key.clone());
        Ok(ContactCard::from_parts(binding, key)?)
    }

    pub(crate) fn find_identity(&self, selector: &str) -> Result<IdentityRecord, CoreError> {
        let all = self.store.identities()?;
        let sel = selector.trim();
        if let Ok(n) = sel.parse::<i64>() {
            if let Some(r) = all.iter().find(|r| r.id == n) {
                return Ok(r.clone());
            }
        }
        let matches: Vec<&IdentityRecord> = all
            .iter()
            .filter(|r| format!("{}@{}", r.local_part, r.onion) == sel || r.local_part == sel)
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(CoreError::IdentityNotFound(selector.to_owned())),
            _ => Err(CoreError::AmbiguousIdentity(selector.to_owned())),
        }
    }

    pub(crate) fn view(&self, r: IdentityRecord) -> Result<IdentityView, CoreError> {
        let contacts = self.store.contacts(r.id)?.len();
        let hosted_by = match r.host_id {
            Some(h) => {
                let host = self.store.identity(h)?;
                Some(format!("{}@{}", host.local_part, host.onion))
            }
            None => None,
        };
        let holder_key = r.host_id.is_some()
            && postern_crypto::PublicKeyInfo::parse(&r.public_key)
                .is_ok_and(|k| postern_crypto::has_holder_key(k.cert()));
        Ok(IdentityView {
            id: r.id,
            address: format!("{}@{}", r.local_part, r.onion),
            display_name: r.display_name,
            fingerprint: hex(&r.fingerprint),
            created_at: r.created_at,
            contacts,
            hosted_by,
            holder_key,
        })
    }
}
