//! The change log: what changed, written in the transaction that changed it — a message
//! stored, a delivery state, a contact added, mail held or forwarded as a carrier. Whoever shows
//! the store (the app, `postern events`) follows it from the last row it saw.

use rusqlite::params;

use crate::{Store, StoreError};

/// Rows kept; older ones are dropped as new ones come.
const KEEP: i64 = 10_000;

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Increasing number.
    pub id: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// The identity it concerns, if one.
    pub identity_id: Option<i64>,
    /// `message`, `delivery`, `contact`, `carrier`.
    pub kind: String,
    /// The row it is about (message, outbox row, contact, held message).
    pub reference: Option<i64>,
    /// A word or two more (a folder, a state).
    pub detail: String,
}

/// Event kinds.
pub mod event_kind {
    /// A message was stored (detail: its folder), or moved (detail: the new folder).
    pub const MESSAGE: &str = "message";
    /// An outbox row changed state (detail: the state).
    pub const DELIVERY: &str = "delivery";
    /// A contact was added (detail: how it was verified).
    pub const CONTACT: &str = "contact";
    /// Mail held or handed on as a carrier (detail: held, delivered, refused, expired).
    pub const CARRIER: &str = "carrier";
    /// A list changed (detail: its new state, or `posts` when posts were taken).
    pub const LIST: &str = "list";
}

impl Store {
    /// Log a change, in whatever transaction is open (stamped with the database's clock).
    pub fn log_event(
        &self,
        identity_id: Option<i64>,
        kind: &str,
        reference: Option<i64>,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO events (at, identity_id, kind, ref, detail)
                 VALUES (unixepoch(), ?1, ?2, ?3, ?4)",
            )?
            .execute(params![identity_id, kind, reference, detail])?;
        let id = self.conn.last_insert_rowid();
        if id % 1000 == 0 {
            self.conn
                .execute("DELETE FROM events WHERE id <= ?1", [id - KEEP])?;
        }
        Ok(())
    }

    /// Log an outbox row's new state.
    pub(crate) fn log_outbox(&self, outbox_id: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO events (at, identity_id, kind, ref, detail)
                 SELECT unixepoch(), identity_id, 'delivery', id, state FROM outbox WHERE id = ?1",
            )?
            .execute([outbox_id])?;
        Ok(())
    }

    /// Changes after `last` (0: from the oldest kept), oldest first.
    pub fn events_after(&self, last: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, at, identity_id, kind, ref, detail FROM events WHERE id > ?1
             ORDER BY id LIMIT ?2",
        )?;
        let rows = st.query_map(params![last, limit as i64], |r| {
            Ok(EventRecord {
                id: r.get(0)?,
                at: r.get(1)?,
                identity_id: r.get(2)?,
                kind: r.get(3)?,
                reference: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest change's number (0 if none).
    pub fn last_event(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(max(id), 0) FROM events", [], |r| r.get(0))?)
    }
}

impl Store {
    /// A device setting (`store_meta`), if set.
    pub fn setting(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM store_meta WHERE key = ?1",
                [format!("setting/{key}")],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Set a device setting.
    pub fn set_setting(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO store_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![format!("setting/{key}"), value],
        )?;
        Ok(())
    }
}
