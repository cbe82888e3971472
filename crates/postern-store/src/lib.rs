#![doc = include_str!("../README.md")]

mod contacts;
mod error;
mod identities;
mod migrations;
mod open;

pub use contacts::{ContactRecord, NewContact};
pub use error::StoreError;
pub use identities::{IdentityRecord, IdentitySecrets, NewIdentity};
pub use migrations::{LATEST_VERSION, MIGRATIONS};
pub use open::{Store, DB_FILE_NAME};
