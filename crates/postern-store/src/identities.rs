//! Identity rows and their sealed secrets.

use rusqlite::{OptionalExtension, Row};
use zeroize::Zeroizing;

use crate::{Store, StoreError};

/// What is needed to store a new identity. Secrets are sealed by the store before writing.
#[derive(Debug)]
pub struct NewIdentity<'a> {
    /// Local part of the address.
    pub local_part: &'a str,
    /// Onion address (`<56 chars>.onion`).
    pub onion: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// OpenPGP fingerprint.
    pub fingerprint: &'a [u8],
    /// Binding signature.
    pub binding_sig: &'a [u8; 64],
    /// OpenPGP public key.
    pub public_key: &'a [u8],
    /// Onion key seed (secret).
    pub onion_secret: &'a [u8],
    /// OpenPGP transferable secret key (secret).
    pub openpgp_secret: &'a [u8],
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
    /// The identity whose onion service answers for this one (a hosted account); `None`: its
    /// own service.
    pub host_id: Option<i64>,
}

/// The public columns of an identity row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    /// Row id.
    pub id: i64,
    /// Local part.
    pub local_part: String,
    /// Onion address.
    pub onion: String,
    /// Display name.
    pub display_name: String,
    /// OpenPGP fingerprint.
    pub fingerprint: Vec<u8>,
    /// Binding signature.
    pub binding_sig: Vec<u8>,
    /// OpenPGP public key.
    pub public_key: Vec<u8>,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// When its owner revoked the address, if so.
    pub revoked_at: Option<i64>,
    /// The identity whose onion service answers for this one, if it is a hosted account.
    pub host_id: Option<i64>,
}

/// An identity's unsealed secrets. Zeroed on drop.
#[derive(Debug)]
pub struct IdentitySecrets {
    /// Onion key seed.
    pub onion_secret: Zeroizing<Vec<u8>>,
    /// OpenPGP transferable secret key.
    pub openpgp_secret: Zeroizing<Vec<u8>>,
}

const COLUMNS: &str = "id, local_part, onion, display_name, fingerprint, binding_sig, public_key, \
                       created_at, revoked_at, host_id";

fn record(r: &Row<'_>) -> rusqlite::Result<IdentityRecord> {
    Ok(IdentityRecord {
        id: r.get(0)?,
        local_part: r.get(1)?,
        onion: r.get(2)?,
        display_name: r.get(3)?,
        fingerprint: r.get(4)?,
        binding_sig: r.get(5)?,
        public_key: r.get(6)?,
        created_at: r.get(7)?,
        revoked_at: r.get(8)?,
        host_id: r.get(9)?,
    })
}

/// What a sealed secret of an identity row is bound to: its onion, or — for a hosted account,
/// which shares its host's onion — its whole address, so that host's and account's secrets
/// cannot be swapped.
pub(crate) fn seal_context(local_part: &str, onion: &str, hosted: bool, what: &str) -> String {
    if hosted {
        format!("identity/{local_part}@{onion}/{what}")
    } else {
        format!("identity/{onion}/{what}")
    }
}

impl Store {
    /// Insert an identity, sealing its secrets.
    pub fn insert_identity(&mut self, new: &NewIdentity<'_>) -> Result<IdentityRecord, StoreError> {
        let hosted = new.host_id.is_some();
        let context = |what| seal_context(new.local_part, new.onion, hosted, what);
        let onion_sealed = self.key.seal(&context("onion"), new.onion_secret);
        let pgp_sealed = self.key.seal(&context("openpgp"), new.openpgp_secret);
        if let Some(host) = new.host_id {
            let host = self.identity(host)?;
            if host.onion != new.onion || host.host_id.is_some() {
                return Err(StoreError::NotFound("host identity of that onion"));
            }
        }
        // Written without `host_id` when there is none, so that inserting works on every schema
        // version (older stores are filled this way in the migration tests).
        let sql = if hosted {
            "INSERT INTO identities (local_part, onion, display_name, fingerprint, binding_sig,
                public_key, onion_secret_sealed, openpgp_secret_sealed, created_at, host_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        } else {
            "INSERT INTO identities (local_part, onion, display_name, fingerprint, binding_sig,
                public_key, onion_secret_sealed, openpgp_secret_sealed, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        };
        let binding_sig = &new.binding_sig[..];
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![
            &new.local_part,
            &new.onion,
            &new.display_name,
            &new.fingerprint,
            &binding_sig,
            &new.public_key,
            &onion_sealed,
            &pgp_sealed,
            &new.created_at,
        ];
        if let Some(host) = &new.host_id {
            values.push(host);
        }
        let res = self.conn.execute(sql, values.as_slice());
        match res {
            Ok(_) => {}
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                return Err(StoreError::Duplicate("identity"))
            }
            Err(e) => return Err(e.into()),
        }
        // Built from what was written rather than read back, so that inserting works on every
        // schema version (older stores are filled this way in the migration tests).
        Ok(IdentityRecord {
            id: self.conn.last_insert_rowid(),
            local_part: new.local_part.to_owned(),
            onion: new.onion.to_owned(),
            display_name: new.display_name.to_owned(),
            fingerprint: new.fingerprint.to_vec(),
            binding_sig: new.binding_sig.to_vec(),
            public_key: new.public_key.to_vec(),
            created_at: new.created_at,
            revoked_at: None,
            host_id: new.host_id,
        })
    }

    /// All identities, oldest first.
    pub fn identities(&self) -> Result<Vec<IdentityRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM identities ORDER BY id"))?;
        let rows = st.query_map([], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One identity by row id.
    pub fn identity(&self, id: i64) -> Result<IdentityRecord, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM identities WHERE id = ?1"),
                [id],
                record,
            )
            .optional()?
            .ok_or(StoreError::NotFound("identity"))
    }

    /// Unseal an identity's secrets.
    pub fn identity_secrets(&self, id: i64) -> Result<IdentitySecrets, StoreError> {
        let rec = self.identity(id)?;
        let (a, b): (Vec<u8>, Vec<u8>) = self.conn.query_row(
            "SELECT onion_secret_sealed, openpgp_secret_sealed FROM identities WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let context = |what| seal_context(&rec.local_part, &rec.onion, rec.host_id.is_some(), what);
        Ok(IdentitySecrets {
            onion_secret: self
                .key
                .open(&context("onion"), &a)
                .map_err(StoreError::Secret)?,
            openpgp_secret: self
                .key
                .open(&context("openpgp"), &b)
                .map_err(StoreError::Secret)?,
        })
    }

    /// Delete an identity and everything that belongs to it (contacts, messages, outbox).
    pub fn delete_identity(&mut self, id: i64) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM identities WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(StoreError::NotFound("identity"));
        }
        Ok(())
    }
}
