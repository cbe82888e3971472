//! What the app holds while it runs: the unlocked store and the running node.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use postern_core::{BootstrapStatus, Network, Node, Postern};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::error::{CommandError, Result};

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

/// The app's state.
#[derive(Debug)]
pub struct Shell {
    pub data_dir: PathBuf,
    pub network: Network,
    pub postern: Arc<Mutex<Option<Postern>>>,
    pub node: Arc<Mutex<Option<Node>>>,
    pub status: Arc<std::sync::Mutex<NodeStatus>>,
}

impl Shell {
    /// Data directory and network from the environment: `POSTERN_DATA_DIR` (else the platform's
    /// data directory), `POSTERN_LOOPBACK=DIR` (tests: loopback TCP) or
    /// `POSTERN_NETWORK_CONFIG=FILE` (a private Tor network); the default is the real Tor network.
    pub fn from_env() -> Self {
        let data_dir = std::env::var_os("POSTERN_DATA_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                directories::ProjectDirs::from("org", "Postern", "postern")
                    .map(|p| p.data_dir().to_owned())
            })
            .unwrap_or_else(|| PathBuf::from("postern-data"));
        let network = if let Some(reg) = std::env::var_os("POSTERN_LOOPBACK") {
            Network::Loopback {
                registry: PathBuf::from(reg),
            }
        } else if let Some(cfg) =
            std::env::var_os("POSTERN_NETWORK_CONFIG").and_then(|p| std::fs::read_to_string(p).ok())
        {
            Network::Tor {
                network_toml: Some(cfg),
                bootstrap_timeout: Duration::from_secs(180),
            }
        } else {
            Network::tor()
        };
        Shell {
            data_dir,
            network,
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

    pub fn set_status(&self, f: impl FnOnce(&mut NodeStatus)) {
        let mut s = self
            .status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut s);
    }

    pub fn status(&self) -> NodeStatus {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Run `f` on the unlocked store.
    pub async fn with<T>(&self, f: impl FnOnce(&mut Postern) -> Result<T>) -> Result<T> {
        let mut guard = self.postern.lock().await;
        let p = guard.as_mut().ok_or_else(|| {
            CommandError::new(
                "NotInitialized",
                "Postern is locked; enter your passphrase first",
            )
        })?;
        f(p)
    }

    /// Join the network and serve every identity; progress goes to `status`.
    pub async fn start_node(&self) -> Result<()> {
        if self.node.lock().await.is_some() {
            return Ok(());
        }
        // Take what the node needs from the store now; bootstrapping Tor then runs without
        // holding the store, so the other screens keep working.
        let prepared = {
            let guard = self.postern.lock().await;
            let postern = guard.as_ref().ok_or_else(|| {
                CommandError::new(
                    "NotInitialized",
                    "Postern is locked; enter your passphrase first",
                )
            })?;
            let transport = self.network.transport(postern.data_dir())?;
            Node::prepare(postern, transport, postern_core::NodeConfig::default())?
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
                let e = CommandError::from(e);
                self.set_status(|s| {
                    s.state = "failed".into();
                    s.message = e.message.clone();
                });
                Err(e)
            }
        }
    }

    /// Wake the node's outbox after queuing something.
    pub async fn wake(&self) {
        if let Some(n) = self.node.lock().await.as_ref() {
            n.wake_outbox();
        }
    }
}
