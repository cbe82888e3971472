//! A person's own devices: other identities of the same person, on other devices, linked in
//! one step. Linking is one transaction: the device is recorded, carried for (carrier mode on,
//! with the default quota if none was set) and designated as a carrier.

use rusqlite::{params, Connection};

use crate::{Store, StoreError};

/// Link `address` as an own device of `identity_id`, inside the caller's transaction.
pub(crate) fn link_in(
    conn: &Connection,
    identity_id: i64,
    address: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO own_devices (identity_id, address, linked_at) VALUES (?1, ?2, ?3)",
        params![identity_id, address, now],
    )?;
    let default = crate::CarrierPolicy::default();
    conn.execute(
        "INSERT INTO carrier_policy (identity_id, enabled, quota_bytes, max_hold_secs)
         VALUES (?1, 1, ?2, ?3)
         ON CONFLICT (identity_id) DO UPDATE SET enabled = 1",
        params![identity_id, default.quota_bytes, default.max_hold_secs],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO carrier_allowed (identity_id, recipient) VALUES (?1, ?2)",
        params![identity_id, address],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO my_carriers (identity_id, carrier, added_at) VALUES (?1, ?2, ?3)",
        params![identity_id, address, now],
    )?;
    Ok(())
}

/// Unlink `address` inside the caller's transaction; whether it was linked.
pub(crate) fn unlink_in(
    conn: &Connection,
    identity_id: i64,
    address: &str,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "DELETE FROM own_devices WHERE identity_id = ?1 AND address = ?2",
        params![identity_id, address],
    )?;
    if n > 0 {
        conn.execute(
            "DELETE FROM carrier_allowed WHERE identity_id = ?1 AND recipient = ?2",
            params![identity_id, address],
        )?;
        conn.execute(
            "DELETE FROM my_carriers WHERE identity_id = ?1 AND carrier = ?2",
            params![identity_id, address],
        )?;
    }
    Ok(n > 0)
}

impl Store {
    /// Link `address` (a contact) as one of `identity_id`'s own devices.
    pub fn link_own_device(
        &mut self,
        identity_id: i64,
        address: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.savepoint()?;
        link_in(&tx, identity_id, address, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Unlink an own device: it is no longer carried for, designated or sent copies (it stays
    /// a contact). Returns whether it was linked.
    pub fn unlink_own_device(
        &mut self,
        identity_id: i64,
        address: &str,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.savepoint()?;
        let linked = unlink_in(&tx, identity_id, address)?;
        tx.commit()?;
        Ok(linked)
    }

    /// The own devices of `identity_id` (their addresses, in the order they were linked).
    pub fn own_devices(&self, identity_id: i64) -> Result<Vec<String>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT address FROM own_devices WHERE identity_id = ?1 ORDER BY linked_at, id",
        )?;
        let rows = st.query_map([identity_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
