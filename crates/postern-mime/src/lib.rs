#![doc = include_str!("../README.md")]

mod compose;
mod error;
mod letter;
mod open;

pub use compose::{compose, random_message_id, Attachment, Draft, SenderKeys};
pub use error::MimeError;
pub use letter::{BindingHeader, Letter};
pub use open::{open, Opened, SignerCheck};
