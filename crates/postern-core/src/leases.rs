//! One active service per identity across a person's devices (`docs/protocol.md` §17). An
//! identity that has never left this device has no lease and is simply served. Once it has
//! been copied (a backup, a second device), the device that serves it holds a [`Lease`]; a
//! device whose lease names another device stands by; a device that holds the lease asks its
//! own address before serving — and every few minutes while it serves — whether another device
//! answers there, and the lower term stops and says so. A hand-over raises the term: the old
//! device stops and signs the next term to the new one before the new one starts.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use postern_crypto::{DeviceAsk, DeviceId, DeviceRequest, IdentityKeys, Lease};
use postern_smtp::Reply;
use postern_store::Store;
use postern_transport::Transport;
use serde::Serialize;
use tokio::task::AbortHandle;

use crate::context::{LocalIdentity, NodeShared};
use crate::outbound::delivery::connect;
use crate::{ClientTimeouts, Clock, CoreError, Postern, RevocationView};
use postern_crypto::RevocationScope;

/// How far a device request's time may be from ours.
const REQUEST_SKEW_SECS: i64 = 300;

/// Where an identity's service runs, as this device knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Never copied from this device: served here, no one to ask.
    Alone,
    /// This device holds the lease.
    Here(Lease),
    /// Another device holds it: this one stands by.
    Elsewhere(Lease),
}

/// Whether an identity is served on this device, for the app and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ServiceView {
    /// The identity's address.
    pub address: String,
    /// Served by this device.
    pub here: bool,
    /// The device that serves it (first 8 hex digits of its id), if it has a lease.
    pub device: Option<String>,
    /// The lease's term (0: never copied).
    pub term: u32,
}

/// What declaring a device lost did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LostDevice {
    /// The revocation made and sent to every contact.
    pub revocation: RevocationView,
    /// The term this device now serves the identity in.
    pub term: u32,
}

/// How a take-over went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeOver {
    /// It was served here already.
    AlreadyHere,
    /// The device serving it stopped and gave this one the next term.
    HandedOver {
        /// The device that served it.
        from: String,
    },
    /// No device answered at the address: this device took the next term.
    NobodyAnswered,
}

/// What a device found at its own address.
#[derive(Debug)]
pub(crate) enum Found {
    /// Nothing answered (or not within the patience given).
    Nobody,
    /// A device answered with its lease; `yielded` if it stopped because ours outranks it.
    Device { lease: Lease, yielded: bool },
    /// Something answered that does not speak `XDEVICE`.
    Unknown(String),
}

fn lease_of(store: &Store, keys: &IdentityKeys) -> Result<Option<Lease>, CoreError> {
    let onion = keys.address().onion().to_string();
    Ok(store
        .service_lease(&onion)?
        .and_then(|t| Lease::from_token(keys.address(), &t).ok()))
}

pub(crate) fn device_of(store: &Store) -> Result<DeviceId, CoreError> {
    let fresh = || *DeviceId::generate().as_bytes();
    Ok(DeviceId::from_bytes(store.device_id(fresh)?))
}

pub(crate) fn placement(
    store: &Store,
    me: DeviceId,
    keys: &IdentityKeys,
) -> Result<Placement, CoreError> {
    Ok(match lease_of(store, keys)? {
        None => Placement::Alone,
        Some(l) if l.device() == me => Placement::Here(l),
        Some(l) => Placement::Elsewhere(l),
    })
}

fn keep(store: &Store, keys: &IdentityKeys, lease: &Lease) -> Result<(), CoreError> {
    store.set_service_lease(&keys.address().onion().to_string(), &lease.token())?;
    Ok(())
}

