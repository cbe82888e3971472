//! The key file beside the database (`postern.keys`): what unlocks the store.
//!
//! ```text
//! magic        8 bytes   "PSTRNKEY"
//! version      u8        1
//! memory_kib   u32 BE    Argon2id cost (bounded when read)
//! iterations   u32 BE
//! parallelism  u32 BE
//! salt         16 bytes
//! wrapped_len  u16 BE
//! wrapped      the database key and the sealing key (32 + 32 bytes), sealed (XChaCha20-Poly1305)
//!              under the passphrase's Argon2id key, context "store/keys-v1"
//! ```
//!
//! Nothing in it is secret without the passphrase. Changing the passphrase rewrites this file
//! only: the database and everything sealed in it stay as they are. It is replaced atomically
//! (written beside, synced, renamed).

use std::io::Write;
use std::path::{Path, PathBuf};

use postern_crypto::{KdfParams, StoreKey, SALT_LEN};
use zeroize::Zeroizing;

use crate::StoreError;

const MAGIC: &[u8; 8] = b"PSTRNKEY";
/// The key-file version this build writes and reads.
pub const KEY_FILE_VERSION: u8 = 1;
const CONTEXT: &str = "store/keys-v1";

/// The widest key-derivation parameters a store may ask for: a damaged or hostile file must
/// not make opening it take all memory or forever.
const MAX_KDF_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_KDF_ITERATIONS: u32 = 64;
const MAX_KDF_PARALLELISM: u32 = 16;

/// Whether Argon2id parameters are within what a store may ask for.
pub(crate) fn params_bounded(p: KdfParams) -> bool {
    (1..=MAX_KDF_ITERATIONS).contains(&p.iterations)
        && (1..=MAX_KDF_PARALLELISM).contains(&p.parallelism)
        && (8 * p.parallelism..=MAX_KDF_MEMORY_KIB).contains(&p.memory_kib)
}

/// The two keys of an unlocked store.
#[derive(Clone)]
pub(crate) struct StoreKeys {
    /// SQLCipher's raw key for the database file.
    pub database: Zeroizing<[u8; 32]>,
    /// Seals secrets (identity keys, drafts) inside the database, and derives blob keys.
    pub sealing: StoreKey,
}

impl std::fmt::Debug for StoreKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKeys(<secret>)")
    }
}

impl StoreKeys {
    pub(crate) fn generate() -> Self {
        StoreKeys {
            database: StoreKey::random().to_bytes(),
            sealing: StoreKey::random(),
        }
    }

    /// The `PRAGMA key` value: SQLCipher's raw-key form, `x'<64 hex digits>'`.
    pub(crate) fn pragma_key(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(67));
        s.push_str("x'");
        for b in self.database.iter() {
            s.push_str(&format!("{b:02x}"));
        }
        s.push('\'');
        s
    }
}

/// The key file's path for database `db` (`postern.db` → `postern.keys`).
pub(crate) fn key_path(db: &Path) -> PathBuf {
    db.with_extension("keys")
}

/// What a key file says, before the passphrase.
#[derive(Debug)]
pub(crate) struct KeyFile {
    pub params: KdfParams,
    salt: [u8; SALT_LEN],
    wrapped: Vec<u8>,
}

fn corrupt(path: &Path, detail: &str) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

impl KeyFile {
    /// Seal `keys` under `passphrase`.
    pub(crate) fn seal(
        keys: &StoreKeys,
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<Self, StoreError> {
        let salt = StoreKey::new_salt();
        let kek = StoreKey::derive(passphrase, &salt, params).map_err(StoreError::Secret)?;
        let mut both = Zeroizing::new(Vec::with_capacity(64));
        both.extend_from_slice(keys.database.as_ref());
        both.extend_from_slice(keys.sealing.to_bytes().as_ref());
        Ok(KeyFile {
            params,
            salt,
            wrapped: kek.seal(CONTEXT, &both),
        })
    }

    /// The keys, if `passphrase` is the right one.
    pub(crate) fn unseal(&self, passphrase: &[u8]) -> Result<StoreKeys, StoreError> {
        let kek =
            StoreKey::derive(passphrase, &self.salt, self.params).map_err(StoreError::Secret)?;
        let both = kek
            .open(CONTEXT, &self.wrapped)
            .map_err(|_| StoreError::WrongPassphrase)?;
        if both.len() != 64 {
            return Err(StoreError::WrongPassphrase);
        }
        let mut database = Zeroizing::new([0u8; 32]);
        database.copy_from_slice(&both[..32]);
        Ok(StoreKeys {
            database,
            sealing: StoreKey::from_bytes(&both[32..]).map_err(StoreError::Secret)?,
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.wrapped.len());
        out.extend_from_slice(MAGIC);
        out.push(KEY_FILE_VERSION);
        out.extend_from_slice(&self.params.memory_kib.to_be_bytes());
        out.extend_from_slice(&self.params.iterations.to_be_bytes());
        out.extend_from_slice(&self.params.parallelism.to_be_bytes());
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&(self.wrapped.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.wrapped);
        out
    }

    /// Read and check a key file: damaged → `Corrupt`, newer → `TooNew`, unreasonable
    /// parameters → `Corrupt`, all before any key derivation.
    pub(crate) fn read(path: &Path) -> Result<Self, StoreError> {
        let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
            path: path.to_owned(),
            source,
        })?;
        let bad = || corrupt(path, "the key file is damaged");
        if bytes.len() < 8 + 1 || &bytes[..8] != MAGIC {
            return Err(bad());
        }
        let version = bytes[8];
        if version > KEY_FILE_VERSION {
            return Err(StoreError::TooNew {
                found: i64::from(version),
                supported: i64::from(KEY_FILE_VERSION),
            });
        }
        if version != KEY_FILE_VERSION {
            return Err(bad());
        }
        let rest = &bytes[9..];
        if rest.len() < 12 + SALT_LEN + 2 {
            return Err(bad());
        }
        let word = |i: usize| u32::from_be_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
        let params = KdfParams {
            memory_kib: word(0),
            iterations: word(4),
            parallelism: word(8),
        };
        if !params_bounded(params) {
            return Err(corrupt(
                path,
                "key-derivation parameters out of range (at most 1 GiB, 64 passes, 16 lanes)",
            ));
        }
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&rest[12..12 + SALT_LEN]);
        let at = 12 + SALT_LEN;
        let len = usize::from(u16::from_be_bytes([rest[at], rest[at + 1]]));
        let wrapped = rest.get(at + 2..at + 2 + len).ok_or_else(bad)?.to_vec();
        if rest.len() != at + 2 + len {
            return Err(bad());
        }
        Ok(KeyFile {
            params,
            salt,
            wrapped,
        })
    }

    /// Write atomically: beside, synced, renamed over, directory synced. Owner only.
    pub(crate) fn write(&self, path: &Path) -> Result<(), StoreError> {
        write_atomically(path, &self.encode())
    }
}

/// Replace `path` by `bytes` so that a crash leaves the old file or the new one, never a mix.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| StoreError::Io { path: p, source }
    };
    let tmp = path.with_extension("keys.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(path)
}

/// Make a rename or removal in `path`'s directory durable.
pub(crate) fn sync_dir(path: &Path) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StoreError::Io {
            path: dir.to_owned(),
            source,
        })
}
