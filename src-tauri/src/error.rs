//! Errors as the UI receives them: the core's error kind and its sentence.

use postern_core::{CoreError, HasKind};
use serde::Serialize;

/// What a command failed with.
#[derive(Debug, Serialize)]
pub struct CommandError {
    /// `ErrorKind` name (`WrongPassphrase`, `BadInput`, …): the UI picks what to suggest.
    pub kind: String,
    /// The core's sentence.
    pub message: String,
}

impl From<CoreError> for CommandError {
    fn from(e: CoreError) -> Self {
        CommandError {
            kind: format!("{:?}", e.kind()),
            message: e.to_string(),
        }
    }
}

impl CommandError {
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        CommandError {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, CommandError>;