/// Ask the device answering at `keys`' own address.
pub(crate) async fn ask_own_address(
    transport: &dyn Transport,
    keys: &IdentityKeys,
    request: DeviceRequest,
    timeouts: ClientTimeouts,
    patience: Duration,
) -> Found {
    let me = keys.address();
    let asked = async {
        let mut conv = match connect(transport, me, me, timeouts).await {
            Ok(c) => c,
            Err(_) => return Found::Nobody,
        };
        let reply = conv.command(&format!("XDEVICE {}", request.args())).await;
        conv.quit().await;
        match reply {
            Ok(r) if r.code == 250 => {
                let text = r.text();
                // The enhanced status code may or may not be part of the text.
                let mut words = text
                    .split_whitespace()
                    .skip_while(|w| w.split('.').count() == 3 && w.starts_with('2'));
                match words.next().map(|t| Lease::from_token(me, t)) {
                    Some(Ok(lease)) => Found::Device {
                        lease,
                        yielded: words.next() == Some("yielded"),
                    },
                    _ => Found::Unknown(format!("an unreadable lease: {text}")),
                }
            }
            Ok(r) => Found::Unknown(format!("{} {}", r.code, r.text())),
            Err(e) => Found::Unknown(e.to_string()),
        }
    };
    tokio::time::timeout(patience, asked)
        .await
        .unwrap_or(Found::Nobody)
}

/// The node's side: which identities it serves, answering other devices, standing down.
#[derive(Debug)]
pub(crate) struct ServiceLeases {
    pub(crate) device: DeviceId,
    store: Mutex<Store>,
    clock: Arc<dyn Clock>,
    lease_for: Duration,
    /// The running service of each host identity, to stop it.
    running: Mutex<BTreeMap<i64, AbortHandle>>,
    /// Host identities standing by, with the device that serves them.
    standby: Mutex<BTreeMap<i64, String>>,
}

