//! Real Tor, through arti.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arti_client::config::{BoolOrAuto, TorClientConfigBuilder};
use arti_client::{DirProviderBuilder, IsolationToken, StreamPrefs, TorClient, TorClientConfig};
use futures::StreamExt;
use postern_crypto::{onion_address_of, IdentityKeys};
use postern_types::OnionAddress;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tor_cell::relaycell::msg::{Connected, End, EndReason};
use tor_circmgr::CircMgr;
use tor_dirmgr::{DirMgrConfig, DirMgrStore, DirProvider};
use tor_hsservice::config::OnionServiceConfigBuilder;
use tor_hsservice::{RendRequest, RunningOnionService};
use tor_proto::stream::IncomingStreamRequest;
use tor_rtcompat::PreferredRuntime;

use crate::{
    BootstrapStatus, Incoming, Listener, ServiceOptions, Stream, Transport, TransportError,
};

/// Where arti keeps its state, which network it joins, and how long to wait.
#[derive(Debug, Clone)]
pub struct ArtiOptions {
    /// Arti's state directory (guards, onion-service state).
    pub state_dir: PathBuf,
    /// Arti's cache directory (directory documents).
    pub cache_dir: PathBuf,
    /// Extra arti configuration (TOML) selecting a private network; `None` for the real Tor
    /// network.
    pub network_toml: Option<String>,
    /// Give up bootstrapping after this long.
    pub bootstrap_timeout: Duration,
    /// Give up connecting to an onion service after this long.
    pub connect_timeout: Duration,
}

impl ArtiOptions {
    /// Defaults with state and cache under `dir`, on the real Tor network.
    pub fn in_dir(dir: &Path) -> Self {
        ArtiOptions {
            state_dir: dir.join("state"),
            cache_dir: dir.join("cache"),
            network_toml: None,
            bootstrap_timeout: Duration::from_secs(180),
            connect_timeout: Duration::from_secs(120),
        }
    }

    /// Where the client of the identity whose onion address is `onion` keeps its own state
    /// (its guards, vanguards, circuit timeouts and onion-service state).
    pub fn identity_state_dir(&self, onion: &OnionAddress) -> PathBuf {
        self.state_dir
            .join("identities")
            .join(&onion.label()[..IDENTITY_DIR_CHARS])
    }

    fn config(&self, state_dir: &Path) -> Result<TorClientConfig, TransportError> {
        let path = |p: &Path| toml::Value::String(p.display().to_string()).to_string();
        // The onion-service identity keys come from Postern's store on every launch; arti keeps
        // them in memory only.
        let mut text = format!(
            "[storage]\ncache_dir = {}\nstate_dir = {}\n\n[storage.keystore.primary]\nkind = \"ephemeral\"\n\n",
            path(&self.cache_dir),
            path(state_dir)
        );
        if let Some(net) = &self.network_toml {
            text.push_str(net);
        }
        let builder: TorClientConfigBuilder =
            toml::from_str(&text).map_err(|e| TransportError::Config(e.to_string()))?;
        builder
            .build()
            .map_err(|e| TransportError::Config(e.to_string()))
    }
}

/// How many characters of an onion label name an identity's state directory (as they name its
/// onion service).
const IDENTITY_DIR_CHARS: usize = 16;

type Client = Arc<TorClient<PreferredRuntime>>;

/// The arti transport: one arti client per identity, and one that keeps the directory.
///
/// Each identity's onion service and outgoing circuits run on a client of its own, with its own
/// state directory, so its entry guards, vanguards and circuit-timeout estimates are drawn and
/// kept apart from every other identity's: learning one identity's guard says nothing about
/// another's. The directory client fetches the consensus and microdescriptors (public documents,
/// the same for every Tor user) through its own guards and carries no identity's traffic; the
/// identities' clients use its directory in memory instead of each downloading and holding one.
pub struct ArtiTransport {
    directory: Client,
    identities: Mutex<HashMap<OnionAddress, Arc<tokio::sync::OnceCell<Client>>>>,
    /// The directory client has bootstrapped.
    started: std::sync::atomic::AtomicBool,
    status: watch::Sender<BootstrapStatus>,
    isolation: Mutex<HashMap<OnionAddress, IsolationToken>>,
    options: ArtiOptions,
}

