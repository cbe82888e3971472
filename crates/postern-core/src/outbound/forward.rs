//! The carrier side, going out: forwarding held mail when its recipient can be reached (or
//! asked with `XPULL`), like an MTA, and telling each sender how it ended with a signed receipt;
//! and, as a recipient, asking our own carriers for what they hold (`XPULL`) when the node
//! starts. Holding is inbound (`inbound::holding`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use postern_store::{CarriedOutcome, CarriedRecord};
use postern_types::MailAddress;

use super::delivery::{connect, DeliveryError};
use crate::context::{LocalIdentity, NodeShared};
use postern_carry::{self as carry, Outcome};

/// Most held messages taken per round.
const BATCH: usize = 1024;
/// Most receipts sent per round.
const RECEIPT_BATCH: usize = 1024;

/// The carrier loop: drop what expired, forward what is due (one connection per recipient, many
/// messages on it), send receipts.
pub(crate) async fn run(shared: Arc<NodeShared>) {
    match shared.with_store(|s| s.requeue_carried()) {
        Ok(n) if n > 0 => tracing::info!("carrier: {n} interrupted forwards held again"),
        Ok(_) => {}
        Err(e) => tracing::error!("carrier: {e}"),
    }
    loop {
        let now = shared.clock.now_unix();
        if let Err(e) = shared.with_store(|s| s.expire_carried(now)) {
            tracing::error!("carrier: {e}");
        }
        let due = shared
            .with_store(|s| s.claim_carried_due(now, BATCH))
            .unwrap_or_else(|e| {
                tracing::error!("carrier: {e}");
                Vec::new()
            });
        let mut by_route: BTreeMap<(i64, String), Vec<CarriedRecord>> = BTreeMap::new();
        for r in due {
            by_route
                .entry((r.identity_id, r.recipient.clone()))
                .or_default()
                .push(r);
        }
        let mut tasks = Vec::new();
        for ((carrier_id, recipient), rows) in by_route {
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                forward(&shared, carrier_id, &recipient, rows).await;
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        send_receipts(&shared).await;
        let busy = shared
            .with_store(|s| s.next_carried_due())
            .ok()
            .flatten()
            .is_some_and(|t| t <= shared.clock.now_unix());
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shared.carrier_wake.notified() => {}
            }
        }
    }
}

fn retry_at(shared: &NodeShared, attempts: i64) -> i64 {
    let wait = shared
        .config
        .retry
        .backoff(u32::try_from(attempts).unwrap_or(u32::MAX))
        .as_secs()
        .max(1);
    shared.clock.now_unix() + i64::try_from(wait).unwrap_or(i64::MAX / 2)
}

/// Connections per recipient while forwarding: the recipient commits messages arriving
/// together in one transaction, so a few parallel sessions drain a backlog much faster than one.
const FORWARD_PARALLEL: usize = 8;
/// Outcomes written per transaction on the carrier's side.
const SETTLE_EVERY: usize = 64;

