use postern_types::{ErrorKind, HasKind};

/// Errors from key generation, binding checks and sealing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The binding signature does not verify for this address and fingerprint.
    #[error("the binding signature does not match the address and key")]
    BadBinding,
    /// A sealed secret could not be opened: wrong passphrase, or the data was altered.
    #[error("cannot open sealed data (wrong passphrase, or damaged data)")]
    Unseal,
    /// Bytes that should be an OpenPGP key are not one.
    #[error("not a usable OpenPGP key: {0}")]
    BadOpenPgpKey(String),
    /// The OpenPGP key does not carry the identity's address as a User ID.
    #[error("the OpenPGP key does not name {0} as a User ID")]
    UserIdMismatch(String),
    /// The OpenPGP key's fingerprint differs from the one it should have.
    #[error("the OpenPGP key's fingerprint does not match")]
    FingerprintMismatch,
    /// Generating a key failed (the OpenPGP library reported an error).
    #[error("key generation failed: {0}")]
    KeyGeneration(String),
    /// A secret had the wrong length or shape.
    #[error("malformed secret key material")]
    MalformedSecret,
    /// A revocation statement that does not decode or verify.
    #[error("revocation refused: {0}")]
    BadRevocation(&'static str),
    /// A signed statement (carrier pass, hand-over proof, receipt) does not verify.
    #[error("the signature does not verify for that address")]
    BadStatement,
    /// Key derivation failed (bad parameters).
    #[error("passphrase key derivation failed: {0}")]
    Kdf(String),
}

impl HasKind for CryptoError {
    fn kind(&self) -> ErrorKind {
        match self {
            CryptoError::BadBinding
            | CryptoError::UserIdMismatch(_)
            | CryptoError::FingerprintMismatch
            | CryptoError::BadRevocation(_)
            | CryptoError::BadStatement => ErrorKind::Untrusted,
            CryptoError::Unseal => ErrorKind::WrongPassphrase,
            CryptoError::BadOpenPgpKey(_) => ErrorKind::BadInput,
            CryptoError::MalformedSecret => ErrorKind::Corrupt,
            CryptoError::KeyGeneration(_) | CryptoError::Kdf(_) => ErrorKind::Internal,
        }
    }
}
