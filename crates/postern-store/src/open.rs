//! Creating and opening a store: an SQLCipher database (`postern.db`, every page encrypted)
//! and its key file (`postern.keys`, see `keyfile.rs`). A store from before encryption is
//! converted on first open (`legacy.rs`).

use std::path::{Path, PathBuf};

use postern_crypto::{KdfParams, StoreKey};
use rusqlite::{Connection, OpenFlags};
use zeroize::Zeroizing;

use crate::keyfile::{key_path, KeyFile, StoreKeys};
use crate::migrations::{self, LATEST_VERSION};
use crate::{legacy, StoreError};

/// Name of the database file inside the data directory.
pub const DB_FILE_NAME: &str = "postern.db";

/// An unlocked store.
pub struct Store {
    pub(crate) conn: Connection,
    /// Seals secrets inside the database.
    pub(crate) key: StoreKey,
    keys: StoreKeys,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

pub(crate) fn corrupt(path: &Path, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

/// Classify an SQLite error seen while inspecting an existing file.
pub(crate) fn inspect_err(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => corrupt(
            path,
            "not a Postern database, damaged, or not the one its key file is for",
        ),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => corrupt(path, e.to_string()),
        _ => StoreError::Sqlite(e),
    }
}

pub(crate) fn set_connection_pragmas(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is fsync'd, so what we acknowledge survives a power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// Open the encrypted database at `path` with `keys` (no pragmas beyond the key yet).
pub(crate) fn open_encrypted(
    path: &Path,
    keys: &StoreKeys,
    create: bool,
) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| inspect_err(path, e))?;
    // A wrong key or a damaged page is our error to report, not SQLCipher's to print.
    let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
    let key: Zeroizing<String> = keys.pragma_key();
    conn.execute_batch(&format!("PRAGMA key = \"{}\";", key.as_str()))
        .map_err(|e| inspect_err(path, e))?;
    Ok(conn)
}

impl Store {
    /// Create a new store at `path` (the database file) and its key file beside it. Refuses to
    /// touch an existing store.
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
        // A key file without a database (a create that crashed) protects nothing.
        let kpath = key_path(path);
        let _ = std::fs::remove_file(&kpath);
        create_private_file(path)?;
        let keys = StoreKeys::generate();
        let file = KeyFile::seal(&keys, passphrase, params)?;
        let mut conn = open_encrypted(path, &keys, true)?;
        set_connection_pragmas(&conn)?;
        migrations::migrate_to(&mut conn, version)?;
        file.write(&kpath)?;
        Ok(Store {
            conn,
            key: keys.sealing.clone(),
            keys,
            path: path.to_owned(),
        })
    }

    /// A store whose database is not encrypted, for benchmarks that measure what encryption
    /// costs (the same schema and code otherwise). Never used for anyone's mail.
    #[doc(hidden)]
    pub fn create_unencrypted_for_comparison(path: &Path) -> Result<Store, StoreError> {
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.to_owned()));
        }
        let keys = StoreKeys::generate();
        let mut conn = Connection::open(path)?;
        set_connection_pragmas(&conn)?;
        migrations::migrate_to(&mut conn, LATEST_VERSION)?;
        Ok(Store {
            conn,
            key: keys.sealing.clone(),
            keys,
            path: path.to_owned(),
        })
    }

    /// Open an existing store. Nothing is written until the file has been checked and the
    /// passphrase verified; a store from before encryption is then converted, crash-safely.
    pub fn open(path: &Path, passphrase: &[u8]) -> Result<Store, StoreError> {
        Self::open_at_version(path, passphrase, LATEST_VERSION)
    }

    /// Open and migrate only up to `target` (for migration tests).
    #[doc(hidden)]
    pub fn open_at_version(
        path: &Path,
        passphrase: &[u8],
        target: i64,
    ) -> Result<Store, StoreError> {
        legacy::recover(path)?;
        let kpath = key_path(path);
        if !path.is_file() {
            return Err(StoreError::NotInitialized(path.to_owned()));
        }
        let keys = if kpath.is_file() {
            KeyFile::read(&kpath)?.unseal(passphrase)?
        } else {
            // No key file: a store from before encryption (or not a store at all).
            legacy::encrypt(path, passphrase)?
        };
        let conn = open_encrypted(path, &keys, false)?;
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
        Self::finish_open(conn, keys, path, target)
    }

    fn finish_open(
        mut conn: Connection,
        keys: StoreKeys,
        path: &Path,
        target: i64,
    ) -> Result<Store, StoreError> {
        // Stores made before permissions were set: the owner's alone from now on.
        tighten(path)?;
        tighten(&key_path(path))?;
        if let Some(dir) = path.parent() {
            private_dir(dir)?;
        }
        set_connection_pragmas(&conn)?;
        migrations::migrate_to(&mut conn, target)?;
        Ok(Store {
            conn,
            key: keys.sealing.clone(),
            keys,
            path: path.to_owned(),
        })
    }

    /// Another connection to the same database, already unlocked (for a writer thread or a
    /// second task). Needs no passphrase: it shares this store's keys.
    pub fn another_connection(&self) -> Result<Store, StoreError> {
        let conn = open_encrypted(&self.path, &self.keys, false)?;
        set_connection_pragmas(&conn)?;
        Ok(Store {
            conn,
            key: self.key.clone(),
            keys: self.keys.clone(),
            path: self.path.clone(),
        })
    }

    /// Change the passphrase, once `old` is shown to be the current one: only the key file is
    /// rewritten (atomically), with a new salt; the database and everything sealed in it stay
    /// as they are.
    pub fn change_passphrase(
        &self,
        old: &[u8],
        new: &[u8],
        params: KdfParams,
    ) -> Result<(), StoreError> {
        let kpath = key_path(&self.path);
        KeyFile::read(&kpath)?.unseal(old)?;
        KeyFile::seal(&self.keys, new, params)?.write(&kpath)
    }

    /// The key for `purpose` (blob encryption), derived from the sealing key.
    pub(crate) fn subkey(&self, purpose: &[u8]) -> Zeroizing<[u8; 32]> {
        self.key.derive_subkey(purpose)
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

    /// A database opened with keys already known (a backup's snapshot, an import's staging
    /// copy): foreign keys and secure deletion on, no migration, the journal left as it is.
    pub(crate) fn with_keys(path: &Path, keys: StoreKeys) -> Result<Store, StoreError> {
        let conn = open_encrypted(path, &keys, false)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        Ok(Store {
            conn,
            key: keys.sealing.clone(),
            keys,
            path: path.to_owned(),
        })
    }

    pub(crate) fn keys(&self) -> &StoreKeys {
        &self.keys
    }

    /// Direct access for crates' own tests and for migration tests.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Create an empty file only the owner may read (SQLite gives the WAL and shared-memory files
/// the database file's permissions).
pub(crate) fn create_private_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::AlreadyExists(path.to_owned()),
            _ => StoreError::Io {
                path: path.to_owned(),
                source,
            },
        })
}

/// Make a file the owner's alone, if it exists and is not.
fn tighten(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e)),
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
