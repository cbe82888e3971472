//! Mail leaving the gateway: what is due is delivered to its recipients' MX hosts, several
//! messages per session and a few sessions at once (`MxDelivery::deliver_many`), retried on an
//! MTA's schedule, and bounced back to its Postern sender — as Postern mail from the gateway —
//! when it cannot be delivered. The outcomes of a round are recorded in one transaction.

use std::sync::Arc;
use std::time::Duration;

use postern_gateway::{DeliveryOutcome, MxDelivery, Outgoing};
use postern_store::{GatewayOutgoing, Store, StoreError};

use crate::config::RetryPolicy;
use crate::context::NodeShared;
use crate::mail::draft::QueuedDraft;

/// How often the queue is looked at when nothing is due (it is a table).
const POLL: Duration = Duration::from_secs(1);
/// Messages taken per round.
const ROUND: usize = 64;
/// SMTP sessions at once.
const SESSIONS: usize = 8;

/// Deliver what is due, forever.
pub(crate) async fn outbox_loop(shared: Arc<NodeShared>, delivery: Arc<MxDelivery>) {
    loop {
        let now = shared.clock.now_unix();
        let due: Vec<(GatewayOutgoing, zeroize::Zeroizing<Vec<u8>>)> = shared
            .with_store(|s| {
                s.gateway_due(now, ROUND)?
                    .into_iter()
                    .map(|o| s.gateway_message(&o).map(|m| (o, m)))
                    .collect::<Result<_, StoreError>>()
            })
            .unwrap_or_else(|e| {
                tracing::error!("gateway queue: {e}");
                Vec::new()
            });
        if due.is_empty() {
            tokio::time::sleep(POLL).await;
            continue;
        }
        let items: Vec<Outgoing<'_>> = due
            .iter()
            .map(|(o, m)| Outgoing {
                mail_from: &o.envelope_from,
                rcpt: &o.recipient,
                message: m,
            })
            .collect();
        let outcomes = delivery.deliver_many(&items, SESSIONS).await;
        let now = shared.clock.now_unix();
        let policy = shared.config.gateway.retry;
        let result = shared.with_store(|s| {
            s.in_transaction(|s| {
                let mut bounced = false;
                for ((out, _), outcome) in due.iter().zip(outcomes) {
                    bounced |= settle(s, out, outcome, now, &policy)?;
                }
                Ok::<_, StoreError>(bounced)
            })
        });
        match result {
            Ok(true) => shared.wake.notify_one(),
            Ok(false) => {}
            Err(e) => {
                tracing::error!("gateway queue: {e}");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// Record one outcome; whether a bounce was queued.
fn settle(
    s: &mut Store,
    out: &GatewayOutgoing,
    outcome: DeliveryOutcome,
    now: i64,
    policy: &RetryPolicy,
) -> Result<bool, StoreError> {
    let give_up =
        out.created_at + i64::try_from(policy.give_up_after.as_secs()).unwrap_or(i64::MAX);
    match outcome {
        DeliveryOutcome::Delivered { tls, .. } => {
            tracing::info!(tls, "gateway: delivered to an ordinary address");
            s.gateway_done(out.id)?;
            Ok(false)
        }
        DeliveryOutcome::Transient(why) if now < give_up => {
            let attempts = u32::try_from(out.attempts + 1).unwrap_or(u32::MAX);
            let wait = i64::try_from(policy.backoff(attempts).as_secs()).unwrap_or(i64::MAX);
            s.gateway_retry(out.id, now.saturating_add(wait), &why)?;
            Ok(false)
        }
        DeliveryOutcome::Transient(why) => {
            bounce(s, out, &format!("gave up retrying: {why}"), now)?;
            Ok(true)
        }
        DeliveryOutcome::Permanent(why) => {
            bounce(s, out, &why, now)?;
            Ok(true)
        }
    }
}

/// Tell the sender, and drop the message (inside the round's transaction).
fn bounce(s: &mut Store, out: &GatewayOutgoing, why: &str, now: i64) -> Result<(), StoreError> {
    let text = format!(
        "Your message to {} could not be delivered by this gateway.\n\n\
         The recipient's mail server, or the gateway, said:\n\n    {}\n",
        out.recipient,
        why.replace(['\r', '\n'], " ")
    );
    let draft = QueuedDraft::new(&format!("Undelivered: {}", out.subject), &text, &[]);
    let message_id = postern_mime::random_message_id(&mut rand::rngs::OsRng);
    s.enqueue(
        out.identity_id,
        &out.sender,
        &message_id,
        &draft.to_bytes(),
        now,
    )?;
    s.gateway_done(out.id)
}
