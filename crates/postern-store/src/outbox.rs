//! The outbox: a queue that is a table.

use rusqlite::{params, OptionalExtension, Row};
use zeroize::Zeroizing;

use crate::{Store, StoreError};

/// Delivery state of an outgoing message.
pub mod state {
    /// Waiting for its next attempt.
    pub const QUEUED: &str = "queued";
    /// An attempt is under way.
    pub const SENDING: &str = "sending";
    /// The recipient acknowledged it.
    pub const DELIVERED: &str = "delivered";
    /// Given up (permanent refusal, or retried for too long).
    pub const FAILED: &str = "failed";
    /// Handed to carriers; waiting for a carrier's receipt.
    pub const CARRIED: &str = "carried";
}

/// An outbox row (the sealed draft is read separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// Row id.
    pub id: i64,
    /// Sending identity.
    pub identity_id: i64,
    /// Recipient address.
    pub recipient: String,
    /// Message-ID.
    pub message_id: String,
    /// See [`state`].
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (Unix seconds).
    pub next_attempt: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: i64,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
    /// The carrier that delivered it (`None`: delivered directly, or not yet).
    pub delivered_via: Option<String>,
}

const COLUMNS: &str = "id, identity_id, recipient, message_id, state, attempts, next_attempt, last_error, created_at, delivered_at, delivered_via";

fn record(r: &Row<'_>) -> rusqlite::Result<OutboxRecord> {
    Ok(OutboxRecord {
        id: r.get(0)?,
        identity_id: r.get(1)?,
        recipient: r.get(2)?,
        message_id: r.get(3)?,
        state: r.get(4)?,
        attempts: r.get(5)?,
        next_attempt: r.get(6)?,
        last_error: r.get(7)?,
        created_at: r.get(8)?,
        delivered_at: r.get(9)?,
        delivered_via: r.get(10)?,
    })
}

fn seal_context(identity_id: i64, message_id: &str) -> String {
    format!("outbox/{identity_id}/{message_id}")
}

impl Store {
    /// Queue a message. The draft is sealed with the store key.
    pub fn enqueue(
        &mut self,
        identity_id: i64,
        recipient: &str,
        message_id: &str,
        draft: &[u8],
        now: i64,
    ) -> Result<OutboxRecord, StoreError> {
        let sealed = self.key.seal(&seal_context(identity_id, message_id), draft);
        self.conn.execute(
            "INSERT INTO outbox (identity_id, recipient, message_id, draft_sealed, state, next_attempt, created_at)
             VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?5)",
            params![identity_id, recipient, message_id, sealed, now],
        )?;
        self.outgoing(self.conn.last_insert_rowid())
    }

    /// One outbox row.
    pub fn outgoing(&self, id: i64) -> Result<OutboxRecord, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                [id],
                record,
            )
            .optional()?
            .ok_or(StoreError::NotFound("outgoing message"))
    }

    /// The outbox, newest first; all identities if `identity_id` is `None`.
    pub fn outbox(&self, identity_id: Option<i64>) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE (?1 IS NULL OR identity_id = ?1) ORDER BY created_at DESC, id DESC"
        ))?;
        let rows = st.query_map(params![identity_id], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The unsealed draft of an outbox row.
    pub fn outgoing_draft(&self, id: i64) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let (identity_id, message_id, sealed): (i64, String, Vec<u8>) = self
            .conn
            .query_row(
                "SELECT identity_id, message_id, draft_sealed FROM outbox WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(StoreError::NotFound("outgoing message"))?;
        self.key
            .open(&seal_context(identity_id, &message_id), &sealed)
            .map_err(StoreError::Secret)
    }

    /// Queued messages whose attempt is due, oldest first, marked `sending`. Mail to one
    /// recipient goes in the order it was queued: a row waits while an earlier one to the same
    /// recipient is queued or being sent.
    pub fn claim_due(&mut self, now: i64, limit: usize) -> Result<Vec<OutboxRecord>, StoreError> {
        self.claim_due_where(now, limit, |_| true)
    }

    /// Like `claim_due`, but only rows `pick` accepts (it is asked in order, and may say no to
    /// rows whose sender or recipient is busy); the others stay queued as they were.
    pub fn claim_due_where(
        &mut self,
        now: i64,
        limit: usize,
        mut pick: impl FnMut(&OutboxRecord) -> bool,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let tx = self.conn.savepoint()?;
        let candidates: Vec<OutboxRecord> = {
            let mut st = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE state = 'queued' AND next_attempt <= ?1
                   AND NOT EXISTS (SELECT 1 FROM outbox AS earlier
                       WHERE earlier.identity_id = outbox.identity_id
                         AND earlier.recipient = outbox.recipient
                         AND earlier.id < outbox.id
                         AND earlier.state IN ('queued', 'sending'))
                 ORDER BY next_attempt, id LIMIT ?2"
            ))?;
            let rows = st.query_map(params![now, (limit.max(1) * 16) as i64], record)?;
            rows.collect::<Result<_, _>>()?
        };
        let mut due = Vec::new();
        for r in candidates {
            if due.len() >= limit {
                break;
            }
            if !pick(&r) {
                continue;
            }
            tx.execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?1",
                [r.id],
            )?;
            tx.execute(
                "INSERT INTO events (at, identity_id, kind, ref, detail)
                 VALUES (unixepoch(), ?1, 'delivery', ?2, 'sending')",
                params![r.identity_id, r.id],
            )?;
            due.push(r);
        }
        tx.commit()?;
        Ok(due)
    }

    /// Whether `sender` ever sent verified mail to this identity (so it knows us).
    pub fn received_from(&self, identity_id: i64, sender: &str) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE identity_id = ?1 AND sender = ?2)",
            params![identity_id, sender],
            |r| r.get(0),
        )?)
    }

    /// When the next queued message is due, if any.
    pub fn next_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT min(next_attempt) FROM outbox WHERE state = 'queued'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Delivered.
    pub fn mark_delivered(&mut self, id: i64, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = 'delivered', delivered_at = ?2, last_error = NULL WHERE id = ?1",
            params![id, now],
        )?;
        self.log_outbox(id)?;
        Ok(())
    }

    /// Failed for now; try again at `next_attempt`.
    pub fn mark_retry(
        &mut self,
        id: i64,
        next_attempt: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = 'queued', next_attempt = ?2, last_error = ?3 WHERE id = ?1",
            params![id, next_attempt, error],
        )?;
        self.log_outbox(id)?;
        Ok(())
    }

    /// Given up.
    pub fn mark_failed(&mut self, id: i64, error: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = 'failed', last_error = ?2 WHERE id = ?1",
            params![id, error],
        )?;
        self.log_outbox(id)?;
        Ok(())
    }

    /// After a crash: attempts that were under way are queued again (the Message-ID makes a
    /// second delivery harmless).
    pub fn requeue_interrupted(&mut self) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE outbox SET state = 'queued' WHERE state = 'sending'",
            [],
        )?)
    }

    /// Handed to carriers: no more direct attempts; a carrier's receipt settles it.
    pub fn mark_carried(&mut self, id: i64, note: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = 'carried', last_error = ?2 WHERE id = ?1",
            params![id, note],
        )?;
        self.log_outbox(id)?;
        Ok(())
    }

    /// Delivered by a carrier (a verified receipt).
    pub fn mark_delivered_via(
        &mut self,
        id: i64,
        carrier: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = 'delivered', delivered_at = ?2, delivered_via = ?3,
                last_error = NULL WHERE id = ?1 AND state != 'delivered'",
            params![id, at, carrier],
        )?;
        self.log_outbox(id)?;
        Ok(())
    }
}
