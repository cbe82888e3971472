//! Encrypted backups of a store: everything (or chosen identities, with or without their
//! mail) in one file sealed under a passphrase of its own, written and read as a stream.
//!
//! What the sealed stream (`sealed.rs`) carries, in this order:
//!
//! ```text
//! entry    = tag u8 | length u64 BE | bytes
//! 1 manifest  text lines: format, schema, created, mail, messages, blobs, bytes, identity…
//! 2 keys      the store's database key and sealing key (32 + 32 bytes)
//! 3 database  a snapshot of the SQLCipher database file (its pages still encrypted)
//! 4 blob*     an attachment: its SHA-256 (32 bytes), then its file as stored (still encrypted)
//! 0 end       length 0; nothing may follow it
//! ```
//!
//! **Export** takes a consistent snapshot with `sqlcipher_export` while holding the store's
//! write lock (so no attachment file can be collected meanwhile; the attachments are hard-linked,
//! not copied, under the lock), trims the snapshot to the choice, vacuums it, and streams it.
//! **Import** reads everything into a staging directory beside where the store will be, checks
//! it whole (every chunk authenticated to the end, the snapshot's schema and integrity, the
//! identities the manifest names, every attachment decrypted and hashed) and only then moves it
//! into place, the database last: a crash or a `kill -9` at any point leaves no store, or the
//! whole one.

mod sealed;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use postern_crypto::KdfParams;
use postern_types::{ErrorKind, HasKind};
use zeroize::Zeroizing;

use crate::keyfile::StoreKeys;
use crate::migrations;
use crate::open::{create_private_file, private_dir};
use crate::{Store, StoreError};

use sealed::SealedWriter;
pub use sealed::BACKUP_FORMAT;

const TAG_END: u8 = 0;
const TAG_MANIFEST: u8 = 1;
const TAG_KEYS: u8 = 2;
const TAG_DATABASE: u8 = 3;
const TAG_BLOB: u8 = 4;
const MAX_MANIFEST: u64 = 64 * 1024;

