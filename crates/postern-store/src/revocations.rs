//! Revocations made or received.

use rusqlite::{params, OptionalExtension, Row};

use crate::{Store, StoreError};

/// A revocation to record.
#[derive(Debug)]
pub struct NewRevocation<'a> {
    /// The identity that made (its own address) or received it.
    pub identity_id: i64,
    /// The revoked address (or the address whose key is revoked).
    pub address: &'a str,
    /// `key` or `address`.
    pub scope: &'a str,
    /// The revoked key's fingerprint.
    pub fingerprint: &'a [u8],
    /// The successor key's fingerprint.
    pub successor: Option<&'a [u8]>,
    /// When, by the revoker's clock.
    pub revoked_at: i64,
    /// When we recorded it.
    pub received_at: i64,
    /// The revoker's reason.
    pub reason: &'a str,
    /// The signed statement.
    pub statement: &'a [u8],
    /// The revoked public key (our own revocations).
    pub public_key: Option<&'a [u8]>,
}

/// A recorded revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRecord {
    /// Row id.
    pub id: i64,
    /// The address.
    pub address: String,
    /// `key` or `address`.
    pub scope: String,
    /// Revoked key.
    pub fingerprint: Vec<u8>,
    /// Successor key.
    pub successor: Option<Vec<u8>>,
    /// When revoked.
    pub revoked_at: i64,
    /// When recorded.
    pub received_at: i64,
    /// Why.
    pub reason: String,
    /// The signed statement.
    pub statement: Vec<u8>,
    /// The revoked public key, if kept.
    pub public_key: Option<Vec<u8>>,
}

const COLUMNS: &str = "id, address, scope, fingerprint, successor, revoked_at, received_at, reason, statement, public_key";

fn record(r: &Row<'_>) -> rusqlite::Result<RevocationRecord> {
    Ok(RevocationRecord {
        id: r.get(0)?,
        address: r.get(1)?,
        scope: r.get(2)?,
        fingerprint: r.get(3)?,
        successor: r.get(4)?,
        revoked_at: r.get(5)?,
        received_at: r.get(6)?,
        reason: r.get(7)?,
        statement: r.get(8)?,
        public_key: r.get(9)?,
    })
}

impl Store {
    /// Record a revocation; the same statement twice is recorded once. Returns whether it was new.
    pub fn record_revocation(&mut self, r: &NewRevocation<'_>) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT INTO revocations (identity_id, address, scope, fingerprint, successor,
                revoked_at, received_at, reason, statement, public_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (identity_id, address, scope, fingerprint) DO NOTHING",
            params![
                r.identity_id,
                r.address,
                r.scope,
                r.fingerprint,
                r.successor,
                r.revoked_at,
                r.received_at,
                r.reason,
                r.statement,
                r.public_key
            ],
        )?;
        Ok(n == 1)
    }

    /// Revocations concerning `address`, as seen by `identity_id`, oldest first.
    pub fn revocations(
        &self,
        identity_id: i64,
        address: &str,
    ) -> Result<Vec<RevocationRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM revocations WHERE identity_id = ?1 AND address = ?2
             ORDER BY revoked_at, id"
        ))?;
        let rows = st.query_map(params![identity_id, address], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The revocation of the key `fingerprint` (or of the address that used it), if any.
    pub fn revocation_of_key(
        &self,
        identity_id: i64,
        fingerprint: &[u8],
    ) -> Result<Option<RevocationRecord>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM revocations WHERE identity_id = ?1 AND fingerprint = ?2
                 ORDER BY revoked_at LIMIT 1"
            ))?
            .query_row(params![identity_id, fingerprint], record)
            .optional()?)
    }
}

/// The key that replaces a revoked one.
#[derive(Debug)]
pub struct ReplacementKey<'a> {
    /// New fingerprint.
    pub fingerprint: &'a [u8],
    /// New binding signature.
    pub binding_sig: &'a [u8; 64],
    /// New public key.
    pub public_key: &'a [u8],
    /// New transferable secret key (sealed before writing).
    pub openpgp_secret: &'a [u8],
}

impl Store {
    /// Apply one of our own revocations in one transaction: record it and either replace the
    /// identity's key (`replacement`) or mark its address revoked (`None`).
    pub fn apply_own_revocation(
        &mut self,
        r: &NewRevocation<'_>,
        replacement: Option<&ReplacementKey<'_>>,
    ) -> Result<(), StoreError> {
        let me = self.identity(r.identity_id)?;
        let context = crate::identities::seal_context(
            &me.local_part,
            &me.onion,
            me.host_id.is_some(),
            "openpgp",
        );
        let sealed = replacement.map(|k| self.key.seal(&context, k.openpgp_secret));
        let tx = self.conn.savepoint()?;
        tx.execute(
            "INSERT INTO revocations (identity_id, address, scope, fingerprint, successor,
                revoked_at, received_at, reason, statement, public_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                r.identity_id,
                r.address,
                r.scope,
                r.fingerprint,
                r.successor,
                r.revoked_at,
                r.received_at,
                r.reason,
                r.statement,
                r.public_key
            ],
        )?;
        match (replacement, sealed) {
            (Some(k), Some(sealed)) => tx.execute(
                "UPDATE identities SET fingerprint = ?2, binding_sig = ?3, public_key = ?4,
                    openpgp_secret_sealed = ?5 WHERE id = ?1",
                params![
                    r.identity_id,
                    k.fingerprint,
                    &k.binding_sig[..],
                    k.public_key,
                    sealed
                ],
            )?,
            _ => tx.execute(
                "UPDATE identities SET revoked_at = ?2 WHERE id = ?1",
                params![r.identity_id, r.revoked_at],
            )?,
        };
        tx.commit()?;
        Ok(())
    }
}
