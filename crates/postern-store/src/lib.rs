#![doc = include_str!("../README.md")]

mod carriers;
mod contacts;
mod error;
mod identities;
mod introductions;
mod invites;
mod messages;
mod migrations;
mod open;
mod outbox;
mod revocations;

pub use carriers::{
    CarriedOutcome, CarriedRecord, CarrierPolicy, CarrierStat, ContactCarrier, Handover, Held,
    NewCarried,
};
pub use contacts::{ContactRecord, NewContact};
pub use error::StoreError;
pub use identities::{IdentityRecord, IdentitySecrets, NewIdentity};
pub use introductions::{IntroductionRecord, NewIntroduction};
pub use invites::{InviteRecord, Redemption};
pub use messages::{Inserted, MessageRecord, NewMessage};
pub use migrations::{LATEST_VERSION, MIGRATIONS};
pub use open::{Store, DB_FILE_NAME};
pub use outbox::{state as outbox_state, OutboxRecord};
pub use revocations::{NewRevocation, ReplacementKey, RevocationRecord};
