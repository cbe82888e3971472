//! The mailbox model as a person (and later IMAP) sees it: mailboxes with counts, messages
//! with flags, moves with undo, threads.

use postern_store::{Flags, StoreError};
use serde::{Deserialize, Serialize};

use super::api::MessageSummary;
use super::{ARCHIVE, DRAFTS, INBOX, REQUESTS, SENT, SYSTEM, TRASH};
use crate::{CoreError, Postern};

/// The mailboxes every identity has, in the order they are shown.
pub const MAILBOXES: &[&str] = &[INBOX, REQUESTS, DRAFTS, SENT, ARCHIVE, TRASH];

/// A mailbox's name as people read it (and as IMAP lists it).
pub fn mailbox_label(name: &str) -> &'static str {
    match name {
        INBOX => "Inbox",
        REQUESTS => "Requests",
        DRAFTS => "Drafts",
        SENT => "Sent",
        ARCHIVE => "Archive",
        TRASH => "Trash",
        _ => "Other",
    }
}

/// A mailbox of one identity.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailboxView {
    /// The identity's address.
    pub identity: String,
    /// `inbox`, `requests`, `drafts`, `sent`, `archive` or `trash`.
    pub name: String,
    /// As shown: "Inbox", "Sent", …
    pub label: String,
    /// IMAP UIDVALIDITY.
    pub uidvalidity: i64,
    /// The next UID.
    pub uidnext: i64,
    /// Messages in it.
    pub total: i64,
    /// Messages not yet read.
    pub unread: i64,
}

/// Flags to change (absent: unchanged).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FlagChange {
    /// Read.
    #[serde(default)]
    pub seen: Option<bool>,
    /// Starred.
    #[serde(default)]
    pub flagged: Option<bool>,
    /// Answered.
    #[serde(default)]
    pub answered: Option<bool>,
    /// Marked for removal (IMAP `\Deleted`).
    #[serde(default)]
    pub deleted: Option<bool>,
}

/// A move, with what undoes it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MoveView {
    /// The message.
    pub id: i64,
    /// Where it was (move it back there to undo).
    pub from: String,
    /// Where it is now; `deleted` if it was removed for good (no undo).
    pub to: String,
}

/// Mailboxes a message may be moved into by a person (Requests are left by accepting or
/// declining; drafts are sent or discarded).
const MOVABLE: &[&str] = &[INBOX, ARCHIVE, TRASH, SENT];

impl Postern {
    fn check_mailbox(name: &str) -> Result<(), CoreError> {
        if MAILBOXES.contains(&name) {
            Ok(())
        } else {
            Err(CoreError::BadMailbox(format!(
                "there is no mailbox {name:?}; the mailboxes are {}",
                MAILBOXES.join(", ")
            )))
        }
    }

    /// An identity's mailboxes, with counts.
    pub fn mailboxes(&self, identity: &str) -> Result<Vec<MailboxView>, CoreError> {
        let me = self.find_identity(identity)?;
        let address = format!("{}@{}", me.local_part, me.onion);
        let mut all = self.store.mailboxes(me.id)?;
        all.retain(|b| b.name != SYSTEM);
        all.sort_by_key(|b| MAILBOXES.iter().position(|m| *m == b.name));
        Ok(all
            .into_iter()
            .map(|b| MailboxView {
                identity: address.clone(),
                label: mailbox_label(&b.name).to_owned(),
                name: b.name,
                uidvalidity: b.uidvalidity,
                uidnext: b.uidnext,
                total: b.total,
                unread: b.unseen,
            })
            .collect())
    }

    /// The messages of one mailbox of an identity, newest first.
    pub fn mailbox(&self, identity: &str, name: &str) -> Result<Vec<MessageSummary>, CoreError> {
        Self::check_mailbox(name)?;
        let me = self.find_identity(identity)?;
        Ok(self
            .store
            .messages(Some(me.id), name)?
            .iter()
            .map(|m| self.summary(m))
            .collect())
    }

    /// Change a message's flags.
    pub fn set_flags(&mut self, id: i64, change: FlagChange) -> Result<MessageSummary, CoreError> {
        let m = self.record(id)?;
        let f = m.flags;
        let flags = Flags {
            seen: change.seen.unwrap_or(f.seen),
            answered: change.answered.unwrap_or(f.answered),
            flagged: change.flagged.unwrap_or(f.flagged),
            deleted: change.deleted.unwrap_or(f.deleted),
        };
        self.store.set_flags(id, flags)?;
        if flags != f {
            self.share_flags(&m, f, flags)?;
        }
        Ok(self.summary(&self.record(id)?))
    }

    /// Move a message to another mailbox of its identity.
    pub fn move_message(&mut self, id: i64, to: &str) -> Result<MoveView, CoreError> {
        Self::check_mailbox(to)?;
        let m = self.record(id)?;
        if !MOVABLE.contains(&to) || !MOVABLE.contains(&m.folder.as_str()) {
            return Err(CoreError::BadMailbox(format!(
                "a message cannot be moved from {} to {} (requests are accepted or declined, \
                 drafts are sent or discarded)",
                mailbox_label(&m.folder),
                mailbox_label(to)
            )));
        }
        // Our own mail stays ours: it goes back to Sent, never to the Inbox; and others' mail
        // never becomes Sent.
        let own = m.folder == SENT || m.sender == self.address_of(m.identity_id);
        if (own && to == INBOX) || (!own && to == SENT) {
            return Err(CoreError::BadMailbox(format!(
                "{} mail cannot be moved to {}",
                if own { "sent" } else { "received" },
                mailbox_label(to)
            )));
        }
        let from = match self.store.move_message(id, to) {
            Err(StoreError::NotFound(_)) => return Err(CoreError::MessageNotFound(id)),
            other => other?,
        };
        Ok(MoveView {
            id,
            from,
            to: to.to_owned(),
        })
    }

    /// Archive a message.
    pub fn archive(&mut self, id: i64) -> Result<MoveView, CoreError> {
        self.move_message(id, ARCHIVE)
    }

    /// Delete a message: to the Trash; from the Trash (or a draft, or a request), for good.
    pub fn trash(&mut self, id: i64) -> Result<MoveView, CoreError> {
        let m = self.record(id)?;
        if [TRASH, DRAFTS, REQUESTS].contains(&m.folder.as_str()) {
            self.delete_message(id)?;
            return Ok(MoveView {
                id,
                from: m.folder,
                to: "deleted".into(),
            });
        }
        self.move_message(id, TRASH)
    }

    /// The conversation a message is in (its identity's copies, oldest first).
    pub fn thread(&self, id: i64) -> Result<Vec<MessageSummary>, CoreError> {
        let m = self.record(id)?;
        Ok(self
            .store
            .thread_messages(m.identity_id, &m.threading.thread)?
            .iter()
            .map(|m| self.summary(m))
            .collect())
    }
}
