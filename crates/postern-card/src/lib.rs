#![doc = include_str!("../README.md")]

mod display_name;
mod error;
mod invite;
mod vcard;
mod wire;

pub use display_name::{DisplayName, MAX_DISPLAY_NAME_BYTES};
pub use error::CardError;
pub use invite::{Invite, INVITE_PREFIX, TOKEN_LEN};
pub use vcard::MAX_VCARD_BYTES;

use postern_crypto::{Binding, IdentityKeys, PublicKeyInfo};
use postern_types::MailAddress;

/// Version byte of the encoding this crate writes.
pub const CARD_VERSION: u8 = 1;
/// Prefix of the text form.
pub const TEXT_PREFIX: &str = "POSTERN-CARD:";
/// Largest binary card accepted (a card with an Ed25519/Cv25519 key is ~600 bytes).
pub const MAX_CARD_BYTES: usize = 8 * 1024;
/// Largest OpenPGP key accepted inside a card.
pub const MAX_KEY_BYTES: usize = MAX_CARD_BYTES - 256;

/// A verified contact card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCard {
    display_name: DisplayName,
    binding: Binding,
    public_key: Option<Vec<u8>>,
}

impl ContactCard {
    /// The card of one of our own identities.
    pub fn for_identity(keys: &IdentityKeys, include_key: bool) -> Result<Self, CardError> {
        let public_key = if include_key {
            Some(keys.openpgp_public().map_err(CardError::Key)?)
        } else {
            None
        };
        Self::from_parts(keys.binding().clone(), public_key)
    }

    /// Assemble and verify a card from its parts.
    pub fn from_parts(binding: Binding, public_key: Option<Vec<u8>>) -> Result<Self, CardError> {
        let display_name = DisplayName::new(binding.display_name())?;
        binding.verify().map_err(CardError::Binding)?;
        if let Some(key) = &public_key {
            if key.len() > MAX_KEY_BYTES {
                return Err(CardError::TooLarge {
                    len: key.len(),
                    max: MAX_KEY_BYTES,
                });
            }
            PublicKeyInfo::parse(key)
                .and_then(|k| k.check_against(&binding))
                .map_err(CardError::Key)?;
        }
        Ok(ContactCard {
            display_name,
            binding,
            public_key,
        })
    }

    /// The identity's address.
    pub fn address(&self) -> &MailAddress {
        self.binding.address()
    }

    /// The name the identity chose to show (covered by the binding signature).
    pub fn display_name(&self) -> &DisplayName {
        &self.display_name
    }

    /// The verified binding.
    pub fn binding(&self) -> &Binding {
        &self.binding
    }

    /// The OpenPGP public key, if the card carries one.
    pub fn public_key(&self) -> Option<&[u8]> {
        self.public_key.as_deref()
    }

    /// Binary encoding.
    pub fn encode(&self) -> Vec<u8> {
        wire::encode(self)
    }

    /// Decode and verify a binary card.
    pub fn decode(bytes: &[u8]) -> Result<Self, CardError> {
        wire::decode(bytes)
    }

    /// Text form: `POSTERN-CARD:` + base32 (RFC 4648, upper case, no padding). Every character
    /// is in the QR alphanumeric set, so a QR code holds it compactly.
    pub fn to_text(&self) -> String {
        format!(
            "{TEXT_PREFIX}{}",
            data_encoding::BASE32_NOPAD.encode(&self.encode())
        )
    }

    /// Parse the text form. Surrounding whitespace is ignored, and so is case.
    pub fn from_text(text: &str) -> Result<Self, CardError> {
        let text = text.trim();
        // Base32 grows 8/5: refuse early, before decoding anything large.
        let max_text = TEXT_PREFIX.len() + MAX_CARD_BYTES.div_ceil(5) * 8;
        if text.len() > max_text {
            return Err(CardError::TooLarge {
                len: text.len(),
                max: max_text,
            });
        }
        let body = match text.get(..TEXT_PREFIX.len()) {
            Some(p) if p.eq_ignore_ascii_case(TEXT_PREFIX) => &text[TEXT_PREFIX.len()..],
            _ => return Err(CardError::NotACard),
        };
        let upper = body.to_ascii_uppercase();
        let bytes = data_encoding::BASE32_NOPAD
            .decode(upper.as_bytes())
            .map_err(|_| CardError::Encoding)?;
        Self::decode(&bytes)
    }
}
