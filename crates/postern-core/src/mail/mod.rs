//! Mail: the receive pipeline, the SMTP server and client drivers, the outbox loop, and the
//! API a person uses (send, inbox, read, outbox, contact requests).

pub(crate) mod api;
pub(crate) mod carrier;
pub(crate) mod carry;
pub(crate) mod controls;
pub(crate) mod delivery;
pub(crate) mod draft;
pub(crate) mod handover;
pub(crate) mod outbox;
pub(crate) mod receive;
pub(crate) mod smtp_server;
pub(crate) mod writer;

pub use api::{MessageSummary, MessageView, OutboxView};
pub use carry::{availability, carriers_needed, reach_probability};
pub use delivery::DeliveryError;
pub use outbox::RetryPolicy;
pub use smtp_server::SmtpLimits;

/// Folder of mail from contacts.
pub const INBOX: &str = "inbox";
/// Folder of mail from senders who are not contacts.
pub const REQUESTS: &str = "requests";
/// Folder of messages that only carry settings for the node (a contact's new carriers); not
/// shown as mail.
pub const SYSTEM: &str = "system";
/// `Postern-Kind` of a carrier announcement.
pub(crate) const KIND_CARRIERS: &str = "carriers";
