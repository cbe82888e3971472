#![doc = include_str!("../README.md")]

mod address;
mod error_kind;
mod onion;

pub use address::{AddressError, LocalPart, MailAddress, MAX_LOCAL_PART};
pub use error_kind::{ErrorKind, HasKind};
pub use onion::{OnionAddress, OnionAddressError};
mod text;
mod time;
pub use text::{for_terminal, is_invisible_or_direction};
pub use time::utc_minute;
