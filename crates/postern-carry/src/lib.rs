#![doc = include_str!("../README.md")]
//! The signed statements of carrying, and how many carriers to use.
//!
//! | statement | signed by (onion key) | over |
//! |---|---|---|
//! | pass | the recipient R | R, carrier C, sender S, expiry |
//! | hand-over proof | the sender S | C, R, SHA-256 of the message |
//! | receipt | the carrier C | C, S, R, SHA-256 of the message, outcome, time |
//! | pull | the recipient R | C, R, time |
//!
//! A carrier accepts a message for R from S only with a pass R signed for exactly S at exactly
//! C, and a proof that S handed over exactly these bytes. It never needs to know S.

use data_encoding::BASE64URL_NOPAD;
use postern_crypto::{sign_statement, verify_statement, IdentityKeys};
use postern_types::MailAddress;
use sha2::{Digest, Sha256};

pub const PASS: &str = "postern-carrier-pass-v1";
pub const HANDOVER: &str = "postern-handover-v1";
pub const RECEIPT: &str = "postern-carrier-receipt-v1";
pub const PULL: &str = "postern-pull-v1";

/// How long a pass we hand out stays valid.
pub const PASS_VALIDITY_SECS: i64 = 30 * 24 * 3600;
/// How far a pull request's time may be from the carrier's clock.
pub const PULL_SKEW_SECS: i64 = 600;

pub fn hash(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

pub fn b64(bytes: &[u8]) -> String {
    BASE64URL_NOPAD.encode(bytes)
}

pub fn unb64(text: &str) -> Option<Vec<u8>> {
    BASE64URL_NOPAD.decode(text.as_bytes()).ok()
}

pub fn sign_pass(recipient: &IdentityKeys, carrier: &str, sender: &str, expires: i64) -> [u8; 64] {
    let r = recipient.address().to_string();
    sign_statement(
        recipient,
        PASS,
        &[
            r.as_bytes(),
            carrier.as_bytes(),
            sender.as_bytes(),
            &expires.to_be_bytes(),
        ],
    )
}

pub fn pass_ok(
    recipient: &MailAddress,
    carrier: &str,
    sender: &str,
    expires: i64,
    sig: &[u8],
) -> bool {
    let r = recipient.to_string();
    verify_statement(
        recipient,
        PASS,
        &[
            r.as_bytes(),
            carrier.as_bytes(),
            sender.as_bytes(),
            &expires.to_be_bytes(),
        ],
        sig,
    )
    .is_ok()
}

/// The `Postern-Carriers` header value for a message to `to`: `carrier;expires;pass` entries,
/// comma-separated.
pub fn carriers_header(
    me: &IdentityKeys,
    carriers: &[String],
    to: &str,
    now: i64,
) -> Option<String> {
    if carriers.is_empty() {
        return None;
    }
    let expires = now + PASS_VALIDITY_SECS;
    Some(
        carriers
            .iter()
            .map(|c| format!("{c};{expires};{}", b64(&sign_pass(me, c, to, expires))))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The carriers in a `Postern-Carriers` header from `sender` to `me`, keeping only entries
/// whose pass verifies and has not expired.
/// A carrier a contact named, with the pass it signed for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierPass {
    /// The carrier's address.
    pub carrier: String,
    /// The contact's signature: we may hand mail for it to that carrier.
    pub pass: Vec<u8>,
    /// When the pass expires (Unix seconds).
    pub expires_at: i64,
}

pub fn parse_carriers(header: &str, sender: &MailAddress, me: &str, now: i64) -> Vec<CarrierPass> {
    header
        .split(',')
        .take(16)
        .filter_map(|entry| {
            let mut f = entry.split(';');
            let carrier: MailAddress = f.next()?.trim().parse().ok()?;
            let expires: i64 = f.next()?.trim().parse().ok()?;
            let pass = unb64(f.next()?.trim())?;
            let carrier = carrier.to_string();
            (expires > now && pass_ok(sender, &carrier, me, expires, &pass)).then_some(
                CarrierPass {
                    carrier,
                    pass,
                    expires_at: expires,
                },
            )
        })
        .collect()
}

pub fn sign_handover(
    sender: &IdentityKeys,
    carrier: &str,
    recipient: &str,
    data_hash: &[u8],
) -> [u8; 64] {
    sign_statement(
        sender,
        HANDOVER,
        &[carrier.as_bytes(), recipient.as_bytes(), data_hash],
    )
}

pub fn handover_ok(
    sender: &MailAddress,
    carrier: &str,
    recipient: &str,
    data_hash: &[u8],
    sig: &[u8],
) -> bool {
    verify_statement(
        sender,
        HANDOVER,
        &[carrier.as_bytes(), recipient.as_bytes(), data_hash],
        sig,
    )
    .is_ok()
}

/// What happened to a carried message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Expired,
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Expired => "expired",
            Outcome::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "delivered" => Some(Outcome::Delivered),
            "expired" => Some(Outcome::Expired),
            "refused" => Some(Outcome::Refused),
            _ => None,
        }
    }
}

