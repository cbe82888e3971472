use postern_crypto::CryptoError;
use postern_types::{AddressError, ErrorKind, HasKind};

/// Why a card was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// The text does not start with `POSTERN-CARD:`.
    #[error("this is not a Postern contact card (it should start with POSTERN-CARD:)")]
    NotACard,
    /// The text after the prefix is not base32.
    #[error("the contact card text is damaged (not valid base32)")]
    Encoding,
    /// The card is empty.
    #[error("the contact card is empty")]
    Empty,
    /// The card is larger than any genuine card.
    #[error("the contact card is too large ({len} bytes, at most {max})")]
    TooLarge {
        /// Size seen.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// The card ends in the middle of a field.
    #[error("the contact card is truncated (it ends inside the {field})")]
    Truncated {
        /// Which field was cut.
        field: &'static str,
    },
    /// Written by a newer (or unknown) version of the format.
    #[error(
        "contact card version {0} is not supported (this Postern reads version 1); update Postern"
    )]
    UnsupportedVersion(u8),
    /// Flags this version does not define.
    #[error("the contact card uses flags this version does not know ({0:#04x})")]
    UnknownFlags(u8),
    /// Extra bytes after the last field.
    #[error("the contact card has {0} unexpected bytes at the end")]
    TrailingBytes(usize),
    /// A length field is out of range.
    #[error("the contact card's {field} has an invalid length ({len})")]
    BadLength {
        /// Which field.
        field: &'static str,
        /// Length seen.
        len: usize,
    },
    /// The text is not a Postern invite (`POSTERN:` link) or card.
    #[error(
        "this is not a Postern invite or card (it should start with postern: or POSTERN-CARD:)"
    )]
    NotAnInvite,
    /// A vCard that is not a Postern contact (no verified `X-POSTERN-CARD`), or whose visible
    /// fields disagree with the signed card inside it.
    #[error("the vCard is not a usable Postern contact: {0}")]
    VCard(&'static str),
    /// The address in the card is invalid.
    #[error("the contact card's address is invalid: {0}")]
    Address(#[from] AddressError),
    /// The display name is not acceptable.
    #[error("the contact card's display name is not acceptable: {0}")]
    DisplayName(&'static str),
    /// The binding signature does not verify.
    #[error(
        "the contact card's signature does not match its address and key (tampered or damaged)"
    )]
    Binding(#[source] CryptoError),
    /// The OpenPGP key in the card is unusable or is not the bound key.
    #[error("the contact card's OpenPGP key is not acceptable: {0}")]
    Key(#[source] CryptoError),
}

impl HasKind for CardError {
    fn kind(&self) -> ErrorKind {
        match self {
            CardError::Binding(_) => ErrorKind::Untrusted,
            CardError::Key(e) => match e.kind() {
                ErrorKind::Untrusted => ErrorKind::Untrusted,
                _ => ErrorKind::BadInput,
            },
            _ => ErrorKind::BadInput,
        }
    }
}
