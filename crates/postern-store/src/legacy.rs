//! Stores from before encryption: a plaintext SQLite database whose `store_meta` holds the
//! Argon2id salt, parameters and a sealed verifier. The first open with the right passphrase
//! converts it to SQLCipher, so that a crash at any point leaves either the old store or the
//! new one, never neither:
//!
//! 1. check the passphrase against the old verifier (nothing written before);
//! 2. checkpoint the old database, and export it, encrypted, to `postern.db.encrypting`;
//! 3. write the key file `postern.keys` — the commit point: from now on the encrypted copy is
//!    the store;
//! 4. move the old file aside, the encrypted copy into place, and overwrite the old one with
//!    zeros before removing it.
//!
//! On every open, `recover` finishes step 4 if a key file exists, or throws away a half-made
//! copy if it does not. The sealing key of a converted store is the one its secrets were sealed
//! with (from the old passphrase derivation), kept wrapped in the key file: nothing is re-sealed.

use std::io::Write;
use std::path::{Path, PathBuf};

use postern_crypto::{KdfParams, StoreKey};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::keyfile::{key_path, params_bounded, sync_dir, KeyFile, StoreKeys};
use crate::migrations::{self, LATEST_VERSION};
use crate::open::{corrupt, inspect_err};
use crate::StoreError;

const VERIFIER_CONTEXT: &str = "store/verifier";
const VERIFIER_PLAINTEXT: &[u8] = b"postern store v1";

fn encrypting(path: &Path) -> PathBuf {
    path.with_extension("db.encrypting")
}

fn plaintext_old(path: &Path) -> PathBuf {
    path.with_extension("db.plaintext-old")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn remove_if_there(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Finish or undo a conversion a crash interrupted (see the module comment).
pub(crate) fn recover(path: &Path) -> Result<(), StoreError> {
    let (keys, new, old) = (key_path(path), encrypting(path), plaintext_old(path));
    if new.exists() {
        if keys.exists() {
            complete(path)?;
        } else {
            remove_if_there(&new)?;
            remove_if_there(&with_suffix(&new, "-journal"))?;
            remove_if_there(&keys.with_extension("keys.tmp"))?;
        }
    }
    if old.exists() && keys.exists() && path.exists() {
        wipe(&old)?;
    }
    Ok(())
}

/// Step 4: the encrypted copy becomes the store; the plaintext is overwritten and removed.
fn complete(path: &Path) -> Result<(), StoreError> {
    let (new, old) = (encrypting(path), plaintext_old(path));
    // The old database's log and shared memory were checkpointed; they belong to it alone.
    remove_if_there(&with_suffix(path, "-wal"))?;
    remove_if_there(&with_suffix(path, "-shm"))?;
    if path.exists() {
        std::fs::rename(path, &old).map_err(io(path))?;
    }
    std::fs::rename(&new, path).map_err(io(&new))?;
    sync_dir(path)?;
    wipe(&old)
}

/// Overwrite a file with zeros, sync, remove.
fn wipe(path: &Path) -> Result<(), StoreError> {
    let len = std::fs::metadata(path).map_err(io(path))?.len();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io(path))?;
    let zeros = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n]).map_err(io(path))?;
        left -= n as u64;
    }
    f.sync_all().map_err(io(path))?;
    drop(f);
    remove_if_there(path)?;
    sync_dir(path)
}

/// Check `passphrase` against a plaintext store and convert it (steps 1–4). Returns the keys
/// of the converted store.
pub(crate) fn encrypt(path: &Path, passphrase: &[u8]) -> Result<StoreKeys, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| inspect_err(path, e))?;
    let found = migrations::version(&conn).map_err(|e| inspect_err(path, e))?;
    if found > LATEST_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: LATEST_VERSION,
        });
    }
    if found < 1 {
        return Err(corrupt(path, "the file is not a Postern store"));
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| inspect_err(path, e))?;
    if check != "ok" {
        return Err(corrupt(path, format!("integrity check: {check}")));
    }
    let meta = |k: &str| -> Result<Vec<u8>, StoreError> {
        conn.query_row("SELECT value FROM store_meta WHERE key = ?1", [k], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| inspect_err(path, e))?
        .ok_or_else(|| corrupt(path, format!("missing {k}")))
    };
    let salt = meta("kdf_salt")?;
    let params = decode_params(&meta("kdf_params")?).ok_or_else(|| {
        corrupt(
            path,
            "key-derivation parameters out of range (at most 1 GiB, 64 passes, 16 lanes)",
        )
    })?;
    let verifier = meta("verifier")?;
    let sealing = StoreKey::derive(passphrase, &salt, params)
        .map_err(|_| corrupt(path, "bad kdf parameters"))?;
    match sealing.open(VERIFIER_CONTEXT, &verifier) {
        Ok(v) if v.as_slice() == VERIFIER_PLAINTEXT => {}
        _ => return Err(StoreError::WrongPassphrase),
    }
    // The passphrase is right: from here on, writing is safe.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let keys = StoreKeys {
        database: StoreKey::random().to_bytes(),
        sealing,
    };
    let new = encrypting(path);
    remove_if_there(&new)?;
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&new)
            .map_err(io(&new))?;
    }
    let key = keys.pragma_key();
    conn.execute(
        "ATTACH DATABASE ?1 AS enc KEY ?2",
        (new.display().to_string(), key.as_str()),
    )?;
    conn.query_row("SELECT sqlcipher_export('enc')", [], |_| Ok(()))?;
    conn.pragma_update(Some("enc"), "user_version", found)?;
    conn.execute(
        "DELETE FROM enc.store_meta WHERE key IN ('kdf_salt', 'kdf_params', 'verifier')",
        [],
    )?;
    conn.execute("DETACH DATABASE enc", [])?;
    drop(conn);
    std::fs::File::open(&new)
        .and_then(|f| f.sync_all())
        .map_err(io(&new))?;
    // Step 3, the commit point.
    KeyFile::seal(&keys, passphrase, params)?.write(&key_path(path))?;
    complete(path)?;
    Ok(keys)
}

fn decode_params(b: &[u8]) -> Option<KdfParams> {
    if b.len() != 12 {
        return None;
    }
    let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let p = KdfParams {
        memory_kib: word(0),
        iterations: word(4),
        parallelism: word(8),
    };
    params_bounded(p).then_some(p)
}
