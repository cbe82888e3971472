//! Received messages.

use rusqlite::{params, OptionalExtension, Row};

use crate::{Store, StoreError};

/// A message to store.
#[derive(Debug, Clone, Default)]
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
    /// `In-Reply-To` and `References`, and the thread they put it in.
    pub threading: Threading,
    /// Our own mail (Sent, Drafts): its To, as written.
    pub recipients: String,
    /// Stored as seen (our own mail).
    pub seen: bool,
}

/// Where a message sits in a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Threading {
    /// The Message-ID it answers ('' if none).
    pub in_reply_to: String,
    /// The thread's Message-IDs, oldest first.
    pub references: Vec<String>,
    /// The thread: the Message-ID of its first message (see `Store::thread_for`).
    pub thread: String,
}

/// A message's flags, as IMAP names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `\Seen`.
    pub seen: bool,
    /// `\Answered`.
    pub answered: bool,
    /// `\Flagged`.
    pub flagged: bool,
    /// `\Deleted` (removed for good at the next expunge).
    pub deleted: bool,
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
    /// Read flag (`\\Seen`).
    pub read: bool,
    /// UID in its mailbox (`folder`).
    pub uid: i64,
    /// Flags (`seen` is `read`).
    pub flags: Flags,
    /// Threading headers and thread.
    pub threading: Threading,
    /// Our own mail: its To.
    pub recipients: String,
    /// Decrypted inner MIME (only from `message`).
    pub inner: Option<Vec<u8>>,
    /// Sender key (only from `message`).
    pub sender_key: Option<Vec<u8>>,
    /// Sender binding signature (only from `message`).
    pub sender_binding_sig: Option<Vec<u8>>,
}

/// A message as a mailbox listing has it ([`Store::mailbox_listing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedMessage {
    /// Row id.
    pub id: i64,
    /// UID in its mailbox.
    pub uid: i64,
    /// Flags (`seen` is the message's `read`).
    pub flags: Flags,
    /// When it arrived (or was saved, for drafts).
    pub received_at: i64,
}

pub(crate) const COLUMNS: &str = "id, identity_id, message_id, sender, sender_name, subject, folder, verification, sent_at, received_at, read, uid, answered, flagged, deleted, in_reply_to, refs, thread, recipients";

/// How many columns `COLUMNS` has (bulky ones asked for follow).
const NCOLUMNS: usize = 19;

pub(crate) fn record(r: &Row<'_>) -> rusqlite::Result<MessageRecord> {
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
        uid: r.get(11)?,
        flags: Flags {
            seen: r.get::<_, i64>(10)? != 0,
            answered: r.get::<_, i64>(12)? != 0,
            flagged: r.get::<_, i64>(13)? != 0,
            deleted: r.get::<_, i64>(14)? != 0,
        },
        threading: Threading {
            in_reply_to: r.get(15)?,
            references: r
                .get::<_, String>(16)?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            thread: r.get(17)?,
        },
        recipients: r.get(18)?,
        inner: None,
        sender_key: None,
        sender_binding_sig: None,
    })
}

