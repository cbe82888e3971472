//! A hosted account's holder key: the encryption key of the person who reads a hosted account
//! in their own mail client, kept by them alone.
//!
//! The account's OpenPGP certificate (made and held by the host) gets the holder's encryption
//! key as an extra subkey, bound by the account's primary key with the notation
//! [`HOLDER_NOTATION`]. Its fingerprint, and so its binding and card, stay the account's. A
//! Postern sender that finds such a subkey encrypts the letter's content to it before sealing
//! the whole to the account as usual: the host still authenticates the sender (the outer layer
//! is the host's to open), but the content is readable only with the holder's secret key.

use openpgp::packet::key::{PublicParts, SubordinateRole};
use openpgp::packet::signature::SignatureBuilder;
use openpgp::packet::{Key, Packet};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::types::{KeyFlags, SignatureType};
use sequoia_openpgp as openpgp;

use crate::CryptoError;

/// The notation on the subkey binding that marks a key as the holder's.
pub const HOLDER_NOTATION: &str = "holder-key@postern";

/// The encryption key of a holder's certificate (public only), as a subkey to bind.
pub(crate) fn holder_subkey(
    holder: &[u8],
) -> Result<Key<PublicParts, SubordinateRole>, CryptoError> {
    let cert =
        openpgp::Cert::from_bytes(holder).map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))?;
    if cert.is_tsk() {
        return Err(CryptoError::BadOpenPgpKey(
            "it contains secret key material: give the holder's public key only".into(),
        ));
    }
    let policy = StandardPolicy::new();
    let valid = cert
        .with_policy(&policy, None)
        .map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))?;
    let key = valid
        .keys()
        .supported()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .next()
        .ok_or_else(|| CryptoError::BadOpenPgpKey("no usable encryption key".into()))?;
    Ok(key.key().clone().role_into_subordinate())
}

/// `cert` (with its primary secret key) with `subkey` bound as the holder's encryption key.
pub(crate) fn bind_holder_subkey(
    cert: openpgp::Cert,
    subkey: Key<PublicParts, SubordinateRole>,
) -> Result<openpgp::Cert, CryptoError> {
    let err = |e: openpgp::anyhow::Error| CryptoError::KeyGeneration(e.to_string());
    let mut signer = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .map_err(err)?
        .into_keypair()
        .map_err(err)?;
    let sig = SignatureBuilder::new(SignatureType::SubkeyBinding)
        .set_key_flags(
            KeyFlags::empty()
                .set_transport_encryption()
                .set_storage_encryption(),
        )
        .map_err(err)?
        .add_notation(HOLDER_NOTATION, b"1", None, false)
        .map_err(err)?
        .sign_subkey_binding(&mut signer, None, &subkey)
        .map_err(err)?;
    let (cert, _) = cert
        .insert_packets([Packet::from(subkey), Packet::from(sig)])
        .map_err(err)?;
    Ok(cert)
}

/// Whether a key's binding signature makes it a hosted account's holder key (it carries
/// [`HOLDER_NOTATION`]).
pub fn is_holder_binding(binding: &openpgp::packet::Signature) -> bool {
    binding.notation(HOLDER_NOTATION).next().is_some()
}

/// Whether a hosted account's certificate has its holder's encryption key (usable now).
pub fn has_holder_key(cert: &openpgp::Cert) -> bool {
    let policy = StandardPolicy::new();
    let Ok(valid) = cert.with_policy(&policy, None) else {
        return false;
    };
    valid
        .keys()
        .subkeys()
        .supported()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .any(|k| is_holder_binding(k.binding_signature()))
}
