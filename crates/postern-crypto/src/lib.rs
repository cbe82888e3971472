#![doc = include_str!("../README.md")]

mod binding;
mod error;
mod holder_key;
mod identity_keys;
mod lease;
mod message_signer;
mod public_key;
mod revocation;
mod statement;
mod store_key;

pub use binding::{Binding, BINDING_CONTEXT, MAX_NAME_BYTES};
pub use error::CryptoError;
pub use holder_key::{has_holder_key, is_holder_binding, HOLDER_NOTATION};
pub use identity_keys::{onion_address_of, IdentityKeys};
pub use lease::{DeviceAsk, DeviceId, DeviceRequest, Lease};
pub use message_signer::{MessageSigner, MESSAGE_HASH};
pub use public_key::PublicKeyInfo;
pub use revocation::{Revocation, RevocationScope, MAX_REASON_BYTES, REVOCATION_CONTEXT};
pub use statement::{sign_statement, verify_statement};
pub use store_key::{KdfParams, StoreKey, SALT_LEN};

/// Re-exported so that callers can hand keys to arti without depending on its crates.
pub use tor_hscrypto::pk::HsIdKeypair;