/// How often this process launched each service (see `serve`).
fn launches() -> &'static Mutex<HashMap<OnionAddress, u32>> {
    static LAUNCHES: std::sync::OnceLock<Mutex<HashMap<OnionAddress, u32>>> =
        std::sync::OnceLock::new();
    LAUNCHES.get_or_init(|| Mutex::new(HashMap::new()))
}

impl std::fmt::Debug for ArtiTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtiTransport").finish_non_exhaustive()
    }
}

impl ArtiTransport {
    /// Create an (unbootstrapped) arti client. Must be called inside a tokio runtime.
    pub fn new(options: ArtiOptions) -> Result<Self, TransportError> {
        let directory = unbootstrapped_client(&options, &options.state_dir, None)?;
        let (status, _) = watch::channel(BootstrapStatus::starting());
        Ok(ArtiTransport {
            directory,
            identities: Mutex::new(HashMap::new()),
            started: std::sync::atomic::AtomicBool::new(false),
            status,
            isolation: Mutex::new(HashMap::new()),
            options,
        })
    }

    /// Save every client's state (guards, circuit timeouts) now, as arti otherwise does each
    /// minute and when a client goes: before a device may sleep or lose power.
    pub fn save_state(&self) {
        let identities: Vec<Client> = self
            .identities
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .filter_map(|cell| cell.get().cloned())
            .collect();
        // Arti runs its periodic tasks (among them saving state) whenever it is told it is not
        // dormant.
        for client in identities.iter().chain([&self.directory]) {
            client.set_dormant(arti_client::DormantMode::Normal);
        }
    }

    /// The client of the identity whose onion address is `onion`, made on first use (its
    /// bootstrap finds the directory client's directory ready).
    async fn client_of(&self, onion: &OnionAddress) -> Result<Client, TransportError> {
        // Once bootstrapped: the status may dip later (a directory being refreshed) without the
        // directory going away.
        if !self.started.load(std::sync::atomic::Ordering::Acquire) {
            return Err(TransportError::NotStarted);
        }
        let cell = self
            .identities
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(*onion)
            .or_default()
            .clone();
        cell.get_or_try_init(|| async {
            let state_dir = self.options.identity_state_dir(onion);
            let directory = self
                .directory
                .dirmgr()
                .map_err(|e| TransportError::Config(format!("the directory client: {e}")))?;
            let client = unbootstrapped_client(&self.options, &state_dir, Some(directory))?;
            let bootstrapped =
                tokio::time::timeout(self.options.bootstrap_timeout, client.bootstrap()).await;
            match bootstrapped {
                Ok(Ok(())) => Ok(client),
                Ok(Err(e)) => Err(TransportError::Bootstrap {
                    seconds: self.options.bootstrap_timeout.as_secs(),
                    phase: format!("an identity's own client: {e}"),
                }),
                Err(_) => Err(TransportError::Bootstrap {
                    seconds: self.options.bootstrap_timeout.as_secs(),
                    phase: "an identity's own client".into(),
                }),
            }
        })
        .await
        .cloned()
    }

    fn isolation_for(&self, from: &OnionAddress) -> IsolationToken {
        let mut map = self
            .isolation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(*from).or_insert_with(IsolationToken::new)
    }

    /// Give the identity a fresh isolation token: its next stream is opened on new circuits
    /// instead of reusing one — done after a failed attempt, whose circuit may lead to a service
    /// instance that is gone (a restarted peer). Still never shared with another identity.
    pub fn renew_isolation(&self, from: &OnionAddress) {
        let mut map = self
            .isolation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(*from, IsolationToken::new());
    }
}