impl ServiceLeases {
    pub(crate) fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        lease_for: Duration,
    ) -> Result<Self, CoreError> {
        Ok(ServiceLeases {
            device: device_of(&store)?,
            store: Mutex::new(store),
            clock,
            lease_for,
            running: Mutex::default(),
            standby: Mutex::default(),
        })
    }

    fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        f(&self.store.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn expiry(&self) -> i64 {
        self.clock.now_unix() + self.lease_for.as_secs() as i64
    }

    pub(crate) fn placement(&self, keys: &IdentityKeys) -> Result<Placement, CoreError> {
        self.with_store(|s| placement(s, self.device, keys))
    }

    /// A new lease of `term` for this device, kept.
    pub(crate) fn renew(&self, keys: &IdentityKeys, term: u32) -> Result<Lease, CoreError> {
        let lease = Lease::issue(keys, self.device, term, self.expiry());
        self.with_store(|s| keep(s, keys, &lease))?;
        Ok(lease)
    }

    pub(crate) fn request(
        &self,
        keys: &IdentityKeys,
        ask: DeviceAsk,
        lease: Option<&Lease>,
    ) -> DeviceRequest {
        DeviceRequest::sign(keys, ask, self.device, self.clock.now_unix(), lease)
    }

    pub(crate) fn running(&self, host: i64, handle: AbortHandle) {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(host, handle);
    }

    pub(crate) fn standing_by(&self, host: &LocalIdentity, lease: &Lease) {
        tracing::warn!(
            identity = %host.keys.address().redacted(),
            device = %lease.device().short(),
            "standing by: this identity is served by another of your devices"
        );
        self.standby
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(host.id, lease.device().short());
    }

    /// Host identities this node does not serve, with the device that does.
    pub(crate) fn standby(&self) -> BTreeMap<i64, String> {
        self.standby
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keep `lease` (another device's) and stop serving `host`.
    fn stand_down(&self, host: &LocalIdentity, lease: &Lease) -> Result<(), CoreError> {
        self.with_store(|s| keep(s, &host.keys, lease))?;
        if let Some(h) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&host.id)
        {
            h.abort();
        }
        self.standing_by(host, lease);
        Ok(())
    }

    /// `XDEVICE …` on `host`'s service. Anything not signed by the identity's own key gets
    /// exactly what an unknown command gets.
    pub(crate) fn answer(&self, host: &LocalIdentity, args: &[String]) -> Reply {
        let unknown = || Reply::new(500, "5.5.1", "Command unrecognized");
        let keys = &host.keys;
        let Ok(req) = DeviceRequest::parse(keys.address(), args) else {
            return unknown();
        };
        let now = self.clock.now_unix();
        if (now - req.at).abs() > REQUEST_SKEW_SECS {
            return unknown();
        }
        let failed = |e: CoreError| {
            tracing::error!("device request: {e}");
            Reply::new(451, "4.3.0", "Cannot answer now; try again later")
        };
        let mine = match self.placement(keys) {
            Ok(Placement::Here(l)) => l,
            // Served here without a lease (never copied, as far as this device knows): the
            // key was copied after all, so this device takes the first term.
            Ok(Placement::Alone) => match self.renew(keys, 1) {
                Ok(l) => l,
                Err(e) => return failed(e),
            },
            // This service is stopping: the lease names the device that serves now.
            Ok(Placement::Elsewhere(l)) => return Reply::new(250, "2.0.0", l.token()),
            Err(e) => return failed(e),
        };
        match req.ask {
            DeviceAsk::Check => {
                let theirs = req
                    .lease
                    .as_deref()
                    .and_then(|t| Lease::from_token(keys.address(), t).ok());
                match theirs {
                    Some(t) if t.device() != self.device && t.outranks(&mine) => {
                        if let Err(e) = self.stand_down(host, &t) {
                            return failed(e);
                        }
                        Reply::new(250, "2.0.0", format!("{} yielded", t.token()))
                    }
                    _ => Reply::new(250, "2.0.0", mine.token()),
                }
            }
            DeviceAsk::HandOver if req.device == self.device => {
                Reply::new(250, "2.0.0", mine.token())
            }
            DeviceAsk::HandOver => {
                let next = Lease::issue(keys, req.device, mine.term() + 1, self.expiry());
                if let Err(e) = self.stand_down(host, &next) {
                    return failed(e);
                }
                tracing::info!(
                    identity = %keys.address().redacted(),
                    to = %req.device.short(),
                    "handed the service over to another of your devices"
                );
                Reply::new(250, "2.0.0", next.token())
            }
        }
    }
}

/// Before serving `host`: serve it, or stand by. Returns whether to serve.
pub(crate) async fn before_serving(
    leases: &ServiceLeases,
    transport: &dyn Transport,
    host: &LocalIdentity,
    timeouts: ClientTimeouts,
    patience: Duration,
) -> Result<bool, CoreError> {
    let keys = &host.keys;
    let mine = match leases.placement(keys)? {
        Placement::Alone => return Ok(true),
        Placement::Elsewhere(l) => {
            leases.standing_by(host, &l);
            return Ok(false);
        }
        Placement::Here(l) => l,
    };
    let request = leases.request(keys, DeviceAsk::Check, Some(&mine));
    match ask_own_address(transport, keys, request, timeouts, patience).await {
        Found::Device { lease, yielded } if lease.device() != leases.device && !yielded => {
            leases.with_store(|s| keep(s, keys, &lease))?;
            leases.standing_by(host, &lease);
            Ok(false)
        }
        Found::Unknown(what) => {
            tracing::warn!(identity = %keys.address().redacted(), "standing by: something else answers at this address ({what})");
            leases
                .standby
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(host.id, "unknown".into());
            Ok(false)
        }
        _ => {
            leases.renew(keys, mine.term())?;
            Ok(true)
        }
    }
}

/// While the node runs: every `every`, ask each served identity's own address whether
/// another device answers there (a device that outranks us makes us stop), and renew our
/// leases.
pub(crate) async fn recheck_loop(
    shared: Arc<NodeShared>,
    leases: Arc<ServiceLeases>,
    every: Duration,
    patience: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        let served: Vec<Arc<LocalIdentity>> = {
            let running = leases
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            shared
                .identities
                .values()
                .filter(|i| running.contains_key(&i.id))
                .cloned()
                .collect()
        };
        for host in served {
            let Ok(Placement::Here(mine)) = leases.placement(&host.keys) else {
                continue;
            };
            let request = leases.request(&host.keys, DeviceAsk::Check, Some(&mine));
            let found = ask_own_address(
                shared.transport.as_ref(),
                &host.keys,
                request,
                shared.config.client,
                patience,
            )
            .await;
            match found {
                Found::Device {
                    lease,
                    yielded: false,
                } if lease.device() != leases.device && lease.outranks(&mine) => {
                    if let Err(e) = leases.stand_down(&host, &lease) {
                        tracing::error!("standing down: {e}");
                    }
                }
                _ => {
                    if let Err(e) = leases.renew(&host.keys, mine.term()) {
                        tracing::error!("renewing a lease: {e}");
                    }
                }
            }
        }
    }
}

