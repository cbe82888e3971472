//! The outbox loop: drains the outbox table, retrying with back-off like an MTA.

use std::sync::Arc;
use std::time::Duration;

use postern_crypto::PublicKeyInfo;
use postern_mime::{compose, Draft, SenderKeys};
use postern_store::{ContactRecord, NewContact, OutboxRecord, StoreError};
use postern_types::MailAddress;
use tokio::sync::Semaphore;

use super::carry;
use super::delivery::{deliver, DeliveryError, KnownRecipient};
use super::draft::QueuedDraft;
use super::handover;
use super::receive::LocalIdentity;
use crate::node::NodeShared;

/// When to retry and when to give up (RFC 5321 §4.5.4.1: retry at least every 30 minutes, give
/// up after 4–5 days).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Wait before the first retry; doubled after each failure.
    pub first_retry: Duration,
    /// Longest wait between attempts.
    pub max_interval: Duration,
    /// Give up this long after the message was queued.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_retry: Duration::from_secs(60),
            max_interval: Duration::from_secs(30 * 60),
            give_up_after: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt (1-based).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.first_retry
            .saturating_mul(factor)
            .min(self.max_interval)
    }
}

/// Concurrent deliveries.
const PARALLEL: usize = 4;

pub(crate) async fn run(shared: Arc<NodeShared>) {
    match shared.with_store(|s| s.requeue_interrupted()) {
        Ok(n) if n > 0 => tracing::info!("re-queued {n} interrupted deliveries"),
        Ok(_) => {}
        Err(e) => tracing::error!("outbox: {e}"),
    }
    let slots = Arc::new(Semaphore::new(PARALLEL));
    loop {
        let now = shared.clock.now_unix();
        let free = slots.available_permits().max(1);
        let due = shared
            .with_store(|s| s.claim_due(now, free))
            .unwrap_or_else(|e| {
                tracing::error!("outbox: {e}");
                Vec::new()
            });
        for row in due {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                attempt(&shared, row).await;
                drop(permit);
                shared.wake.notify_one();
            });
        }
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

/// Everything needed to compose an outbox row's message, whoever carries it.
pub(crate) struct Prepared {
    pub me: Arc<LocalIdentity>,
    pub to: MailAddress,
    pub contact: Option<ContactRecord>,
    draft: Draft,
    date: i64,
    message_id: String,
}

impl Prepared {
    /// The message, signed and encrypted to `key`.
    pub(crate) fn compose(&self, key: &[u8]) -> Result<Vec<u8>, DeliveryError> {
        let info = PublicKeyInfo::parse(key)
            .map_err(|e| DeliveryError::Permanent(format!("recipient key: {e}")))?;
        compose(
            &self.draft,
            SenderKeys {
                cert: self.me.keys.openpgp_cert(),
                binding: self.me.keys.binding(),
            },
            info.cert(),
            self.date,
            &self.message_id,
            &mut rand::rngs::OsRng,
        )
        .map_err(|e| DeliveryError::Permanent(e.to_string()))
    }
}

pub(crate) fn prepare(shared: &NodeShared, row: &OutboxRecord) -> Result<Prepared, DeliveryError> {
    let store_err = |e: StoreError| DeliveryError::Transient(format!("local store: {e}"));
    let Some(me) = shared.identities.get(&row.identity_id).cloned() else {
        return Err(DeliveryError::Permanent(
            "the sending identity is not served by this node".into(),
        ));
    };
    let to: MailAddress = row
        .recipient
        .parse()
        .map_err(|e| DeliveryError::Permanent(format!("bad recipient address: {e}")))?;
    let draft_bytes = shared
        .with_store(|s| s.outgoing_draft(row.id))
        .map_err(store_err)?;
    let draft = QueuedDraft::from_bytes(&draft_bytes)
        .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
    let attachments = draft
        .attachments()
        .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
    let contact = match shared.with_store(|s| s.contact(me.id, &row.recipient)) {
        Ok(c) => Some(c),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(store_err(e)),
    };
    // Every message tells the recipient where it may hand mail for us while we are offline.
    let mut headers = draft.headers.clone();
    let my_carriers = shared
        .with_store(|s| s.my_carriers(me.id))
        .map_err(store_err)?;
    if let Some(h) = carry::carriers_header(
        &me.keys,
        &my_carriers,
        &row.recipient,
        shared.clock.now_unix(),
    ) {
        headers.push(("Postern-Carriers".into(), h));
    }
    let from = me.keys.address().clone();
    Ok(Prepared {
        draft: Draft {
            from,
            from_name: me.keys.binding().display_name().to_owned(),
            to: to.clone(),
            subject: draft.subject.clone(),
            text: draft.text.clone(),
            attachments,
            headers,
        },
        me,
        to,
        contact,
        date: row.created_at,
        message_id: row.message_id.clone(),
    })
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
        |key: &[u8]| p.compose(key),
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
