use std::path::PathBuf;

use postern_types::{ErrorKind, HasKind};

/// Errors opening or using the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No database at the path.
    #[error("no Postern store at {0} (run `postern init` first)")]
    NotInitialized(PathBuf),
    /// A database already exists where a new one was to be created.
    #[error("a Postern store already exists at {0}; refusing to overwrite it")]
    AlreadyExists(PathBuf),
    /// The passphrase does not open this store.
    #[error("wrong passphrase for this store")]
    WrongPassphrase,
    /// The file is not a database, or the database is damaged.
    #[error("the store at {path} is damaged ({detail}); it was left untouched")]
    Corrupt {
        /// Where.
        path: PathBuf,
        /// What SQLite or the integrity check said.
        detail: String,
    },
    /// Written by a newer Postern.
    #[error("the store was written by a newer Postern (schema {found}, this one knows up to {supported}); it was left untouched — update Postern")]
    TooNew {
        /// Version on disk.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// A sealed secret in the store cannot be opened although the passphrase was right.
    #[error("a secret in the store cannot be opened: {0}")]
    Secret(#[source] postern_crypto::CryptoError),
    /// A unique constraint was hit (e.g. the contact already exists).
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// The row asked for does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Creating the directory or file failed.
    #[error("cannot write the store at {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A migration would leave the database inconsistent; it was not applied.
    #[error("migration to schema {version} refused: {why}; the store was left as it was")]
    Migration {
        /// The schema version it would have made.
        version: i64,
        /// What was wrong.
        why: String,
    },
    /// Any other SQLite error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl HasKind for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NotInitialized(_) => ErrorKind::NotInitialized,
            StoreError::AlreadyExists(_) | StoreError::Duplicate(_) => ErrorKind::AlreadyExists,
            StoreError::WrongPassphrase => ErrorKind::WrongPassphrase,
            StoreError::Corrupt { .. } | StoreError::Secret(_) | StoreError::Migration { .. } => {
                ErrorKind::Corrupt
            }
            StoreError::TooNew { .. } => ErrorKind::TooNew,
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::Io { .. } => ErrorKind::LocalIo,
            StoreError::Sqlite(e) => match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DiskFull)
                | Some(rusqlite::ErrorCode::CannotOpen)
                | Some(rusqlite::ErrorCode::ReadOnly)
                | Some(rusqlite::ErrorCode::SystemIoFailure) => ErrorKind::LocalIo,
                Some(rusqlite::ErrorCode::DatabaseCorrupt)
                | Some(rusqlite::ErrorCode::NotADatabase) => ErrorKind::Corrupt,
                _ => ErrorKind::Internal,
            },
        }
    }
}