fn receipt_fields<'a>(
    carrier: &'a str,
    sender: &'a str,
    recipient: &'a str,
    data_hash: &'a [u8],
    outcome: Outcome,
    at: &'a [u8; 8],
) -> [&'a [u8]; 6] {
    [
        carrier.as_bytes(),
        sender.as_bytes(),
        recipient.as_bytes(),
        data_hash,
        outcome.as_str().as_bytes(),
        at,
    ]
}

pub fn sign_receipt(
    carrier: &IdentityKeys,
    sender: &str,
    recipient: &str,
    data_hash: &[u8],
    outcome: Outcome,
    at: i64,
) -> [u8; 64] {
    let c = carrier.address().to_string();
    let at = at.to_be_bytes();
    sign_statement(
        carrier,
        RECEIPT,
        &receipt_fields(&c, sender, recipient, data_hash, outcome, &at),
    )
}

pub fn receipt_ok(
    carrier: &MailAddress,
    sender: &str,
    recipient: &str,
    data_hash: &[u8],
    outcome: Outcome,
    at: i64,
    sig: &[u8],
) -> bool {
    let c = carrier.to_string();
    let at = at.to_be_bytes();
    verify_statement(
        carrier,
        RECEIPT,
        &receipt_fields(&c, sender, recipient, data_hash, outcome, &at),
        sig,
    )
    .is_ok()
}

pub fn sign_pull(recipient: &IdentityKeys, carrier: &str, at: i64) -> [u8; 64] {
    let r = recipient.address().to_string();
    sign_statement(
        recipient,
        PULL,
        &[carrier.as_bytes(), r.as_bytes(), &at.to_be_bytes()],
    )
}

pub fn pull_ok(recipient: &MailAddress, carrier: &str, at: i64, sig: &[u8]) -> bool {
    let r = recipient.to_string();
    verify_statement(
        recipient,
        PULL,
        &[carrier.as_bytes(), r.as_bytes(), &at.to_be_bytes()],
        sig,
    )
    .is_ok()
}

/// A carrier's availability estimate from `successes` and `failures` (Laplace's rule: an
/// unknown carrier counts as 1/2, and no finite record gives exactly 0 or 1).
pub fn availability(successes: i64, failures: i64) -> f64 {
    (successes.max(0) as f64 + 1.0) / ((successes.max(0) + failures.max(0)) as f64 + 2.0)
}

/// The chance at least one of carriers with availabilities `ps` is reachable:
/// `1 - Π(1 - p_i)` (seed 003, section 4, for independent carriers).
pub fn reach_probability(ps: &[f64]) -> f64 {
    1.0 - ps.iter().map(|p| 1.0 - p.clamp(0.0, 1.0)).product::<f64>()
}

/// How many of the carriers (most available first) are needed so that the chance that at least
/// one is reachable meets `target`: the smallest k with `1 - Π_{i<k}(1 - p_i) ≥ target`, or all
/// of them when even all fall short. With equal `p` this is `⌈ln(1-target)/ln(1-p)⌉`.
pub fn carriers_needed(ps: &[f64], target: f64) -> usize {
    let mut sorted: Vec<f64> = ps.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    for k in 1..=sorted.len() {
        if reach_probability(&sorted[..k]) >= target {
            return k;
        }
    }
    sorted.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_follows_the_formula() {
        // Equal availabilities: k = ceil(ln(1 - target) / ln(1 - p)).
        for p in [0.3, 0.5, 0.6, 0.9, 0.95] {
            for target in [0.9, 0.99, 0.999] {
                let want = ((1.0f64 - target).ln() / (1.0f64 - p).ln()).ceil() as usize;
                let ps = vec![p; 40];
                assert_eq!(carriers_needed(&ps, target), want, "p={p} target={target}");
                let got = carriers_needed(&ps, target);
                assert!(reach_probability(&ps[..got]) >= target);
                assert!(got == 1 || reach_probability(&ps[..got - 1]) < target);
            }
        }
        // Mixed: the most available first.
        assert_eq!(carriers_needed(&[0.5, 0.99, 0.9], 0.999), 2);
        assert_eq!(
            carriers_needed(&[0.5, 0.5], 0.999),
            2,
            "all, when all fall short"
        );
        assert_eq!(carriers_needed(&[], 0.999), 0);
        assert!((reach_probability(&[0.9, 0.9, 0.9]) - 0.999).abs() < 1e-12);
        assert_eq!(availability(0, 0), 0.5);
        assert_eq!(availability(8, 0), 0.9);
        assert_eq!(availability(1, 3), 1.0 / 3.0);
    }
}
