//! Gateway mode's state: settings (secrets sealed), routes, and mail leaving for ordinary
//! addresses with its retry state.

use rusqlite::{params, OptionalExtension};
use zeroize::Zeroizing;

use crate::{Store, StoreError};

/// A gateway's settings.
#[derive(Clone)]
pub struct GatewaySettings {
    /// Its mail domain.
    pub domain: String,
    /// DKIM selector (`<selector>._domainkey.<domain>`).
    pub selector: String,
    /// DKIM private key, PEM.
    pub dkim_pem: Zeroizing<String>,
    /// The reply-address secret.
    pub secret: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for GatewaySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySettings")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

/// A message waiting to leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayOutgoing {
    /// Row id.
    pub id: i64,
    /// The gateway identity.
    pub identity_id: i64,
    /// The Postern sender.
    pub sender: String,
    /// Envelope sender (the bounce address).
    pub envelope_from: String,
    /// The ordinary recipient.
    pub recipient: String,
    /// Its subject (for a bounce).
    pub subject: String,
    /// Attempts made.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: i64,
}

fn context(identity_id: i64, what: &str) -> String {
    format!("gateway/{identity_id}/{what}")
}

impl Store {
    /// Make `identity_id` a gateway (or change its settings).
    pub fn set_gateway(
        &mut self,
        identity_id: i64,
        settings: &GatewaySettings,
        now: i64,
    ) -> Result<(), StoreError> {
        let dkim = self
            .key
            .seal(&context(identity_id, "dkim"), settings.dkim_pem.as_bytes());
        let secret = self
            .key
            .seal(&context(identity_id, "secret"), settings.secret.as_slice());
        self.conn.execute(
            "INSERT INTO gateway (identity_id, domain, selector, dkim_sealed, secret_sealed, enabled_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (identity_id) DO UPDATE SET domain = ?2, selector = ?3,
               dkim_sealed = ?4, secret_sealed = ?5",
            params![identity_id, settings.domain, settings.selector, dkim, secret, now],
        )?;
        Ok(())
    }

    /// The identity's gateway settings, if it is one.
    pub fn gateway(&self, identity_id: i64) -> Result<Option<GatewaySettings>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT domain, selector, dkim_sealed, secret_sealed FROM gateway
                 WHERE identity_id = ?1",
                [identity_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((domain, selector, dkim, secret)) = row else {
            return Ok(None);
        };
        let dkim = self
            .key
            .open(&context(identity_id, "dkim"), &dkim)
            .map_err(StoreError::Secret)?;
        let secret = self
            .key
            .open(&context(identity_id, "secret"), &secret)
            .map_err(StoreError::Secret)?;
        let secret: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt {
                path: "gateway".into(),
                detail: "the reply-address secret is not 32 bytes".into(),
            })?;
        Ok(Some(GatewaySettings {
            domain,
            selector,
            dkim_pem: Zeroizing::new(String::from_utf8_lossy(&dkim).into_owned()),
            secret: Zeroizing::new(secret),
        }))
    }

    /// Identities that are gateways.
    pub fn gateway_identities(&self) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT identity_id FROM gateway ORDER BY identity_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The route of `address` at gateway `identity_id`, made (with `candidate`, a random
    /// number) if it has none yet.
    pub fn gateway_route(
        &mut self,
        identity_id: i64,
        address: &str,
        candidate: u64,
        now: i64,
    ) -> Result<u64, StoreError> {
        // Routes are SQLite integers: the top bit stays clear.
        let candidate = i64::try_from(candidate >> 1).unwrap_or(0);
        self.conn.execute(
            "INSERT OR IGNORE INTO gateway_routes (route, identity_id, address, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![candidate, identity_id, address, now],
        )?;
        let route: i64 = self.conn.query_row(
            "SELECT route FROM gateway_routes WHERE identity_id = ?1 AND address = ?2",
            params![identity_id, address],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(route).unwrap_or(0))
    }

    /// The Postern address behind a route at gateway `identity_id`.
    pub fn gateway_route_address(
        &self,
        identity_id: i64,
        route: u64,
    ) -> Result<Option<String>, StoreError> {
        let Ok(route) = i64::try_from(route) else {
            return Ok(None);
        };
        Ok(self
            .conn
            .query_row(
                "SELECT address FROM gateway_routes WHERE identity_id = ?1 AND route = ?2",
                params![identity_id, route],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Queue a signed message for an ordinary recipient.
    #[allow(clippy::too_many_arguments)]
    pub fn gateway_enqueue(
        &mut self,
        identity_id: i64,
        sender: &str,
        envelope_from: &str,
        recipient: &str,
        subject: &str,
        message: &[u8],
        now: i64,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO gateway_outbox (identity_id, sender, envelope_from, recipient, subject,
               message_sealed, next_attempt, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, x'', ?6, ?6)",
            params![identity_id, sender, envelope_from, recipient, subject, now],
        )?;
        let id = self.conn.last_insert_rowid();
        let sealed = self
            .key
            .seal(&context(identity_id, &format!("out/{id}")), message);
        self.conn.execute(
            "UPDATE gateway_outbox SET message_sealed = ?2 WHERE id = ?1",
            params![id, sealed],
        )?;
        Ok(id)
    }

    /// Messages due to leave at `now`, oldest first, at most `limit`.
    pub fn gateway_due(&self, now: i64, limit: usize) -> Result<Vec<GatewayOutgoing>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, identity_id, sender, envelope_from, recipient, subject, attempts,
                    last_error, created_at
             FROM gateway_outbox WHERE next_attempt <= ?1 ORDER BY next_attempt, id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now, limit as i64], |r| {
            Ok(GatewayOutgoing {
                id: r.get(0)?,
                identity_id: r.get(1)?,
                sender: r.get(2)?,
                envelope_from: r.get(3)?,
                recipient: r.get(4)?,
                subject: r.get(5)?,
                attempts: r.get(6)?,
                last_error: r.get(7)?,
                created_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Messages waiting to leave from gateway `identity_id`.
    pub fn gateway_waiting(&self, identity_id: i64) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM gateway_outbox WHERE identity_id = ?1",
            [identity_id],
            |r| r.get(0),
        )?)
    }

    /// Messages from `sender` waiting to leave gateway `identity_id`.
    pub fn gateway_waiting_from(&self, identity_id: i64, sender: &str) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM gateway_outbox WHERE identity_id = ?1 AND sender = ?2",
            params![identity_id, sender],
            |r| r.get(0),
        )?)
    }

    /// The signed message of a queued row.
    pub fn gateway_message(&self, out: &GatewayOutgoing) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let sealed: Vec<u8> = self.conn.query_row(
            "SELECT message_sealed FROM gateway_outbox WHERE id = ?1",
            [out.id],
            |r| r.get(0),
        )?;
        self.key
            .open(
                &context(out.identity_id, &format!("out/{}", out.id)),
                &sealed,
            )
            .map_err(StoreError::Secret)
    }

    /// An attempt failed for now: try again at `next`.
    pub fn gateway_retry(&mut self, id: i64, next: i64, error: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE gateway_outbox SET attempts = attempts + 1, next_attempt = ?2, last_error = ?3
             WHERE id = ?1",
            params![id, next, error],
        )?;
        Ok(())
    }

    /// Done with a row (delivered, or bounced).
    pub fn gateway_done(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM gateway_outbox WHERE id = ?1", [id])?;
        Ok(())
    }
}
