//! Short statements signed with an identity's onion key: carrier passes, hand-over proofs,
//! carrier receipts, pull requests. Each kind has its own context string (domain separation);
//! fields are length-prefixed (two bytes, big-endian), so no two field lists sign the same bytes.
//! Verifying needs nothing but the signer's address: the address is the verifying key.

use ed25519_dalek::{Signature, VerifyingKey};
use postern_types::MailAddress;

use crate::{CryptoError, IdentityKeys};

fn message(context: &[u8], fields: &[&[u8]]) -> Vec<u8> {
    let mut m =
        Vec::with_capacity(context.len() + 1 + fields.iter().map(|f| f.len() + 2).sum::<usize>());
    m.extend_from_slice(context);
    m.push(0);
    for f in fields {
        // Fields are addresses, hashes and times: far below 64 KiB.
        let len = u16::try_from(f.len()).unwrap_or(u16::MAX);
        m.extend_from_slice(&len.to_be_bytes());
        m.extend_from_slice(&f[..usize::from(len)]);
    }
    m
}

/// Sign `fields` under `context` with `keys`' onion key.
pub fn sign_statement(keys: &IdentityKeys, context: &str, fields: &[&[u8]]) -> [u8; 64] {
    keys.sign_with_onion_key(&message(context.as_bytes(), fields))
}

/// Check that the onion key of `signer` signed `fields` under `context`.
pub fn verify_statement(
    signer: &MailAddress,
    context: &str,
    fields: &[&[u8]],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let sig: [u8; 64] = signature
        .try_into()
        .map_err(|_| CryptoError::BadStatement)?;
    let key = VerifyingKey::from_bytes(signer.onion().public_key())
        .map_err(|_| CryptoError::BadStatement)?;
    key.verify_strict(
        &message(context.as_bytes(), fields),
        &Signature::from_bytes(&sig),
    )
    .map_err(|_| CryptoError::BadStatement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use postern_types::LocalPart;

    #[test]
    fn verifies_only_the_same_signer_context_and_fields() {
        let a = IdentityKeys::generate(LocalPart::new("a").expect("lp"), "").expect("keys");
        let b = IdentityKeys::generate(LocalPart::new("b").expect("lp"), "").expect("keys");
        let sig = sign_statement(&a, "postern-test-v1", &[b"x", b"yz"]);
        verify_statement(a.address(), "postern-test-v1", &[b"x", b"yz"], &sig).expect("ok");
        assert!(verify_statement(b.address(), "postern-test-v1", &[b"x", b"yz"], &sig).is_err());
        assert!(verify_statement(a.address(), "postern-test-v2", &[b"x", b"yz"], &sig).is_err());
        // Moving a byte between fields changes the signed message.
        assert!(verify_statement(a.address(), "postern-test-v1", &[b"xy", b"z"], &sig).is_err());
        assert!(
            verify_statement(a.address(), "postern-test-v1", &[b"x", b"yz"], &sig[..63]).is_err()
        );
    }
}