/// An arti client with its state in `state_dir`; with `directory`, it uses that directory (the
/// directory client's, in memory) instead of keeping one of its own.
fn unbootstrapped_client(
    options: &ArtiOptions,
    state_dir: &Path,
    directory: Option<Arc<dyn DirProvider>>,
) -> Result<Client, TransportError> {
    let config = options.config(state_dir)?;
    let runtime = PreferredRuntime::current()
        .map_err(|e| TransportError::Config(format!("no async runtime: {e}")))?;
    let mut builder = TorClient::with_runtime(runtime).config(config);
    if let Some(directory) = directory {
        builder = builder.dirmgr_builder::<SharedDirectory>(Arc::new(SharedDirectory(directory)));
    }
    builder
        .create_unbootstrapped()
        .map_err(|e| TransportError::Config(e.to_string()))
}

/// Hands an identity's client the directory client's directory: one consensus and one set of
/// microdescriptors in memory, downloaded once, however many identities there are.
struct SharedDirectory(Arc<dyn DirProvider>);

impl DirProviderBuilder<PreferredRuntime> for SharedDirectory {
    fn build(
        &self,
        _runtime: PreferredRuntime,
        _store: DirMgrStore<PreferredRuntime>,
        _circmgr: Arc<CircMgr<PreferredRuntime>>,
        _config: DirMgrConfig,
    ) -> arti_client::Result<Arc<dyn DirProvider + 'static>> {
        Ok(self.0.clone())
    }
}

