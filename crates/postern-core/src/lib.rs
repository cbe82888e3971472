#![doc = include_str!("../README.md")]

mod clock;
mod contacts;
mod error;
mod identities;
pub mod mail;
mod node;
mod postern;
mod views;

pub use clock::{Clock, SystemClock};
pub use error::CoreError;
pub use mail::{DeliveryError, MessageSummary, MessageView, OutboxView, RetryPolicy, SmtpLimits};
pub use node::{Network, Node, NodeConfig, SMTP_PORT};
pub use postern::{Postern, DEFAULT_KDF};
pub use views::{ContactView, IdentityView, StatusView};

pub use postern_crypto::KdfParams;
pub use postern_mime::Attachment;
pub use postern_store::StoreError;
pub use postern_transport::{BootstrapStatus, Transport, TransportError};
pub use postern_types::{ErrorKind, HasKind};
