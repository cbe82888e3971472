//! Revocations: an identity's signed statement that its OpenPGP key, or its whole address, must
//! no longer be used.
//!
//! Signed with the onion service's identity key — the root every binding hangs from — so it
//! verifies with nothing but the address, and a stolen OpenPGP key cannot forge or suppress one.
//!
//! Encoding (the signed message, then the 64-byte ed25519 signature):
//!
//! ```text
//! "postern-revocation-v1" 0x00
//! len(address) address        -- one byte length, "local@<56 chars>.onion"
//! scope                       -- 1: the OpenPGP key, 2: the whole address
//! len(revoked) revoked        -- fingerprint of the revoked key (1..=32 bytes)
//! len(successor) successor    -- fingerprint of the key that replaces it (0 bytes: none)
//! revoked_at                  -- Unix seconds, 8 bytes big-endian
//! len(reason) reason          -- UTF-8, at most 200 bytes, no control characters
//! ```

use ed25519_dalek::{Signature, VerifyingKey};
use postern_types::MailAddress;

use crate::{CryptoError, IdentityKeys};

/// Domain separation for revocation statements.
pub const REVOCATION_CONTEXT: &[u8] = b"postern-revocation-v1\0";

/// Longest reason, in bytes.
pub const MAX_REASON_BYTES: usize = 200;

/// What is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationScope {
    /// The OpenPGP key: the address lives on, with the successor key.
    Key,
    /// The whole address: nothing should be sent to it or accepted from it again.
    Address,
}

impl RevocationScope {
    /// `key` or `address`.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationScope::Key => "key",
            RevocationScope::Address => "address",
        }
    }

    fn byte(self) -> u8 {
        match self {
            RevocationScope::Key => 1,
            RevocationScope::Address => 2,
        }
    }
}

/// A verified revocation statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    address: MailAddress,
    scope: RevocationScope,
    revoked: Vec<u8>,
    successor: Option<Vec<u8>>,
    revoked_at: i64,
    reason: String,
    encoded: Vec<u8>,
}

fn check_reason(reason: &str) -> Result<(), CryptoError> {
    if reason.len() > MAX_REASON_BYTES || reason.chars().any(char::is_control) {
        return Err(CryptoError::BadRevocation(
            "the reason must be one line of at most 200 bytes",
        ));
    }
    Ok(())
}

fn signed_message(
    address: &MailAddress,
    scope: RevocationScope,
    revoked: &[u8],
    successor: &[u8],
    revoked_at: i64,
    reason: &str,
) -> Vec<u8> {
    let addr = address.to_string();
    let mut m = Vec::with_capacity(REVOCATION_CONTEXT.len() + 128 + reason.len());
    m.extend_from_slice(REVOCATION_CONTEXT);
    // All lengths are checked to be < 256 before this is built.
    m.push(addr.len() as u8);
    m.extend_from_slice(addr.as_bytes());
    m.push(scope.byte());
    m.push(revoked.len() as u8);
    m.extend_from_slice(revoked);
    m.push(successor.len() as u8);
    m.extend_from_slice(successor);
    m.extend_from_slice(&revoked_at.to_be_bytes());
    m.push(reason.len() as u8);
    m.extend_from_slice(reason.as_bytes());
    m
}

impl Revocation {
    /// Sign a revocation of `keys`' current OpenPGP key (`successor`: the fingerprint of the
    /// key replacing it) or, with `RevocationScope::Address`, of the whole address.
    pub fn sign(
        keys: &IdentityKeys,
        scope: RevocationScope,
        successor: Option<&[u8]>,
        revoked_at: i64,
        reason: &str,
    ) -> Result<Self, CryptoError> {
        check_reason(reason)?;
        let successor = match scope {
            RevocationScope::Key => successor,
            RevocationScope::Address => None,
        };
        if successor.is_some_and(|s| s.is_empty() || s.len() > 32) {
            return Err(CryptoError::BadRevocation("bad successor fingerprint"));
        }
        let revoked = keys.binding().fingerprint();
        let msg = signed_message(
            keys.address(),
            scope,
            revoked,
            successor.unwrap_or_default(),
            revoked_at,
            reason,
        );
        let sig = keys.sign_with_onion_key(&msg);
        let mut encoded = msg;
        encoded.extend_from_slice(&sig);
        Self::decode(&encoded)
    }

