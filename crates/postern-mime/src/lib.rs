#![doc = include_str!("../README.md")]

mod armor;
pub mod cargo;
mod compose;
pub mod device_flags;
mod error;
mod letter;
mod open;
mod outsider;
pub mod stamp;
mod text_part;

pub use compose::{
    compose, random_message_id, sign_and_encrypt, unsealed_letter, Attachment, Draft, SenderKeys,
    Unsealed,
};
pub use error::MimeError;
pub use letter::{BindingHeader, Letter};
pub use open::{
    decrypt, decrypt_and_verify, encrypted_for, open, Decrypted, Opened, SignerCheck, MAX_PLAINTEXT,
};
pub use outsider::{OutsiderKey, MAX_OUTSIDER_KEY};
