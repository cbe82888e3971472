//! Attachment contents, stored once by SHA-256, encrypted, in files beside the database
//! (`blobs/xx/<name>`): the same file in ten messages is one blob with ten references; the last
//! reference gone, the file goes.
//!
//! A blob's file name is derived from its hash under a store key (nothing on disk shows which
//! content it is). Its content is encrypted in 64 KiB chunks (XChaCha20-Poly1305, a key per blob
//! derived from the store's sealing key and the hash; nonce = a random prefix, the chunk number
//! and a last-chunk flag, so chunks cannot be reordered, dropped or cut), so it is written and
//! read in pieces, never whole in memory again.
//!
//! ```text
//! "PSTRNBLB" | version 1 | nonce prefix (19 bytes) | chunk* (ciphertext of ≤ 64 KiB + 16-byte tag)
//! ```
//!
//! Files are written (and synced) before the row that names them commits; a transaction that
//! rolls back leaves an orphan file, which `collect_garbage` removes.

use std::io::{Read, Write};
use std::path::PathBuf;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::{Store, StoreError};

const MAGIC: &[u8; 8] = b"PSTRNBLB";
const VERSION: u8 = 1;
const CHUNK: usize = 64 * 1024;
const PREFIX: usize = 19;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn nonce(prefix: &[u8; PREFIX], counter: u32, last: bool) -> XNonce {
    let mut n = [0u8; 24];
    n[..PREFIX].copy_from_slice(prefix);
    n[PREFIX..PREFIX + 4].copy_from_slice(&counter.to_be_bytes());
    n[23] = u8::from(last);
    *XNonce::from_slice(&n)
}

/// Where a blob's file lies under `blobs/`: `xx/<name>`, the name derived from its hash under
/// the store's sealing key.
pub(crate) fn blob_file(key: &postern_crypto::StoreKey, hash: &[u8]) -> PathBuf {
    let mut purpose = b"blob-name".to_vec();
    purpose.extend_from_slice(hash);
    let name = hex(&key.derive_subkey(&purpose)[..16]);
    PathBuf::from(&name[..2]).join(&name)
}

/// An attachment of a stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    /// Position in the message.
    pub position: i64,
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// SHA-256 of the content.
    pub hash: Vec<u8>,
    /// Size in bytes.
    pub size: i64,
}

impl Store {
    fn blob_root(&self) -> PathBuf {
        self.path()
            .parent()
            .map(|d| d.join("blobs"))
            .unwrap_or_else(|| PathBuf::from("blobs"))
    }

    pub(crate) fn blob_path(&self, hash: &[u8]) -> PathBuf {
        self.blob_root().join(blob_file(&self.key, hash))
    }

