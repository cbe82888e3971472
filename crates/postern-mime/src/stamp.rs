//! Proof-of-work stamps on first messages to someone who does not know the sender (PRODUCT.md
//! F15, seed 002): a stranger spends about 2^22 hashes per message (a third of a second of one
//! desktop core, measured in `docs/benchmarks.md`; a few seconds on a phone), a contact never.
//!
//! The stamp is the first line of the message as sent:
//! `Postern-Stamp: v=1; bits=<N>; day=<days since 1970-01-01 UTC>; nonce=<hex>`. It is valid
//! when SHA-256 over the domain, the recipient's address, the signer's OpenPGP fingerprint, the
//! day, SHA-256 of the rest of the message (everything after the stamp line) and the nonce has at
//! least `N` leading zero bits, `N` is at least what the receiver asks, and the day is within a
//! day of the receiver's. It binds the work to one message, one sender key, one recipient and
//! one date: it cannot be reused.
//!
//! Sans-IO, no clock: the day comes from the caller.

use sha2::{Digest, Sha256};

/// The header name.
pub const HEADER: &str = "Postern-Stamp";
/// Bits a stamp has by default (about 2^22 hashes; `scripts/bench.sh stamp` measures it).
pub const DEFAULT_BITS: u8 = 22;
const DOMAIN: &[u8] = b"postern-stamp-v1";
/// How many days a stamp's date may be from the receiver's.
const DAY_SKEW: i64 = 1;

/// The UTC day of a Unix time.
pub fn day_of(unix: i64) -> i64 {
    unix.div_euclid(86_400)
}

fn digest(recipient: &str, fingerprint: &[u8], day: i64, rest_hash: &[u8], nonce: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update((recipient.len() as u32).to_be_bytes());
    h.update(recipient.as_bytes());
    h.update((fingerprint.len() as u32).to_be_bytes());
    h.update(fingerprint);
    h.update(day.to_be_bytes());
    h.update(rest_hash);
    h.update(nonce.to_be_bytes());
    h.finalize().into()
}

fn leading_zero_bits(d: &[u8; 32]) -> u32 {
    let mut n = 0;
    for b in d {
        if *b == 0 {
            n += 8;
        } else {
            return n + b.leading_zeros();
        }
    }
    n
}

/// Make a stamp for `message` (signed by `fingerprint`, to `recipient`, on `day`) and return the
/// message with the stamp line in front. About 2^`bits` hashes.
pub fn mint(message: &[u8], recipient: &str, fingerprint: &[u8], day: i64, bits: u8) -> Vec<u8> {
    let rest_hash = Sha256::digest(message);
    let mut nonce = 0u64;
    while leading_zero_bits(&digest(recipient, fingerprint, day, &rest_hash, nonce))
        < u32::from(bits)
    {
        nonce = nonce.wrapping_add(1);
    }
    let line = format!("{HEADER}: v=1; bits={bits}; day={day}; nonce={nonce:x}\r\n");
    let mut out = Vec::with_capacity(line.len() + message.len());
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(message);
    out
}

/// A stamp as found on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    bits: u8,
    day: i64,
    nonce: u64,
    rest_hash: [u8; 32],
}

/// The stamp at the head of `data`, if the first line is one (and well formed).
pub fn find(data: &[u8]) -> Option<Stamp> {
    let prefix = format!("{HEADER}:");
    let head = data.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix.as_bytes()) {
        return None;
    }
    let end = data.iter().take(200).position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&data[prefix.len()..end]).ok()?;
    let (mut v, mut bits, mut day, mut nonce) = (None, None, None, None);
    for kv in line.trim_end_matches('\r').split(';') {
        let (k, val) = kv.split_once('=')?;
        let val = val.trim();
        match k.trim() {
            "v" => v = Some(val),
            "bits" => bits = val.parse::<u8>().ok(),
            "day" => day = val.parse::<i64>().ok(),
            "nonce" => nonce = u64::from_str_radix(val, 16).ok(),
            _ => return None,
        }
    }
    if v != Some("1") {
        return None;
    }
    Some(Stamp {
        bits: bits?,
        day: day?,
        nonce: nonce?,
        rest_hash: Sha256::digest(&data[end + 1..]).into(),
    })
}

impl Stamp {
    /// Whether the stamp holds for `recipient` and the signer's `fingerprint`, with at least
    /// `min_bits`, on a day within one of `today`.
    pub fn holds(&self, recipient: &str, fingerprint: &[u8], today: i64, min_bits: u8) -> bool {
        self.bits >= min_bits
            && (self.day - today).abs() <= DAY_SKEW
            && leading_zero_bits(&digest(
                recipient,
                fingerprint,
                self.day,
                &self.rest_hash,
                self.nonce,
            )) >= u32::from(self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TO: &str = "bob@example.onion";

    #[test]
    fn a_minted_stamp_holds_only_for_its_message_sender_recipient_and_day() {
        let msg = b"From: a\r\n\r\nbody\r\n";
        let stamped = mint(msg, TO, &[7; 20], 20_000, 10);
        let s = find(&stamped).expect("stamp");
        assert!(s.holds(TO, &[7; 20], 20_000, 10));
        assert!(s.holds(TO, &[7; 20], 20_001, 10));
        assert!(!s.holds(TO, &[7; 20], 20_002, 10), "too old");
        assert!(!s.holds(TO, &[7; 20], 20_000, 11), "fewer bits than asked");
        assert!(!s.holds("carol@example.onion", &[7; 20], 20_000, 10));
        assert!(!s.holds(TO, &[8; 20], 20_000, 10));
        let mut other = stamped.clone();
        let last = other.len() - 3;
        other[last] ^= 1;
        assert!(!find(&other).expect("stamp").holds(TO, &[7; 20], 20_000, 10));
    }

    #[test]
    fn only_a_well_formed_first_line_is_a_stamp() {
        assert!(find(b"From: a\r\n\r\n").is_none());
        assert!(find(b"Postern-Stamp: v=2; bits=1; day=1; nonce=0\r\nx").is_none());
        assert!(find(b"Postern-Stamp: v=1; bits=1; day=1\r\nx").is_none());
        assert!(find(b"Postern-Stamp: v=1; bits=999; day=1; nonce=0\r\nx").is_none());
        assert!(find(b"Postern-Stamp: v=1; bits=1; day=1; nonce=zz\r\nx").is_none());
        assert!(find(b"Postern-Stamp: v=1; bits=1; day=1; nonce=0; x=1\r\nx").is_none());
        assert!(
            find(b"Postern-Stamp: v=1; bits=1; day=1; nonce=0").is_none(),
            "no line end"
        );
        assert!(find(b"postern-stamp: v=1; bits=1; day=1; nonce=0\r\nx").is_some());
    }
}
