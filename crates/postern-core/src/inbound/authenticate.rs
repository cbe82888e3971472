//! Who sent this? The CPU-heavy part of receiving, run off the async threads: decrypt once
//! (bounded), parse, and verify the signature against the key the message carries and the
//! binding that ties that key to the sender's onion address. Nothing here reads the address
//! book: whether the sender is a contact is asked only once this succeeded, so a stranger
//! learns nothing about it from the reply or its timing.

use std::collections::HashMap;
use std::sync::Mutex;

use postern_crypto::{Binding, PublicKeyInfo};
use postern_mime::{Letter, MimeError, SignerCheck};
use postern_types::MailAddress;

use crate::context::LocalIdentity;

/// A message whose sender proved to hold the key bound to its address.
#[derive(Debug)]
pub(super) struct Authenticated {
    pub letter: Letter,
    /// The decrypted inner message.
    pub inner: Vec<u8>,
    /// The sender's key, as the message carried it.
    pub key: Vec<u8>,
    /// Its fingerprint (what the binding names).
    pub fingerprint: Vec<u8>,
    /// The binding's signature and the display name it covers.
    pub binding_sig: [u8; 64],
    pub display_name: String,
}

/// Why a message did not authenticate.
#[derive(Debug)]
pub(super) enum Unauthenticated {
    /// Any failure before the sender is known: one reply for all (see `UNAUTHENTICATED`).
    Refused,
    /// Encrypted to a key this identity revoked (a public fact, said plainly).
    RevokedKey(String),
}

/// Parsed keys, kept by their bytes: parsing a key costs more than verifying with it.
#[derive(Debug, Default)]
pub(super) struct CertCache(Mutex<HashMap<Vec<u8>, PublicKeyInfo>>);

/// Most parsed keys kept.
const MAX_CACHED_CERTS: usize = 4096;

impl CertCache {
    fn get(&self, key: &[u8]) -> Option<PublicKeyInfo> {
        let mut cache = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = cache.get(key) {
            return Some(c.clone());
        }
        let info = PublicKeyInfo::parse(key).ok()?;
        if cache.len() >= MAX_CACHED_CERTS {
            cache.clear();
        }
        cache.insert(key.to_vec(), info.clone());
        Some(info)
    }
}

/// Decrypt once (to at most `max_plaintext` bytes), parse, and verify `data` as a message from
/// `sender` to `me`.
pub(super) fn authenticate(
    me: &LocalIdentity,
    sender: &MailAddress,
    data: &[u8],
    max_plaintext: usize,
    certs: &CertCache,
    now: i64,
) -> Result<Authenticated, Unauthenticated> {
    let decrypted = match postern_mime::decrypt(data, me.keys.openpgp_cert(), max_plaintext) {
        Ok(d) => d,
        Err(MimeError::Undecryptable) => {
            return Err(me
                .revoked_keys
                .iter()
                .find(|(cert, _)| postern_mime::encrypted_for(data, cert))
                .map_or(Unauthenticated::Refused, |(_, why)| {
                    Unauthenticated::RevokedKey(why.clone())
                }))
        }
        Err(_) => return Err(Unauthenticated::Refused),
    };
    let letter = Letter::parse(&decrypted.inner).map_err(|_| Unauthenticated::Refused)?;
    if letter.from != sender.to_string() {
        return Err(Unauthenticated::Refused);
    }
    let (Some(key), Some(bh)) = (letter.sender_key.clone(), letter.sender_binding.clone()) else {
        return Err(Unauthenticated::Refused);
    };
    let info = certs.get(&key).ok_or(Unauthenticated::Refused)?;
    let fingerprint = info.fingerprint();
    let binding = Binding::from_parts(
        sender.clone(),
        bh.display_name.clone(),
        fingerprint.clone(),
        bh.signature,
    )
    .map_err(|_| Unauthenticated::Refused)?;
    info.check_against(&binding)
        .map_err(|_| Unauthenticated::Refused)?;
    let when =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(now).unwrap_or(0));
    match decrypted.verify(info.cert(), when) {
        SignerCheck::Good { .. } => {}
        _ => return Err(Unauthenticated::Refused),
    }
    Ok(Authenticated {
        letter,
        inner: decrypted.inner,
        key,
        fingerprint,
        binding_sig: bh.signature,
        display_name: bh.display_name,
    })
}
