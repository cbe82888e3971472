//! The `Mailroom`: where every SMTP session of the node hands what arrives — mail for our
//! identities, hand-overs to hold as a carrier, pulls and receipts. It owns the decryption
//! slots, the parsed-key cache and the writer; the work itself is in `receive`, `holding` and
//! `receipts`.

use std::sync::{Arc, Mutex};

use postern_smtp::{Envelope, Reply};
use postern_store::Store;
use tokio::sync::{Notify, Semaphore};

use super::authenticate::CertCache;
use super::writer::MailWriter;
use super::{holding, receipts, receive};
use crate::context::LocalIdentity;
use crate::leases::ServiceLeases;
use crate::{Clock, InboundLimits, NodeConfig};

/// Receives mail for the node's identities.
#[derive(Debug)]
pub(crate) struct Mailroom {
    reader: Mutex<Store>,
    pub(super) writer: MailWriter,
    pub(super) clock: Arc<dyn Clock>,
    /// Wakes the carrier loop when a message is held or pulled.
    pub(super) carrier_wake: Arc<Notify>,
    /// Wakes the list loop when list mail was stored.
    pub(super) list_wake: Arc<Notify>,
    pub(super) certs: Arc<CertCache>,
    /// Messages decrypted at once.
    pub(super) decrypt_slots: Arc<Semaphore>,
    pub(super) max_message_size: usize,
    pub(super) limits: InboundLimits,
    pub(super) stamp_bits: u8,
    /// Which of the person's devices serves each identity; answers `XDEVICE`.
    pub(super) leases: Arc<ServiceLeases>,
}

impl Mailroom {
    pub(crate) fn new(
        reader: Store,
        writer: MailWriter,
        clock: Arc<dyn Clock>,
        carrier_wake: Arc<Notify>,
        list_wake: Arc<Notify>,
        config: &NodeConfig,
        leases: Arc<ServiceLeases>,
    ) -> Self {
        Mailroom {
            reader: Mutex::new(reader),
            writer,
            clock,
            carrier_wake,
            list_wake,
            certs: Arc::new(CertCache::default()),
            decrypt_slots: Arc::new(Semaphore::new(config.inbound.decrypt_parallel.max(1))),
            max_message_size: config.smtp.max_message_size,
            limits: config.inbound.clone(),
            stamp_bits: config.stamp_bits,
            leases,
        }
    }

    pub(super) fn with_reader<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut guard = self
            .reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// A message for one of our identities.
    pub(crate) async fn receive(
        &self,
        me: Arc<LocalIdentity>,
        envelope: Envelope,
        data: Vec<u8>,
    ) -> Reply {
        receive::receive(self, me, envelope, data).await
    }

    /// A message handed over to hold as a carrier.
    pub(crate) fn hold(&self, me: &LocalIdentity, envelope: Envelope, data: Vec<u8>) -> Reply {
        holding::hold(self, me, envelope, data)
    }

    /// `XPULL`: a recipient asks for what is held for it.
    pub(crate) fn pull(&self, me: &LocalIdentity, args: &[String]) -> Reply {
        holding::pull(self, me, args)
    }

    /// `XRECEIPT`: a carrier tells us what became of a message we handed over.
    pub(crate) fn receipt(&self, me: &LocalIdentity, args: &[String]) -> Reply {
        receipts::receipt(self, me, args)
    }
}