    /// Decode and verify a statement against the onion key its address names.
    pub fn decode(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bad = CryptoError::BadRevocation;
        let rest = bytes
            .strip_prefix(REVOCATION_CONTEXT)
            .ok_or(bad("not a revocation statement"))?;
        let mut r = Reader(rest);
        let address: MailAddress = std::str::from_utf8(r.field()?)
            .ok()
            .and_then(|a| a.parse().ok())
            .ok_or(bad("bad address"))?;
        let scope = match r.byte()? {
            1 => RevocationScope::Key,
            2 => RevocationScope::Address,
            _ => return Err(bad("unknown scope")),
        };
        let revoked = r.field()?.to_vec();
        let successor = r.field()?.to_vec();
        let revoked_at = i64::from_be_bytes(r.take(8)?.try_into().map_err(|_| bad("short"))?);
        let reason = std::str::from_utf8(r.field()?)
            .map_err(|_| bad("reason is not UTF-8"))?
            .to_owned();
        let sig: [u8; 64] = r.take(64)?.try_into().map_err(|_| bad("short"))?;
        if !r.0.is_empty() {
            return Err(bad("trailing bytes"));
        }
        check_reason(&reason)?;
        if revoked.is_empty() || revoked.len() > 32 || successor.len() > 32 {
            return Err(bad("bad fingerprint"));
        }
        if scope == RevocationScope::Address && !successor.is_empty() {
            return Err(bad("an address revocation names no successor"));
        }
        let msg = &bytes[..bytes.len() - 64];
        let key = VerifyingKey::from_bytes(address.onion().public_key())
            .map_err(|_| bad("bad onion key"))?;
        key.verify_strict(msg, &Signature::from_bytes(&sig))
            .map_err(|_| CryptoError::BadRevocation("the signature does not verify"))?;
        Ok(Revocation {
            address,
            scope,
            revoked,
            successor: (!successor.is_empty()).then_some(successor),
            revoked_at,
            reason,
            encoded: bytes.to_vec(),
        })
    }

    /// The address whose key (or which itself) is revoked.
    pub fn address(&self) -> &MailAddress {
        &self.address
    }
    /// What is revoked.
    pub fn scope(&self) -> RevocationScope {
        self.scope
    }
    /// Fingerprint of the revoked key.
    pub fn revoked(&self) -> &[u8] {
        &self.revoked
    }
    /// Fingerprint of the key that replaces it, if any.
    pub fn successor(&self) -> Option<&[u8]> {
        self.successor.as_deref()
    }
    /// When (Unix seconds, as the revoker's clock said).
    pub fn revoked_at(&self) -> i64 {
        self.revoked_at
    }
    /// The revoker's reason, as written.
    pub fn reason(&self) -> &str {
        &self.reason
    }
    /// The signed statement's bytes.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CryptoError> {
        if self.0.len() < n {
            return Err(CryptoError::BadRevocation("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn byte(&mut self) -> Result<u8, CryptoError> {
        Ok(self.take(1)?[0])
    }
    fn field(&mut self) -> Result<&'a [u8], CryptoError> {
        let n = self.byte()? as usize;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postern_types::LocalPart;

    fn keys() -> IdentityKeys {
        IdentityKeys::generate(LocalPart::new("alice").expect("lp"), "Alice").expect("keys")
    }

    #[test]
    fn round_trip_and_every_bit_flip_fails() {
        let k = keys();
        let next = k.with_new_openpgp_key().expect("rotate");
        assert_eq!(next.address(), k.address());
        assert_ne!(next.binding().fingerprint(), k.binding().fingerprint());
        next.binding().verify().expect("the new binding verifies");
        let r = Revocation::sign(
            &k,
            RevocationScope::Key,
            Some(next.binding().fingerprint()),
            1_800_000_000,
            "laptop stolen",
        )
        .expect("sign");
        let back = Revocation::decode(r.encoded()).expect("decode");
        assert_eq!(back, r);
        assert_eq!(back.successor(), Some(next.binding().fingerprint()));
        assert_eq!(back.reason(), "laptop stolen");
        for i in 0..r.encoded().len() * 8 {
            let mut b = r.encoded().to_vec();
            b[i / 8] ^= 1 << (i % 8);
            assert!(
                Revocation::decode(&b).is_err(),
                "bit {i} flipped still verifies"
            );
        }
        for n in 0..r.encoded().len() {
            assert!(Revocation::decode(&r.encoded()[..n]).is_err());
        }
    }

    #[test]
    fn another_onion_key_cannot_revoke() {
        let (a, mallory) = (keys(), keys());
        let r = Revocation::sign(&mallory, RevocationScope::Address, None, 1, "x").expect("sign");
        // Re-target Mallory's statement at Alice's address: the signature no longer verifies.
        let mut forged = REVOCATION_CONTEXT.to_vec();
        let addr = a.address().to_string();
        forged.push(addr.len() as u8);
        forged.extend_from_slice(addr.as_bytes());
        let skip = REVOCATION_CONTEXT.len() + 1 + mallory.address().to_string().len();
        forged.extend_from_slice(&r.encoded()[skip..]);
        assert!(matches!(
            Revocation::decode(&forged),
            Err(CryptoError::BadRevocation(_))
        ));
    }

    #[test]
    fn reasons_with_control_characters_are_refused() {
        let k = keys();
        for reason in ["two\nlines", "bell\u{7}", &"x".repeat(201)] {
            assert!(Revocation::sign(&k, RevocationScope::Address, None, 1, reason).is_err());
        }
    }
}
