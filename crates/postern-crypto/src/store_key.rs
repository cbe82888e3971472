//! Sealing secrets under a key derived from the user's passphrase.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::CryptoError;

/// Length of the random salt stored beside the database.
pub const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;

/// Argon2id cost parameters. Stored with the database, so they can be raised later without
/// locking out existing stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: well above OWASP's minimum for Argon2id, and under a second
    /// on a phone.
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

/// The key that seals every secret in a store. Zeroed on drop.
#[derive(Clone)]
pub struct StoreKey {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<secret>)")
    }
}

impl StoreKey {
    /// A fresh random salt.
    pub fn new_salt() -> [u8; SALT_LEN] {
        let mut salt = [0u8; SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        salt
    }

    /// Derive the key from a passphrase with Argon2id.
    pub fn derive(passphrase: &[u8], salt: &[u8], params: KdfParams) -> Result<Self, CryptoError> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(32),
        )
        .map_err(|e| CryptoError::Kdf(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase, salt, key.as_mut())
            .map_err(|e| CryptoError::Kdf(e.to_string()))?;
        Ok(StoreKey { key })
    }

    /// A random key (a new store's sealing key).
    pub fn random() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        StoreKey { key }
    }

    /// The key's bytes, to wrap it under another key. Secret.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.key.clone()
    }

    /// A key from bytes that `to_bytes` gave (unwrapped).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::MalformedSecret)?;
        Ok(StoreKey {
            key: Zeroizing::new(key),
        })
    }

    /// A key for one purpose, derived from this one (SHA-256 over a domain, the purpose and
    /// this key): independent keys from one secret.
    pub fn derive_subkey(&self, purpose: &[u8]) -> Zeroizing<[u8; 32]> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"postern-subkey-v1\0");
        h.update((purpose.len() as u32).to_be_bytes());
        h.update(purpose);
        h.update(&self.key[..]);
        Zeroizing::new(h.finalize().into())
    }

    /// Seal `plaintext`. `context` names what is sealed (e.g. `identity/3/onion`), so that a
    /// sealed value cannot be swapped for another one in the database.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(self.key.as_ref()));
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            // Encryption with a 32-byte key and 24-byte nonce cannot fail for in-memory sizes.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        nonce.zeroize();
        out
    }

    /// Open what `seal` produced under the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Unseal);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(self.key.as_ref()));
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Unseal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> KdfParams {
        KdfParams {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let salt = StoreKey::new_salt();
        let k = StoreKey::derive(b"correct horse", &salt, fast()).expect("kdf");
        let sealed = k.seal("identity/1/onion", b"secret bytes");
        assert_eq!(
            k.open("identity/1/onion", &sealed)
                .expect("open")
                .as_slice(),
            b"secret bytes"
        );
        assert!(matches!(
            k.open("identity/2/onion", &sealed),
            Err(CryptoError::Unseal)
        ));
        assert!(!sealed.windows(12).any(|w| w == b"secret bytes"));
    }

    #[test]
    fn wrong_passphrase_and_tampering_fail() {
        let salt = StoreKey::new_salt();
        let k = StoreKey::derive(b"right", &salt, fast()).expect("kdf");
        let other = StoreKey::derive(b"wrong", &salt, fast()).expect("kdf");
        let sealed = k.seal("x", b"data");
        assert!(matches!(other.open("x", &sealed), Err(CryptoError::Unseal)));
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 1;
            assert!(k.open("x", &t).is_err(), "bit flip at {i} accepted");
        }
        assert!(k.open("x", &sealed[..10]).is_err());
    }
}
