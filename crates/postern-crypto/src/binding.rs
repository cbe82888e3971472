//! The binding between an onion address and an OpenPGP key.
//!
//! Signed message (all lengths are one byte; every field is bounded well below 256):
//!
//! ```text
//! "postern-binding-v1" 0x00
//! len(address) address        -- "local@<56 chars>.onion", UTF-8 (ASCII in practice)
//! len(name) name              -- the display name the identity shows, UTF-8, 0..=64 bytes
//! len(fingerprint) fingerprint -- OpenPGP fingerprint bytes (20 for v4, 32 for v6)
//! ```
//!
//! signed with the onion service's ed25519 identity key (the key the address encodes).
//! The display name is signed too, so that whoever passes a card on (an introducer, a carrier)
//! cannot rename its owner.

use ed25519_dalek::{Signature, VerifyingKey};
use postern_types::MailAddress;

use crate::CryptoError;

/// Domain separation string, so that no other signature made with an onion key can be replayed
/// as a binding.
pub const BINDING_CONTEXT: &[u8] = b"postern-binding-v1\0";

/// Longest display name a binding covers, in bytes.
pub const MAX_NAME_BYTES: usize = 64;

/// A signed statement "this onion address, going by this name, uses this OpenPGP key".
#[derive(Clone, PartialEq, Eq)]
pub struct Binding {
    address: MailAddress,
    display_name: String,
    fingerprint: Vec<u8>,
    signature: [u8; 64],
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Binding {
    /// The bytes that the onion key signs.
    pub fn signed_message(
        address: &MailAddress,
        display_name: &str,
        fingerprint: &[u8],
    ) -> Vec<u8> {
        let addr = address.to_string();
        let mut m = Vec::with_capacity(
            BINDING_CONTEXT.len() + 3 + addr.len() + display_name.len() + fingerprint.len(),
        );
        m.extend_from_slice(BINDING_CONTEXT);
        // Lengths are < 256: addresses are at most 64 + 1 + 62 bytes; names are checked to be at
        // most 64 bytes and fingerprints 32 before anything is signed or verified.
        m.push(addr.len() as u8);
        m.extend_from_slice(addr.as_bytes());
        m.push(display_name.len() as u8);
        m.extend_from_slice(display_name.as_bytes());
        m.push(fingerprint.len() as u8);
        m.extend_from_slice(fingerprint);
        m
    }

    /// Assemble a binding from its parts, checking the signature.
    pub fn from_parts(
        address: MailAddress,
        display_name: String,
        fingerprint: Vec<u8>,
        signature: [u8; 64],
    ) -> Result<Self, CryptoError> {
        let b = Binding {
            address,
            display_name,
            fingerprint,
            signature,
        };
        b.verify()?;
        Ok(b)
    }

    /// Used by `IdentityKeys` after signing.
    pub(crate) fn new_signed(
        address: MailAddress,
        display_name: String,
        fingerprint: Vec<u8>,
        signature: [u8; 64],
    ) -> Self {
        Binding {
            address,
            display_name,
            fingerprint,
            signature,
        }
    }

    /// Check the signature against the onion key that the address encodes.
    pub fn verify(&self) -> Result<(), CryptoError> {
        if self.fingerprint.is_empty()
            || self.fingerprint.len() > 32
            || self.display_name.len() > MAX_NAME_BYTES
        {
            return Err(CryptoError::BadBinding);
        }
        let key = VerifyingKey::from_bytes(self.address.onion().public_key())
            .map_err(|_| CryptoError::BadBinding)?;
        let sig = Signature::from_bytes(&self.signature);
        key.verify_strict(
            &Self::signed_message(&self.address, &self.display_name, &self.fingerprint),
            &sig,
        )
        .map_err(|_| CryptoError::BadBinding)
    }

    /// The identity's address.
    pub fn address(&self) -> &MailAddress {
        &self.address
    }

    /// The display name the identity signed.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The OpenPGP fingerprint bound to the address.
    pub fn fingerprint(&self) -> &[u8] {
        &self.fingerprint
    }

    /// The fingerprint as upper-case hex, the way OpenPGP tools print it.
    pub fn fingerprint_hex(&self) -> String {
        self.fingerprint
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    /// The ed25519 signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdentityKeys;
    use postern_types::LocalPart;

    fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
        let mut v = bytes.to_vec();
        v[bit / 8] ^= 1 << (bit % 8);
        v
    }

    #[test]
    fn verifies_and_every_bit_flip_fails() {
        let keys =
            IdentityKeys::generate(LocalPart::new("alice").expect("lp"), "Alice").expect("gen");
        let b = keys.binding().clone();
        let name = || b.display_name().to_owned();
        Binding::from_parts(
            b.address().clone(),
            name(),
            b.fingerprint().to_vec(),
            *b.signature(),
        )
        .expect("genuine binding verifies");

        // Signature.
        for bit in 0..512 {
            let sig: [u8; 64] = flip(b.signature(), bit).try_into().expect("64");
            assert!(
                Binding::from_parts(b.address().clone(), name(), b.fingerprint().to_vec(), sig)
                    .is_err(),
                "signature bit {bit}"
            );
        }
        // OpenPGP fingerprint (the key being bound).
        for bit in 0..b.fingerprint().len() * 8 {
            let fpr = flip(b.fingerprint(), bit);
            assert!(
                Binding::from_parts(b.address().clone(), name(), fpr, *b.signature()).is_err(),
                "fingerprint bit {bit}"
            );
        }
        // Onion key (the address's domain): any flipped key is another address.
        for bit in 0..256 {
            let key: [u8; 32] = flip(b.address().onion().public_key(), bit)
                .try_into()
                .expect("32");
            let addr = MailAddress::new(
                b.address().local().clone(),
                postern_types::OnionAddress::from_public_key(key),
            );
            assert!(
                Binding::from_parts(addr, name(), b.fingerprint().to_vec(), *b.signature())
                    .is_err(),
                "onion key bit {bit}"
            );
        }
        // Address text (local part): every flip either stops parsing or stops verifying.
        let text = b.address().to_string();
        for bit in 0..text.len() * 8 {
            let t = flip(text.as_bytes(), bit);
            let Ok(s) = String::from_utf8(t) else {
                continue;
            };
            let Ok(addr) = s.parse::<MailAddress>() else {
                continue;
            };
            assert!(
                Binding::from_parts(addr, name(), b.fingerprint().to_vec(), *b.signature())
                    .is_err(),
                "address bit {bit}"
            );
        }
        // Display name.
        for bit in 0..b.display_name().len() * 8 {
            let t = flip(b.display_name().as_bytes(), bit);
            let Ok(s) = String::from_utf8(t) else {
                continue;
            };
            assert!(
                Binding::from_parts(
                    b.address().clone(),
                    s,
                    b.fingerprint().to_vec(),
                    *b.signature()
                )
                .is_err(),
                "name bit {bit}"
            );
        }
    }

    #[test]
    fn binding_of_one_identity_does_not_verify_for_another() {
        let a = IdentityKeys::generate(LocalPart::new("a").expect("lp"), "").expect("gen");
        let b = IdentityKeys::generate(LocalPart::new("b").expect("lp"), "").expect("gen");
        assert!(Binding::from_parts(
            b.address().clone(),
            String::new(),
            a.binding().fingerprint().to_vec(),
            *a.binding().signature()
        )
        .is_err());
    }
}
