//! A gateway's outbound policy (whose mail it carries out, and how much per sender per day)
//! with the usage it is checked against, and its correspondents' OpenPGP keys.

use rusqlite::{params, OptionalExtension};

use crate::{Store, StoreError};

/// Whose mail a gateway carries out, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPolicy {
    /// Every contact may send through it (else only `senders`).
    pub all_contacts: bool,
    /// The contacts that may, when not all may.
    pub senders: Vec<String>,
    /// Messages one sender may hand over per day (UTC).
    pub max_messages_per_day: i64,
    /// Bytes one sender may hand over per day (UTC).
    pub max_bytes_per_day: i64,
}

impl Default for GatewayPolicy {
    fn default() -> Self {
        GatewayPolicy {
            all_contacts: true,
            senders: Vec::new(),
            max_messages_per_day: 200,
            max_bytes_per_day: 100 * 1024 * 1024,
        }
    }
}

/// Where a correspondent's key came from.
pub mod key_source {
    /// Given by the Postern sender.
    pub const SENDER: &str = "sender";
    /// Learnt from an `Autocrypt` header of an authenticated reply.
    pub const AUTOCRYPT: &str = "autocrypt";
}

impl Store {
    /// Set gateway `identity_id`'s policy (it must be a gateway).
    pub fn set_gateway_policy(
        &mut self,
        identity_id: i64,
        policy: &GatewayPolicy,
    ) -> Result<(), StoreError> {
        self.in_savepoint(|s| {
            s.conn.execute(
                "UPDATE gateway SET all_contacts = ?2, max_messages_per_day = ?3,
                   max_bytes_per_day = ?4 WHERE identity_id = ?1",
                params![
                    identity_id,
                    policy.all_contacts,
                    policy.max_messages_per_day,
                    policy.max_bytes_per_day
                ],
            )?;
            s.conn.execute(
                "DELETE FROM gateway_senders WHERE identity_id = ?1",
                [identity_id],
            )?;
            for sender in &policy.senders {
                s.conn.execute(
                    "INSERT OR IGNORE INTO gateway_senders (identity_id, address) VALUES (?1, ?2)",
                    params![identity_id, sender],
                )?;
            }
            Ok(())
        })
    }

    /// Gateway `identity_id`'s policy (the defaults if it is none).
    pub fn gateway_policy(&self, identity_id: i64) -> Result<GatewayPolicy, StoreError> {
        let Some((all_contacts, max_messages_per_day, max_bytes_per_day)) = self
            .conn
            .query_row(
                "SELECT all_contacts, max_messages_per_day, max_bytes_per_day FROM gateway
                 WHERE identity_id = ?1",
                [identity_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
        else {
            return Ok(GatewayPolicy::default());
        };
        let mut stmt = self.conn.prepare(
            "SELECT address FROM gateway_senders WHERE identity_id = ?1 ORDER BY address",
        )?;
        let senders = stmt
            .query_map([identity_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(GatewayPolicy {
            all_contacts,
            senders,
            max_messages_per_day,
            max_bytes_per_day,
        })
    }

    /// What `sender` handed over to gateway `identity_id` on `day` (days since the epoch):
    /// (messages, bytes).
    pub fn gateway_usage(
        &self,
        identity_id: i64,
        sender: &str,
        day: i64,
    ) -> Result<(i64, i64), StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT messages, bytes FROM gateway_usage
                 WHERE identity_id = ?1 AND sender = ?2 AND day = ?3",
                params![identity_id, sender, day],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, 0)))
    }

    /// Count one message of `bytes` from `sender` on `day`; days before yesterday are dropped.
    pub fn gateway_count_use(
        &mut self,
        identity_id: i64,
        sender: &str,
        day: i64,
        bytes: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO gateway_usage (identity_id, sender, day, messages, bytes)
             VALUES (?1, ?2, ?3, 1, ?4)
             ON CONFLICT (identity_id, sender, day) DO UPDATE SET
               messages = messages + 1, bytes = bytes + ?4",
            params![identity_id, sender, day, bytes],
        )?;
        self.conn.execute(
            "DELETE FROM gateway_usage WHERE identity_id = ?1 AND day < ?2 - 1",
            params![identity_id, day],
        )?;
        Ok(())
    }

    /// Keep `key` (an OpenPGP public key) as `correspondent`'s for `sender`'s mail through
    /// gateway `identity_id`. `source` is one of [`key_source`].
    pub fn set_gateway_key(
        &mut self,
        identity_id: i64,
        sender: &str,
        correspondent: &str,
        key: &[u8],
        source: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sealed = self
            .key
            .seal(&key_context(identity_id, sender, correspondent), key);
        self.conn.execute(
            "INSERT INTO gateway_keys (identity_id, sender, correspondent, key_sealed, source,
               updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (identity_id, sender, correspondent) DO UPDATE SET
               key_sealed = ?4, source = ?5, updated_at = ?6",
            params![identity_id, sender, correspondent, sealed, source, now],
        )?;
        Ok(())
    }

    /// `correspondent`'s key for `sender`'s mail through gateway `identity_id`, and where it
    /// came from.
    pub fn gateway_key(
        &self,
        identity_id: i64,
        sender: &str,
        correspondent: &str,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        let row: Option<(Vec<u8>, String)> = self
            .conn
            .query_row(
                "SELECT key_sealed, source FROM gateway_keys
                 WHERE identity_id = ?1 AND sender = ?2 AND correspondent = ?3",
                params![identity_id, sender, correspondent],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((sealed, source)) = row else {
            return Ok(None);
        };
        let key = self
            .key
            .open(&key_context(identity_id, sender, correspondent), &sealed)
            .map_err(StoreError::Secret)?;
        Ok(Some((key.to_vec(), source)))
    }
}

fn key_context(identity_id: i64, sender: &str, correspondent: &str) -> String {
    format!("gateway/{identity_id}/key/{sender}/{correspondent}")
}

impl Store {
    /// Record that identity `identity_id` sends through gateway `gateway` (a contact).
    pub fn note_gateway_choice(
        &mut self,
        identity_id: i64,
        gateway: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO gateway_choices (identity_id, gateway, first_used_at)
             VALUES (?1, ?2, ?3)",
            params![identity_id, gateway, now],
        )?;
        Ok(())
    }

    /// Whether identity `identity_id` has sent through gateway `gateway`.
    pub fn is_gateway_choice(&self, identity_id: i64, gateway: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM gateway_choices WHERE identity_id = ?1 AND gateway = ?2",
                params![identity_id, gateway],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}
