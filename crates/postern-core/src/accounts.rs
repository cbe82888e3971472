//! Hosted accounts: a mailbox on this device for someone who does not run Postern, with an
//! address under one of our identities' onions (`bob@<host's onion>`). Postern mail reaches
//! it like any identity's; its holder reads and sends with an ordinary mail client over IMAP
//! and submission on the host's onion service (ports 143 and 587 inside Tor).
//!
//! The account's OpenPGP key lives here, so its mail is readable by whoever holds this device
//! — unless its holder gives their own OpenPGP public key when it is made: that key is bound to
//! the account's certificate as the holder's encryption key, and Postern senders encrypt the
//! content of what they write to it (subject, text, attachments) to the holder alone, inside
//! the letter the host opens to authenticate the sender. The host still sees who writes to the
//! account and when, and the holder's own outgoing mail (submitted to the host in clear over
//! the onion). Which of the two holds is said wherever an account is made or shown
//! ([`HOSTED_READABLE`], [`HOSTED_HOLDER_KEY`]).

use postern_card::DisplayName;
use postern_crypto::IdentityKeys;
use postern_store::NewIdentity;
use postern_types::LocalPart;
use serde::Serialize;

use crate::{ClientLoginView, CoreError, IdentityView, Postern};

/// What the holder of a hosted account must be told, in these words or plainer.
pub const HOSTED_READABLE: &str = "This account's key is kept on the host's device: its mail is \
     end-to-end encrypted between Postern devices, but the host can read it.";

/// What the holder of a hosted account with their own key must be told.
pub const HOSTED_HOLDER_KEY: &str = "Mail Postern users write to this account is end-to-end \
     encrypted to its holder's own key: the host cannot read it (only who wrote and when). Mail \
     the holder sends passes through the host, who can read it.";

/// What the app and the CLI show instead of the text of a message encrypted to a hosted
/// account's holder.
pub const HOLDER_ONLY_TEXT: &str =
    "[End-to-end encrypted to this hosted account's holder: only their mail client can read it.]";

/// The virtual port a host's onion service serves hosted accounts' IMAP on.
pub const ONION_IMAP_PORT: u16 = 143;
/// The virtual port a host's onion service serves hosted accounts' submission on.
pub const ONION_SUBMISSION_PORT: u16 = 587;

/// A hosted account just made: its identity, its login (the password, once) and what its
/// holder must know.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountView {
    /// The account, as an identity of this device.
    pub identity: IdentityView,
    /// Its login for IMAP and submission; the password is here only when just made.
    pub login: ClientLoginView,
    /// Where its holder's mail client connects (through Tor): `<onion>:143` and `<onion>:587`.
    pub imap: String,
    /// See `imap`.
    pub submission: String,
    /// Whether the host can read its mail ([`HOSTED_READABLE`] or [`HOSTED_HOLDER_KEY`]).
    pub readable_by_host: String,
}

impl Postern {
    /// Make a hosted account `local_part@<host's onion>` for someone else, with its own
    /// OpenPGP key, mailboxes and a new app password (in the answer only). `holder_key`, the
    /// holder's OpenPGP public key (armored or binary), makes mail written to it readable by
    /// the holder alone (see the module documentation).
    pub fn add_account(
        &mut self,
        host: &str,
        local_part: &str,
        display_name: &str,
        holder_key: Option<&[u8]>,
    ) -> Result<AccountView, CoreError> {
        let host = self.find_identity(host)?;
        if host.host_id.is_some() {
            return Err(CoreError::BadSetting(
                "a hosted account cannot host accounts; name the identity that hosts it".into(),
            ));
        }
        let host_keys = self.identity_keys(&host.id.to_string())?;
        let local = LocalPart::new(local_part)?;
        let name = DisplayName::new(display_name)?;
        let mut keys = IdentityKeys::hosted(&host_keys, local, name.as_str())?;
        if let Some(holder) = holder_key {
            keys = keys.with_holder_key(holder)?;
        }
        let public_key = keys.openpgp_public()?;
        let secret = keys.openpgp_secret()?;
        let rec = self.store.insert_identity(&NewIdentity {
            local_part: keys.address().local().as_str(),
            onion: &host.onion,
            display_name: name.as_str(),
            fingerprint: keys.binding().fingerprint(),
            binding_sig: keys.binding().signature(),
            public_key: &public_key,
            onion_secret: keys.onion_seed(),
            openpgp_secret: &secret,
            created_at: self.clock.now_unix(),
            host_id: Some(host.id),
        })?;
        let login = self.rotate_client_password(&rec.id.to_string())?;
        Ok(AccountView {
            identity: self.view(rec)?,
            login,
            imap: format!("{}:{ONION_IMAP_PORT}", host.onion),
            submission: format!("{}:{ONION_SUBMISSION_PORT}", host.onion),
            readable_by_host: if holder_key.is_some() {
                HOSTED_HOLDER_KEY
            } else {
                HOSTED_READABLE
            }
            .into(),
        })
    }

    /// The accounts an identity hosts (all hosted accounts when `host` is `None`).
    pub fn accounts(&self, host: Option<&str>) -> Result<Vec<IdentityView>, CoreError> {
        let host = host.map(|h| self.find_identity(h)).transpose()?;
        self.store
            .identities()?
            .into_iter()
            .filter(|r| match &host {
                Some(h) => r.host_id == Some(h.id),
                None => r.host_id.is_some(),
            })
            .map(|r| self.view(r))
            .collect()
    }

    /// Remove a hosted account with its mail. Refuses an identity that is not hosted (that is
    /// `delete_identity`).
    pub fn remove_account(&mut self, account: &str) -> Result<IdentityView, CoreError> {
        let rec = self.find_identity(account)?;
        if rec.host_id.is_none() {
            return Err(CoreError::BadSetting(format!(
                "{} is not a hosted account",
                account.trim()
            )));
        }
        self.delete_identity(&rec.id.to_string())
    }
}
