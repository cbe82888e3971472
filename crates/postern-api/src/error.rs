//! Errors as every front end receives them: the core's error kind and its sentence.

use postern_core::{CoreError, ErrorKind, HasKind};
use serde::Serialize;

/// What a command failed with.
#[derive(Debug, Clone, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
pub struct ApiError {
    /// What the person can do about it (`wrong_passphrase`, `bad_input`, …).
    pub kind: ErrorKind,
    /// The core's sentence.
    pub message: String,
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl ApiError {
    /// An error of `kind` with a sentence.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, message)
    }
}

/// Results of commands.
pub type Result<T> = std::result::Result<T, ApiError>;
