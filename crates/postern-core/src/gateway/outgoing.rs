//! Mail leaving the gateway: each queued message delivered to its recipient's MX, retried on
//! an MTA's schedule, and bounced back to its Postern sender — as Postern mail from the gateway
//! — when it cannot be delivered.

use std::sync::Arc;
use std::time::Duration;

use postern_gateway::{DeliveryOutcome, MxDelivery};
use postern_store::GatewayOutgoing;

use crate::context::NodeShared;
use crate::mail::draft::QueuedDraft;

/// How often the queue is looked at when nothing is due (it is a table).
const POLL: Duration = Duration::from_secs(1);
/// Deliveries at once.
const BATCH: usize = 8;

/// Deliver what is due, forever.
pub(crate) async fn outbox_loop(shared: Arc<NodeShared>, delivery: Arc<MxDelivery>) {
    loop {
        let now = shared.clock.now_unix();
        let due = shared
            .with_store(|s| s.gateway_due(now, BATCH))
            .unwrap_or_else(|e| {
                tracing::error!("gateway queue: {e}");
                Vec::new()
            });
        let empty = due.is_empty();
        // One slow MX does not hold up the rest of the batch.
        let mut attempts = tokio::task::JoinSet::new();
        for out in due {
            let (shared, delivery) = (shared.clone(), delivery.clone());
            attempts.spawn(async move { deliver_one(&shared, &delivery, &out).await });
        }
        while attempts.join_next().await.is_some() {}
        if empty {
            tokio::time::sleep(POLL).await;
        }
    }
}

async fn deliver_one(shared: &NodeShared, delivery: &MxDelivery, out: &GatewayOutgoing) {
    let message = match shared.with_store(|s| s.gateway_message(out)) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("gateway queue: {e}");
            return;
        }
    };
    let outcome = delivery
        .deliver(&out.envelope_from, &out.recipient, &message)
        .await;
    let now = shared.clock.now_unix();
    let policy = &shared.config.gateway.retry;
    let give_up =
        out.created_at + i64::try_from(policy.give_up_after.as_secs()).unwrap_or(i64::MAX);
    let result = match outcome {
        DeliveryOutcome::Delivered { tls, .. } => {
            tracing::info!(tls, "gateway: delivered to an ordinary address");
            shared.with_store(|s| s.gateway_done(out.id))
        }
        DeliveryOutcome::Transient(why) if now < give_up => {
            let attempts = u32::try_from(out.attempts + 1).unwrap_or(u32::MAX);
            let wait = i64::try_from(policy.backoff(attempts).as_secs()).unwrap_or(i64::MAX);
            shared.with_store(|s| s.gateway_retry(out.id, now.saturating_add(wait), &why))
        }
        DeliveryOutcome::Transient(why) => bounce(shared, out, &format!("gave up retrying: {why}")),
        DeliveryOutcome::Permanent(why) => bounce(shared, out, &why),
    };
    if let Err(e) = result {
        tracing::error!("gateway queue: {e}");
    }
}

/// Tell the sender, and drop the message, in one transaction.
fn bounce(
    shared: &NodeShared,
    out: &GatewayOutgoing,
    why: &str,
) -> Result<(), postern_store::StoreError> {
    let text = format!(
        "Your message to {} could not be delivered by this gateway.\n\n\
         The recipient's mail server, or the gateway, said:\n\n    {}\n",
        out.recipient,
        why.replace(['\r', '\n'], " ")
    );
    let draft = QueuedDraft::new(&format!("Undelivered: {}", out.subject), &text, &[]);
    let message_id = postern_mime::random_message_id(&mut rand::rngs::OsRng);
    let now = shared.clock.now_unix();
    let result = shared.with_store(|s| {
        s.in_transaction(|s| {
            s.enqueue(
                out.identity_id,
                &out.sender,
                &message_id,
                &draft.to_bytes(),
                now,
            )?;
            s.gateway_done(out.id)
        })
    });
    shared.wake.notify_one();
    result
}
