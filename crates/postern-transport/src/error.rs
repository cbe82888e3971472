use postern_types::{ErrorKind, HasKind};

/// Errors of the network layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Could not connect to the Tor network in time.
    #[error("could not connect to the Tor network within {seconds} s (last step: {phase}); check the network connection or the Tor configuration")]
    Bootstrap {
        /// The deadline.
        seconds: u64,
        /// The last phase reached.
        phase: String,
    },
    /// The transport was used before `start`.
    #[error("not connected to the Tor network yet")]
    NotStarted,
    /// The configuration was refused.
    #[error("Tor configuration error: {0}")]
    Config(String),
    /// The onion service could not be launched.
    #[error("cannot start the onion service for {onion}: {reason}")]
    Launch {
        /// Redacted address.
        onion: String,
        /// Why.
        reason: String,
    },
    /// The peer could not be reached.
    #[error("{onion} is unreachable: {reason}")]
    Unreachable {
        /// Redacted address.
        onion: String,
        /// Why.
        reason: String,
    },
    /// Local I/O.
    #[error("network I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl HasKind for TransportError {
    fn kind(&self) -> ErrorKind {
        match self {
            TransportError::Bootstrap { .. } | TransportError::Unreachable { .. } => {
                ErrorKind::Unreachable
            }
            TransportError::NotStarted | TransportError::Launch { .. } => ErrorKind::Internal,
            TransportError::Config(_) => ErrorKind::BadInput,
            TransportError::Io(_) => ErrorKind::LocalIo,
        }
    }
}