/// Keeps a service running; dropping it stops the service and its tasks.
struct RunningService {
    _service: Arc<RunningOnionService>,
    task: JoinHandle<()>,
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accept rendezvous requests, a bounded number at a time (so that under a flood they queue in
/// arti, where proof of work ranks them); number each circuit; pass on streams to the served
/// ports.
async fn accept_loop(
    requests: impl futures::Stream<Item = RendRequest> + Send + 'static,
    ports: Vec<u16>,
    in_progress: usize,
    tx: mpsc::Sender<Incoming>,
) {
    let mut requests = Box::pin(requests);
    let mut circuit = 0u64;
    let handshakes = Arc::new(tokio::sync::Semaphore::new(in_progress.max(1)));
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let Some(rend) = requests.next().await else {
            return;
        };
        circuit += 1;
        let (ports, tx) = (ports.clone(), tx.clone());
        tokio::spawn(async move {
            let accepted = rend.accept().await;
            drop(permit);
            let Ok(mut streams) = accepted else {
                return;
            };
            while let Some(req) = streams.next().await {
                let port = match req.request() {
                    IncomingStreamRequest::Begin(b) if ports.contains(&b.port()) => b.port(),
                    _ => {
                        let _ = req.reject(End::new_with_reason(EndReason::DONE)).await;
                        continue;
                    }
                };
                if let Ok(stream) = req.accept(Connected::new_empty()).await {
                    let incoming = Incoming {
                        port,
                        circuit,
                        stream: Box::new(stream),
                    };
                    if tx.send(incoming).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

#[async_trait::async_trait]
impl Transport for ArtiTransport {
    async fn start(&self) -> Result<(), TransportError> {
        let mut events = self.directory.bootstrap_events();
        let status = self.status.clone();
        let forward = tokio::spawn(async move {
            while let Some(ev) = events.next().await {
                status.send_replace(BootstrapStatus {
                    fraction: ev.as_frac(),
                    phase: ev.to_string(),
                    ready: ev.ready_for_traffic(),
                });
            }
        });
        let result =
            tokio::time::timeout(self.options.bootstrap_timeout, self.directory.bootstrap()).await;
        let phase = self.status.borrow().phase.clone();
        match result {
            Ok(Ok(())) => {
                self.started
                    .store(true, std::sync::atomic::Ordering::Release);
                self.status.send_modify(|s| {
                    s.fraction = 1.0;
                    s.ready = true;
                });
                // Keep forwarding later changes (e.g. losing the network).
                drop(forward);
                Ok(())
            }
            Ok(Err(e)) => {
                forward.abort();
                Err(TransportError::Bootstrap {
                    seconds: self.options.bootstrap_timeout.as_secs(),
                    phase: format!("{phase}: {e}"),
                })
            }
            Err(_) => {
                forward.abort();
                Err(TransportError::Bootstrap {
                    seconds: self.options.bootstrap_timeout.as_secs(),
                    phase,
                })
            }
        }
    }

    fn bootstrap_status(&self) -> watch::Receiver<BootstrapStatus> {
        self.status.subscribe()
    }

    async fn serve(
        &self,
        identity: &IdentityKeys,
        options: &ServiceOptions,
    ) -> Result<Listener, TransportError> {
        let onion = *identity.address().onion();
        let launch_err = |reason: String| TransportError::Launch {
            onion: onion.redacted(),
            reason,
        };
        // With proof of work compiled in, arti 0.47 keeps a thread per launched service that
        // never ends, and it holds the service's state lock: a second launch under the same
        // nickname in one process is refused ("already in use"). A relaunch in the same process
        // (a node stopped and started again) therefore takes a new nickname; a new process
        // starts again from the first, so the service's state persists across restarts.
        let generation = {
            let mut launches = launches()
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = launches.entry(onion).or_insert(0);
            *n += 1;
            *n
        };
        let client = self.client_of(&onion).await?;
        let mut nickname = format!("postern-{}", &onion.label()[..IDENTITY_DIR_CHARS]);
        if generation > 1 {
            nickname.push_str(&format!("-{generation}"));
        }
        let nickname = nickname
            .parse()
            .map_err(|e| launch_err(format!("bad nickname: {e}")))?;
        let config = OnionServiceConfigBuilder::default()
            .nickname(nickname)
            .max_concurrent_streams_per_circuit(options.streams_per_circuit)
            .enable_pow(options.proof_of_work)
            .build()
            .map_err(|e| launch_err(e.to_string()))?;
        let keypair = identity.hsid_keypair();
        let expected = onion_address_of(&keypair);
        let (service, requests) = client
            .launch_onion_service_with_hsid(config, keypair)
            .map_err(|e| launch_err(e.to_string()))?
            .ok_or_else(|| launch_err("the service is disabled".into()))?;
        // Arti must publish exactly the address Postern derived for this key.
        let published = service
            .onion_address()
            .map(|id| {
                use safelog::DisplayRedacted;
                id.display_unredacted().to_string()
            })
            .unwrap_or_default();
        if published != expected.to_string() {
            return Err(launch_err("arti derived a different onion address".into()));
        }
        let (tx, rx) = mpsc::channel(64);
        let task = tokio::spawn(accept_loop(
            requests,
            options.ports.clone(),
            options.rendezvous_in_progress,
            tx,
        ));
        Ok(Listener::new(
            onion,
            rx,
            Box::new(RunningService {
                _service: service,
                task,
            }),
        ))
    }

    async fn connect(
        &self,
        from: &OnionAddress,
        to: &OnionAddress,
        port: u16,
    ) -> Result<Stream, TransportError> {
        if !self.status.borrow().ready {
            return Err(TransportError::NotStarted);
        }
        let client = self.client_of(from).await?;
        let mut prefs = StreamPrefs::new();
        prefs
            .set_isolation(self.isolation_for(from))
            .connect_to_onion_services(BoolOrAuto::Explicit(true));
        let target = to.to_string();
        let unreachable = |reason: String| TransportError::Unreachable {
            onion: to.redacted(),
            reason,
        };
        let result = tokio::time::timeout(
            self.options.connect_timeout,
            client.connect_with_prefs((target.as_str(), port), &prefs),
        )
        .await;
        match result {
            Ok(Ok(stream)) => Ok(Box::new(stream)),
            Ok(Err(e)) => {
                self.renew_isolation(from);
                Err(unreachable(e.to_string()))
            }
            Err(_) => {
                self.renew_isolation(from);
                Err(unreachable(format!(
                    "no answer within {} s",
                    self.options.connect_timeout.as_secs()
                )))
            }
        }
    }
}
