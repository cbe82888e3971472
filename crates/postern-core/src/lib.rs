#![doc = include_str!("../README.md")]

mod accounts;
mod backup;
mod carriers;
mod clients;
mod clock;
mod config;
mod contacts;
mod context;
mod devices;
mod error;
mod events;
mod gateway;
mod identities;
mod inbound;
mod introductions;
mod invites;
mod leases;
mod lists;
pub mod mail;
mod node;
mod notifications;
mod outbound;
mod own_devices;
mod postern;
mod revoke;
mod views;

pub use accounts::{
    AccountView, HOLDER_ONLY_TEXT, HOSTED_HOLDER_KEY, HOSTED_READABLE, ONION_IMAP_PORT,
    ONION_SUBMISSION_PORT,
};
pub use carriers::{
    CarriedView, CarrierAvailability, CarrierModeView, CarriersView, ContactCarriersView,
    CARRIER_MODE_NOTE, DEFAULT_CARRIER_TARGET,
};
pub use clients::{
    ClientAccess, ClientLoginView, ClientPorts, DEFAULT_IMAP_PORT, DEFAULT_SUBMISSION_PORT,
    VERDICT_HEADERS,
};
pub use clock::{Clock, SystemClock};
pub use config::{
    ClientTimeouts, DeliveryLimits, GatewayNetwork, InboundLimits, ListTimers, NodeConfig,
    RetryPolicy, SmtpLimits, Unlinking,
};
pub use devices::{DeviceLink, DeviceOfferReady, DEVICE_PORT};
pub use error::CoreError;
pub use events::{EventView, MAX_EVENTS};
pub use gateway::{GatewayRules, GatewayView, VERIFIED_BY_GATEWAY};
pub use inbound::{HANDOVER_REFUSED, UNAUTHENTICATED};
pub use introductions::INTRODUCED;
pub use invites::{
    Handshake, InviteStateView, InviteView, RedeemerView, ScanPreview, DEFAULT_INVITE_VALIDITY,
    SCREEN_INVITE_VALIDITY, VERIFIED_BY_SCAN,
};
pub use leases::{LostDevice, PreparedTakeOver, ServiceView, TakeOver};
pub use lists::{ListAttachmentView, ListMemberView, ListPostView, ListView, MAX_LIST_ATTACHMENT};
pub use mail::{
    availability, carriers_needed, mailbox_label, reach_probability, AttachmentInfo, DraftInput,
    DraftView, FlagChange, MailboxView, MessageSummary, MessageView, MoveView, OutboxView,
    RecipientCheck, SearchResult, SnippetPart, MAILBOXES,
};
pub use node::{Network, Node, PreparedNode, SMTP_PORT};
pub use notifications::{Notification, NotificationSettings};
pub use outbound::DeliveryError;
pub use own_devices::{
    OwnDeviceView, DEVICE_INVITE_PREFIX, DEVICE_INVITE_VALIDITY, VERIFIED_BY_OWN_DEVICE,
};
pub use postern::{Postern, DEFAULT_KDF};
/// Where a gateway looks up MX, SPF, DKIM and DMARC records.
pub use postern_gateway::Dns as GatewayDns;
pub use revoke::RevocationView;
pub use views::{ContactView, IdentityView, IntroductionView, StatusView};

pub use postern_crypto::{KdfParams, RevocationScope};
pub use postern_mime::{stamp, Attachment};
pub use postern_store::{BackupError, BackupSummary, StoreError};
pub use postern_transport::{BootstrapStatus, Transport, TransportError};
pub use postern_types::{ErrorKind, HasKind};