/// Why a backup could not be written or read. Reading refuses before anything is written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The file does not start like a Postern backup.
    #[error("not a Postern backup file")]
    NotABackup,
    /// Written by a newer Postern.
    #[error("the backup was made by a newer Postern (backup format {found}, this one reads up to {supported}); nothing was written — update Postern")]
    TooNew {
        /// Format in the file.
        found: u8,
        /// Newest this build reads.
        supported: u8,
    },
    /// The passphrase does not open this backup (or its header was altered).
    #[error("wrong passphrase for this backup (or its header was altered); nothing was written")]
    WrongPassphrase,
    /// A chunk failed to authenticate, the file ends early, or what it holds is inconsistent.
    #[error("the backup is damaged at byte {offset}: {detail}; nothing was written")]
    Damaged {
        /// Where in the file (or the content) it was noticed.
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// An identity to back up is not in this store.
    #[error("no identity {0} in this store")]
    UnknownIdentity(i64),
    /// The key derivation failed (parameters the library refuses).
    #[error("cannot derive the backup key: {0}")]
    Kdf(#[source] postern_crypto::CryptoError),
    /// Reading the backup file failed.
    #[error("cannot read the backup: {source}")]
    Read {
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Writing the backup file failed.
    #[error("cannot write the backup: {source}")]
    Write {
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The store (the source, the snapshot, or the one being restored).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for BackupError {
    fn from(e: rusqlite::Error) -> Self {
        BackupError::Store(e.into())
    }
}

impl HasKind for BackupError {
    fn kind(&self) -> ErrorKind {
        match self {
            BackupError::NotABackup => ErrorKind::BadInput,
            BackupError::TooNew { .. } => ErrorKind::TooNew,
            BackupError::WrongPassphrase => ErrorKind::WrongPassphrase,
            BackupError::Damaged { .. } => ErrorKind::Corrupt,
            BackupError::UnknownIdentity(_) => ErrorKind::NotFound,
            BackupError::Kdf(_) => ErrorKind::BadInput,
            BackupError::Read { .. } | BackupError::Write { .. } => ErrorKind::LocalIo,
            BackupError::Store(e) => e.kind(),
        }
    }
}

/// What goes into a backup.
#[derive(Debug, Clone, Default)]
pub struct BackupChoice {
    /// These identities (row ids) and what they need: a hosted account's host, a host's
    /// accounts. `None`: all of them.
    pub identities: Option<Vec<i64>>,
    /// Their mail too (messages, drafts, the outbox, attachments); without it, identities,
    /// contacts, carriers, lists and settings only.
    pub mail: bool,
}

/// What a backup holds (its manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Backup format.
    pub format: u8,
    /// Schema version of the database in it.
    pub schema: i64,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// Whether mail is in it.
    pub mail: bool,
    /// Messages in it.
    pub messages: i64,
    /// Attachment files in it.
    pub blobs: i64,
    /// Bytes of content (database and attachment files), before sealing.
    pub bytes: u64,
    /// The identities' addresses.
    pub identities: Vec<String>,
    /// Attachments (SHA-256, hex) the store refers to whose files were already gone from it:
    /// not in the backup, and not missed by the import.
    pub missing: Vec<String>,
}

impl BackupSummary {
    fn encode(&self) -> String {
        let mut s = format!(
            "format {}\nschema {}\ncreated {}\nmail {}\nmessages {}\nblobs {}\nbytes {}\n",
            self.format,
            self.schema,
            self.created_at,
            if self.mail { "yes" } else { "no" },
            self.messages,
            self.blobs,
            self.bytes
        );
        for i in &self.identities {
            s.push_str(&format!("identity {i}\n"));
        }
        for m in &self.missing {
            s.push_str(&format!("missing {m}\n"));
        }
        s
    }

    fn decode(text: &str) -> Option<BackupSummary> {
        let mut m = BackupSummary {
            format: 0,
            schema: 0,
            created_at: 0,
            mail: false,
            messages: 0,
            blobs: 0,
            bytes: 0,
            identities: Vec::new(),
            missing: Vec::new(),
        };
        for line in text.lines() {
            let (k, v) = line.split_once(' ')?;
            match k {
                "format" => m.format = v.parse().ok()?,
                "schema" => m.schema = v.parse().ok()?,
                "created" => m.created_at = v.parse().ok()?,
                "mail" => m.mail = v == "yes",
                "messages" => m.messages = v.parse().ok()?,
                "blobs" => m.blobs = v.parse().ok()?,
                "bytes" => m.bytes = v.parse().ok()?,
                "identity" => m.identities.push(v.to_owned()),
                "missing" => m.missing.push(v.to_owned()),
                // Lines a later format adds are not this one's business.
                _ => {}
            }
        }
        Some(m)
    }
}

/// How far an export or an import has come: bytes of content done, of the total.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// A directory removed (with what is in it) when dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(parent: &Path, prefix: &str) -> Result<WorkDir, StoreError> {
        let mut r = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut r);
        let name: String = r.iter().map(|b| format!("{b:02x}")).collect();
        let dir = parent.join(format!("{prefix}{name}"));
        private_dir(&dir)?;
        Ok(WorkDir(dir))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn identity_addresses(s: &Store) -> Result<Vec<String>, StoreError> {
    Ok(s.identities()?
        .iter()
        .map(|i| format!("{}@{}", i.local_part, i.onion))
        .collect())
}

fn entry_header(out: &mut impl Write, tag: u8, len: u64) -> io::Result<()> {
    out.write_all(&[tag])?;
    out.write_all(&len.to_be_bytes())
}

impl Store {
    /// Write a backup of this store to `out`, sealed under `passphrase`. The store stays usable
    /// meanwhile; writers wait only while the snapshot is taken.
    pub fn export_backup(
        &self,
        out: impl Write,
        passphrase: &[u8],
        params: KdfParams,
        choice: &BackupChoice,
        created_at: i64,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, BackupError> {
        let parent = self.path().parent().unwrap_or(Path::new(".")).to_owned();
        let work = WorkDir::new(&parent, ".backup-")?;
        let snapshot_path = work.0.join("snapshot.db");
        let blobs = work.0.join("blobs");
        private_dir(&blobs)?;
        let missing = self.snapshot(&snapshot_path, &blobs)?;
        let summary = trim_snapshot(
            &snapshot_path,
            self.keys().clone(),
            &blobs,
            choice,
            created_at,
            missing,
        )?;

        let w = |source| BackupError::Write { source };
        let mut sealed = SealedWriter::new(out, passphrase, params)?;
        let manifest = summary.encode();
        entry_header(&mut sealed, TAG_MANIFEST, manifest.len() as u64).map_err(w)?;
        sealed.write_all(manifest.as_bytes()).map_err(w)?;
        let mut keys = Zeroizing::new(Vec::with_capacity(64));
        keys.extend_from_slice(self.keys().database.as_ref());
        keys.extend_from_slice(self.keys().sealing.to_bytes().as_ref());
        entry_header(&mut sealed, TAG_KEYS, 64).map_err(w)?;
        sealed.write_all(&keys).map_err(w)?;
        let mut done = 0u64;
        let mut copy = |sealed: &mut SealedWriter<_>, path: &Path, tag: u8, name: &[u8]| {
            let mut f = std::fs::File::open(path).map_err(io_at(path))?;
            let len = f.metadata().map_err(io_at(path))?.len();
            entry_header(sealed, tag, name.len() as u64 + len).map_err(w)?;
            sealed.write_all(name).map_err(w)?;
            let copied = io::copy(&mut (&mut f).take(len), sealed).map_err(w)?;
            if copied != len {
                return Err(BackupError::Store(StoreError::Corrupt {
                    path: path.to_owned(),
                    detail: "a file shrank while it was backed up".into(),
                }));
            }
            done += len;
            progress(done, summary.bytes);
            Ok::<(), BackupError>(())
        };
        copy(&mut sealed, &snapshot_path, TAG_DATABASE, &[])?;
        for file in std::fs::read_dir(&blobs).map_err(io_at(&blobs))? {
            let file = file.map_err(io_at(&blobs))?;
            let name = file.file_name();
            let hash = name
                .to_str()
                .and_then(|n| {
                    (0..n.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(n.get(i..i + 2)?, 16).ok())
                        .collect::<Option<Vec<u8>>>()
                })
                .filter(|h| h.len() == 32)
                .ok_or_else(|| {
                    BackupError::Store(StoreError::Corrupt {
                        path: file.path(),
                        detail: "unexpected file among the snapshot's attachments".into(),
                    })
                })?;
            copy(&mut sealed, &file.path(), TAG_BLOB, &hash)?;
        }
        entry_header(&mut sealed, TAG_END, 0).map_err(w)?;
        sealed.finish().map_err(w)?;
        Ok(summary)
    }

    /// A consistent copy of the database at `to` (same keys), and hard links to every
    /// attachment file in `blobs/` (named by hash), taken under the write lock. Returns the
    /// attachments whose files were already gone.
    fn snapshot(&self, to: &Path, blobs: &Path) -> Result<Vec<Vec<u8>>, BackupError> {
        // The store's connection may not create files: the snapshot's is made here, private.
        create_private_file(to)?;
        let key = self.keys().pragma_key();
        self.conn.execute(
            "ATTACH DATABASE ?1 AS snapshot KEY ?2",
            (to.display().to_string(), key.as_str()),
        )?;
        let taken = (|| -> Result<Vec<Vec<u8>>, BackupError> {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            let r = (|| -> Result<Vec<Vec<u8>>, BackupError> {
                self.conn
                    .query_row("SELECT sqlcipher_export('snapshot')", [], |_| Ok(()))?;
                let version = migrations::version(&self.conn)?;
                self.conn
                    .pragma_update(Some("snapshot"), "user_version", version)?;
                let hashes: Vec<Vec<u8>> = {
                    let mut st = self.conn.prepare("SELECT hash FROM blobs WHERE refs > 0")?;
                    let rows = st.query_map([], |r| r.get(0))?;
                    rows.collect::<Result<_, _>>()?
                };
                let mut missing = Vec::new();
                for hash in hashes {
                    let from = self.blob_path(&hash);
                    let link = blobs.join(hex(&hash));
                    match std::fs::hard_link(&from, &link) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(hash),
                        Err(e) => return Err(io_at(&from)(e).into()),
                    }
                }
                Ok(missing)
            })();
            match r {
                Ok(_) => self.conn.execute_batch("COMMIT")?,
                Err(_) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
            }
            r
        })();
        let detached = self.conn.execute_batch("DETACH DATABASE snapshot");
        let missing = taken?;
        detached?;
        Ok(missing)
    }
}

/// Cut the snapshot down to `choice`, forget its change log, drop attachments nothing refers
/// to any more, and vacuum it so that nothing deleted lingers in its pages.
fn trim_snapshot(
    path: &Path,
    keys: StoreKeys,
    blobs: &Path,
    choice: &BackupChoice,
    created_at: i64,
    missing: Vec<Vec<u8>>,
) -> Result<BackupSummary, BackupError> {
    let s = Store::with_keys(path, keys)?;
    let c = &s.conn;
    c.execute_batch("BEGIN")?;
    if let Some(chosen) = &choice.identities {
        c.execute_batch("CREATE TEMP TABLE keep (id INTEGER PRIMARY KEY)")?;
        for id in chosen {
            if c.execute(
                "INSERT OR IGNORE INTO keep SELECT id FROM identities WHERE id = ?1",
                [id],
            )? == 0
                && !c.query_row(
                    "SELECT EXISTS (SELECT 1 FROM identities WHERE id = ?1)",
                    [id],
                    |r| r.get::<_, bool>(0),
                )?
            {
                return Err(BackupError::UnknownIdentity(*id));
            }
        }
        // A hosted account needs its host's service; a host's accounts live on its service.
        c.execute_batch(
            "INSERT OR IGNORE INTO keep SELECT host_id FROM identities
                 WHERE id IN (SELECT id FROM keep) AND host_id IS NOT NULL;
             INSERT OR IGNORE INTO keep SELECT id FROM identities
                 WHERE host_id IN (SELECT id FROM keep);
             DELETE FROM identities WHERE id NOT IN (SELECT id FROM keep);
             DROP TABLE keep;",
        )?;
    }
    if !choice.mail {
        c.execute_batch("DELETE FROM messages; DELETE FROM outbox;")?;
    }
    // A restored store starts its own change log, and is a device of its own.
    c.execute_batch("DELETE FROM events;")?;
    c.execute(
        "DELETE FROM store_meta WHERE key = ?1",
        [crate::devices::DEVICE_ID_KEY],
    )?;
    let unused: Vec<Vec<u8>> = {
        let mut st = c.prepare("DELETE FROM blobs WHERE refs <= 0 RETURNING hash")?;
        let rows = st.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    c.execute_batch("COMMIT")?;
    for hash in unused {
        let _ = std::fs::remove_file(blobs.join(hex(&hash)));
    }
    c.execute_batch("VACUUM")?;
    let identities = identity_addresses(&s)?;
    let messages: i64 = c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
    let nblobs: i64 = c.query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))?;
    let schema = migrations::version(c)?;
    let mut still_named = Vec::new();
    for hash in missing {
        if c.query_row(
            "SELECT EXISTS (SELECT 1 FROM blobs WHERE hash = ?1)",
            [&hash],
            |r| r.get::<_, bool>(0),
        )? {
            still_named.push(hex(&hash));
        }
    }
    drop(s);
    let mut bytes = std::fs::metadata(path).map_err(io_at(path))?.len();
    for f in std::fs::read_dir(blobs).map_err(io_at(blobs))? {
        let f = f.map_err(io_at(blobs))?;
        bytes += f.metadata().map_err(io_at(blobs))?.len();
    }
    Ok(BackupSummary {
        format: BACKUP_FORMAT,
        schema,
        created_at,
        mail: choice.mail,
        messages,
        blobs: nblobs,
        bytes,
        identities,
        missing: still_named,
    })
}

mod restore;
pub use restore::import_backup;
