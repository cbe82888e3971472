#![doc = include_str!("../README.md")]

mod arti;
mod error;
mod loopback;

use std::fmt;

use postern_crypto::IdentityKeys;
use postern_types::OnionAddress;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

pub use arti::{ArtiOptions, ArtiTransport};
pub use error::TransportError;
pub use loopback::LoopbackTransport;

/// A bidirectional byte stream (a Tor stream or a TCP connection).
pub trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> ByteStream for T {}

/// A boxed stream, so that callers need not know which transport they run over.
pub type Stream = Box<dyn ByteStream>;

/// How far the transport is in connecting to the network.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapStatus {
    /// 0.0 ..= 1.0.
    pub fraction: f32,
    /// What it is doing, in words.
    pub phase: String,
    /// Ready to serve and connect.
    pub ready: bool,
}

impl BootstrapStatus {
    pub(crate) fn starting() -> Self {
        BootstrapStatus {
            fraction: 0.0,
            phase: "starting".into(),
            ready: false,
        }
    }
}

/// What a service accepts, against a flood of clients.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// The virtual ports served (25 for SMTP).
    pub ports: Vec<u16>,
    /// Streams one rendezvous circuit may have open at once; beyond it the circuit is closed.
    pub streams_per_circuit: u32,
    /// Rendezvous handshakes in progress at once. Requests beyond wait in arti's queue, where
    /// the proof-of-work defence ranks them by the effort their clients paid.
    pub rendezvous_in_progress: usize,
    /// Arti's onion-service proof-of-work defence: under load, clients must solve a puzzle
    /// whose difficulty the service raises; quiet services ask nothing.
    pub proof_of_work: bool,
}

impl ServiceOptions {
    /// Defaults for `ports`: 8 streams per circuit, 16 rendezvous at once, proof of work on.
    pub fn for_ports(ports: &[u16]) -> Self {
        ServiceOptions {
            ports: ports.to_vec(),
            streams_per_circuit: 8,
            rendezvous_in_progress: 16,
            proof_of_work: true,
        }
    }
}

/// A stream that arrived at one of our services.
pub struct Incoming {
    /// The virtual port it was opened to (25 for SMTP).
    pub port: u16,
    /// Streams over the same rendezvous circuit (or TCP connection) share this number.
    pub circuit: u64,
    /// The stream.
    pub stream: Stream,
}

impl fmt::Debug for Incoming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("port", &self.port)
            .field("circuit", &self.circuit)
            .finish_non_exhaustive()
    }
}

/// A running service for one identity. Dropping it stops the service.
pub struct Listener {
    onion: OnionAddress,
    rx: mpsc::Receiver<Incoming>,
    _running: Box<dyn Send + Sync>,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("onion", &self.onion)
            .finish_non_exhaustive()
    }
}

impl Listener {
    pub(crate) fn new(
        onion: OnionAddress,
        rx: mpsc::Receiver<Incoming>,
        running: Box<dyn Send + Sync>,
    ) -> Self {
        Listener {
            onion,
            rx,
            _running: running,
        }
    }

    /// The address this service is reachable at.
    pub fn onion(&self) -> &OnionAddress {
        &self.onion
    }

    /// The next incoming stream; `None` once the service has stopped.
    pub async fn accept(&mut self) -> Option<Incoming> {
        self.rx.recv().await
    }
}

/// The network, as Postern's protocol code sees it.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Connect to the network. Progress is published on `bootstrap_status()`. Returns once ready,
    /// or with an error if the deadline passes.
    async fn start(&self) -> Result<(), TransportError>;

    /// Bootstrap progress, as it changes.
    fn bootstrap_status(&self) -> watch::Receiver<BootstrapStatus>;

    /// Serve `identity`'s onion service, accepting streams to `options.ports`.
    async fn serve(
        &self,
        identity: &IdentityKeys,
        options: &ServiceOptions,
    ) -> Result<Listener, TransportError>;

    /// Open a stream to `(to, port)` on behalf of the identity whose onion address is `from`.
    /// Streams for different `from` never share a circuit.
    async fn connect(
        &self,
        from: &OnionAddress,
        to: &OnionAddress,
        port: u16,
    ) -> Result<Stream, TransportError>;
}
