//! The sender side of carrying: when the recipient cannot be reached, hand the sealed message to
//! enough of the recipient's carriers (by measured availability) and settle the outbox row when
//! a carrier's signed receipt comes back.

use postern_store::OutboxRecord;
use postern_types::MailAddress;

use super::delivery::connect;
use super::prepare::prepare;
use crate::context::NodeShared;
use postern_carry as carry;

/// Try to hand `row`'s message to the recipient's carriers. Returns a note for the outbox if at
/// least one carrier holds it now.
pub(crate) async fn to_carriers(shared: &NodeShared, row: &OutboxRecord) -> Option<String> {
    let p = prepare(shared, row).ok()?;
    // Without the recipient's key we cannot seal the message for it.
    let key = p.contact.as_ref()?.public_key.clone()?;
    let now = shared.clock.now_unix();
    let me = p.me.id;
    let carriers: Vec<_> = shared
        .with_store(|s| s.contact_carriers(me, &row.recipient))
        .ok()?
        .into_iter()
        .filter(|c| c.expires_at > now)
        .collect();
    if carriers.is_empty() {
        return None;
    }
    let stats = shared
        .with_store(|s| s.carrier_stats(me))
        .unwrap_or_default();
    let p_of = |c: &str| {
        stats
            .iter()
            .find(|s| s.carrier == c)
            .map_or(carry::availability(0, 0), |s| {
                carry::availability(s.successes, s.failures)
            })
    };
    let mut ranked: Vec<(f64, &postern_store::ContactCarrier)> =
        carriers.iter().map(|c| (p_of(&c.carrier), c)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let ps: Vec<f64> = ranked.iter().map(|(p, _)| *p).collect();
    let k = carry::carriers_needed(&ps, shared.config.carrier_target);
    let message = p.seal(&key).await.ok()?;
    let data_hash = carry::hash(&message);
    let from = p.me.keys.address().to_string();
    let mut holding = Vec::new();
    for (_, c) in ranked {
        if holding.len() >= k {
            break;
        }
        let Ok(carrier) = c.carrier.parse::<MailAddress>() else {
            continue;
        };
        let proof = carry::sign_handover(&p.me.keys, &c.carrier, &row.recipient, &data_hash);
        let result = async {
            let mut conv = connect(
                shared.transport.as_ref(),
                p.me.keys.address(),
                &carrier,
                shared.config.client,
            )
            .await
            .map_err(|e| (false, e.to_string()))?;
            let claim = conv
                .command(&format!(
                    "XCARRY {} {} {} {}",
                    row.recipient,
                    c.expires_at,
                    carry::b64(&c.pass),
                    carry::b64(&proof)
                ))
                .await
                .map_err(|e| (true, e.to_string()))?;
            if claim.code != 250 {
                return Err((true, claim.to_string()));
            }
            let done = conv
                .transaction(&from, &row.recipient, &message)
                .await
                .map_err(|e| (true, e.to_string()))?;
            conv.quit().await;
            if done.is_positive() {
                Ok(())
            } else {
                Err((true, done.to_string()))
            }
        }
        .await;
        let reached = match &result {
            Ok(()) => true,
            Err((reached, _)) => *reached,
        };
        let now = shared.clock.now_unix();
        let _ = shared.with_store(|s| s.record_carrier_contact(me, &c.carrier, reached, now));
        match result {
            Ok(()) => {
                if let Err(e) =
                    shared.with_store(|s| s.record_handover(row.id, &c.carrier, &data_hash, now))
                {
                    tracing::error!("outbox: {e}");
                    continue;
                }
                holding.push(carrier.redacted());
            }
            Err((_, why)) => {
                tracing::info!(carrier = %carrier.redacted(), "hand-over refused: {why}");
            }
        }
    }
    (!holding.is_empty()).then(|| {
        format!(
            "recipient offline; held by {} carrier(s), waiting for delivery",
            holding.len()
        )
    })
}
