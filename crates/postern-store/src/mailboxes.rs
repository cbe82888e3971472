//! The mailbox model the app and IMAP share: mailboxes with a UIDVALIDITY and growing UIDs,
//! flags, moves, threads, and drafts replaced in place (with a new UID).

use rusqlite::{params, OptionalExtension};

use crate::messages::{Flags, MessageRecord, Threading};
use crate::{event_kind, Store, StoreError};

/// A mailbox of one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxRecord {
    /// Its role and name: `inbox`, `sent`, `drafts`, `archive`, `trash`, `requests`.
    pub name: String,
    /// IMAP UIDVALIDITY: unique in the store, fixed for the mailbox's life.
    pub uidvalidity: i64,
    /// The UID the next message will get.
    pub uidnext: i64,
    /// Messages in it.
    pub total: i64,
    /// Messages not yet seen.
    pub unseen: i64,
}

/// A changed draft's content.
#[derive(Debug, Clone)]
pub struct DraftContent<'a> {
    /// Subject.
    pub subject: &'a str,
    /// To, as typed.
    pub recipients: &'a str,
    /// The letter (postern-mime's unsealed form, attachments taken out).
    pub inner: &'a [u8],
    /// Threading.
    pub threading: &'a Threading,
    /// When it was saved.
    pub saved_at: i64,
}

