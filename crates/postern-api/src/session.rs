//! What a running app holds: the data directory, the network, the unlocked store and the node.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use postern_core::{BootstrapStatus, ErrorKind, Network, Node, NodeConfig, Postern};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::error::{ApiError, Result};

/// The node's state, as the Network screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    /// `off`, `connecting`, `online`, `failed`.
    pub state: String,
    /// Bootstrap progress, 0–100.
    pub percent: u32,
    /// What it is doing, or why it failed.
    pub message: String,
    /// Addresses served once online.
    pub serving: Vec<String>,
}

/// Where the app keeps its data and which network it joins.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The network the node joins.
    pub network: Network,
}

impl SessionConfig {
    /// From the environment: `POSTERN_DATA_DIR` (else the platform's data directory),
    /// `POSTERN_LOOPBACK=DIR` (tests: loopback TCP) or `POSTERN_NETWORK_CONFIG=FILE` (a private
    /// Tor network); the default is the real Tor network. Nothing falls back silently: a
    /// configuration file that cannot be read, or no data directory at all, is an error.
    pub fn from_env() -> Result<Self> {
        let data_dir = match std::env::var_os("POSTERN_DATA_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => directories::ProjectDirs::from("org", "Postern", "postern")
                .map(|p| p.data_dir().to_owned())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorKind::LocalIo,
                        "this system names no data directory for Postern (no home directory?); \
                         set POSTERN_DATA_DIR",
                    )
                })?,
        };
        let network = if let Some(reg) = std::env::var_os("POSTERN_LOOPBACK") {
            Network::Loopback {
                registry: PathBuf::from(reg),
            }
        } else if let Some(path) = std::env::var_os("POSTERN_NETWORK_CONFIG") {
            let path = PathBuf::from(path);
            let toml = std::fs::read_to_string(&path).map_err(|e| {
                ApiError::new(
                    ErrorKind::LocalIo,
                    format!(
                        "cannot read the network configuration {} (POSTERN_NETWORK_CONFIG): {e}",
                        path.display()
                    ),
                )
            })?;
            Network::Tor {
                network_toml: Some(toml),
                bootstrap_timeout: Duration::from_secs(180),
            }
        } else {
            Network::tor()
        };
        Ok(SessionConfig { data_dir, network })
    }
}

/// The app's state while it runs.
#[derive(Debug)]
pub struct Session {
    pub(crate) config: std::result::Result<SessionConfig, ApiError>,
    pub(crate) postern: Arc<Mutex<Option<Postern>>>,
    node: Arc<Mutex<Option<Node>>>,
    status: Arc<std::sync::Mutex<NodeStatus>>,
}

impl Session {
    /// A session for `config`. A configuration that failed is kept: every command answers with
    /// its error, so the app can show it instead of not starting.
    pub fn new(config: std::result::Result<SessionConfig, ApiError>) -> Self {
        Session {
            config,
            postern: Arc::new(Mutex::new(None)),
            node: Arc::new(Mutex::new(None)),
            status: Arc::new(std::sync::Mutex::new(NodeStatus {
                state: "off".into(),
                percent: 0,
                message: String::new(),
                serving: Vec::new(),
            })),
        }
    }

    pub(crate) fn config(&self) -> Result<&SessionConfig> {
        self.config.as_ref().map_err(Clone::clone)
    }

    fn set_status(&self, f: impl FnOnce(&mut NodeStatus)) {
        let mut s = self
            .status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut s);
    }

    /// The node's state now.
    pub fn status(&self) -> NodeStatus {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Run `f` on the unlocked store.
    pub(crate) async fn with<T>(&self, f: impl FnOnce(&mut Postern) -> Result<T>) -> Result<T> {
        let mut guard = self.postern.lock().await;
        let p = guard.as_mut().ok_or_else(|| {
            ApiError::new(
                ErrorKind::NotInitialized,
                "Postern is locked; enter your passphrase first",
            )
        })?;
        f(p)
    }

    /// Join the network and serve every identity; progress goes to `status`.
    pub(crate) async fn start_node(&self) -> Result<()> {
        if self.node.lock().await.is_some() {
            return Ok(());
        }
        let network = self.config()?.network.clone();
        // Take what the node needs from the store now; bootstrapping Tor then runs without
        // holding the store, so the other screens keep working.
        let prepared = {
            let guard = self.postern.lock().await;
            let postern = guard.as_ref().ok_or_else(|| {
                ApiError::new(
                    ErrorKind::NotInitialized,
                    "Postern is locked; enter your passphrase first",
                )
            })?;
            let transport = network.transport(postern.data_dir())?;
            Node::prepare(postern, transport, NodeConfig::default())?
        };
        let transport = prepared.transport().clone();
        let mut rx = Node::bootstrap_status(transport.as_ref());
        let status = self.status.clone();
        tokio::spawn(async move {
            loop {
                let s: BootstrapStatus = rx.borrow_and_update().clone();
                {
                    let mut st = status
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if st.state == "connecting" {
                        st.percent = (s.fraction.clamp(0.0, 1.0) * 100.0).round() as u32;
                        st.message = s.phase.clone();
                    }
                }
                if s.ready || rx.changed().await.is_err() {
                    break;
                }
            }
        });
        self.set_status(|s| {
            s.state = "connecting".into();
            s.message = "starting".into();
        });
        match prepared.start().await {
            Ok(node) => {
                let serving = node.serving().to_vec();
                *self.node.lock().await = Some(node);
                self.set_status(|s| {
                    s.state = "online".into();
                    s.percent = 100;
                    s.message.clear();
                    s.serving = serving;
                });
                Ok(())
            }
            Err(e) => {
                let e = ApiError::from(e);
                self.set_status(|s| {
                    s.state = "failed".into();
                    s.message = e.message.clone();
                });
                Err(e)
            }
        }
    }

    /// Wake the node's outbox after queuing something.
    pub(crate) async fn wake(&self) {
        if let Some(n) = self.node.lock().await.as_ref() {
            n.wake_outbox();
        }
    }
}