/// Forward held messages to one recipient, over up to `FORWARD_PARALLEL` connections.
async fn forward(
    shared: &Arc<NodeShared>,
    carrier_id: i64,
    recipient: &str,
    rows: Vec<CarriedRecord>,
) {
    let lanes = FORWARD_PARALLEL.min(rows.len()).max(1);
    let mut split: Vec<Vec<CarriedRecord>> = vec![Vec::new(); lanes];
    for (i, r) in rows.into_iter().enumerate() {
        split[i % lanes].push(r);
    }
    let mut tasks = Vec::new();
    for lane in split {
        let (shared, recipient) = (shared.clone(), recipient.to_owned());
        tasks.push(tokio::spawn(async move {
            forward_lane(&shared, carrier_id, &recipient, lane).await;
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

fn settle(shared: &NodeShared, outcomes: &mut Vec<CarriedOutcome>) {
    if outcomes.is_empty() {
        return;
    }
    let now = shared.clock.now_unix();
    if let Err(e) = shared.with_store(|s| s.settle_carried(outcomes, now)) {
        // Not recorded: the messages are forwarded again later, and the recipient stores
        // each once.
        tracing::error!("carrier: {e}");
    }
    outcomes.clear();
}

/// Forward messages to one recipient over one connection, in order.
async fn forward_lane(
    shared: &NodeShared,
    carrier_id: i64,
    recipient: &str,
    rows: Vec<CarriedRecord>,
) {
    let Some(me) = shared.identities.get(&carrier_id).cloned() else {
        return;
    };
    let mut outcomes = Vec::new();
    let Ok(to) = recipient.parse::<MailAddress>() else {
        for r in &rows {
            outcomes.push(CarriedOutcome::Finished {
                id: r.id,
                state: "refused",
                error: Some("bad recipient address".into()),
            });
        }
        return settle(shared, &mut outcomes);
    };
    let mut c = match connect(
        shared.transport.as_ref(),
        me.keys.address(),
        &to,
        shared.config.client,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            for r in &rows {
                outcomes.push(CarriedOutcome::Retry {
                    id: r.id,
                    at: retry_at(shared, r.attempts + 1),
                    error: e.to_string(),
                });
            }
            return settle(shared, &mut outcomes);
        }
    };
    let mut rows = rows.into_iter();
    while let Some(r) = rows.next() {
        let data = match shared.with_store(|s| s.carried_data(r.id)) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("carrier: {e}");
                continue;
            }
        };
        let finished = |state: &'static str, error: Option<String>| CarriedOutcome::Finished {
            id: r.id,
            state,
            error,
        };
        match c.transaction(&r.sender, recipient, &data).await {
            Ok(reply) if reply.is_positive() => outcomes.push(finished("delivered", None)),
            Ok(reply) if !reply.is_transient() => {
                outcomes.push(finished("refused", Some(reply.to_string())));
            }
            Ok(reply) => outcomes.push(CarriedOutcome::Retry {
                id: r.id,
                at: retry_at(shared, r.attempts + 1),
                error: reply.to_string(),
            }),
            Err(DeliveryError::Permanent(e)) => outcomes.push(finished("refused", Some(e))),
            Err(DeliveryError::Transient(e)) => {
                // The connection is gone: this and the rest wait for the next round.
                for rest in std::iter::once(r).chain(rows.by_ref()) {
                    outcomes.push(CarriedOutcome::Retry {
                        id: rest.id,
                        at: retry_at(shared, rest.attempts + 1),
                        error: e.clone(),
                    });
                }
                return settle(shared, &mut outcomes);
            }
        }
        if outcomes.len() >= SETTLE_EVERY {
            settle(shared, &mut outcomes);
        }
    }
    settle(shared, &mut outcomes);
    c.quit().await;
}

/// Tell senders what became of what they handed over: one connection per sender, one
/// transaction for the bookkeeping.
async fn send_receipts(shared: &NodeShared) {
    let now = shared.clock.now_unix();
    let due = shared
        .with_store(|s| s.receipts_due(now, RECEIPT_BATCH))
        .unwrap_or_default();
    let mut by_sender: BTreeMap<(i64, String), Vec<CarriedRecord>> = BTreeMap::new();
    for r in due {
        by_sender
            .entry((r.identity_id, r.sender.clone()))
            .or_default()
            .push(r);
    }
    let wait = i64::try_from(shared.config.receipt_retry.as_secs().max(1)).unwrap_or(60);
    let mut done = Vec::new();
    for ((carrier_id, sender), rows) in by_sender {
        let Some(me) = shared.identities.get(&carrier_id).cloned() else {
            continue;
        };
        // Receipts are retried until a day after the message's holding time is over.
        let retry = |r: &CarriedRecord| (now < r.expires_at + 24 * 3600).then_some(now + wait);
        let Ok(to) = sender.parse::<MailAddress>() else {
            done.extend(rows.iter().map(|r| (r.id, None)));
            continue;
        };
        let mut conv = match connect(
            shared.transport.as_ref(),
            me.keys.address(),
            &to,
            shared.config.client,
        )
        .await
        {
            Ok(c) => c,
            Err(_) => {
                done.extend(rows.iter().map(|r| (r.id, retry(r))));
                continue;
            }
        };
        for r in &rows {
            let outcome = match r.state.as_str() {
                "delivered" => Outcome::Delivered,
                "expired" => Outcome::Expired,
                _ => Outcome::Refused,
            };
            let at = r.done_at.unwrap_or(now);
            let sig =
                carry::sign_receipt(&me.keys, &r.sender, &r.recipient, &r.data_hash, outcome, at);
            let line = format!(
                "XRECEIPT {} {} {} {} {at} {}",
                me.keys.address(),
                r.recipient,
                carry::b64(&r.data_hash),
                outcome.as_str(),
                carry::b64(&sig)
            );
            match conv.command(&line).await {
                // A permanent refusal will not change: stop trying.
                Ok(reply) if !reply.is_transient() => done.push((r.id, None)),
                _ => done.push((r.id, retry(r))),
            }
        }
        conv.quit().await;
    }
    if let Err(e) = shared.with_store(|s| s.receipts_done(&done)) {
        tracing::error!("carrier: {e}");
    }
}

/// Ask every carrier of every identity for what it holds for us (`XPULL`), once; each
/// identity on its own schedule (`independent_delays`).
pub(crate) async fn pull_all(shared: Arc<NodeShared>) {
    let identities: Vec<Arc<LocalIdentity>> = shared.identities.values().cloned().collect();
    let delays = crate::config::independent_delays(
        identities.len(),
        shared.config.unlinking.pull_spread,
        &mut rand::rngs::OsRng,
    );
    let pulls: Vec<_> = identities
        .into_iter()
        .zip(delays)
        .map(|(me, delay)| {
            let shared = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                pull_for(&shared, &me).await;
            })
        })
        .collect();
    for p in pulls {
        let _ = p.await;
    }
}

/// Ask each of `me`'s carriers for what it holds.
async fn pull_for(shared: &NodeShared, me: &LocalIdentity) {
    let carriers = shared
        .with_store(|s| s.my_carriers(me.id))
        .unwrap_or_default();
    for c in carriers {
        let Ok(carrier) = c.parse::<MailAddress>() else {
            continue;
        };
        let at = shared.clock.now_unix();
        let sig = carry::sign_pull(&me.keys, &c, at);
        let line = format!("XPULL {} {at} {}", me.keys.address(), carry::b64(&sig));
        match connect(
            shared.transport.as_ref(),
            me.keys.address(),
            &carrier,
            shared.config.client,
        )
        .await
        {
            Ok(mut conv) => {
                match conv.command(&line).await {
                    Ok(r) => tracing::info!(carrier = %carrier.redacted(), "pull: {r}"),
                    Err(e) => tracing::info!(carrier = %carrier.redacted(), "pull failed: {e}"),
                }
                conv.quit().await;
            }
            Err(e) => {
                tracing::info!(carrier = %carrier.redacted(), "carrier not reachable for a pull: {e}")
            }
        }
    }
}