impl Store {
    /// The mailboxes of an identity, with counts.
    pub fn mailboxes(&self, identity_id: i64) -> Result<Vec<MailboxRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT b.name, b.uidvalidity, b.uidnext,
                    (SELECT count(*) FROM messages m WHERE m.identity_id = b.identity_id
                       AND m.folder = b.name),
                    (SELECT count(*) FROM messages m WHERE m.identity_id = b.identity_id
                       AND m.folder = b.name AND m.read = 0)
             FROM mailboxes b WHERE b.identity_id = ?1 ORDER BY b.rowid",
        )?;
        let rows = st.query_map([identity_id], |r| {
            Ok(MailboxRecord {
                name: r.get(0)?,
                uidvalidity: r.get(1)?,
                uidnext: r.get(2)?,
                total: r.get(3)?,
                unseen: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn identity_of(&self, id: i64) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT identity_id FROM messages WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound("message"))
    }

    /// Set a message's flags.
    pub fn set_flags(&mut self, id: i64, flags: Flags) -> Result<(), StoreError> {
        let identity = self.identity_of(id)?;
        self.conn.execute(
            "UPDATE messages SET read = ?2, answered = ?3, flagged = ?4, deleted = ?5 WHERE id = ?1",
            params![id, flags.seen, flags.answered, flags.flagged, flags.deleted],
        )?;
        self.log_event(Some(identity), event_kind::MESSAGE, Some(id), "flags")
    }

    /// Move a message to another mailbox of its identity (it gets that mailbox's next UID).
    /// Returns the mailbox it was in. Every change of `folder` sets `uid = 0` in the same
    /// statement: its old UID may be taken in the new mailbox, and the trigger numbers it.
    pub fn move_message(&mut self, id: i64, to: &str) -> Result<String, StoreError> {
        let (identity, from): (i64, String) = self
            .conn
            .query_row(
                "SELECT identity_id, folder FROM messages WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(StoreError::NotFound("message"))?;
        if from != to {
            self.conn.execute(
                "UPDATE messages SET folder = ?2, deleted = 0, uid = 0 WHERE id = ?1",
                params![id, to],
            )?;
            self.log_event(Some(identity), event_kind::MESSAGE, Some(id), to)?;
        }
        Ok(from)
    }

    /// Remove for good the messages of a mailbox flagged deleted. Returns their UIDs.
    pub fn expunge(&mut self, identity_id: i64, folder: &str) -> Result<Vec<i64>, StoreError> {
        let uids: Vec<i64> = {
            let mut st = self.conn.prepare(
                "SELECT uid FROM messages WHERE identity_id = ?1 AND folder = ?2 AND deleted = 1
                 ORDER BY uid",
            )?;
            let rows = st.query_map(params![identity_id, folder], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        if !uids.is_empty() {
            self.conn.execute(
                "DELETE FROM messages WHERE identity_id = ?1 AND folder = ?2 AND deleted = 1",
                params![identity_id, folder],
            )?;
            self.log_event(Some(identity_id), event_kind::MESSAGE, None, "deleted")?;
            self.collect_garbage()?;
        }
        Ok(uids)
    }

    /// The thread a new message belongs to: its parent's (the message it answers, or the
    /// nearest of its references we hold), else the first reference, else its own Message-ID.
    pub fn thread_for(
        &self,
        identity_id: i64,
        in_reply_to: &str,
        references: &[String],
        own: &str,
    ) -> Result<String, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT thread FROM messages WHERE identity_id = ?1 AND message_id = ?2 LIMIT 1",
        )?;
        let parents = std::iter::once(in_reply_to)
            .chain(references.iter().rev().map(String::as_str))
            .filter(|p| !p.is_empty());
        for parent in parents {
            if let Some(t) = st
                .query_row(params![identity_id, parent], |r| r.get::<_, String>(0))
                .optional()?
            {
                return Ok(t);
            }
        }
        Ok(references
            .first()
            .map(String::as_str)
            .filter(|r| !r.is_empty())
            .or(Some(in_reply_to).filter(|r| !r.is_empty()))
            .unwrap_or(own)
            .to_owned())
    }

    /// The messages of a thread an identity holds, oldest first (drafts and the node's own
    /// messages left out).
    pub fn thread_messages(
        &self,
        identity_id: i64,
        thread: &str,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {} FROM messages WHERE identity_id = ?1 AND thread = ?2
               AND folder NOT IN ('drafts', 'system')
             ORDER BY COALESCE(sent_at, received_at), id",
            crate::messages::COLUMNS
        ))?;
        let rows = st.query_map(params![identity_id, thread], crate::messages::record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A message of an identity by Message-ID, if held (any sender).
    pub fn message_by_message_id(
        &self,
        identity_id: i64,
        message_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM messages WHERE identity_id = ?1 AND message_id = ?2
                 AND folder != 'drafts' ORDER BY id LIMIT 1",
            )?
            .query_row(params![identity_id, message_id], |r| r.get(0))
            .optional()?)
    }

    /// Replace a draft's content (it gets a new UID, as IMAP expects of changed content).
    /// Its old attachments' references are the caller's to release (`set_attachments`).
    pub fn replace_draft(&mut self, id: i64, d: &DraftContent<'_>) -> Result<(), StoreError> {
        let identity = self.identity_of(id)?;
        let n = self.conn.execute(
            "UPDATE messages SET subject = ?2, recipients = ?3, inner = ?4, in_reply_to = ?5,
                refs = ?6, received_at = ?7, uid = 0
             WHERE id = ?1 AND folder = 'drafts'",
            params![
                id,
                d.subject,
                d.recipients,
                d.inner,
                d.threading.in_reply_to,
                d.threading.references.join(" "),
                d.saved_at
            ],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound("draft"));
        }
        self.log_event(Some(identity), event_kind::MESSAGE, Some(id), "drafts")
    }

    /// Whether an identity has written to `address` before (a message in Sent, or anything in
    /// the outbox).
    pub fn has_written_to(&self, identity_id: i64, address: &str) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE identity_id = ?1 AND folder = 'sent'
                              AND recipients = ?2)",
            params![identity_id, address],
            |r| r.get(0),
        )?)
    }

    /// Turn a draft into sent mail: moved to Sent (a new UID) with the Message-ID it leaves
    /// with, its To and the time it was sent.
    pub fn file_as_sent(
        &mut self,
        id: i64,
        message_id: &str,
        recipient: &str,
        thread: &str,
        sent_at: i64,
    ) -> Result<(), StoreError> {
        let identity = self.identity_of(id)?;
        self.conn.execute(
            "UPDATE messages SET folder = 'sent', uid = 0, message_id = ?2, recipients = ?3, thread = ?4,
                sent_at = ?5, received_at = ?5, read = 1
             WHERE id = ?1",
            params![id, message_id, recipient, thread, sent_at],
        )?;
        self.log_event(Some(identity), event_kind::MESSAGE, Some(id), "sent")
    }
}
