//! The running node: join the network, serve every identity's mail service, drain the outbox.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use postern_store::Store;
use postern_transport::{
    ArtiOptions, ArtiTransport, BootstrapStatus, Listener, LoopbackTransport, ServiceOptions,
    Transport,
};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::clients::ClientServers;
use crate::context::{LocalIdentity, NodeShared};
use crate::inbound::{serve_onion, MailWriter, Mailroom, OnionMembers, SessionTable};
use crate::leases::{before_serving, recheck_loop, Placement, ServiceLeases};
use crate::outbound;
use crate::{ClientAccess, ClientPorts, ONION_IMAP_PORT, ONION_SUBMISSION_PORT};
use crate::{Clock, CoreError, NodeConfig, Postern, SmtpLimits};

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

/// A node that has joined the network, serves its identities and delivers its outbox.
/// Dropping it stops everything.
#[derive(Debug)]
pub struct Node {
    shared: Arc<NodeShared>,
    /// Each address served, with the identity whose onion service serves it.
    serving: Vec<(i64, String)>,
    tasks: Vec<JoinHandle<()>>,
    clients: Option<ClientAccess>,
    leases: Arc<ServiceLeases>,
    /// The SMTP sessions being served (closed gracefully by `stop`).
    sessions: Arc<SessionTable>,
    /// Held for the node's life: one node per data directory, so that no onion service runs
    /// twice.
    _lock: std::fs::File,
}

/// Name of the lock file in the data directory.
const NODE_LOCK: &str = "node.lock";

