//! Mail leaving the node: the outbox loop (with per-node, per-identity and per-recipient
//! slots), preparing and sealing a message, the SMTP client, handing over to a recipient's
//! carriers, forwarding what we carry and sending receipts, pulling from our own carriers.
//! Never imports `inbound`; shares only `context` and `mail`.

pub(crate) mod delivery;
mod forward;
mod handover;
mod outbox;
mod prepare;

pub use delivery::DeliveryError;
pub(crate) use forward::{pull_all, run as forward_loop};
pub(crate) use outbox::run as outbox_loop;
