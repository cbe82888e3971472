//! The carrier side, as mail arrives: holding sealed mail for a recipient who is offline
//! (`XCARRY` then a transaction), and the recipient asking for it now (`XPULL`). A carrier holds
//! PGP/MIME it cannot read; it learns sender, recipient, size and time. Forwarding and receipts
//! are outbound (`outbound::forward`).
//!
//! Every refusal of a hand-over before its credentials check out gets one text, so that nobody
//! learns from a carrier whom it carries for: malformed credentials, a pass not signed by the
//! recipient for this sender and carrier, an expired pass, a proof not signed by the sender for
//! these bytes, carrier mode off, a recipient not carried for.
//!
//! | refusal of a hand-over | reply |
//! |---|---|
//! | any of the above | `550 5.7.1` [`HANDOVER_REFUSED`] |
//! | quota full | `452 4.2.2` (the sender tries another carrier) |
//! | store busy | `451 4.3.0` |

use postern_smtp::{Envelope, Reply};
use postern_store::{Held, NewCarried};
use postern_types::MailAddress;

use super::mailroom::Mailroom;
use crate::context::LocalIdentity;
use postern_carry as carry;

/// The one reply to a hand-over that is not accepted.
pub const HANDOVER_REFUSED: &str = "Hand-over refused: not carried here";

fn refused() -> Reply {
    Reply::new(550, "5.7.1", HANDOVER_REFUSED)
}

/// A message handed over for a recipient this node may carry for.
pub(super) fn hold(
    room: &Mailroom,
    me: &LocalIdentity,
    envelope: Envelope,
    data: Vec<u8>,
) -> Reply {
    let Some(claim) = envelope.carry else {
        return refused();
    };
    let carrier = me.keys.address().to_string();
    let (Ok(sender), Ok(recipient)) = (
        envelope.mail_from.parse::<MailAddress>(),
        claim.recipient.parse::<MailAddress>(),
    ) else {
        return refused();
    };
    let now = room.clock.now_unix();
    // The signatures first, the same work for every claim; the policy only after.
    let [expires, pass, proof] = claim.credentials.as_slice() else {
        return refused();
    };
    let (Ok(expires), Some(pass), Some(proof)) = (
        expires.parse::<i64>(),
        carry::unb64(pass),
        carry::unb64(proof),
    ) else {
        return refused();
    };
    let data_hash = carry::hash(&data);
    let pass_ok = carry::pass_ok(&recipient, &carrier, &envelope.mail_from, expires, &pass);
    let proof_ok = carry::handover_ok(&sender, &carrier, &claim.recipient, &data_hash, &proof);
    if !pass_ok || !proof_ok || expires < now {
        return refused();
    }
    let policy = room.with_reader(|s| {
        Ok::<_, postern_store::StoreError>((s.carrier_policy(me.id)?, s.carrier_allowed(me.id)?))
    });
    let (policy, allowed) = match policy {
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
    if !policy.enabled || !allowed.contains(&claim.recipient) {
        return refused();
    }
    let held = room.with_reader(|s| {
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
            room.carrier_wake.notify_one();
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
pub(super) fn pull(room: &Mailroom, me: &LocalIdentity, args: &[String]) -> Reply {
    let syntax = || Reply::new(501, "5.5.4", "Syntax: XPULL <recipient> <time> <signature>");
    let [recipient, at, sig] = args else {
        return syntax();
    };
    let (Ok(r), Ok(at), Some(sig)) = (
        recipient.to_ascii_lowercase().parse::<MailAddress>(),
        at.parse::<i64>(),
        carry::unb64(sig),
    ) else {
        return syntax();
    };
    let now = room.clock.now_unix();
    let carrier = me.keys.address().to_string();
    if (now - at).abs() > carry::PULL_SKEW_SECS || !carry::pull_ok(&r, &carrier, at, &sig) {
        return Reply::new(
            550,
            "5.7.1",
            "The pull request is not signed by the recipient, or is stale",
        );
    }
    match room.with_reader(|s| s.pull_carried(me.id, &r.to_string(), now)) {
        Ok(n) => {
            if n > 0 {
                room.carrier_wake.notify_one();
            }
            Reply::new(250, "2.0.0", format!("{n} message(s) on their way"))
        }
        Err(e) => {
            tracing::error!("pull: {e}");
            Reply::new(451, "4.3.0", "Cannot look now; try again later")
        }
    }
}
