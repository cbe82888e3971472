//! Restoring a backup into a new store: read into a staging directory, check everything, then
//! move it into place with the database last (the commit point).

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::path::Path;

use postern_crypto::{KdfParams, StoreKey};
use zeroize::Zeroizing;

use super::sealed::SealedReader;
use super::{
    hex, identity_addresses, io_at, BackupError, BackupSummary, Progress, WorkDir, BACKUP_FORMAT,
    MAX_MANIFEST, TAG_BLOB, TAG_DATABASE, TAG_END, TAG_KEYS, TAG_MANIFEST,
};
use crate::blobs::blob_file;
use crate::keyfile::{key_path, sync_dir, KeyFile, StoreKeys};
use crate::migrations::{self, LATEST_VERSION};
use crate::open::{create_private_file, private_dir, DB_FILE_NAME};
use crate::{Store, StoreError};

/// An error from reading the sealed stream: the backup's own (damage) if it is one.
fn read_err(e: io::Error) -> BackupError {
    if e.get_ref().is_some_and(|inner| inner.is::<BackupError>()) {
        if let Some(inner) = e.into_inner() {
            if let Ok(b) = inner.downcast::<BackupError>() {
                return *b;
            }
        }
        return BackupError::Damaged {
            offset: 0,
            detail: "unreadable".into(),
        };
    }
    BackupError::Read { source: e }
}

fn damaged(offset: u64, detail: impl Into<String>) -> BackupError {
    BackupError::Damaged {
        offset,
        detail: detail.into(),
    }
}

/// The content stream with a count of the bytes read from it (for error messages).
struct Content<R: Read> {
    inner: SealedReader<R>,
    at: u64,
}

impl<R: Read> Content<R> {
    fn exact(&mut self, buf: &mut [u8]) -> Result<(), BackupError> {
        let mut n = 0;
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => return Err(damaged(self.at, "the content ends early")),
                Ok(k) => {
                    n += k;
                    self.at += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_err(e)),
            }
        }
        Ok(())
    }

    fn entry(&mut self) -> Result<(u8, u64), BackupError> {
        let mut h = [0u8; 9];
        self.exact(&mut h)?;
        let mut len = [0u8; 8];
        len.copy_from_slice(&h[1..]);
        Ok((h[0], u64::from_be_bytes(len)))
    }

    fn copy_to(&mut self, len: u64, path: &Path) -> Result<(), BackupError> {
        create_private_file(path)?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_at(path))?;
        let mut left = len;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            self.exact(&mut buf[..n])?;
            f.write_all(&buf[..n]).map_err(io_at(path))?;
            left -= n as u64;
        }
        f.sync_all().map_err(io_at(path))?;
        Ok(())
    }
}

