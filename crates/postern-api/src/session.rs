//! What a running app holds: the data directory, the network, the unlocked store and the node.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use postern_core::{BootstrapStatus, ErrorKind, Network, Node, NodeConfig, Postern};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{broadcast, Mutex, Notify};

use crate::error::{ApiError, Result};

/// The node's state, as the Network screen shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct NodeStatus {
    /// `off`, `connecting`, `online`, `paused` (the device sleeps), `failed`.
    pub state: String,
    /// Bootstrap progress, 0–100.
    pub percent: u32,
    /// What it is doing, or why it failed.
    pub message: String,
    /// Addresses served once online.
    pub serving: Vec<String>,
    /// Identities not served here because another of the person's devices serves them.
    pub standing_by: Vec<StandingBy>,
}

/// An identity another of the person's devices serves.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct StandingBy {
    /// The identity's address.
    pub address: String,
    /// The device that serves it (first 8 hex digits of its id), or `unknown`.
    pub device: String,
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
    /// What changed, for whoever shows it (see `subscribe`).
    events: broadcast::Sender<Value>,
    /// Poked when something may have been written, so the change log is read at once.
    written: Arc<Notify>,
    following: std::sync::atomic::AtomicBool,
    /// The node was stopped because the device went to sleep; `resume` starts it again.
    paused: std::sync::atomic::AtomicBool,
    /// A second device: the offer in the background, and how far a transfer has come.
    pub(crate) device: crate::devices::DeviceTransfer,
}

/// How long the change log may go unread while nothing pokes it: the node writes from its own
/// connections (arriving mail, deliveries), which this session does not see.
const EVENT_CHECK: Duration = Duration::from_millis(500);

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
                standing_by: Vec::new(),
            })),
            events: broadcast::channel(256).0,
            written: Arc::new(Notify::new()),
            following: std::sync::atomic::AtomicBool::new(false),
            paused: std::sync::atomic::AtomicBool::new(false),
            device: Default::default(),
        }
    }

    /// Every change from now on, as JSON: the store's events (`postern_core::EventView`: new
    /// mail, delivery states, contacts, carrying) and the node's state (`{"kind": "tor", …}`).
    /// A receiver that falls behind by more than 256 is told it lagged, and reloads.
    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.events.subscribe()
    }

    /// Something may have changed: read the change log now.
    pub(crate) fn changed(&self) {
        self.written.notify_one();
    }

    /// Once the store is unlocked: follow its change log and announce every new event.
    pub(crate) async fn follow_events(&self) {
        use std::sync::atomic::Ordering;
        if self.following.swap(true, Ordering::SeqCst) {
            return;
        }
        let (postern, events, written) = (
            self.postern.clone(),
            self.events.clone(),
            self.written.clone(),
        );
        let mut last = match postern.lock().await.as_ref().map(Postern::last_event) {
            Some(Ok(n)) => n,
            _ => 0,
        };
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = written.notified() => {}
                    _ = tokio::time::sleep(EVENT_CHECK) => {}
                }
                // Each event, and after it the notification it deserves (decided by the core,
                // under the device's settings; the shell only shows it).
                let new = match postern.lock().await.as_ref() {
                    Some(p) => p.events_after(last, postern_core::MAX_EVENTS).map(|list| {
                        list.into_iter()
                            .map(|e| {
                                let n = p.notification_for(&e).ok().flatten();
                                (e, n)
                            })
                            .collect::<Vec<_>>()
                    }),
                    None => return,
                };
                match new {
                    Ok(list) => {
                        for (e, n) in list {
                            last = e.id;
                            if let Ok(v) = serde_json::to_value(&e) {
                                let _ = events.send(v);
                            }
                            if let Some(n) = n {
                                let _ = events.send(json!({
                                    "kind": "notification",
                                    "title": n.title,
                                    "body": n.body,
                                }));
                            }
                        }
                    }
                    Err(e) => tracing::warn!("reading the change log: {e}"),
                }
            }
        });
    }

    fn announce_status(&self) {
        announce(&self.events, &self.status());
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
        let events = self.events.clone();
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
                        announce(&events, &st);
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
        self.announce_status();
        match prepared.start().await {
            Ok(node) => {
                *self.node.lock().await = Some(node);
                self.set_status(|s| {
                    s.state = "online".into();
                    s.percent = 100;
                    s.message.clear();
                });
                self.refresh_status().await;
                self.announce_status();
                Ok(())
            }
            Err(e) => {
                let e = ApiError::from(e);
                self.set_status(|s| {
                    s.state = "failed".into();
                    s.message = e.message.clone();
                });
                self.announce_status();
                Err(e)
            }
        }
    }

    /// What the node serves, and what it stands by for, as of now (another device may have
    /// taken an identity over while it ran).
    pub(crate) async fn refresh_status(&self) {
        let node = self.node.lock().await;
        if let Some(node) = node.as_ref() {
            let serving = node.serving();
            let standing_by = node
                .standing_by()
                .into_iter()
                .map(|(address, device)| StandingBy { address, device })
                .collect();
            self.set_status(|s| {
                s.serving = serving;
                s.standing_by = standing_by;
            });
        }
    }

    /// Stop the node, if it runs; whether it ran.
    pub(crate) async fn stop_node(&self) -> bool {
        self.paused
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let was = self.node.lock().await.take().is_some();
        if was {
            self.set_status(|s| {
                s.state = "off".into();
                s.serving.clear();
                s.standing_by.clear();
            });
            self.announce_status();
        }
        was
    }

    /// The device is going to sleep (a phone's screen off and the system suspending, a
    /// laptop's lid shut): stop the node cleanly — a message being received gets up to `grace`
    /// to arrive — and start it again on [`Session::resume`]. Meanwhile contacts' mail waits
    /// in their outboxes and with our carriers. Whether a node was running.
    pub async fn suspend(&self, grace: Duration) -> bool {
        let Some(node) = self.node.lock().await.take() else {
            return false;
        };
        self.paused.store(true, std::sync::atomic::Ordering::SeqCst);
        self.set_status(|s| {
            s.state = "paused".into();
            s.percent = 0;
            s.message = "paused while this device sleeps; your carriers hold mail meanwhile".into();
            s.serving.clear();
            s.standing_by.clear();
        });
        self.announce_status();
        node.stop(grace).await;
        true
    }

    /// The device woke: start the node again if `suspend` stopped it (coming online it asks
    /// the carriers for what they held, and sends what waited). Whether it was paused.
    pub async fn resume(&self) -> Result<bool> {
        if !self.paused.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Ok(false);
        }
        self.start_node().await?;
        Ok(true)
    }

    /// Wake the node's outbox after queuing something.
    pub(crate) async fn wake(&self) {
        if let Some(n) = self.node.lock().await.as_ref() {
            n.wake_outbox();
        }
    }
}

/// The node's state, as an event.
fn announce(events: &broadcast::Sender<Value>, s: &NodeStatus) {
    let _ = events.send(json!({
        "kind": "tor",
        "detail": s.state,
        "percent": s.percent,
        "message": s.message,
    }));
}
