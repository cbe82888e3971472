//! Plain TCP on 127.0.0.1, for fast tests with many nodes.
//!
//! A service binds one ephemeral port per virtual port and writes it to
//! `<registry>/<onion label>.<virtual port>`; a client reads that file and connects. Nodes in one
//! process or in several (sharing the registry directory) find each other this way.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use postern_crypto::IdentityKeys;
use postern_types::OnionAddress;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::{
    BootstrapStatus, Incoming, Listener, ServiceOptions, Stream, Transport, TransportError,
};

/// Loopback TCP transport.
#[derive(Debug)]
pub struct LoopbackTransport {
    registry: PathBuf,
    status: watch::Sender<BootstrapStatus>,
    connect_timeout: Duration,
}

impl LoopbackTransport {
    /// A transport whose services register in `registry` (created if missing).
    pub fn new(registry: &Path) -> Result<Self, TransportError> {
        std::fs::create_dir_all(registry)?;
        let (status, _) = watch::channel(BootstrapStatus::starting());
        Ok(LoopbackTransport {
            registry: registry.to_owned(),
            status,
            connect_timeout: Duration::from_secs(5),
        })
    }

    fn entry(&self, onion: &OnionAddress, port: u16) -> PathBuf {
        self.registry.join(format!("{}.{port}", onion.label()))
    }
}

/// Stops the accept loops and removes the registry entries (those still its own: another
/// device of the person may have taken the address over meanwhile).
struct Running {
    tasks: Vec<JoinHandle<()>>,
    entries: Vec<(PathBuf, String)>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for (e, ours) in &self.entries {
            if std::fs::read_to_string(e).is_ok_and(|now| &now == ours) {
                let _ = std::fs::remove_file(e);
            }
        }
    }
}

#[async_trait::async_trait]
impl Transport for LoopbackTransport {
    async fn start(&self) -> Result<(), TransportError> {
        self.status.send_replace(BootstrapStatus {
            fraction: 1.0,
            phase: "loopback ready".into(),
            ready: true,
        });
        Ok(())
    }

    fn bootstrap_status(&self) -> watch::Receiver<BootstrapStatus> {
        self.status.subscribe()
    }

    async fn serve(
        &self,
        identity: &IdentityKeys,
        options: &ServiceOptions,
    ) -> Result<Listener, TransportError> {
        // One TCP connection carries one stream: the per-circuit limit holds by construction;
        // there is no proof of work without Tor.
        let ports = &options.ports;
        let onion = *identity.address().onion();
        let (tx, rx) = mpsc::channel(64);
        let circuits = Arc::new(AtomicU64::new(0));
        let mut running = Running {
            tasks: Vec::new(),
            entries: Vec::new(),
        };
        for &port in ports {
            let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
            let local = listener.local_addr()?;
            let entry = self.entry(&onion, port);
            let tmp = entry.with_extension("tmp");
            std::fs::write(&tmp, local.to_string())?;
            std::fs::rename(&tmp, &entry)?;
            running.entries.push((entry, local.to_string()));
            let tx = tx.clone();
            let circuits = circuits.clone();
            running.tasks.push(tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    let circuit = circuits.fetch_add(1, Ordering::Relaxed) + 1;
                    let incoming = Incoming {
                        port,
                        circuit,
                        stream: Box::new(stream),
                    };
                    if tx.send(incoming).await.is_err() {
                        return;
                    }
                }
            }));
        }
        Ok(Listener::new(onion, rx, Box::new(running)))
    }

    async fn connect(
        &self,
        _from: &OnionAddress,
        to: &OnionAddress,
        port: u16,
    ) -> Result<Stream, TransportError> {
        let unreachable = |reason: String| TransportError::Unreachable {
            onion: to.redacted(),
            reason,
        };
        let addr = std::fs::read_to_string(self.entry(to, port))
            .map_err(|_| unreachable("no such service is running".into()))?;
        let stream = tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr.trim()))
            .await
            .map_err(|_| unreachable("timed out".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        Ok(Box::new(stream))
    }
}
