//! Contact rows: each identity's own address book.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::{Store, StoreError};

/// A contact to add.
#[derive(Debug)]
pub struct NewContact<'a> {
    /// The identity whose address book this is.
    pub identity_id: i64,
    /// The contact's address.
    pub address: &'a str,
    /// The contact's display name.
    pub display_name: &'a str,
    /// OpenPGP fingerprint.
    pub fingerprint: &'a [u8],
    /// Binding signature.
    pub binding_sig: &'a [u8; 64],
    /// OpenPGP public key, if known.
    pub public_key: Option<&'a [u8]>,
    /// How the contact was verified (`card`, `scanned`, …).
    pub verification: &'a str,
    /// Time added (Unix seconds).
    pub added_at: i64,
}

/// A contact row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    /// Row id.
    pub id: i64,
    /// Owning identity.
    pub identity_id: i64,
    /// Address.
    pub address: String,
    /// Display name.
    pub display_name: String,
    /// OpenPGP fingerprint.
    pub fingerprint: Vec<u8>,
    /// Binding signature.
    pub binding_sig: Vec<u8>,
    /// OpenPGP public key, if known.
    pub public_key: Option<Vec<u8>>,
    /// Verification state.
    pub verification: String,
    /// Time added.
    pub added_at: i64,
}

const COLUMNS: &str = "id, identity_id, address, display_name, fingerprint, binding_sig, public_key, verification, added_at";

fn record(r: &Row<'_>) -> rusqlite::Result<ContactRecord> {
    Ok(ContactRecord {
        id: r.get(0)?,
        identity_id: r.get(1)?,
        address: r.get(2)?,
        display_name: r.get(3)?,
        fingerprint: r.get(4)?,
        binding_sig: r.get(5)?,
        public_key: r.get(6)?,
        verification: r.get(7)?,
        added_at: r.get(8)?,
    })
}

impl Store {
    /// Add a contact to an identity's address book.
    pub fn insert_contact(&mut self, c: &NewContact<'_>) -> Result<ContactRecord, StoreError> {
        let added = insert_contact_in(&self.conn, c);
        if let Ok(r) = &added {
            self.log_event(
                Some(c.identity_id),
                crate::event_kind::CONTACT,
                Some(r.id),
                c.verification,
            )?;
        }
        match added {
            Err(StoreError::Duplicate(_)) => {
                // Either the contact exists, or the identity does not.
                self.identity(c.identity_id)?;
                Err(StoreError::Duplicate("contact"))
            }
            other => other,
        }
    }

    /// Replace a contact's key after a verified key revocation: the successor's fingerprint and
    /// binding, and its key if known (else it is fetched before the next delivery).
    pub fn replace_contact_key(
        &mut self,
        contact_id: i64,
        fingerprint: &[u8],
        binding_sig: &[u8; 64],
        public_key: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE contacts SET fingerprint = ?2, binding_sig = ?3, public_key = ?4 WHERE id = ?1",
            params![contact_id, fingerprint, &binding_sig[..], public_key],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound("contact"));
        }
        Ok(())
    }

    /// Set how a contact is verified (`scanned`, `confirmed`, …).
    pub fn set_contact_verification(
        &mut self,
        contact_id: i64,
        verification: &str,
    ) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE contacts SET verification = ?2 WHERE id = ?1",
            params![contact_id, verification],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound("contact"));
        }
        Ok(())
    }

    /// Record the key of a contact that was added without one, or whose key was just learned.
    pub fn set_contact_key(
        &mut self,
        contact_id: i64,
        public_key: &[u8],
    ) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE contacts SET public_key = ?2 WHERE id = ?1",
            params![contact_id, public_key],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound("contact"));
        }
        Ok(())
    }

    /// Remove a contact from an identity's address book (its mail stays).
    pub fn delete_contact(&mut self, identity_id: i64, address: &str) -> Result<(), StoreError> {
        let tx = self.conn.savepoint()?;
        let n = tx.execute(
            "DELETE FROM contacts WHERE identity_id = ?1 AND address = ?2",
            rusqlite::params![identity_id, address],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound("contact"));
        }
        // A removed contact is no longer an own device either: nothing more is copied to it.
        crate::own_devices::unlink_in(&tx, identity_id, address)?;
        tx.commit()?;
        self.log_event(
            Some(identity_id),
            crate::event_kind::CONTACT,
            None,
            "removed",
        )
    }

    /// An identity's contacts, by address.
    pub fn contacts(&self, identity_id: i64) -> Result<Vec<ContactRecord>, StoreError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM contacts WHERE identity_id = ?1 ORDER BY address"
        ))?;
        let rows = st.query_map([identity_id], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One contact of an identity.
    pub fn contact(&self, identity_id: i64, address: &str) -> Result<ContactRecord, StoreError> {
        select_contact(&self.conn, identity_id, address)?.ok_or(StoreError::NotFound("contact"))
    }
}

pub(crate) fn select_contact(
    conn: &Connection,
    identity_id: i64,
    address: &str,
) -> Result<Option<ContactRecord>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM contacts WHERE identity_id = ?1 AND address = ?2"
        ))?
        .query_row(params![identity_id, address], record)
        .optional()?)
}

pub(crate) fn insert_contact_in(
    conn: &Connection,
    c: &NewContact<'_>,
) -> Result<ContactRecord, StoreError> {
    let res = conn.execute(
        "INSERT INTO contacts (identity_id, address, display_name, fingerprint, binding_sig,
            public_key, verification, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            c.identity_id,
            c.address,
            c.display_name,
            c.fingerprint,
            &c.binding_sig[..],
            c.public_key,
            c.verification,
            c.added_at
        ],
    );
    match res {
        Ok(_) => {}
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
            return Err(StoreError::Duplicate("contact"));
        }
        Err(e) => return Err(e.into()),
    }
    let id = conn.last_insert_rowid();
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM contacts WHERE id = ?1"),
        [id],
        record,
    )
    .map_err(Into::into)
}
