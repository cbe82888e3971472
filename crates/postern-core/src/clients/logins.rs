//! Mail clients' logins: one per identity, with a generated app password that is shown once
//! and kept only as a hash (in the encrypted store's settings); rotating replaces it, revoking
//! removes it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{CoreError, Postern};

/// The default ports of the local IMAP and submission servers (unprivileged; 143 and 587 need
/// root).
pub const DEFAULT_IMAP_PORT: u16 = 1143;
/// See [`DEFAULT_IMAP_PORT`].
pub const DEFAULT_SUBMISSION_PORT: u16 = 1587;

/// An identity's mail-client login.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClientLoginView {
    /// The user name (the identity's address).
    pub user: String,
    /// Whether a password is set.
    pub active: bool,
    /// The password: only right after it was made, never again.
    pub password: Option<String>,
}

fn key(identity_id: i64) -> String {
    format!("client_password/{identity_id}")
}

fn digest(password: &str) -> Vec<u8> {
    Sha256::digest(password.as_bytes()).to_vec()
}

/// Failed logins: after `MAX_FAILURES` in a row, every login is refused for `LOCKOUT` (a
/// generated password cannot be guessed, but a flood of tries is noise worth stopping).
#[derive(Debug, Default)]
pub(crate) struct LoginGuard {
    state: Mutex<(u32, Option<Instant>)>,
}

const MAX_FAILURES: u32 = 5;
const LOCKOUT: Duration = Duration::from_secs(30);

impl LoginGuard {
    pub(crate) fn locked(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match s.1 {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                *s = (0, None);
                false
            }
            None => false,
        }
    }

    pub(crate) fn failed(&self, service: &str) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 += 1;
        tracing::warn!(service, failures = s.0, "mail client login failed");
        if s.0 >= MAX_FAILURES {
            s.1 = Some(Instant::now() + LOCKOUT);
        }
    }

    pub(crate) fn succeeded(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = (0, None);
    }
}

impl Postern {
    /// An identity's mail-client login (without its password).
    pub fn client_login(&self, identity: &str) -> Result<ClientLoginView, CoreError> {
        let me = self.find_identity(identity)?;
        let active = self
            .store
            .setting(&key(me.id))?
            .is_some_and(|h| !h.is_empty());
        Ok(ClientLoginView {
            user: format!("{}@{}", me.local_part, me.onion),
            active,
            password: None,
        })
    }

    /// Make a new app password for an identity's mail clients (IMAP and submission); the old
    /// one stops working. The password is in the answer, and nowhere else ever.
    pub fn rotate_client_password(&mut self, identity: &str) -> Result<ClientLoginView, CoreError> {
        let me = self.find_identity(identity)?;
        let mut raw = [0u8; 15];
        rand::thread_rng().fill_bytes(&mut raw);
        let password = data_encoding::BASE32_NOPAD
            .encode(&raw)
            .to_ascii_lowercase();
        self.store.set_setting(&key(me.id), &digest(&password))?;
        Ok(ClientLoginView {
            user: format!("{}@{}", me.local_part, me.onion),
            active: true,
            password: Some(password),
        })
    }

    /// Revoke an identity's app password: its mail clients can no longer log in.
    pub fn revoke_client_password(&mut self, identity: &str) -> Result<ClientLoginView, CoreError> {
        let me = self.find_identity(identity)?;
        self.store.set_setting(&key(me.id), &[])?;
        self.client_login(identity)
    }

    /// The identity a mail client's user name and password log in to. Through an onion
    /// service (`reach`), only the accounts that onion hosts can log in.
    pub(crate) fn check_client_login(
        &self,
        user: &str,
        password: &str,
        reach: &super::Reach,
    ) -> Option<i64> {
        let user = user.trim().to_ascii_lowercase();
        let me = self
            .store
            .identities()
            .ok()?
            .into_iter()
            .find(|i| format!("{}@{}", i.local_part, i.onion) == user)?;
        if let super::Reach::Onion(onion) = reach {
            if me.host_id.is_none() || &me.onion != onion {
                return None;
            }
        }
        let stored = self.store.setting(&key(me.id)).ok()??;
        let given = digest(password);
        // Compare in constant time.
        let same = stored.len() == given.len()
            && stored
                .iter()
                .zip(&given)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        same.then_some(me.id)
    }

    /// A ready configuration for a mail client: `mbsync` (an `.mbsyncrc` section) or
    /// `thunderbird` (autoconfig XML).
    pub fn client_config(
        &self,
        identity: &str,
        kind: &str,
        imap_port: u16,
        submission_port: u16,
    ) -> Result<String, CoreError> {
        let login = self.client_login(identity)?;
        let user = &login.user;
        let local = user.split('@').next().unwrap_or("postern");
        match kind {
            "mbsync" => Ok(format!(
                "# Postern on this device (run the node with --imap-port {imap_port}).\n\
                 # mkdir -p ~/Mail/postern-{local} && mbsync -a\n\
                 IMAPAccount postern-{local}\nHost 127.0.0.1\nPort {imap_port}\nUser {user}\n\
                 Pass <the app password from `postern imap --rotate`>\nSSLType None\n\
                 AuthMechs PLAIN\n\nIMAPStore postern-{local}-remote\nAccount postern-{local}\n\n\
                 MaildirStore postern-{local}-local\nPath ~/Mail/postern-{local}/\n\
                 Inbox ~/Mail/postern-{local}/INBOX\nSubFolders Verbatim\n\n\
                 Channel postern-{local}\nFar :postern-{local}-remote:\n\
                 Near :postern-{local}-local:\nPatterns *\nCreate Near\nSync All\n\
                 Expunge Both\nSyncState *\n"
            )),
            "thunderbird" => Ok(format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="postern.local">
    <domain>{domain}</domain>
    <displayName>Postern ({user})</displayName>
    <displayShortName>Postern</displayShortName>
    <incomingServer type="imap">
      <hostname>127.0.0.1</hostname>
      <port>{imap_port}</port>
      <socketType>plain</socketType>
      <authentication>password-cleartext</authentication>
      <username>{user}</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>127.0.0.1</hostname>
      <port>{submission_port}</port>
      <socketType>plain</socketType>
      <authentication>password-cleartext</authentication>
      <username>{user}</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"#,
                domain = user.split('@').nth(1).unwrap_or_default(),
            )),
            other => Err(CoreError::BadSetting(format!(
                "no client configuration {other:?}: use mbsync or thunderbird"
            ))),
        }
    }
}
