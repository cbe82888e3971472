//! `local@<onion>.onion` addresses.

use std::fmt;
use std::str::FromStr;

use crate::onion::{OnionAddress, OnionAddressError};

/// Longest local part we accept (RFC 5321 §4.5.3.1.1 allows 64 octets).
pub const MAX_LOCAL_PART: usize = 64;

/// The part before `@`: 1–64 characters from a conservative set
/// (`a-z 0-9 . _ -`, lower case, not starting or ending with `.`, no `..`).
///
/// Conservative on purpose: a local part is shown to people and must not hide look-alikes,
/// control or bidi characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalPart(String);

/// An address is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// No `@`.
    #[error("an address looks like name@<56 characters>.onion")]
    MissingAt,
    /// The local part is not acceptable.
    #[error("the name before @ must be 1-64 characters of a-z, 0-9, '.', '_' or '-'")]
    LocalPart,
    /// The domain is not a v3 onion address.
    #[error("the part after @ is not an onion address: {0}")]
    Onion(#[from] OnionAddressError),
    /// The domain does not end in `.onion`.
    #[error("the part after @ must end in .onion")]
    NotOnion,
}

impl LocalPart {
    /// Validate a local part.
    pub fn new(s: &str) -> Result<Self, AddressError> {
        let ok = !s.is_empty()
            && s.len() <= MAX_LOCAL_PART
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_' || b == b'-'
            })
            && !s.starts_with('.')
            && !s.ends_with('.')
            && !s.contains("..");
        if ok {
            Ok(LocalPart(s.to_owned()))
        } else {
            Err(AddressError::LocalPart)
        }
    }

    /// As a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LocalPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LocalPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalPart({})", self.0)
    }
}

/// The mail address of a Postern identity: `local@<onion>.onion`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailAddress {
    local: LocalPart,
    onion: OnionAddress,
}

impl MailAddress {
    /// Build from parts.
    pub fn new(local: LocalPart, onion: OnionAddress) -> Self {
        MailAddress { local, onion }
    }

    /// The local part.
    pub fn local(&self) -> &LocalPart {
        &self.local
    }

    /// The onion address (the domain).
    pub fn onion(&self) -> &OnionAddress {
        &self.onion
    }

    /// A form safe for logs.
    pub fn redacted(&self) -> String {
        format!("{}@{}", self.local, self.onion.redacted())
    }
}

impl FromStr for MailAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (local, domain) = s.rsplit_once('@').ok_or(AddressError::MissingAt)?;
        let local = LocalPart::new(local)?;
        if !domain.ends_with(".onion") {
            return Err(AddressError::NotOnion);
        }
        let onion = domain.parse()?;
        Ok(MailAddress { local, onion })
    }
}

impl fmt::Display for MailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.onion)
    }
}

/// Debug is redacted so that a stray `{:?}` in a log cannot leak the address.
impl fmt::Debug for MailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MailAddress({})", self.redacted())
    }
}

impl serde::Serialize for MailAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for MailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONION: &str = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";

    #[test]
    fn round_trip() {
        let s = format!("alice@{ONION}");
        let a: MailAddress = s.parse().expect("valid");
        assert_eq!(a.to_string(), s);
        assert_eq!(a.local().as_str(), "alice");
    }

    #[test]
    fn rejects_bad_local_parts() {
        for bad in [
            "",
            ".a",
            "a.",
            "a..b",
            "Alice",
            "a b",
            "a\u{202e}b",
            "a\u{0}",
            "ä",
            &"a".repeat(65),
        ] {
            assert_eq!(LocalPart::new(bad), Err(AddressError::LocalPart), "{bad:?}");
        }
        assert!(LocalPart::new(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_bad_domains() {
        assert_eq!("alice".parse::<MailAddress>(), Err(AddressError::MissingAt));
        assert_eq!(
            "alice@example.com".parse::<MailAddress>(),
            Err(AddressError::NotOnion)
        );
        assert!(matches!(
            "alice@abc.onion".parse::<MailAddress>(),
            Err(AddressError::Onion(_))
        ));
    }
}