/// Restore the backup read from `input` as a new store at `db_path` (which must not exist),
/// protected by `new_passphrase`. Nothing is put in place until the whole backup has been read
/// and checked; then the store is opened (and migrated, if the backup is from an older schema).
pub fn import_backup(
    db_path: &Path,
    input: impl Read,
    passphrase: &[u8],
    new_passphrase: &[u8],
    params: KdfParams,
    progress: Progress<'_>,
) -> Result<(Store, BackupSummary), BackupError> {
    if db_path.exists() {
        return Err(StoreError::AlreadyExists(db_path.to_owned()).into());
    }
    let dir = db_path.parent().unwrap_or(Path::new(".")).to_owned();
    private_dir(&dir)?;
    // What an import or export cut short by a crash left behind.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".import-") || name.starts_with(".backup-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let mut content = Content {
        inner: SealedReader::new(input, passphrase)?,
        at: 0,
    };
    let staging = WorkDir::new(&dir, ".import-")?;
    let staged_db = staging.0.join(DB_FILE_NAME);
    let staged_blobs = staging.0.join("blobs");

    // The manifest, the keys, the database, the attachments, the end: in that order.
    let (tag, len) = content.entry()?;
    if tag != TAG_MANIFEST || len > MAX_MANIFEST {
        return Err(damaged(0, "no manifest"));
    }
    let mut text = vec![0u8; len as usize];
    content.exact(&mut text)?;
    let manifest = std::str::from_utf8(&text)
        .ok()
        .and_then(BackupSummary::decode)
        .ok_or_else(|| damaged(9, "unreadable manifest"))?;
    if manifest.format != BACKUP_FORMAT {
        return Err(damaged(9, "the manifest names another format"));
    }
    let (tag, len) = content.entry()?;
    if tag != TAG_KEYS || len != 64 {
        return Err(damaged(content.at, "no keys"));
    }
    let mut both = Zeroizing::new([0u8; 64]);
    content.exact(both.as_mut())?;
    let mut database = Zeroizing::new([0u8; 32]);
    database.copy_from_slice(&both[..32]);
    let keys = StoreKeys {
        database,
        sealing: StoreKey::from_bytes(&both[32..]).map_err(StoreError::Secret)?,
    };
    let (tag, len) = content.entry()?;
    if tag != TAG_DATABASE {
        return Err(damaged(content.at, "no database"));
    }
    content.copy_to(len, &staged_db)?;
    let mut done = len;
    progress(done, manifest.bytes);
    let mut files = HashSet::new();
    loop {
        let (tag, len) = content.entry()?;
        match tag {
            TAG_BLOB if len >= 32 => {
                let mut hash = [0u8; 32];
                content.exact(&mut hash)?;
                let path = staged_blobs.join(blob_file(&keys.sealing, &hash));
                if !files.insert(hash) {
                    return Err(damaged(content.at, "an attachment twice"));
                }
                if let Some(parent) = path.parent() {
                    private_dir(parent)?;
                }
                content.copy_to(len - 32, &path)?;
                done += len - 32;
                progress(done, manifest.bytes);
            }
            TAG_END if len == 0 => break,
            _ => return Err(damaged(content.at, "an unknown entry")),
        }
    }
    if !content.inner.at_end().map_err(read_err)? {
        return Err(damaged(content.at, "content after the end"));
    }

    check_staged(&staged_db, keys.clone(), &manifest, &files)?;
    KeyFile::seal(&keys, new_passphrase, params)?.write(&key_path(&staged_db))?;

    // Into place: attachments, key file, and last the database, whose presence makes a store.
    let blobs = dir.join("blobs");
    if blobs.exists() {
        // No store here: whatever is there belongs to nothing.
        std::fs::remove_dir_all(&blobs).map_err(io_at(&blobs))?;
    }
    if staged_blobs.exists() {
        std::fs::rename(&staged_blobs, &blobs).map_err(io_at(&blobs))?;
    }
    let kpath = key_path(db_path);
    std::fs::rename(key_path(&staged_db), &kpath).map_err(io_at(&kpath))?;
    sync_dir(&kpath)?;
    std::fs::rename(&staged_db, db_path).map_err(io_at(db_path))?;
    sync_dir(db_path)?;
    drop(staging);
    let store = Store::open(db_path, new_passphrase)?;
    Ok((store, manifest))
}

/// The staged database opens with the backup's keys, is a Postern store this build reads and
/// whole, holds the identities the manifest names, and every attachment it refers to is there,
/// decrypts and matches its hash — and no other file came with it.
fn check_staged(
    db: &Path,
    keys: StoreKeys,
    manifest: &BackupSummary,
    files: &HashSet<[u8; 32]>,
) -> Result<(), BackupError> {
    let bad = |detail: &str| damaged(0, detail);
    let s = Store::with_keys(db, keys).map_err(|_| bad("its database does not open"))?;
    let version = migrations::version(&s.conn).map_err(|_| bad("its database does not open"))?;
    if version > LATEST_VERSION {
        return Err(StoreError::TooNew {
            found: version,
            supported: LATEST_VERSION,
        }
        .into());
    }
    if version < 1 || version != manifest.schema {
        return Err(bad("its database is not the one the manifest describes"));
    }
    let check: String = s
        .conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(damaged(
            0,
            format!("its database fails the integrity check: {check}"),
        ));
    }
    if identity_addresses(&s)? != manifest.identities {
        return Err(bad("its identities are not the ones the manifest names"));
    }
    let hashes: Vec<Vec<u8>> = {
        let mut st = s.conn.prepare("SELECT hash FROM blobs WHERE refs > 0")?;
        let rows = st.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let known_missing = hashes
        .iter()
        .filter(|h| manifest.missing.contains(&hex(h)))
        .count();
    if hashes.len() != files.len() + known_missing {
        return Err(bad("its attachments are not the ones its database names"));
    }
    for hash in hashes {
        if manifest.missing.contains(&hex(&hash)) {
            continue;
        }
        if !hash
            .as_slice()
            .try_into()
            .is_ok_and(|h: [u8; 32]| files.contains(&h))
        {
            return Err(damaged(
                0,
                format!("attachment {} is missing", &hex(&hash)[..12]),
            ));
        }
        s.copy_blob(&hash, &mut io::sink())
            .map_err(|_| damaged(0, format!("attachment {} is damaged", &hex(&hash)[..12])))?;
    }
    Ok(())
}
