use postern_types::{ErrorKind, HasKind};

/// Errors composing or opening a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MimeError {
    /// The message is not PGP/MIME encrypted.
    #[error("the message is not OpenPGP-encrypted (PGP/MIME)")]
    NotEncrypted,
    /// The message cannot be decrypted with our key.
    #[error("the message cannot be decrypted with this identity's key")]
    Undecryptable,
    /// The message decrypts (or decompresses) to more than allowed.
    #[error("the message decrypts to more than {0} bytes")]
    TooLarge(usize),
    /// The message structure is broken.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The recipient's key cannot be used for encryption.
    #[error("the recipient's key cannot be used: {0}")]
    RecipientKey(String),
    /// Our own key cannot sign.
    #[error("the sender's key cannot sign: {0}")]
    SenderKey(String),
    /// Writing the message failed.
    #[error("cannot build the message: {0}")]
    Build(String),
}

impl HasKind for MimeError {
    fn kind(&self) -> ErrorKind {
        match self {
            MimeError::NotEncrypted
            | MimeError::Undecryptable
            | MimeError::TooLarge(_)
            | MimeError::Malformed(_) => ErrorKind::BadInput,
            MimeError::RecipientKey(_) => ErrorKind::Untrusted,
            MimeError::SenderKey(_) | MimeError::Build(_) => ErrorKind::Internal,
        }
    }
}
