//! The outbox loop: drains the outbox table, retrying with back-off like an MTA.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use postern_store::{NewContact, OutboxRecord};
use postern_types::MailAddress;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::delivery::{deliver, DeliveryError, KnownRecipient};
use super::handover;
use super::prepare::prepare;
use crate::context::NodeShared;
use crate::DeliveryLimits;

/// Slots of deliveries at once: for the node, per identity, per recipient. A row is claimed only
/// when all three have room, so one identity's slow peers never hold up another's.
#[derive(Default)]
struct Slots {
    identities: HashMap<i64, Arc<Semaphore>>,
    recipients: HashMap<String, Arc<Semaphore>>,
}

impl Slots {
    fn semaphore<K: std::hash::Hash + Eq + Clone>(
        map: &mut HashMap<K, Arc<Semaphore>>,
        key: &K,
        n: usize,
    ) -> Arc<Semaphore> {
        map.entry(key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(n.max(1))))
            .clone()
    }

    /// Permits for one delivery of `row`, if there is room.
    fn take(
        &mut self,
        node: &Arc<Semaphore>,
        row: &OutboxRecord,
        limits: DeliveryLimits,
    ) -> Option<[OwnedSemaphorePermit; 3]> {
        let identity = Self::semaphore(&mut self.identities, &row.identity_id, limits.per_identity);
        let recipient = Self::semaphore(&mut self.recipients, &row.recipient, limits.per_recipient);
        let a = node.clone().try_acquire_owned().ok()?;
        let b = identity.try_acquire_owned().ok()?;
        let c = recipient.try_acquire_owned().ok()?;
        Some([a, b, c])
    }

    /// Forget semaphores nobody holds.
    fn tidy(&mut self, limits: DeliveryLimits) {
        self.identities
            .retain(|_, s| s.available_permits() < limits.per_identity.max(1));
        self.recipients
            .retain(|_, s| s.available_permits() < limits.per_recipient.max(1));
    }
}

pub(crate) async fn run(shared: Arc<NodeShared>) {
    match shared.with_store(|s| s.requeue_interrupted()) {
        Ok(n) if n > 0 => tracing::info!("re-queued {n} interrupted deliveries"),
        Ok(_) => {}
        Err(e) => tracing::error!("outbox: {e}"),
    }
    let limits = shared.config.delivery;
    let node = Arc::new(Semaphore::new(limits.per_node.max(1)));
    let mut slots = Slots::default();
    loop {
        let now = shared.clock.now_unix();
        let free = node.available_permits();
        let mut taken = Vec::new();
        if free > 0 {
            let claimed = shared.with_store(|s| {
                s.claim_due_where(now, free, |row| match slots.take(&node, row, limits) {
                    Some(p) => {
                        taken.push(p);
                        true
                    }
                    None => false,
                })
            });
            match claimed {
                Ok(rows) => {
                    for (row, permits) in rows.into_iter().zip(taken) {
                        let shared = shared.clone();
                        tokio::spawn(async move {
                            attempt(&shared, row).await;
                            drop(permits);
                            shared.wake.notify_one();
                        });
                    }
                }
                Err(e) => tracing::error!("outbox: {e}"),
            }
        }
        slots.tidy(limits);
        // Rows may also be queued by another process (the CLI): look again at least every second.
        let next = shared.with_store(|s| s.next_due()).ok().flatten();
        let wait = match next {
            Some(t) if t <= now => Duration::from_millis(200),
            Some(t) => Duration::from_secs(u64::try_from(t - now).unwrap_or(1).min(1)),
            None => Duration::from_secs(1),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.wake.notified() => {}
        }
    }
}

async fn attempt(shared: &NodeShared, row: OutboxRecord) {
    let outcome = try_deliver(shared, &row).await;
    let now = shared.clock.now_unix();
    let policy = shared.config.retry;
    let to = row
        .recipient
        .parse::<MailAddress>()
        .map(|a| a.redacted())
        .unwrap_or_default();
    let result = match outcome {
        Ok(()) => {
            tracing::info!(to = %to, "delivered");
            shared.with_store(|s| s.mark_delivered(row.id, now))
        }
        Err(DeliveryError::Permanent(e)) => {
            tracing::warn!(to = %to, "delivery failed for good: {e}");
            shared.with_store(|s| s.mark_failed(row.id, &e))
        }
        Err(DeliveryError::Transient(e)) => {
            // Not reachable directly: hand it to the recipient's carriers, if it has any.
            if let Some(note) = handover::to_carriers(shared, &row).await {
                tracing::info!(to = %to, "handed to carriers");
                if let Err(err) = shared.with_store(|s| s.mark_carried(row.id, &note)) {
                    tracing::error!("outbox: {err}");
                }
                return;
            }
            let age = u64::try_from(now - row.created_at).unwrap_or(0);
            if Duration::from_secs(age) >= policy.give_up_after {
                let e = format!("gave up after {} hours: {e}", age / 3600);
                shared.with_store(|s| s.mark_failed(row.id, &e))
            } else {
                let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
                let wait = policy.backoff(attempts).as_secs().max(1);
                let next = now + i64::try_from(wait).unwrap_or(i64::MAX / 2);
                tracing::info!(to = %to, "delivery deferred ({e}); retry in {wait} s");
                shared.with_store(|s| s.mark_retry(row.id, next, &e))
            }
        }
    };
    if let Err(e) = result {
        tracing::error!("outbox: {e}");
    }
}

async fn try_deliver(shared: &NodeShared, row: &OutboxRecord) -> Result<(), DeliveryError> {
    let p = prepare(shared, row)?;
    let known = KnownRecipient {
        key: p.contact.as_ref().and_then(|c| c.public_key.clone()),
        fingerprint: p.contact.as_ref().map(|c| c.fingerprint.clone()),
    };
    let from = p.me.keys.address().clone();
    let delivered = deliver(
        shared.transport.as_ref(),
        &from,
        &p.to,
        known,
        async |key: Vec<u8>| p.seal(&key).await,
        shared.config.client,
    )
    .await?;
    let (me, contact) = (&p.me, &p.contact);
    if let Some(card) = delivered.fetched_card {
        let key = card.public_key().map(<[u8]>::to_vec).unwrap_or_default();
        let r = match contact {
            Some(c) => shared.with_store(|s| s.set_contact_key(c.id, &key)),
            None => shared
                .with_store(|s| {
                    s.insert_contact(&NewContact {
                        identity_id: me.id,
                        address: &row.recipient,
                        display_name: card.display_name().as_str(),
                        fingerprint: card.binding().fingerprint(),
                        binding_sig: card.binding().signature(),
                        public_key: Some(&key),
                        verification: "first_contact",
                        added_at: shared.clock.now_unix(),
                    })
                })
                .map(|_| ()),
        };
        if let Err(e) = r {
            tracing::warn!("could not record the recipient's card: {e}");
        }
    }
    Ok(())
}
