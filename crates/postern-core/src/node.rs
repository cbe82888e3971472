//! The running node: connect to the network and serve every identity's onion service.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use postern_transport::{
    ArtiOptions, ArtiTransport, BootstrapStatus, Listener, LoopbackTransport, Transport,
};
use tokio::sync::watch;

use crate::{CoreError, Postern};

/// The virtual port every identity's mail service listens on.
pub const SMTP_PORT: u16 = 25;

/// Which network a node joins.
#[derive(Debug, Clone)]
pub enum Network {
    /// Tor, through arti. `network_toml` selects a private network (local mode, tests);
    /// `None` is the real Tor network.
    Tor {
        /// Extra arti configuration selecting a private network.
        network_toml: Option<String>,
        /// Give up bootstrapping after this long.
        bootstrap_timeout: Duration,
    },
    /// Loopback TCP, with services registered in a shared directory (tests, demos on one machine).
    Loopback {
        /// The registry directory shared by all nodes.
        registry: std::path::PathBuf,
    },
}

impl Network {
    /// The real Tor network with default timeouts.
    pub fn tor() -> Self {
        Network::Tor {
            network_toml: None,
            bootstrap_timeout: Duration::from_secs(180),
        }
    }

    /// Build the transport for this network, with arti's state under `data_dir/tor`.
    /// Must be called inside a tokio runtime.
    pub fn transport(&self, data_dir: &Path) -> Result<Arc<dyn Transport>, CoreError> {
        Ok(match self {
            Network::Tor {
                network_toml,
                bootstrap_timeout,
            } => {
                let mut o = ArtiOptions::in_dir(&data_dir.join("tor"));
                o.network_toml = network_toml.clone();
                o.bootstrap_timeout = *bootstrap_timeout;
                Arc::new(ArtiTransport::new(o)?)
            }
            Network::Loopback { registry } => Arc::new(LoopbackTransport::new(registry)?),
        })
    }
}

/// A node that has joined the network and serves its identities.
#[derive(Debug)]
pub struct Node {
    transport: Arc<dyn Transport>,
    services: Vec<(String, Listener)>,
}

impl Node {
    /// Bootstrap progress of a transport, for a progress bar. Subscribe before `start`.
    pub fn bootstrap_status(transport: &dyn Transport) -> watch::Receiver<BootstrapStatus> {
        transport.bootstrap_status()
    }

    /// Connect to the network and launch an onion service for every identity.
    pub async fn start(
        postern: &Postern,
        transport: Arc<dyn Transport>,
    ) -> Result<Node, CoreError> {
        transport.start().await?;
        let mut services = Vec::new();
        for id in postern.identities()? {
            let keys = postern.identity_keys(&id.id.to_string())?;
            let listener = transport.serve(&keys, &[SMTP_PORT]).await?;
            tracing::info!(identity = %keys.address().redacted(), "serving");
            services.push((id.address, listener));
        }
        Ok(Node {
            transport,
            services,
        })
    }

    /// The addresses being served.
    pub fn serving(&self) -> Vec<&str> {
        self.services.iter().map(|(a, _)| a.as_str()).collect()
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Take the listeners, to hand them to protocol servers.
    pub fn take_listeners(&mut self) -> Vec<(String, Listener)> {
        std::mem::take(&mut self.services)
    }
}