impl Postern {
    /// This device's id (made on first use; a restored backup makes a new one).
    pub fn device_id(&self) -> Result<DeviceId, CoreError> {
        device_of(&self.store)
    }

    /// Where each identity's service runs, as this device knows it.
    pub fn services(&self) -> Result<Vec<ServiceView>, CoreError> {
        let me = self.device_id()?;
        let mut out = Vec::new();
        for id in self.identities()? {
            let keys = self.identity_keys(&id.id.to_string())?;
            let (here, lease) = match placement(&self.store, me, &keys)? {
                Placement::Alone => (true, None),
                Placement::Here(l) => (true, Some(l)),
                Placement::Elsewhere(l) => (false, Some(l)),
            };
            out.push(ServiceView {
                address: keys.address().to_string(),
                here,
                device: lease.as_ref().map(|l| l.device().short()),
                term: lease.map_or(0, |l| l.term()),
            });
        }
        Ok(out)
    }

    /// Before the identities leave this device (a backup, a second device): each one served
    /// here without a lease gets its first, so the copy knows this device serves it.
    pub(crate) fn lease_before_copy(&self, lease_for: Duration) -> Result<(), CoreError> {
        let me = self.device_id()?;
        let now = self.clock.now_unix();
        for id in self.identities()?.iter().filter(|i| i.hosted_by.is_none()) {
            let keys = self.identity_keys(&id.id.to_string())?;
            if placement(&self.store, me, &keys)? == Placement::Alone {
                let lease = Lease::issue(&keys, me, 1, now + lease_for.as_secs() as i64);
                keep(&self.store, &keys, &lease)?;
            }
        }
        Ok(())
    }

    /// One of the person's devices holding `identity` is lost: this device takes the next
    /// term (the lost device, should it come back online, finds itself outranked and stands
    /// by) and revokes the identity's OpenPGP key, replacing it, or with
    /// `RevocationScope::Address` the whole address; contacts are told (`Postern::revoke`).
    /// The onion key stays on the lost device: only revoking the address takes that away.
    /// The node must not be running.
    pub fn device_lost(
        &mut self,
        identity: &str,
        scope: RevocationScope,
        reason: &str,
    ) -> Result<LostDevice, CoreError> {
        let me = self.find_identity(identity)?;
        let host = match me.host_id {
            Some(h) => h.to_string(),
            None => me.id.to_string(),
        };
        let term = {
            let _lock = crate::node::lock_data_dir(self.data_dir()).map_err(|e| match e {
                CoreError::AlreadyRunning(dir) => {
                    CoreError::NodeRunning(dir, "a lost device changes the keys the node serves")
                }
                other => other,
            })?;
            let keys = self.identity_keys(&host)?;
            let device = self.device_id()?;
            let term = match placement(&self.store, device, &keys)? {
                Placement::Alone => 1,
                Placement::Here(l) | Placement::Elsewhere(l) => l.term() + 1,
            };
            let expires = self.clock.now_unix()
                + crate::config::DeviceLeases::default().lease.as_secs() as i64;
            keep(
                &self.store,
                &keys,
                &Lease::issue(&keys, device, term, expires),
            )?;
            term
        };
        let revocation = self.revoke(identity, scope, reason)?;
        Ok(LostDevice { revocation, term })
    }

