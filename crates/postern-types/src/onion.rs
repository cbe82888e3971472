//! v3 onion addresses.
//!
//! Format (Tor rend-spec-v3, "Encoding onion addresses"):
//! `base32(PUBKEY(32) || CHECKSUM(2) || VERSION(1))`, lower case, 56 characters, where
//! `CHECKSUM = SHA3-256(".onion checksum" || PUBKEY || VERSION)[..2]` and `VERSION = 3`.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_NOPAD;
use sha3::{Digest, Sha3_256};

/// Number of base32 characters in a v3 onion address (without `.onion`).
const ENCODED_LEN: usize = 56;
const VERSION: u8 = 3;

/// A validated v3 onion service address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OnionAddress {
    key: [u8; 32],
    /// The address's checksum, computed once (it is written every time the address is).
    check: [u8; 2],
}

/// Why a string is not a v3 onion address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OnionAddressError {
    /// Wrong number of characters.
    #[error("an onion address has 56 characters before .onion, this one has {0}")]
    Length(usize),
    /// Not base32, or not lower case.
    #[error("an onion address uses only the letters a-z and digits 2-7")]
    Alphabet,
    /// Version byte is not 3.
    #[error("only version 3 onion addresses are supported (found version {0})")]
    Version(u8),
    /// Checksum does not match (typo, or tampering).
    #[error("the onion address checksum does not match (a typo?)")]
    Checksum,
}

impl OnionAddress {
    /// The address for an ed25519 onion-service identity public key.
    ///
    /// Postern derives the addresses of its own identities with arti's crates
    /// (`postern-crypto`); this constructor exists for parsing and for tests that cross-check.
    pub fn from_public_key(key: [u8; 32]) -> Self {
        OnionAddress {
            check: checksum(&key),
            key,
        }
    }

    /// The ed25519 identity public key this address encodes.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The 56-character label, without `.onion`.
    pub fn label(&self) -> String {
        let mut raw = [0u8; 35];
        raw[..32].copy_from_slice(&self.key);
        raw[32..34].copy_from_slice(&self.check);
        raw[34] = VERSION;
        BASE32_NOPAD.encode(&raw).to_ascii_lowercase()
    }

    /// A form safe for logs: the first four characters only.
    pub fn redacted(&self) -> String {
        let label = self.label();
        format!("{}….onion", &label[..4])
    }
}

fn checksum(key: &[u8; 32]) -> [u8; 2] {
    let mut h = Sha3_256::new();
    h.update(b".onion checksum");
    h.update(key);
    h.update([VERSION]);
    let d = h.finalize();
    [d[0], d[1]]
}

impl FromStr for OnionAddress {
    type Err = OnionAddressError;

    /// Accepts `<56 chars>` or `<56 chars>.onion`, lower case only.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let label = s.strip_suffix(".onion").unwrap_or(s);
        if label.len() != ENCODED_LEN {
            return Err(OnionAddressError::Length(label.chars().count()));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        {
            return Err(OnionAddressError::Alphabet);
        }
        let raw = BASE32_NOPAD
            .decode(label.to_ascii_uppercase().as_bytes())
            .map_err(|_| OnionAddressError::Alphabet)?;
        if raw.len() != 35 {
            return Err(OnionAddressError::Alphabet);
        }
        if raw[34] != VERSION {
            return Err(OnionAddressError::Version(raw[34]));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[..32]);
        let check = checksum(&key);
        if raw[32..34] != check {
            return Err(OnionAddressError::Checksum);
        }
        Ok(OnionAddress { key, check })
    }
}

impl fmt::Display for OnionAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.onion", self.label())
    }
}

/// Debug never prints the full address, so that `{:?}` in a log line cannot leak it.
impl fmt::Debug for OnionAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OnionAddress({})", self.redacted())
    }
}

impl serde::Serialize for OnionAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for OnionAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A well-known address: the Tor Project's own v3 onion service.
    const TORPROJECT: &str = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";

    #[test]
    fn parses_and_prints_a_known_address() {
        let a: OnionAddress = TORPROJECT.parse().expect("valid address");
        assert_eq!(a.to_string(), TORPROJECT);
        assert_eq!(OnionAddress::from_public_key(*a.public_key()), a);
    }

    /// The checksum is 16 bits, so about 1 in 65,536 random changes slips through (for this
    /// address exactly one single-character change does). Nearly all typos are caught.
    #[test]
    fn rejects_nearly_every_single_character_change() {
        let label = TORPROJECT.strip_suffix(".onion").expect("suffix");
        let (mut tried, mut accepted) = (0, Vec::new());
        for i in 0..label.len() {
            for c in "abcdefghijklmnopqrstuvwxyz234567".chars() {
                let mut s: Vec<char> = label.chars().collect();
                if s[i] == c {
                    continue;
                }
                s[i] = c;
                let s: String = s.into_iter().collect();
                tried += 1;
                if let Ok(a) = s.parse::<OnionAddress>() {
                    // Whatever is accepted is a different, self-consistent address.
                    assert_ne!(a.label(), label);
                    assert_eq!(a.label(), s);
                    accepted.push(s);
                }
            }
        }
        assert_eq!(tried, 56 * 31);
        assert!(
            accepted.len() <= 2,
            "{} of {tried} accepted",
            accepted.len()
        );
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(
            "abc.onion".parse::<OnionAddress>(),
            Err(OnionAddressError::Length(3))
        );
        let upper = TORPROJECT.to_ascii_uppercase().replace(".ONION", "");
        assert_eq!(
            upper.parse::<OnionAddress>(),
            Err(OnionAddressError::Alphabet)
        );
        let mut bad = TORPROJECT.to_string();
        bad.replace_range(0..1, "1");
        assert_eq!(
            bad.parse::<OnionAddress>(),
            Err(OnionAddressError::Alphabet)
        );
        // Multi-byte characters must not panic on slicing.
        let weird = "é".repeat(28);
        assert!(weird.parse::<OnionAddress>().is_err());
    }

    #[test]
    fn debug_and_redacted_hide_the_address() {
        let a: OnionAddress = TORPROJECT.parse().expect("valid");
        let dbg = format!("{a:?}");
        assert!(!dbg.contains(&TORPROJECT[..20]));
        assert!(a.redacted().starts_with("2gzy"));
    }
}