    fn blob_cipher(&self, hash: &[u8]) -> XChaCha20Poly1305 {
        let mut purpose = b"blob".to_vec();
        purpose.extend_from_slice(hash);
        XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(
            self.subkey(&purpose).as_ref(),
        ))
    }

    /// Store `data` as a blob (or count one more reference to it): its hash.
    pub fn put_blob(&mut self, data: &[u8]) -> Result<[u8; 32], StoreError> {
        let hash: [u8; 32] = Sha256::digest(data).into();
        let known = self.conn.execute(
            "UPDATE blobs SET refs = refs + 1 WHERE hash = ?1",
            [&hash[..]],
        )?;
        if known == 1 {
            // A collection interrupted between removing a file and committing leaves its row.
            if !self.blob_path(&hash).is_file() {
                self.write_blob_file(&hash, data)?;
            }
            return Ok(hash);
        }
        self.write_blob_file(&hash, data)?;
        self.conn.execute(
            "INSERT INTO blobs (hash, size, refs) VALUES (?1, ?2, 1)",
            params![&hash[..], data.len() as i64],
        )?;
        Ok(hash)
    }

    fn write_blob_file(&self, hash: &[u8; 32], data: &[u8]) -> Result<(), StoreError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let path = self.blob_path(hash);
        let io = |p: &PathBuf| {
            let p = p.clone();
            move |source| StoreError::Io { path: p, source }
        };
        let dir = path.parent().map(PathBuf::from).unwrap_or_default();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io(&dir))?;
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        let cipher = self.blob_cipher(hash);
        let mut prefix = [0u8; PREFIX];
        rand::rngs::OsRng.fill_bytes(&mut prefix);
        f.write_all(MAGIC).map_err(io(&tmp))?;
        f.write_all(&[VERSION]).map_err(io(&tmp))?;
        f.write_all(&prefix).map_err(io(&tmp))?;
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![&[]]
        } else {
            data.chunks(CHUNK).collect()
        };
        let n = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let sealed = cipher
                .encrypt(
                    &nonce(&prefix, i as u32, i + 1 == n),
                    Payload {
                        msg: chunk,
                        aad: hash,
                    },
                )
                .map_err(|_| StoreError::Corrupt {
                    path: tmp.clone(),
                    detail: "cannot encrypt".into(),
                })?;
            f.write_all(&sealed).map_err(io(&tmp))?;
        }
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }

    /// Copy a blob's content to `out`, a chunk at a time, checking every chunk.
    pub fn copy_blob(&self, hash: &[u8], out: &mut dyn Write) -> Result<u64, StoreError> {
        let path = self.blob_path(hash);
        let bad = |detail: &str| StoreError::Corrupt {
            path: path.clone(),
            detail: detail.into(),
        };
        let mut f = std::fs::File::open(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let mut head = [0u8; 8 + 1 + PREFIX];
        f.read_exact(&mut head)
            .map_err(|_| bad("an attachment's file is cut short"))?;
        if &head[..8] != MAGIC || head[8] != VERSION {
            return Err(bad("not an attachment file"));
        }
        let mut prefix = [0u8; PREFIX];
        prefix.copy_from_slice(&head[9..]);
        let cipher = self.blob_cipher(hash);
        // A chunk is the last one when nothing follows it: read one ahead.
        let mut cur = vec![0u8; CHUNK + 16];
        let mut next = vec![0u8; CHUNK + 16];
        let mut n = read_full(&mut f, &mut cur).map_err(|_| bad("cannot read"))?;
        let mut counter = 0u32;
        let mut written = 0u64;
        let mut hasher = Sha256::new();
        loop {
            let m = if n == cur.len() {
                read_full(&mut f, &mut next).map_err(|_| bad("cannot read"))?
            } else {
                0
            };
            let last = m == 0;
            let plain = cipher
                .decrypt(
                    &nonce(&prefix, counter, last),
                    Payload {
                        msg: &cur[..n],
                        aad: hash,
                    },
                )
                .map_err(|_| bad("an attachment's file is damaged"))?;
            hasher.update(&plain);
            out.write_all(&plain).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            written += plain.len() as u64;
            if last {
                break;
            }
            std::mem::swap(&mut cur, &mut next);
            n = m;
            counter = counter
                .checked_add(1)
                .ok_or_else(|| bad("too many chunks"))?;
        }
        if hasher.finalize().as_slice() != hash {
            return Err(bad("an attachment's content does not match its hash"));
        }
        Ok(written)
    }

    /// A blob's content, whole.
    pub fn read_blob(&self, hash: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        self.copy_blob(hash, &mut out)?;
        Ok(out)
    }

    /// Record an attachment of a stored message (its blob already put).
    pub fn add_message_attachment(
        &mut self,
        message_id: i64,
        position: i64,
        name: &str,
        content_type: &str,
        hash: &[u8],
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO message_attachments (message_id, position, name, content_type, hash)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![message_id, position, name, content_type, hash],
        )?;
        Ok(())
    }

    /// Forget a message's attachments (their blobs lose a reference; `collect_garbage` removes
    /// those no message holds).
    pub fn clear_message_attachments(&mut self, message_id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM message_attachments WHERE message_id = ?1",
            [message_id],
        )?;
        Ok(())
    }

    /// A message's attachments, in order.
    pub fn message_attachments(
        &self,
        message_id: i64,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT a.position, a.name, a.content_type, a.hash, b.size
             FROM message_attachments a JOIN blobs b ON b.hash = a.hash
             WHERE a.message_id = ?1 ORDER BY a.position",
        )?;
        let rows = st.query_map([message_id], |r| {
            Ok(AttachmentRecord {
                position: r.get(0)?,
                name: r.get(1)?,
                content_type: r.get(2)?,
                hash: r.get(3)?,
                size: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many blobs there are and how many bytes of content they hold.
    pub fn blob_usage(&self) -> Result<(i64, i64), StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*), COALESCE(sum(size), 0) FROM blobs WHERE refs > 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Remove blobs nobody refers to any more, and their files. Returns how many files were
    /// removed. Cheap: run after every deletion.
    pub fn collect_garbage(&mut self) -> Result<usize, StoreError> {
        self.locked(|s| s.collect_garbage_locked(false))
    }

    /// `collect_garbage`, and also remove files no row names (left by a write whose
    /// transaction rolled back, or by a crash). Walks the whole blob directory: run on opening
    /// and after a rollback.
    pub fn collect_garbage_and_orphans(&mut self) -> Result<usize, StoreError> {
        self.locked(|s| s.collect_garbage_locked(true))
    }

    /// Run `f` holding the database's write lock: another connection writes a blob file only
    /// inside a write transaction, so none can be half-way through one meanwhile.
    fn locked<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let own = self.conn.is_autocommit();
        if own {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        let r = f(self);
        if own {
            match &r {
                Ok(_) => self.conn.execute_batch("COMMIT")?,
                Err(_) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
            }
        }
        r
    }

    fn collect_garbage_locked(&mut self, orphans: bool) -> Result<usize, StoreError> {
        let unused: Vec<Vec<u8>> = {
            let mut st = self
                .conn
                .prepare("DELETE FROM blobs WHERE refs <= 0 RETURNING hash")?;
            let rows = st.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut removed = 0;
        for hash in &unused {
            if std::fs::remove_file(self.blob_path(hash)).is_ok() {
                removed += 1;
            }
        }
        let root = self.blob_root();
        if !orphans {
            return Ok(removed);
        }
        let Ok(dirs) = std::fs::read_dir(&root) else {
            return Ok(removed);
        };
        let known: std::collections::HashSet<PathBuf> = {
            let mut st = self.conn.prepare("SELECT hash FROM blobs")?;
            let rows = st.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
            rows.collect::<Result<Vec<_>, _>>()?
                .iter()
                .map(|h| self.blob_path(h))
                .collect()
        };
        for dir in dirs.flatten() {
            let Ok(files) = std::fs::read_dir(dir.path()) else {
                continue;
            };
            for f in files.flatten() {
                if !known.contains(&f.path()) && std::fs::remove_file(f.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Whether a blob with this hash is stored.
    pub fn has_blob(&self, hash: &[u8]) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT refs FROM blobs WHERE hash = ?1", [hash], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .is_some_and(|n| n > 0))
    }
}

fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
