#![doc = include_str!("../README.md")]

mod carriers;
mod clock;
mod contacts;
mod error;
mod identities;
mod introductions;
mod invites;
pub mod mail;
mod node;
mod postern;
mod revoke;
mod views;

pub use carriers::{
    CarriedView, CarrierAvailability, CarrierModeView, CarriersView, ContactCarriersView,
    CARRIER_MODE_NOTE,
};
pub use clock::{Clock, SystemClock};
pub use error::CoreError;
pub use introductions::INTRODUCED;
pub use invites::{Handshake, InviteView, ScanPreview, DEFAULT_INVITE_VALIDITY, VERIFIED_BY_SCAN};
pub use mail::{
    availability, carriers_needed, reach_probability, DeliveryError, MessageSummary, MessageView,
    OutboxView, RetryPolicy, SmtpLimits,
};
pub use node::{Network, Node, NodeConfig, PreparedNode, SMTP_PORT};
pub use postern::{Postern, DEFAULT_KDF};
pub use revoke::RevocationView;
pub use views::{ContactView, IdentityView, IntroductionView, StatusView};

pub use postern_crypto::{KdfParams, RevocationScope};
pub use postern_mime::Attachment;
pub use postern_store::StoreError;
pub use postern_transport::{BootstrapStatus, Transport, TransportError};
pub use postern_types::{ErrorKind, HasKind};