    /// Serve `identity` on this device from now on. The device serving it is asked to stop
    /// and hand over the next term; if no device answers within `patience`, this device takes
    /// the next term itself (the other device, lost or off, stands by when it next starts).
    /// The node must not be running here (it takes the data directory's lock).
    pub async fn take_over(
        &self,
        transport: Arc<dyn Transport>,
        identity: &str,
        patience: Duration,
    ) -> Result<TakeOver, CoreError> {
        self.prepare_take_over(identity)?
            .run(transport, patience)
            .await
    }

    /// What [`Postern::take_over`] needs from the store, taken now (with the data directory's
    /// lock), so that the rest runs without borrowing the `Postern`.
    pub fn prepare_take_over(&self, identity: &str) -> Result<PreparedTakeOver, CoreError> {
        let lock = crate::node::lock_data_dir(self.data_dir())?;
        let keys = self.identity_keys(identity)?;
        if self.identity(identity)?.hosted_by.is_some() {
            return Err(CoreError::ServiceElsewhere(
                "a hosted account is served by its host's service; take over the host".into(),
            ));
        }
        let me = self.device_id()?;
        let current = match placement(&self.store, me, &keys)? {
            Placement::Alone | Placement::Here(_) => None,
            Placement::Elsewhere(l) => Some(l),
        };
        Ok(PreparedTakeOver {
            keys,
            me,
            current,
            store: self.store.another_connection()?,
            clock: self.clock.clone(),
            _lock: lock,
        })
    }
}

/// A take-over ready to ask the network: see [`Postern::prepare_take_over`].
#[derive(Debug)]
pub struct PreparedTakeOver {
    keys: IdentityKeys,
    me: DeviceId,
    current: Option<Lease>,
    store: Store,
    clock: Arc<dyn Clock>,
    _lock: std::fs::File,
}

impl PreparedTakeOver {
    /// Ask the device serving the identity to hand over, or take over if none answers.
    pub async fn run(
        self,
        transport: Arc<dyn Transport>,
        patience: Duration,
    ) -> Result<TakeOver, CoreError> {
        let PreparedTakeOver {
            keys,
            me,
            current,
            store,
            clock,
            _lock,
        } = self;
        let Some(current) = current else {
            return Ok(TakeOver::AlreadyHere);
        };
        transport.start().await?;
        let now = clock.now_unix();
        let request = DeviceRequest::sign(&keys, DeviceAsk::HandOver, me, now, None);
        let timeouts = ClientTimeouts::default();
        let lease_for = crate::config::DeviceLeases::default().lease;
        match ask_own_address(transport.as_ref(), &keys, request, timeouts, patience).await {
            Found::Device { lease, .. } if lease.device() == me => {
                keep(&store, &keys, &lease)?;
                Ok(TakeOver::HandedOver {
                    from: current.device().short(),
                })
            }
            Found::Device { lease, .. } => Err(CoreError::ServiceElsewhere(format!(
                "device {} answered but did not hand over (term {})",
                lease.device().short(),
                lease.term()
            ))),
            Found::Unknown(what) => Err(CoreError::ServiceElsewhere(format!(
                "something that is not one of your devices answers at this address ({what})"
            ))),
            Found::Nobody => {
                let lease = Lease::issue(
                    &keys,
                    me,
                    current.term() + 1,
                    now + lease_for.as_secs() as i64,
                );
                keep(&store, &keys, &lease)?;
                Ok(TakeOver::NobodyAnswered)
            }
        }
    }
}
