//! Mail arriving at the node: the SMTP server driver with its limits, the receive pipeline
//! (authenticate, classify, store with effects in one transaction), the carrier side of holding
//! and pulls, receipts from carriers. Never imports `outbound`; shares only `context` and
//! `mail`.

mod authenticate;
mod controls;
mod holding;
mod mailroom;
mod receipts;
mod receive;
mod server;
mod sessions;
mod writer;

pub use holding::HANDOVER_REFUSED;
pub(crate) use mailroom::Mailroom;
pub use receive::UNAUTHENTICATED;
pub(crate) use server::{serve_onion, OnionMembers};
pub(crate) use sessions::SessionTable;
pub(crate) use writer::MailWriter;
