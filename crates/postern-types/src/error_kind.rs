//! The kinds of failure a front end can act on.

use serde::{Deserialize, Serialize};

/// What a person (or a script) can do about an error.
///
/// Library crates keep detailed `thiserror` enums; each maps onto one of these kinds so that the
/// CLI can choose an exit code and the UI a sentence, without matching on every variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input (a command argument, a card, a file) is malformed. Fix the input.
    BadInput,
    /// The passphrase does not unlock this store.
    WrongPassphrase,
    /// The store has not been initialised yet; run `init` first.
    NotInitialized,
    /// The store already exists; refusing to overwrite it.
    AlreadyExists,
    /// The thing asked for does not exist.
    NotFound,
    /// The data on disk is damaged; nothing was changed.
    Corrupt,
    /// The data on disk was written by a newer Postern; upgrade.
    TooNew,
    /// A signature or binding does not verify: someone tampered, or it belongs elsewhere.
    Untrusted,
    /// The network or a peer is unreachable right now; trying later may help.
    Unreachable,
    /// A local I/O problem (disk full, permissions).
    LocalIo,
    /// A bug in Postern.
    Internal,
}

impl ErrorKind {
    /// Stable process exit code for the CLI (documented in the README).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::BadInput => 2,
            ErrorKind::WrongPassphrase => 3,
            ErrorKind::NotInitialized => 4,
            ErrorKind::AlreadyExists => 5,
            ErrorKind::NotFound => 6,
            ErrorKind::Corrupt => 7,
            ErrorKind::TooNew => 8,
            ErrorKind::Untrusted => 9,
            ErrorKind::Unreachable => 10,
            ErrorKind::LocalIo => 11,
            ErrorKind::Internal => 70,
        }
    }
}

/// Implemented by every error type in Postern's library crates.
pub trait HasKind {
    /// The kind of this error.
    fn kind(&self) -> ErrorKind;
}
