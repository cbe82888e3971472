//! The identity's OpenPGP signing key, made ready once.
//!
//! Sequoia's `KeyPair` keeps a secret key encrypted in memory and, for Ed25519, rebuilds the
//! signing key from the secret scalar on every signature: an unlock (SHA-256 over a 16 KiB
//! pre-key) and a scalar multiplication per message, about an eighth of composing one. An
//! identity signs every message it sends with the same key, so [`MessageSigner`] expands it
//! once, when the identity's keys are loaded, and keeps it for as long as they are (zeroized
//! when dropped, like the onion seed beside it).

use openpgp::crypto::mpi;
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::packet::Key;
use openpgp::policy::StandardPolicy;
use openpgp::types::{Curve, HashAlgorithm, PublicKeyAlgorithm};
use sequoia_openpgp as openpgp;
use zeroize::Zeroizing;

use crate::CryptoError;

/// The hash a message signature is made over: SHA-256, which this machine's SHA extensions
/// compute about three times as fast as SHA-512, and which every OpenPGP implementation
/// accepts.
pub const MESSAGE_HASH: HashAlgorithm = HashAlgorithm::SHA256;

/// A certificate's signing subkey, ready to sign messages (see the module documentation).
#[derive(Clone)]
pub struct MessageSigner {
    public: Key<PublicParts, UnspecifiedRole>,
    key: SigningKey,
}

#[derive(Clone)]
enum SigningKey {
    /// A legacy EdDSA (Ed25519) key, the kind Postern generates, expanded.
    Ed25519(Box<ed25519_dalek::SigningKey>),
    /// Any other kind (a certificate made elsewhere): sequoia's own key pair.
    Other(Box<openpgp::crypto::KeyPair>),
}

impl std::fmt::Debug for MessageSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageSigner")
            .field("key", &self.public.keyid())
            .finish_non_exhaustive()
    }
}

impl MessageSigner {
    /// The signing key of `cert` (which must hold its secret): valid now under the standard
    /// policy, alive, not revoked, and flagged for signing.
    pub fn of(cert: &openpgp::Cert) -> Result<Self, CryptoError> {
        let policy = StandardPolicy::new();
        let key = cert
            .keys()
            .unencrypted_secret()
            .with_policy(&policy, None)
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .next()
            .ok_or_else(|| CryptoError::BadOpenPgpKey("no usable signing key".into()))?
            .key()
            .clone();
        let public = key.clone().take_secret().0.role_into_unspecified();
        let expanded = match (key.pk_algo(), key.mpis()) {
            #[allow(deprecated)]
            (PublicKeyAlgorithm::EdDSA, mpi::PublicKey::EdDSA { curve, q })
                if *curve == Curve::Ed25519 =>
            {
                ed25519_of(&key, q)?
            }
            _ => None,
        };
        let key = match expanded {
            Some(k) => SigningKey::Ed25519(k),
            None => SigningKey::Other(Box::new(
                key.into_keypair()
                    .map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))?,
            )),
        };
        Ok(MessageSigner { public, key })
    }
}

/// The expanded Ed25519 key of `key`, checked against its public point `q`.
fn ed25519_of(
    key: &Key<openpgp::packet::key::SecretParts, UnspecifiedRole>,
    q: &mpi::MPI,
) -> Result<Option<Box<ed25519_dalek::SigningKey>>, CryptoError> {
    let bad = |what: &str| CryptoError::BadOpenPgpKey(format!("Ed25519 signing key: {what}"));
    let public: [u8; 32] = q
        .decode_point(&Curve::Ed25519)
        .map_err(|e| bad(&e.to_string()))?
        .0
        .try_into()
        .map_err(|_| bad("public point"))?;
    let openpgp::packet::key::SecretKeyMaterial::Unencrypted(secret) = key.secret() else {
        return Ok(None);
    };
    let scalar = secret.map(|m| match m {
        #[allow(deprecated)]
        mpi::SecretKeyMaterial::EdDSA { scalar } => {
            let padded = scalar.value_padded(32);
            let mut out = Zeroizing::new([0u8; 32]);
            out.copy_from_slice(&padded);
            Some(out)
        }
        _ => None,
    });
    let Some(scalar) = scalar else {
        return Ok(None);
    };
    let signing = Box::new(ed25519_dalek::SigningKey::from_bytes(&scalar));
    if signing.verifying_key().as_bytes() != &public {
        return Err(bad("the secret does not match the public key"));
    }
    Ok(Some(signing))
}

impl openpgp::crypto::Signer for MessageSigner {
    fn public(&self) -> &Key<PublicParts, UnspecifiedRole> {
        &self.public
    }

    fn sign(&mut self, hash_algo: HashAlgorithm, digest: &[u8]) -> openpgp::Result<mpi::Signature> {
        match &mut self.key {
            SigningKey::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                let sig = k.sign(digest).to_bytes();
                #[allow(deprecated)]
                Ok(mpi::Signature::EdDSA {
                    r: mpi::MPI::new(&sig[..32]),
                    s: mpi::MPI::new(&sig[32..]),
                })
            }
            SigningKey::Other(pair) => pair.sign(hash_algo, digest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdentityKeys;
    use openpgp::crypto::Signer as _;
    use openpgp::packet::signature::SignatureBuilder;
    use openpgp::parse::Parse;
    use openpgp::types::SignatureType;
    use postern_types::LocalPart;

    fn alice() -> IdentityKeys {
        IdentityKeys::generate(LocalPart::new("alice").expect("local"), "Alice").expect("keys")
    }

    #[test]
    fn the_expanded_key_signs_what_the_certificate_verifies() {
        let keys = alice();
        let mut signer = keys.message_signer().clone();
        assert!(matches!(signer.key, SigningKey::Ed25519(_)));
        let sig = SignatureBuilder::new(SignatureType::Binary)
            .set_hash_algo(MESSAGE_HASH)
            .sign_message(&mut signer, b"a letter")
            .expect("sign");
        let policy = StandardPolicy::new();
        let key = keys
            .openpgp_cert()
            .keys()
            .with_policy(&policy, None)
            .for_signing()
            .next()
            .expect("signing key");
        assert_eq!(key.key().fingerprint(), signer.public().fingerprint());
        assert!(sig.clone().verify_message(key.key(), b"a letter").is_ok());
        assert!(sig.clone().verify_message(key.key(), b"another").is_err());
        assert_eq!(sig.hash_algo(), HashAlgorithm::SHA256);
    }

    #[test]
    fn a_certificate_without_its_secrets_has_no_signer() {
        let keys = alice();
        let public = openpgp::Cert::from_bytes(keys.openpgp_public_bytes()).expect("public");
        assert!(matches!(
            MessageSigner::of(&public),
            Err(CryptoError::BadOpenPgpKey(_))
        ));
    }
}
