//! Creating and opening a store.

use std::path::{Path, PathBuf};

use postern_crypto::{KdfParams, StoreKey};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::migrations::{self, LATEST_VERSION};
use crate::StoreError;

/// Name of the database file inside the data directory.
pub const DB_FILE_NAME: &str = "postern.db";

const VERIFIER_CONTEXT: &str = "store/verifier";
const VERIFIER_PLAINTEXT: &[u8] = b"postern store v1";

/// An unlocked store.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) key: StoreKey,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn corrupt(path: &Path, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

/// Classify an SQLite error seen while inspecting an existing file.
fn inspect_err(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => corrupt(path, "not a database file"),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => corrupt(path, e.to_string()),
        _ => StoreError::Sqlite(e),
    }
}

fn set_connection_pragmas(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is fsync'd, so what we acknowledge survives a power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

impl Store {
    /// Create a new store at `path` (the database file). Refuses to touch an existing file.
    pub fn create(path: &Path, passphrase: &[u8], params: KdfParams) -> Result<Store, StoreError> {
        Self::create_at_version(path, passphrase, params, LATEST_VERSION)
    }

    /// Create a store at an older schema version (for migration tests).
    #[doc(hidden)]
    pub fn create_at_version(
        path: &Path,
        passphrase: &[u8],
        params: KdfParams,
        version: i64,
    ) -> Result<Store, StoreError> {
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.to_owned()));
        }
        if let Some(dir) = path.parent() {
            private_dir(dir)?;
        }
        // Only the owner may read the store (SQLite gives its WAL and shared-memory files the
        // database file's permissions).
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|source| match source.kind() {
                    std::io::ErrorKind::AlreadyExists => StoreError::AlreadyExists(path.to_owned()),
                    _ => StoreError::Io {
                        path: path.to_owned(),
                        source,
                    },
                })?;
        }
        let salt = StoreKey::new_salt();
        let key = StoreKey::derive(passphrase, &salt, params).map_err(StoreError::Secret)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        set_connection_pragmas(&conn)?;
        migrations::migrate_to(&mut conn, version)?;
        let verifier = key.seal(VERIFIER_CONTEXT, VERIFIER_PLAINTEXT);
        let tx = conn.transaction()?;
        {
            let mut put = tx.prepare("INSERT INTO store_meta (key, value) VALUES (?1, ?2)")?;
            put.execute(("kdf_salt", &salt[..]))?;
            put.execute(("kdf_params", encode_params(params).as_slice()))?;
            put.execute(("verifier", verifier.as_slice()))?;
        }
        tx.commit()?;
        Ok(Store {
            conn,
            key,
            path: path.to_owned(),
        })
    }

    /// Open an existing store. Nothing is written until the file has been checked and the
    /// passphrase verified.
    pub fn open(path: &Path, passphrase: &[u8]) -> Result<Store, StoreError> {
        let (conn, key) = Self::check_and_unlock(path, passphrase)?;
        Self::finish_open(conn, key, path, LATEST_VERSION)
    }

    /// Open and migrate only up to `target` (for migration tests).
    #[doc(hidden)]
    pub fn open_at_version(
        path: &Path,
        passphrase: &[u8],
        target: i64,
    ) -> Result<Store, StoreError> {
        let (conn, key) = Self::check_and_unlock(path, passphrase)?;
        Self::finish_open(conn, key, path, target)
    }

    fn check_and_unlock(
        path: &Path,
        passphrase: &[u8],
    ) -> Result<(Connection, StoreKey), StoreError> {
        if !path.is_file() {
            return Err(StoreError::NotInitialized(path.to_owned()));
        }
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
        let key = StoreKey::derive(passphrase, &salt, params)
            .map_err(|_| corrupt(path, "bad kdf parameters"))?;
        match key.open(VERIFIER_CONTEXT, &verifier) {
            Ok(v) if v.as_slice() == VERIFIER_PLAINTEXT => {}
            _ => return Err(StoreError::WrongPassphrase),
        }
        Ok((conn, key))
    }

    fn finish_open(
        mut conn: Connection,
        key: StoreKey,
        path: &Path,
        target: i64,
    ) -> Result<Store, StoreError> {
        // Stores made before permissions were set: the owner's alone from now on.
        {
            use std::os::unix::fs::PermissionsExt;
            let io = |source| StoreError::Io {
                path: path.to_owned(),
                source,
            };
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(io)?;
            }
            if let Some(dir) = path.parent() {
                private_dir(dir)?;
            }
        }
        set_connection_pragmas(&conn)?;
        migrations::migrate_to(&mut conn, target)?;
        Ok(Store {
            conn,
            key,
            path: path.to_owned(),
        })
    }

    /// Another connection to the same database, already unlocked (for a writer thread or a
    /// second task). Needs no passphrase: it shares this store's key.
    pub fn another_connection(&self) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        set_connection_pragmas(&conn)?;
        Ok(Store {
            conn,
            key: self.key.clone(),
            path: self.path.clone(),
        })
    }

    /// Run `f` in one transaction (taken for writing at once): committed — one fsync — if `f`
    /// returns `Ok`, rolled back otherwise. Store methods called inside nest as savepoints.
    pub fn in_transaction<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> Result<T, E> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| E::from(e.into()))?;
        match f(self) {
            Ok(v) => match self.conn.execute_batch("COMMIT") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    Err(E::from(e.into()))
                }
            },
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Run `f` under a savepoint: its changes are kept (inside the surrounding transaction, if
    /// any) if it returns `Ok`, undone otherwise.
    pub fn in_savepoint<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> Result<T, E> {
        self.conn
            .execute_batch("SAVEPOINT postern_scope")
            .map_err(|e| E::from(e.into()))?;
        match f(self) {
            Ok(v) => {
                self.conn
                    .execute_batch("RELEASE postern_scope")
                    .map_err(|e| E::from(e.into()))?;
                Ok(v)
            }
            Err(e) => {
                let _ = self
                    .conn
                    .execute_batch("ROLLBACK TO postern_scope; RELEASE postern_scope");
                Err(e)
            }
        }
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(migrations::version(&self.conn)?)
    }

    /// Direct access for crates' own tests and for migration tests.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Create `dir` (and its parents) if missing; either way make it the owner's alone (0700).
pub(crate) fn private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let io = |source| StoreError::Io {
        path: dir.to_owned(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    let mode = std::fs::metadata(dir).map_err(io)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700)).map_err(io)?;
    }
    Ok(())
}

/// The widest key-derivation parameters a store may ask for: a damaged or hostile file must
/// not make opening it take all memory or forever.
const MAX_KDF_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_KDF_ITERATIONS: u32 = 64;
const MAX_KDF_PARALLELISM: u32 = 16;

fn encode_params(p: KdfParams) -> Vec<u8> {
    let mut v = Vec::with_capacity(12);
    v.extend_from_slice(&p.memory_kib.to_be_bytes());
    v.extend_from_slice(&p.iterations.to_be_bytes());
    v.extend_from_slice(&p.parallelism.to_be_bytes());
    v
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
    let bounded = (1..=MAX_KDF_ITERATIONS).contains(&p.iterations)
        && (1..=MAX_KDF_PARALLELISM).contains(&p.parallelism)
        && (8 * p.parallelism..=MAX_KDF_MEMORY_KIB).contains(&p.memory_kib);
    bounded.then_some(p)
}
