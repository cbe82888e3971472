//! The carrier side: holding sealed mail for a recipient who is offline, forwarding it when the
//! recipient can be reached (or asks with `XPULL`), and telling the sender how it ended with a
//! signed receipt. A carrier holds PGP/MIME it cannot read; it learns sender, recipient, size
//! and time.
//!
//! | refusal of a hand-over | reply |
//! |---|---|
//! | carrier mode off, or not carrying for that recipient | `550 5.7.1` |
//! | credentials malformed, pass not signed by the recipient for this sender and carrier, or expired | `550 5.7.1` |
//! | hand-over proof not signed by the sender for these bytes | `550 5.7.1` |
//! | quota full | `452 4.2.2` (the sender tries another carrier) |
//! | store busy | `451 4.3.0` |

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use postern_smtp::{Envelope, Reply};
use postern_store::{CarriedOutcome, CarriedRecord, Held, NewCarried};
use postern_types::MailAddress;

use super::carry::{self, Outcome};
use super::delivery::{connect, DeliveryError};
use super::receive::{LocalIdentity, Mailroom};
use crate::node::NodeShared;

fn refuse(text: &str) -> Reply {
    Reply::new(550, "5.7.1", text)
}

impl Mailroom {
    /// A message handed over for a recipient this node carries for.
    pub(crate) async fn hold(
        &self,
        me: &LocalIdentity,
        envelope: Envelope,
        data: Vec<u8>,
    ) -> Reply {
        let Some(claim) = envelope.carry else {
            return refuse("Not a hand-over");
        };
        let carrier = me.keys.address().to_string();
        let (Ok(sender), Ok(recipient)) = (
            envelope.mail_from.parse::<MailAddress>(),
            claim.recipient.parse::<MailAddress>(),
        ) else {
            return refuse("Malformed addresses in the hand-over");
        };
        let now = self.clock.now_unix();
        let policy = match self.with_reader(|s| {
            Ok::<_, postern_store::StoreError>((
                s.carrier_policy(me.id)?,
                s.carrier_allowed(me.id)?,
            ))
        }) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("carrier policy: {e}");
                return Reply::new(
                    451,
                    "4.3.0",
                    "Cannot check the carrier policy now; try again",
                );
            }
        };
        let (policy, allowed) = policy;
        if !policy.enabled {
            return refuse("This node does not carry mail (carrier mode is off)");
        }
        if !allowed.contains(&claim.recipient) {
            return refuse("This carrier does not carry mail for that address");
        }
        let [expires, pass, proof] = claim.credentials.as_slice() else {
            return refuse("Malformed hand-over credentials");
        };
        let (Ok(expires), Some(pass), Some(proof)) = (
            expires.parse::<i64>(),
            carry::unb64(pass),
            carry::unb64(proof),
        ) else {
            return refuse("Malformed hand-over credentials");
        };
        if !carry::pass_ok(&recipient, &carrier, &envelope.mail_from, expires, &pass) {
            return refuse("The carrier pass is not the recipient's for this sender and carrier");
        }
        if expires < now {
            return refuse("The carrier pass has expired; the recipient must send a new one");
        }
        let data_hash = carry::hash(&data);
        if !carry::handover_ok(&sender, &carrier, &claim.recipient, &data_hash, &proof) {
            return refuse("The hand-over is not signed by its sender");
        }
        let held = self.with_reader(|s| {
            s.hold_carried(
                &NewCarried {
                    identity_id: me.id,
                    sender: &envelope.mail_from,
                    recipient: &claim.recipient,
                    data_hash: &data_hash,
                    data: &data,
                    received_at: now,
                    expires_at: now.saturating_add(policy.max_hold_secs),
                },
                policy.quota_bytes,
            )
        });
        match held {
            Ok(Held::New(_)) => {
                tracing::info!(to = %recipient.redacted(), bytes = data.len(), "holding mail as a carrier");
                self.carrier_wake.notify_one();
                Reply::new(
                    250,
                    "2.0.0",
                    "Held; it will be delivered when the recipient is reachable",
                )
            }
            Ok(Held::Duplicate(_)) => Reply::new(250, "2.0.0", "Already held"),
            Ok(Held::OverQuota) => {
                Reply::new(452, "4.2.2", "Carrier storage is full; try another carrier")
            }
            Err(e) => {
                tracing::error!("holding a message failed: {e}");
                Reply::new(451, "4.3.0", "Cannot hold the message now; try again later")
            }
        }
    }

    /// `XPULL <recipient> <time> <signature>`: the recipient is online and asks for its mail now.
    pub(crate) fn pull(&self, me: &LocalIdentity, args: &[String]) -> Reply {
        let [recipient, at, sig] = args else {
            return Reply::new(501, "5.5.4", "Syntax: XPULL <recipient> <time> <signature>");
        };
        let (Ok(r), Ok(at), Some(sig)) = (
            recipient.to_ascii_lowercase().parse::<MailAddress>(),
            at.parse::<i64>(),
            carry::unb64(sig),
        ) else {
            return Reply::new(501, "5.5.4", "Syntax: XPULL <recipient> <time> <signature>");
        };
        let now = self.clock.now_unix();
        let carrier = me.keys.address().to_string();
        if (now - at).abs() > carry::PULL_SKEW_SECS || !carry::pull_ok(&r, &carrier, at, &sig) {
            return refuse("The pull request is not signed by the recipient, or is stale");
        }
        match self.with_reader(|s| s.pull_carried(me.id, &r.to_string(), now)) {
            Ok(n) => {
                if n > 0 {
                    self.carrier_wake.notify_one();
                }
                Reply::new(250, "2.0.0", format!("{n} message(s) on their way"))
            }
            Err(e) => {
                tracing::error!("pull: {e}");
                Reply::new(451, "4.3.0", "Cannot look now; try again later")
            }
        }
    }
}

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

/// Ask every carrier of every identity for what it holds for us (`XPULL`), once.
pub(crate) async fn pull_all(shared: Arc<NodeShared>) {
    for me in shared.identities.values() {
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
}