pub(crate) fn lock_data_dir(dir: &Path) -> Result<std::fs::File, CoreError> {
    let path = dir.join(NODE_LOCK);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            CoreError::Store(postern_store::StoreError::Io {
                path: path.clone(),
                source: e,
            })
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(CoreError::AlreadyRunning(dir.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(CoreError::Store(postern_store::StoreError::Io {
                path,
                source: e,
            }))
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Node {
    /// Stop cleanly, e.g. before the device sleeps: the onion services stop answering and
    /// nothing new is sent or pulled at once; SMTP sessions not in a mail transaction are
    /// closed (`421`), and a message being received gets until `grace` to arrive and be
    /// stored. What peers send meanwhile waits in their outboxes or with our carriers, and a
    /// delivery cut off here is retried: nothing is acknowledged and then lost.
    pub async fn stop(self, grace: Duration) {
        for t in &self.tasks {
            t.abort();
        }
        self.sessions.close(grace).await;
        tracing::info!("node stopped");
    }

    /// Bootstrap progress of a transport, for a progress bar. Subscribe before `start`.
    pub fn bootstrap_status(transport: &dyn Transport) -> watch::Receiver<BootstrapStatus> {
        transport.bootstrap_status()
    }

    /// Connect to the network, launch every identity's onion service with its SMTP server, and
    /// start draining the outbox.
    pub async fn start(
        postern: &Postern,
        transport: Arc<dyn Transport>,
        config: NodeConfig,
    ) -> Result<Node, CoreError> {
        Self::prepare(postern, transport, config)?.start().await
    }

    /// Everything [`Node::start`] needs from the store, taken now (holding the data directory's
    /// lock), so that the rest can run on any thread without borrowing the `Postern`.
    pub fn prepare(
        postern: &Postern,
        transport: Arc<dyn Transport>,
        config: NodeConfig,
    ) -> Result<PreparedNode, CoreError> {
        let lock = lock_data_dir(postern.data_dir())?;
        let hosting = !postern.accounts(None)?.is_empty();
        let clients_handle = if config.clients == ClientPorts::default() && !hosting {
            None
        } else {
            Some(postern.another_handle()?)
        };
        let mut identities = HashMap::new();
        let mut cards = HashMap::new();
        for id in postern.identities()? {
            let keys = postern.identity_keys(&id.id.to_string())?;
            cards.insert(
                id.id,
                Arc::new(postern.export_card(&id.id.to_string(), true)?),
            );
            identities.insert(id.id, Arc::new(LocalIdentity::load(postern, id.id, keys)?));
        }
        Ok(PreparedNode {
            transport,
            config,
            identities,
            cards,
            writer_store: postern.store.another_connection()?,
            reader_store: postern.store.another_connection()?,
            shared_store: postern.store.another_connection()?,
            lease_store: postern.store.another_connection()?,
            clients_handle,
            clock: postern.clock.clone(),
            lock,
        })
    }
    /// The addresses being served (not those handed over to another device since start).
    pub fn serving(&self) -> Vec<String> {
        let standby = self.leases.standby();
        self.serving
            .iter()
            .filter(|(host, _)| !standby.contains_key(host))
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// The addresses of identities this node does not serve because another of the person's
    /// devices does, with that device (first 8 hex digits of its id, or "unknown").
    pub fn standing_by(&self) -> Vec<(String, String)> {
        self.leases
            .standby()
            .into_iter()
            .filter_map(|(id, device)| {
                let i = self.shared.identities.get(&id)?;
                Some((i.keys.address().to_string(), device))
            })
            .collect()
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.shared.transport
    }

    /// The local mail-client servers, if configured.
    pub fn clients(&self) -> Option<&ClientAccess> {
        self.clients.as_ref()
    }

    /// Look at the outbox now (after queuing a message in this process).
    pub fn wake_outbox(&self) {
        self.shared.wake.notify_one();
    }
}

/// A node ready to start: see [`Node::prepare`].
#[derive(Debug)]
pub struct PreparedNode {
    transport: Arc<dyn Transport>,
    config: NodeConfig,
    identities: HashMap<i64, Arc<LocalIdentity>>,
    cards: HashMap<i64, Arc<String>>,
    writer_store: Store,
    reader_store: Store,
    shared_store: Store,
    lease_store: Store,
    clients_handle: Option<Postern>,
    clock: Arc<dyn Clock>,
    lock: std::fs::File,
}

impl PreparedNode {
    /// Join the network and start serving; see [`Node::start`].
    pub async fn start(self) -> Result<Node, CoreError> {
        let PreparedNode {
            transport,
            config,
            identities,
            cards,
            writer_store,
            reader_store,
            shared_store,
            lease_store,
            clients_handle,
            clock,
            lock,
        } = self;
        transport.start().await?;
        let leases = Arc::new(ServiceLeases::new(
            lease_store,
            clock.clone(),
            config.devices.lease,
        )?);
        let writer = MailWriter::start(writer_store);
        let carrier_wake = Arc::new(Notify::new());
        let list_wake = Arc::new(Notify::new());
        let mailroom = Arc::new(Mailroom::new(
            reader_store,
            writer,
            clock.clone(),
            carrier_wake.clone(),
            list_wake.clone(),
            &config,
            leases.clone(),
        ));
        let shared = Arc::new(NodeShared::new(
            transport.clone(),
            shared_store,
            identities,
            clock,
            config,
            carrier_wake,
            list_wake,
        ));
        let client_servers = match clients_handle {
            Some(handle) => {
                let waker = shared.clone();
                let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || waker.wake.notify_one());
                let size = shared.config.smtp.max_message_size;
                Some(ClientServers::new(&handle, size, wake)?)
            }
            None => None,
        };
        let inbound = &shared.config.inbound;
        let sessions = SessionTable::new(
            inbound.connections_per_node,
            inbound.transactions_per_node,
            inbound.transactions_per_identity,
        );
        let mut tasks = Vec::new();
        let mut serving = Vec::new();
        // An identity copied to another device of the person is served where its lease says;
        // the devices ask at the identity's own address, all identities at once.
        let devices = shared.config.devices;
        let hosts: Vec<Arc<LocalIdentity>> = shared
            .identities
            .values()
            .filter(|i| i.host_id.is_none())
            .cloned()
            .collect();
        let mut checks = Vec::new();
        for host in &hosts {
            let (leases, transport, host) = (leases.clone(), transport.clone(), host.clone());
            let timeouts = shared.config.client;
            checks.push(tokio::spawn(async move {
                before_serving(
                    &leases,
                    transport.as_ref(),
                    &host,
                    timeouts,
                    devices.check_patience,
                )
                .await
            }));
        }
        let mut to_serve = Vec::new();
        for (host, check) in hosts.iter().zip(checks) {
            let serve = check.await.map_err(|e| {
                CoreError::ServiceElsewhere(format!("asking for your other devices failed: {e}"))
            })??;
            if serve {
                // An identity on several of the person's devices is launched at once: the
                // device holding its lease must answer at its address when another checks.
                let alone = leases.placement(&host.keys)? == Placement::Alone;
                to_serve.push((host.clone(), alone));
            }
        }
        // One onion service per onion: an identity's own, answering also for the accounts it
        // hosts (whose holders' mail clients reach it on the IMAP and submission ports). Several
        // services are launched each after its own random delay (`Unlinking::launch_spread`),
        // except those of identities on several devices.
        let mut delays = crate::config::independent_delays(
            to_serve.len(),
            shared.config.unlinking.launch_spread,
            &mut rand::rngs::OsRng,
        )
        .into_iter();
        for (host, alone) in to_serve {
            let delay = delays.next().filter(|_| alone).unwrap_or_default();
            let mut members = vec![host.clone()];
            members.extend(
                shared
                    .identities
                    .values()
                    .filter(|i| i.host_id == Some(host.id))
                    .cloned(),
            );
            let hosting = members.len() > 1;
            let mut ports = vec![SMTP_PORT];
            if hosting {
                ports.extend([ONION_IMAP_PORT, ONION_SUBMISSION_PORT]);
            }
            let service = ServiceOptions {
                ports,
                streams_per_circuit: inbound.streams_per_circuit,
                rendezvous_in_progress: inbound.transactions_per_identity,
                proof_of_work: inbound.onion_pow,
            };
            serving.extend(
                members
                    .iter()
                    .map(|m| (host.id, m.keys.address().to_string())),
            );
            let mut members = members.into_iter().map(|m| {
                let card = cards.get(&m.id).cloned().unwrap_or_default();
                (m, card)
            });
            let Some(host_member) = members.next() else {
                continue;
            };
            let hosted = members.len();
            let served = OnionService {
                transport: transport.clone(),
                host: host.clone(),
                hosted,
                options: service,
                members: Arc::new(OnionMembers::new(host_member, members.collect())),
                mailroom: mailroom.clone(),
                limits: shared.config.smtp.clone(),
                sessions: sessions.clone(),
                clients: if hosting {
                    client_servers.clone()
                } else {
                    None
                },
            };
            // A service launched at once fails the start if it cannot be launched.
            let task = if delay.is_zero() {
                let listener = served.launch().await?;
                tokio::spawn(served.run(listener))
            } else {
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    match served.launch().await {
                        Ok(listener) => served.run(listener).await,
                        Err(e) => {
                            tracing::error!(error = %e, "an onion service could not be launched")
                        }
                    }
                })
            };
            leases.running(host.id, task.abort_handle());
            tasks.push(task);
        }
        serving.sort_by(|a, b| a.1.cmp(&b.1));
        tasks.push(tokio::spawn(outbound::outbox_loop(shared.clone())));
        tasks.push(tokio::spawn(outbound::forward_loop(shared.clone())));
        // Coming online: ask our carriers for what they hold for us.
        tasks.push(tokio::spawn(outbound::pull_all(shared.clone())));
        tasks.push(tokio::spawn(crate::lists::list_loop(shared.clone())));
        // Gateway mode: one gateway identity per node (one public server, one domain).
        let gateways = shared.with_store(|s| s.gateway_identities())?;
        if let Some(&gateway) = gateways.first() {
            tasks.extend(crate::gateway::incoming::start(&shared, gateway).await?);
        }
        tasks.push(tokio::spawn(recheck_loop(
            shared.clone(),
            leases.clone(),
            devices.recheck,
            devices.check_patience,
        )));
        let clients = match &client_servers {
            Some(servers) if shared.config.clients != ClientPorts::default() => {
                Some(ClientAccess::start(servers, shared.config.clients)?)
            }
            _ => None,
        };
        Ok(Node {
            shared,
            serving,
            tasks,
            clients,
            leases,
            sessions,
            _lock: lock,
        })
    }
}

impl PreparedNode {
    /// The transport it will use (subscribe to its bootstrap progress before `start`).
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }
}

/// One onion service of the node: launched on the transport, then served.
struct OnionService {
    transport: Arc<dyn Transport>,
    host: Arc<LocalIdentity>,
    /// Hosted accounts answered under the host's onion.
    hosted: usize,
    options: ServiceOptions,
    members: Arc<OnionMembers>,
    mailroom: Arc<Mailroom>,
    limits: SmtpLimits,
    sessions: Arc<SessionTable>,
    clients: Option<Arc<ClientServers>>,
}

impl OnionService {
    async fn launch(&self) -> Result<Listener, CoreError> {
        let listener = self.transport.serve(&self.host.keys, &self.options).await?;
        tracing::info!(identity = %self.host.keys.address().redacted(), hosted = self.hosted, "serving");
        Ok(listener)
    }

    async fn run(self, listener: Listener) {
        serve_onion(
            listener,
            self.members,
            self.mailroom,
            self.limits,
            self.sessions,
            self.clients,
        )
        .await
    }
}
