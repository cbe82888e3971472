//! What a running node's tasks share: the transport, a store connection, the served identities,
//! the clock, the configuration and the wake-up signals. A leaf: `inbound` and `outbound` both
//! use it and never each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use postern_crypto::{IdentityKeys, PublicKeyInfo};
use postern_store::Store;
use postern_transport::Transport;
use sequoia_openpgp::Cert;
use tokio::sync::Notify;

use crate::{Clock, CoreError, NodeConfig, Postern};

/// One of our identities, as the node serves it.
#[derive(Debug)]
pub(crate) struct LocalIdentity {
    pub id: i64,
    pub keys: IdentityKeys,
    /// The identity whose onion service answers for this one (a hosted account).
    pub host_id: Option<i64>,
    /// Why mail is refused, if its owner revoked the address.
    pub revoked: Option<String>,
    /// Keys this identity revoked (to tell senders why their mail cannot be read).
    pub revoked_keys: Vec<(Cert, String)>,
}

impl LocalIdentity {
    pub(crate) fn load(postern: &Postern, id: i64, keys: IdentityKeys) -> Result<Self, CoreError> {
        let own = postern.store.revocations(id, &keys.address().to_string())?;
        let host_id = postern.store.identity(id)?.host_id;
        let mut revoked = None;
        let mut revoked_keys = Vec::new();
        for r in &own {
            let sentence = crate::revoke::revoked_sentence(r, "Its owner");
            if r.scope == "address" {
                revoked = Some(sentence);
            } else if let Some(cert) = r
                .public_key
                .as_deref()
                .and_then(|k| PublicKeyInfo::parse(k).ok())
            {
                revoked_keys.push((cert.cert().clone(), sentence));
            }
        }
        Ok(LocalIdentity {
            id,
            keys,
            host_id,
            revoked,
            revoked_keys,
        })
    }
}

/// What the node's tasks share.
#[derive(Debug)]
pub(crate) struct NodeShared {
    pub transport: Arc<dyn Transport>,
    store: Mutex<Store>,
    pub identities: HashMap<i64, Arc<LocalIdentity>>,
    pub clock: Arc<dyn Clock>,
    pub config: NodeConfig,
    /// Wakes the outbox loop (a message was queued).
    pub wake: Notify,
    /// Wakes the carrier loop (a message was held, or pulled).
    pub carrier_wake: Arc<Notify>,
    /// Wakes the list loop (list mail was stored).
    pub list_wake: Arc<Notify>,
}

impl NodeShared {
    pub(crate) fn new(
        transport: Arc<dyn Transport>,
        store: Store,
        identities: HashMap<i64, Arc<LocalIdentity>>,
        clock: Arc<dyn Clock>,
        config: NodeConfig,
        carrier_wake: Arc<Notify>,
        list_wake: Arc<Notify>,
    ) -> Self {
        NodeShared {
            transport,
            store: Mutex::new(store),
            identities,
            clock,
            config,
            wake: Notify::new(),
            carrier_wake,
            list_wake,
        }
    }

    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut guard = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}
