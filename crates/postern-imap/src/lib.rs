//! IMAP for Postern, without I/O.
//!
//! [`ImapSession`] is one client connection: bytes in ([`ImapSession::feed`]), bytes out
//! ([`ImapSession::step`]). Commands are parsed by `imap-codec` through `imap-next` (bounded:
//! line and literal limits, continuation requests), and answered from a [`Mailstore`] — the
//! one account the client logged in to. The session keeps what IMAP needs per connection
//! (the selected mailbox's message sequence numbers, what the client has been told) and turns
//! changes in the store into `EXISTS`, `EXPUNGE` and `FETCH` updates when it may.
//!
//! What this crate is not: it opens no sockets, keeps no clock, reads no store, and knows
//! nothing of Postern's keys or identities; the driver and the [`Mailstore`] are the core's.

mod fetch;
mod mailboxes;
mod memory;
mod search;
mod section;
mod session;
mod structure;

pub use memory::MemoryStore;
pub use section::header_end;
pub use session::{ImapSession, Limits, Step, CAPABILITIES};

/// The flags Postern keeps (IMAP system flags; `\Draft` is the Drafts mailbox's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `\Seen`
    pub seen: bool,
    /// `\Answered`
    pub answered: bool,
    /// `\Flagged`
    pub flagged: bool,
    /// `\Deleted`
    pub deleted: bool,
    /// `\Draft`
    pub draft: bool,
}

/// A mailbox as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    /// Its IMAP name: `INBOX`, `Sent`, …
    pub name: String,
    /// Its RFC 6154 attribute without the backslash (`Sent`, `Drafts`, `Trash`, `Archive`).
    pub special_use: Option<&'static str>,
    /// UIDVALIDITY (never 0).
    pub uidvalidity: u32,
    /// The next UID.
    pub uidnext: u32,
}

/// One message in a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its UID (never 0).
    pub uid: u32,
    /// Its flags.
    pub flags: Flags,
    /// When it arrived (Unix seconds): INTERNALDATE.
    pub received_at: i64,
}

/// Why the store did not do what was asked: becomes a `NO` with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The mailbox does not exist (for this login).
    #[error("there is no mailbox of that name")]
    NoMailbox,
    /// The message is gone.
    #[error("that message no longer exists")]
    Gone,
    /// Not possible here, with the reason.
    #[error("{0}")]
    NotAllowed(String),
    /// The store failed; the client may retry.
    #[error("the mail store could not do that now")]
    Unavailable,
}

/// A login refused: wrong user or password (one answer for both), or too many failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefused {
    /// Wrong user name or password.
    #[error("user name or password wrong")]
    Wrong,
    /// Too many failures lately: wait.
    #[error("too many failed logins; try again later")]
    TooMany,
}

/// The mail of one login, as IMAP needs it. Every method is quick and synchronous (the store
/// is local); mailbox names are IMAP names (`INBOX` is matched case-insensitively by the
/// session before it asks).
pub trait Mailstore {
    /// Check a user name and password; on success the session is bound to that account for
    /// good.
    fn login(&mut self, user: &str, password: &str) -> Result<(), LoginRefused>;
    /// The account's mailboxes.
    fn mailboxes(&mut self) -> Result<Vec<MailboxInfo>, Refusal>;
    /// The messages of a mailbox, by ascending UID.
    fn entries(&mut self, mailbox: &str) -> Result<Vec<Entry>, Refusal>;
    /// A message as served (RFC 5322, decrypted, with the server's own verdict headers).
    fn message(&mut self, mailbox: &str, uid: u32) -> Result<Vec<u8>, Refusal>;
    /// A message's header as served (through the blank line) and the whole message's size:
    /// what a client listing a mailbox asks for. By default cut from [`Self::message`].
    fn header(&mut self, mailbox: &str, uid: u32) -> Result<(Vec<u8>, u32), Refusal> {
        let m = self.message(mailbox, uid)?;
        let end = header_end(&m);
        Ok((m[..end].to_vec(), m.len() as u32))
    }
    /// Set a message's flags (all of them).
    fn set_flags(&mut self, mailbox: &str, uid: u32, flags: Flags) -> Result<(), Refusal>;
    /// Move a message; its UID in the target.
    fn move_message(&mut self, mailbox: &str, uid: u32, to: &str) -> Result<u32, Refusal>;
    /// Remove for good the mailbox's messages flagged `\Deleted` (only those of `only`, if
    /// given); the UIDs removed.
    fn expunge(&mut self, mailbox: &str, only: Option<&[u32]>) -> Result<Vec<u32>, Refusal>;
    /// Store a message a client uploads; its UID.
    fn append(&mut self, mailbox: &str, message: &[u8], flags: Flags) -> Result<u32, Refusal>;
    /// UIDs of the mailbox's messages whose text matches (the store's search index).
    fn search_text(&mut self, mailbox: &str, text: &str) -> Result<Vec<u32>, Refusal>;
    /// A number that changes whenever anything in the account's mail may have changed, if
    /// the store keeps one: the session lists the selected mailbox again (to tell the client
    /// what changed) only when it moved. `None`: after every command.
    fn version(&mut self) -> Option<i64> {
        None
    }
}
