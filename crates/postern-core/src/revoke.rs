//! Revoking one of our identities' OpenPGP key (it is replaced by a new one) or its whole
//! address, and telling every contact with a signed statement.
//!
//! The statement is signed by the onion key, so contacts verify it with nothing but the address.
//! A key revocation names the successor key; contacts switch to it (fetching it over the onion
//! service, where it must match) and refuse anything signed by the old key. An address
//! revocation retires the identity: contacts refuse to send to it or accept mail from it, and
//! say why.

use postern_crypto::{Revocation, RevocationScope};
use postern_store::{NewRevocation, ReplacementKey, RevocationRecord};
use serde::Serialize;

use crate::mail::draft::QueuedDraft;
use crate::views::hex;
use crate::{CoreError, Postern};

/// `Postern-Kind` of a revocation notice.
pub(crate) const KIND_REVOCATION: &str = "revocation";

/// A revocation, made or received.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RevocationView {
    /// The address concerned.
    pub address: String,
    /// `key` or `address`.
    pub scope: String,
    /// Fingerprint of the revoked key (upper-case hex).
    pub fingerprint: String,
    /// Fingerprint of the key that replaces it, if any.
    pub successor: Option<String>,
    /// When it was revoked (the revoker's clock, Unix seconds).
    pub revoked_at: i64,
    /// The revoker's reason.
    pub reason: String,
    /// Contacts told (for our own revocations).
    pub notified: usize,
}

pub(crate) fn revocation_view(r: &RevocationRecord, notified: usize) -> RevocationView {
    RevocationView {
        address: r.address.clone(),
        scope: r.scope.clone(),
        fingerprint: hex(&r.fingerprint),
        successor: r.successor.as_deref().map(hex),
        revoked_at: r.revoked_at,
        reason: r.reason.clone(),
        notified,
    }
}

/// A sentence saying who revoked what, when and why.
pub(crate) fn revoked_sentence(r: &RevocationRecord, whose: &str) -> String {
    let what = if r.scope == "address" {
        "this address"
    } else {
        "this key"
    };
    let reason = if r.reason.is_empty() {
        "no reason given".to_owned()
    } else {
        format!("“{}”", r.reason)
    };
    format!(
        "{whose} revoked {what} on {} UTC ({reason})",
        postern_types::utc_minute(r.revoked_at)
    )
}

impl Postern {
    /// Revoke `identity`'s OpenPGP key (replacing it with a new one) or, with
    /// `RevocationScope::Address`, its whole address; queue a signed notice to every contact.
    /// The node must not be running (its keys change): the notices go out when it next starts.
    pub fn revoke(
        &mut self,
        identity: &str,
        scope: RevocationScope,
        reason: &str,
    ) -> Result<RevocationView, CoreError> {
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        let _lock = crate::node::lock_data_dir(self.data_dir()).map_err(|e| match e {
            CoreError::AlreadyRunning(dir) => {
                CoreError::NodeRunning(dir, "revoking changes the keys the node serves")
            }
            other => other,
        })?;
        let keys = self.identity_keys(&me.id.to_string())?;
        let now = self.clock.now_unix();
        let successor = match scope {
            RevocationScope::Key => Some(keys.with_new_openpgp_key()?),
            RevocationScope::Address => None,
        };
        let statement = Revocation::sign(
            &keys,
            scope,
            successor.as_ref().map(|k| k.binding().fingerprint()),
            now,
            reason.trim(),
        )?;
        let old_public = keys.openpgp_public()?;
        let address = keys.address().to_string();
        let record = NewRevocation {
            identity_id: me.id,
            address: &address,
            scope: scope.as_str(),
            fingerprint: statement.revoked(),
            successor: statement.successor(),
            revoked_at: now,
            received_at: now,
            reason: statement.reason(),
            statement: statement.encoded(),
            public_key: Some(&old_public),
        };
        match &successor {
            Some(next) => {
                let public_key = next.openpgp_public()?;
                let secret = next.openpgp_secret()?;
                self.store.apply_own_revocation(
                    &record,
                    Some(&ReplacementKey {
                        fingerprint: next.binding().fingerprint(),
                        binding_sig: next.binding().signature(),
                        public_key: &public_key,
                        openpgp_secret: &secret,
                    }),
                )?;
            }
            None => self.store.apply_own_revocation(&record, None)?,
        }
        let (subject, text) = match scope {
            RevocationScope::Key => (
                "My key changed",
                format!(
                    "I revoked my OpenPGP key and replaced it with a new one.\nReason: {}\n",
                    statement.reason()
                ),
            ),
            RevocationScope::Address => (
                "This address is closed",
                format!(
                    "I revoked this address; please do not write to it any more.\nReason: {}\n",
                    statement.reason()
                ),
            ),
        };
        let headers = vec![
            ("Postern-Kind".to_owned(), KIND_REVOCATION.to_owned()),
            (
                "Postern-Revocation".to_owned(),
                data_encoding::BASE64.encode(statement.encoded()),
            ),
        ];
        let contacts = self.store.contacts(me.id)?;
        for c in &contacts {
            let draft = QueuedDraft::new(subject, &text, &[]).with_headers(headers.clone());
            self.queue(me.id, &c.address, draft)?;
        }
        let rec = self
            .store
            .revocations(me.id, &address)?
            .into_iter()
            .next_back()
            .ok_or_else(|| CoreError::Corrupt("the revocation was not recorded".into()))?;
        Ok(revocation_view(&rec, contacts.len()))
    }

    /// Refuse to act for an identity whose address its owner revoked.
    pub(crate) fn refuse_own_revoked(
        &self,
        me: &postern_store::IdentityRecord,
    ) -> Result<(), CoreError> {
        let Some(at) = me.revoked_at else {
            return Ok(());
        };
        Err(CoreError::Revoked(format!(
            "this identity's address was revoked on {} UTC; it can no longer send or meet anyone",
            postern_types::utc_minute(at)
        )))
    }

    /// Refuse to write to an address (or key) its owner revoked, saying why.
    pub(crate) fn refuse_revoked(
        &self,
        me: &postern_store::IdentityRecord,
        address: &str,
    ) -> Result<(), CoreError> {
        let contact = self.store.contact(me.id, address).ok();
        for r in self.store.revocations(me.id, address)? {
            let still_current = contact
                .as_ref()
                .is_some_and(|c| c.fingerprint == r.fingerprint);
            if r.scope == "address" || (r.successor.is_none() && still_current) {
                let name = contact
                    .as_ref()
                    .map(|c| c.display_name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "Its owner".into());
                return Err(CoreError::Revoked(format!(
                    "{}; nothing more can be sent to it",
                    revoked_sentence(&r, &name)
                )));
            }
        }
        Ok(())
    }
}
