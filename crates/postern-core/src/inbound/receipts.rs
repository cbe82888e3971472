//! Receipts from carriers (`XRECEIPT`): a carrier tells the sender, signed, what became of a
//! message it was handed. The sender's outbox row settles: delivered via that carrier, or failed
//! once every carrier gave up.

use postern_smtp::Reply;
use postern_types::MailAddress;

use super::mailroom::Mailroom;
use crate::context::LocalIdentity;
use postern_carry::{self as carry, Outcome};

/// `XRECEIPT <carrier> <recipient> <hash> <outcome> <time> <signature>`: a carrier tells us
/// (the sender) what became of a message we handed over.
pub(super) fn receipt(room: &Mailroom, me: &LocalIdentity, args: &[String]) -> Reply {
    let bad = || {
        Reply::new(
            501,
            "5.5.4",
            "Syntax: XRECEIPT <carrier> <recipient> <hash> <outcome> <time> <signature>",
        )
    };
    let [carrier, recipient, hash, outcome, at, sig] = args else {
        return bad();
    };
    let (Ok(carrier), Some(hash), Some(outcome), Ok(at), Some(sig)) = (
        carrier.to_ascii_lowercase().parse::<MailAddress>(),
        carry::unb64(hash),
        Outcome::parse(outcome),
        at.parse::<i64>(),
        carry::unb64(sig),
    ) else {
        return bad();
    };
    let recipient = recipient.to_ascii_lowercase();
    let sender = me.keys.address().to_string();
    if !carry::receipt_ok(&carrier, &sender, &recipient, &hash, outcome, at, &sig) {
        return Reply::new(550, "5.7.1", "The receipt is not signed by that carrier");
    }
    let carrier_addr = carrier.to_string();
    let now = room.clock.now_unix();
    let settled = room.with_reader(|s| -> Result<bool, postern_store::StoreError> {
        let Some(h) = s.handover_by_hash(me.id, &carrier_addr, &hash)? else {
            return Ok(false);
        };
        s.set_handover_state(h.id, outcome.as_str(), now)?;
        let row = s.outgoing(h.outbox_id)?;
        if row.recipient != recipient {
            return Ok(false);
        }
        match outcome {
            Outcome::Delivered => s.mark_delivered_via(h.outbox_id, &carrier_addr, at)?,
            _ => {
                let all = s.handovers(h.outbox_id)?;
                let open = all
                    .iter()
                    .any(|x| x.state == "held" || x.state == "delivered");
                if !open && row.state == postern_store::outbox_state::CARRIED {
                    s.mark_failed(
                        h.outbox_id,
                        &format!(
                            "no carrier could deliver it: {} {}",
                            carrier.redacted(),
                            if outcome == Outcome::Expired {
                                "held it until its holding time ran out"
                            } else {
                                "was refused by the recipient"
                            }
                        ),
                    )?;
                }
            }
        }
        Ok(true)
    });
    match settled {
        Ok(true) => Reply::new(250, "2.0.0", "Receipt recorded"),
        Ok(false) => Reply::new(550, "5.7.1", "No such hand-over here"),
        Err(e) => {
            tracing::error!("receipt: {e}");
            Reply::new(
                451,
                "4.3.0",
                "Cannot record the receipt now; try again later",
            )
        }
    }
}
