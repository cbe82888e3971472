//! Mail as a person uses it (send, inbox, read, outbox, contact requests), and what both
//! directions of the node share: the folder names and the queued draft format (the signed
//! statements of carrying are `postern-carry`).

pub(crate) mod api;
pub(crate) mod draft;
mod drafts;
pub(crate) mod gateway_draft;
mod mailbox;
pub(crate) mod reading;
mod search;

pub use api::{AttachmentInfo, MessageSummary, MessageView, OutboxView};
pub use drafts::{DraftInput, DraftView, RecipientCheck};
pub use mailbox::{mailbox_label, FlagChange, MailboxView, MoveView, MAILBOXES};
pub use postern_carry::{availability, carriers_needed, reach_probability};
pub use reading::safe_file_name;
pub use search::{SearchResult, SnippetPart, MAX_RESULTS};

/// Folder of mail from contacts.
pub const INBOX: &str = "inbox";
/// Folder of mail from senders who are not contacts.
pub const REQUESTS: &str = "requests";
/// Mail we sent (kept, readable).
pub const SENT: &str = "sent";
/// Mail being written.
pub const DRAFTS: &str = "drafts";
/// Mail put away.
pub const ARCHIVE: &str = "archive";
/// Deleted mail, until deleted again.
pub const TRASH: &str = "trash";
/// Folder of messages that only carry settings for the node (a contact's new carriers); not
/// shown as mail.
pub const SYSTEM: &str = "system";
/// `Postern-Kind` of a carrier announcement.
pub(crate) const KIND_CARRIERS: &str = "carriers";
