#![doc = include_str!("../README.md")]

mod backup;
mod blobs;
mod carriers;
mod contacts;
mod devices;
mod error;
mod events;
mod gateway;
mod gateway_policy;
mod identities;
mod introductions;
mod invites;
mod keyfile;
mod legacy;
mod lists;
mod mailboxes;
mod messages;
mod migrations;
mod open;
mod outbox;
mod own_devices;
mod revocations;
mod search;
mod served_heads;

pub use backup::{
    import_backup, BackupChoice, BackupError, BackupSummary, Progress as BackupProgress,
    BACKUP_FORMAT,
};
pub use blobs::AttachmentRecord;
pub use carriers::{
    CarriedOutcome, CarriedRecord, CarrierPolicy, CarrierStat, ContactCarrier, Handover, Held,
    NewCarried,
};
pub use contacts::{ContactRecord, NewContact};
pub use error::StoreError;
pub use events::{event_kind, EventRecord};
pub use gateway::{GatewayOutgoing, GatewaySettings};
pub use gateway_policy::{key_source as gateway_key_source, GatewayPolicy};
pub use identities::{IdentityRecord, IdentitySecrets, NewIdentity};
pub use introductions::{IntroductionRecord, NewIntroduction};
pub use invites::{InviteRecord, Redemption};
pub use keyfile::KEY_FILE_VERSION;
pub use lists::{ListMail, ListRecord, NewListPost};
pub use mailboxes::{DraftContent, MailboxRecord};
pub use messages::{Flags, Inserted, ListedMessage, MessageRecord, NewMessage, Threading};
pub use migrations::{LATEST_VERSION, MIGRATIONS};
pub use open::{Store, DB_FILE_NAME};
pub use outbox::{state as outbox_state, OutboxRecord};
pub use revocations::{NewRevocation, ReplacementKey, RevocationRecord};
pub use search::{fts_query, SearchHit, SearchText, HIT_END, HIT_START};
pub use served_heads::ServedHead;