impl Store {
    /// The row of a message already stored (same identity, sender and Message-ID), if any.
    pub fn stored_message(
        &self,
        identity_id: i64,
        sender: &str,
        message_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM messages WHERE identity_id = ?1 AND sender = ?2 AND message_id = ?3",
            )?
            .query_row(params![identity_id, sender, message_id], |r| r.get(0))
            .optional()?)
    }

    /// Store one message (the caller groups messages in one transaction: see
    /// `Store::in_transaction`). A message already stored is reported, not stored again.
    pub fn insert_message(&mut self, m: &NewMessage) -> Result<Inserted, StoreError> {
        if let Some(id) = self.stored_message(m.identity_id, &m.sender, &m.message_id)? {
            return Ok(Inserted::Duplicate(id));
        }
        let thread = if m.threading.thread.is_empty() {
            self.thread_for(
                m.identity_id,
                &m.threading.in_reply_to,
                &m.threading.references,
                &m.message_id,
            )?
        } else {
            m.threading.thread.clone()
        };
        self.conn
            .prepare_cached(
                "INSERT INTO messages (identity_id, message_id, sender, sender_name, subject, folder,
                    verification, sent_at, received_at, inner, raw, sender_key, sender_binding_sig,
                    in_reply_to, refs, thread, recipients, read)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18)",
            )?
            .execute(params![
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
                m.sender_binding_sig,
                m.threading.in_reply_to,
                m.threading.references.join(" "),
                thread,
                m.recipients,
                m.seen
            ])?;
        let id = self.conn.last_insert_rowid();
        self.log_event(
            Some(m.identity_id),
            crate::event_kind::MESSAGE,
            Some(id),
            &m.folder,
        )?;
        Ok(Inserted::New(id))
    }

    /// Messages in `folder` of an identity: how many, and their stored size in bytes.
    pub fn folder_usage(&self, identity_id: i64, folder: &str) -> Result<(i64, i64), StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*), COALESCE(sum(length(m.inner) + length(m.raw) + COALESCE(
                    (SELECT sum(b.size) FROM message_attachments a JOIN blobs b ON b.hash = a.hash
                     WHERE a.message_id = m.id), 0)), 0)
             FROM messages m WHERE m.identity_id = ?1 AND m.folder = ?2",
            params![identity_id, folder],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// How many messages from `sender` are in `folder` of an identity.
    pub fn count_from(
        &self,
        identity_id: i64,
        sender: &str,
        folder: &str,
    ) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM messages WHERE identity_id = ?1 AND sender = ?2 AND folder = ?3",
            params![identity_id, sender, folder],
            |r| r.get(0),
        )?)
    }

    /// Delete the oldest messages of `folder` until at most `max_bytes` remain (with `room`
    /// bytes free for one more). Returns how many were deleted.
    pub fn evict_oldest(
        &mut self,
        identity_id: i64,
        folder: &str,
        max_bytes: i64,
        room: i64,
    ) -> Result<usize, StoreError> {
        let mut evicted = 0;
        loop {
            let (_, used) = self.folder_usage(identity_id, folder)?;
            if used + room <= max_bytes {
                return Ok(evicted);
            }
            let n = self.conn.execute(
                "DELETE FROM messages WHERE id = (SELECT id FROM messages
                   WHERE identity_id = ?1 AND folder = ?2 ORDER BY received_at, id LIMIT 1)",
                params![identity_id, folder],
            )?;
            if n == 0 {
                return Ok(evicted);
            }
            evicted += n;
        }
    }

    /// Delete one message (and, if it held the last reference to an attachment, that too).
    pub fn delete_message(&mut self, id: i64) -> Result<(), StoreError> {
        let identity: Option<i64> = self
            .conn
            .query_row(
                "SELECT identity_id FROM messages WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(identity) = identity else {
            return Err(StoreError::NotFound("message"));
        };
        self.conn
            .execute("DELETE FROM messages WHERE id = ?1", [id])?;
        self.log_event(
            Some(identity),
            crate::event_kind::MESSAGE,
            Some(id),
            "deleted",
        )?;
        self.collect_garbage()?;
        Ok(())
    }

    /// Delete every message of `sender` to an identity in `folder`. Returns how many.
    pub fn delete_messages_from(
        &mut self,
        identity_id: i64,
        sender: &str,
        folder: &str,
    ) -> Result<usize, StoreError> {
        let n = self.conn.execute(
            "DELETE FROM messages WHERE identity_id = ?1 AND sender = ?2 AND folder = ?3",
            params![identity_id, sender, folder],
        )?;
        self.log_event(
            Some(identity_id),
            crate::event_kind::MESSAGE,
            None,
            "deleted",
        )?;
        self.collect_garbage()?;
        Ok(n)
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

    /// A mailbox's messages by ascending UID: UID, flags and date only, read from the
    /// `messages_listing` index without touching the messages themselves.
    pub fn mailbox_listing(
        &self,
        identity_id: i64,
        folder: &str,
    ) -> Result<Vec<ListedMessage>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, uid, read, answered, flagged, deleted, received_at
             FROM messages INDEXED BY messages_listing
             WHERE identity_id = ?1 AND folder = ?2 AND uid > 0 ORDER BY uid",
        )?;
        let rows = st.query_map(params![identity_id, folder], |r| {
            Ok(ListedMessage {
                id: r.get(0)?,
                uid: r.get(1)?,
                flags: Flags {
                    seen: r.get(2)?,
                    answered: r.get(3)?,
                    flagged: r.get(4)?,
                    deleted: r.get(5)?,
                },
                received_at: r.get(6)?,
            })
        })?;
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
                    m.inner = Some(r.get(NCOLUMNS)?);
                    m.sender_key = r.get(NCOLUMNS + 1)?;
                    m.sender_binding_sig = r.get(NCOLUMNS + 2)?;
                    Ok(m)
                },
            )
            .optional()?
            .ok_or(StoreError::NotFound("message"))
    }

    /// Mark a message read.
    pub fn mark_read(&mut self, id: i64) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE messages SET read = 1 WHERE id = ?1 AND read = 0",
            [id],
        )?;
        if n > 0 {
            let identity: i64 = self.conn.query_row(
                "SELECT identity_id FROM messages WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            self.log_event(
                Some(identity),
                crate::event_kind::MESSAGE,
                Some(id),
                "flags",
            )?;
        }
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
        let n = self.conn.execute(
            "UPDATE messages SET folder = ?4, uid = 0 WHERE identity_id = ?1 AND sender = ?2 AND folder = ?3",
            params![identity_id, sender, from, to],
        )?;
        self.log_event(Some(identity_id), crate::event_kind::MESSAGE, None, to)?;
        Ok(n)
    }
}
