//! Received messages.

use rusqlite::{params, OptionalExtension, Row};

use crate::{Store, StoreError};

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Receiving identity.
    pub identity_id: i64,
    /// Message-ID.
    pub message_id: String,
    /// Sender address.
    pub sender: String,
    /// Sender display name.
    pub sender_name: String,
    /// Subject (from the protected headers).
    pub subject: String,
    /// `inbox` or `requests`.
    pub folder: String,
    /// `contact` or `first_contact`.
    pub verification: String,
    /// The message's Date.
    pub sent_at: Option<i64>,
    /// When it was received.
    pub received_at: i64,
    /// Decrypted inner MIME.
    pub inner: Vec<u8>,
    /// As received (encrypted).
    pub raw: Vec<u8>,
    /// The sender's key (kept for contact requests).
    pub sender_key: Option<Vec<u8>>,
    /// The sender's binding signature (kept for contact requests).
    pub sender_binding_sig: Option<Vec<u8>>,
}

/// Whether an insert stored a new row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored as the row with this id.
    New(i64),
    /// Already there (same sender and Message-ID), as this row.
    Duplicate(i64),
}

/// A stored message (without the bulky bodies unless asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// Row id.
    pub id: i64,
    /// Receiving identity.
    pub identity_id: i64,
    /// Message-ID.
    pub message_id: String,
    /// Sender address.
    pub sender: String,
    /// Sender display name.
    pub sender_name: String,
    /// Subject.
    pub subject: String,
    /// Folder.
    pub folder: String,
    /// Verification.
    pub verification: String,
    /// Date header.
    pub sent_at: Option<i64>,
    /// Received.
    pub received_at: i64,
    /// Read flag.
    pub read: bool,
    /// Decrypted inner MIME (only from `message`).
    pub inner: Option<Vec<u8>>,
    /// Sender key (only from `message`).
    pub sender_key: Option<Vec<u8>>,
    /// Sender binding signature (only from `message`).
    pub sender_binding_sig: Option<Vec<u8>>,
}

const COLUMNS: &str = "id, identity_id, message_id, sender, sender_name, subject, folder, verification, sent_at, received_at, read";

fn record(r: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        id: r.get(0)?,
        identity_id: r.get(1)?,
        message_id: r.get(2)?,
        sender: r.get(3)?,
        sender_name: r.get(4)?,
        subject: r.get(5)?,
        folder: r.get(6)?,
        verification: r.get(7)?,
        sent_at: r.get(8)?,
        received_at: r.get(9)?,
        read: r.get::<_, i64>(10)? != 0,
        inner: None,
        sender_key: None,
        sender_binding_sig: None,
    })
}

impl Store {
    /// Store a batch of messages in one transaction (one fsync for the batch: group commit).
    /// Duplicates (same identity, sender and Message-ID) are reported, not stored again.
    pub fn insert_messages(&mut self, batch: &[NewMessage]) -> Result<Vec<Inserted>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(batch.len());
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO messages (identity_id, message_id, sender, sender_name, subject, folder,
                    verification, sent_at, received_at, inner, raw, sender_key, sender_binding_sig)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (identity_id, sender, message_id) DO NOTHING",
            )?;
            let mut find = tx.prepare_cached(
                "SELECT id FROM messages WHERE identity_id = ?1 AND sender = ?2 AND message_id = ?3",
            )?;
            for m in batch {
                let n = ins.execute(params![
                    m.identity_id,
                    m.message_id,
                    m.sender,
                    m.sender_name,
                    m.subject,
                    m.folder,
                    m.verification,
                    m.sent_at,
                    m.received_at,
                    m.inner,
                    m.raw,
                    m.sender_key,
                    m.sender_binding_sig
                ])?;
                if n == 1 {
                    out.push(Inserted::New(tx.last_insert_rowid()));
                } else {
                    let id: i64 = find
                        .query_row(params![m.identity_id, m.sender, m.message_id], |r| r.get(0))?;
                    out.push(Inserted::Duplicate(id));
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Messages in a folder, newest first; all identities if `identity_id` is `None`.
    pub fn messages(
        &self,
        identity_id: Option<i64>,
        folder: &str,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM messages WHERE folder = ?1 AND (?2 IS NULL OR identity_id = ?2)
             ORDER BY received_at DESC, id DESC"
        ))?;
        let rows = st.query_map(params![folder, identity_id], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One message, with its decrypted body.
    pub fn message(&self, id: i64) -> Result<MessageRecord, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS}, inner, sender_key, sender_binding_sig FROM messages WHERE id = ?1"
                ),
                [id],
                |r| {
                    let mut m = record(r)?;
                    m.inner = Some(r.get(11)?);
                    m.sender_key = r.get(12)?;
                    m.sender_binding_sig = r.get(13)?;
                    Ok(m)
                },
            )
            .optional()?
            .ok_or(StoreError::NotFound("message"))
    }

    /// Mark a message read.
    pub fn mark_read(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE messages SET read = 1 WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Move every message of `sender` to `identity_id` from one folder to another.
    pub fn move_messages_from(
        &mut self,
        identity_id: i64,
        sender: &str,
        from: &str,
        to: &str,
    ) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE messages SET folder = ?4 WHERE identity_id = ?1 AND sender = ?2 AND folder = ?3",
            params![identity_id, sender, from, to],
        )?)
    }
}
