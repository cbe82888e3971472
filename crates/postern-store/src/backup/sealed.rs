//! The sealed stream a backup file is: a header that says how to derive the key from the
//! backup's passphrase, then the content in 64 KiB chunks, each its own AEAD.
//!
//! ```text
//! magic        8 bytes   "PSTRNBAK"
//! version      u8        1
//! memory_kib   u32 BE    Argon2id cost (bounded when read)
//! iterations   u32 BE
//! parallelism  u32 BE
//! salt         16 bytes
//! prefix       19 bytes  the chunks' nonce prefix (random)
//! check_len    u16 BE
//! check        the header so far, sealed under the passphrase's key (context "backup/header-v1"):
//!              a wrong passphrase is told apart from damage further on, and the header is bound
//! chunk*       XChaCha20-Poly1305 of ≤ 64 KiB (every chunk but the last exactly 64 KiB) under a
//!              subkey of the passphrase's key; nonce = prefix | chunk number (u32 BE) | last flag
//! ```
//!
//! Chunks cannot be reordered, dropped, or cut off at a chunk boundary without a chunk failing
//! to open: the last chunk says it is last, and nothing may follow it.

use std::io::{self, Read, Write};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use postern_crypto::{KdfParams, StoreKey, SALT_LEN};
use rand::RngCore;
use zeroize::Zeroizing;

use super::BackupError;
use crate::keyfile::params_bounded;

const MAGIC: &[u8; 8] = b"PSTRNBAK";
/// The backup format this build writes, and the newest it reads.
pub const BACKUP_FORMAT: u8 = 1;
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const PREFIX: usize = 19;
const CHECK_CONTEXT: &str = "backup/header-v1";

fn nonce(prefix: &[u8; PREFIX], counter: u32, last: bool) -> XNonce {
    let mut n = [0u8; 24];
    n[..PREFIX].copy_from_slice(prefix);
    n[PREFIX..PREFIX + 4].copy_from_slice(&counter.to_be_bytes());
    n[23] = u8::from(last);
    *XNonce::from_slice(&n)
}

fn chunk_cipher(key: &StoreKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(
        key.derive_subkey(b"backup-chunks-v1").as_ref(),
    ))
}

fn header_fields(params: KdfParams, salt: &[u8; SALT_LEN], prefix: &[u8; PREFIX]) -> Vec<u8> {
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(MAGIC);
    h.push(BACKUP_FORMAT);
    h.extend_from_slice(&params.memory_kib.to_be_bytes());
    h.extend_from_slice(&params.iterations.to_be_bytes());
    h.extend_from_slice(&params.parallelism.to_be_bytes());
    h.extend_from_slice(salt);
    h.extend_from_slice(prefix);
    h
}

/// Writes the sealed stream: plaintext in, header and chunks out. `finish` seals the last
/// chunk; a writer dropped without it leaves a file every reader refuses as cut short.
pub(crate) struct SealedWriter<W: Write> {
    out: W,
    cipher: XChaCha20Poly1305,
    prefix: [u8; PREFIX],
    counter: u32,
    buf: Zeroizing<Vec<u8>>,
    written: u64,
}

impl<W: Write> SealedWriter<W> {
    pub(crate) fn new(
        mut out: W,
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<Self, BackupError> {
        let salt = StoreKey::new_salt();
        let mut prefix = [0u8; PREFIX];
        rand::rngs::OsRng.fill_bytes(&mut prefix);
        let key = StoreKey::derive(passphrase, &salt, params).map_err(BackupError::Kdf)?;
        let header = header_fields(params, &salt, &prefix);
        let check = key.seal(CHECK_CONTEXT, &header);
        let check_len = u16::try_from(check.len()).map_err(|_| BackupError::Write {
            source: io::Error::other("header check too long"),
        })?;
        let w = |source| BackupError::Write { source };
        out.write_all(&header).map_err(w)?;
        out.write_all(&check_len.to_be_bytes()).map_err(w)?;
        out.write_all(&check).map_err(w)?;
        Ok(SealedWriter {
            out,
            cipher: chunk_cipher(&key),
            prefix,
            counter: 0,
            buf: Zeroizing::new(Vec::with_capacity(CHUNK + 1)),
            written: (header.len() + 2 + check.len()) as u64,
        })
    }

    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        let n = self.buf.len().min(CHUNK);
        let sealed = self
            .cipher
            .encrypt(
                &nonce(&self.prefix, self.counter, last),
                Payload {
                    msg: &self.buf[..n],
                    aad: MAGIC,
                },
            )
            .map_err(|_| io::Error::other("cannot encrypt a chunk"))?;
        self.out.write_all(&sealed)?;
        self.written += sealed.len() as u64;
        self.buf.drain(..n);
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or_else(|| io::Error::other("a backup of more than 256 TiB"))?;
        Ok(())
    }

    /// Seal what is buffered as the last chunk and flush: the stream is complete. Returns the
    /// writer and how many bytes were written to it.
    pub(crate) fn finish(mut self) -> io::Result<(W, u64)> {
        while self.buf.len() > CHUNK {
            self.seal_chunk(false)?;
        }
        self.seal_chunk(true)?;
        self.out.flush()?;
        Ok((self.out, self.written))
    }
}

impl<W: Write> Write for SealedWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        // Keep one byte back: only `finish` knows which chunk is the last.
        while self.buf.len() > CHUNK {
            self.seal_chunk(false)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reads the sealed stream: header checked against the passphrase first, then plaintext that
/// is only ever handed out a whole authenticated chunk at a time.
pub(crate) struct SealedReader<R: Read> {
    input: R,
    cipher: XChaCha20Poly1305,
    prefix: [u8; PREFIX],
    counter: u32,
    /// One byte read ahead, to know whether a full chunk is the last one.
    ahead: Option<u8>,
    plain: Zeroizing<Vec<u8>>,
    pos: usize,
    done: bool,
    /// Bytes of the file consumed so far (for error messages).
    offset: u64,
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl<R: Read> SealedReader<R> {
    /// Read and check the header: `NotABackup`, `TooNew`, `WrongPassphrase` before any content.
    pub(crate) fn new(mut input: R, passphrase: &[u8]) -> Result<Self, BackupError> {
        let r = |source| BackupError::Read { source };
        let mut fixed = [0u8; 8 + 1 + 12 + SALT_LEN + PREFIX + 2];
        let got = read_full(&mut input, &mut fixed).map_err(r)?;
        if got < 9 || &fixed[..8] != MAGIC {
            return Err(BackupError::NotABackup);
        }
        if fixed[8] > BACKUP_FORMAT || fixed[8] == 0 {
            return Err(BackupError::TooNew {
                found: fixed[8],
                supported: BACKUP_FORMAT,
            });
        }
        if got < fixed.len() {
            return Err(BackupError::Damaged {
                offset: got as u64,
                detail: "the header is cut short".into(),
            });
        }
        let u32_at =
            |i: usize| u32::from_be_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
        let params = KdfParams {
            memory_kib: u32_at(9),
            iterations: u32_at(13),
            parallelism: u32_at(17),
        };
        if !params_bounded(params) {
            return Err(BackupError::Damaged {
                offset: 9,
                detail: "key-derivation parameters out of bounds".into(),
            });
        }
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&fixed[21..21 + SALT_LEN]);
        let mut prefix = [0u8; PREFIX];
        prefix.copy_from_slice(&fixed[21 + SALT_LEN..21 + SALT_LEN + PREFIX]);
        let check_len = u16::from_be_bytes([fixed[fixed.len() - 2], fixed[fixed.len() - 1]]);
        let mut check = vec![0u8; usize::from(check_len)];
        if read_full(&mut input, &mut check).map_err(r)? < check.len() {
            return Err(BackupError::Damaged {
                offset: fixed.len() as u64,
                detail: "the header is cut short".into(),
            });
        }
        let key = StoreKey::derive(passphrase, &salt, params).map_err(BackupError::Kdf)?;
        let header = header_fields(params, &salt, &prefix);
        match key.open(CHECK_CONTEXT, &check) {
            Ok(h) if h.as_slice() == header.as_slice() => {}
            _ => return Err(BackupError::WrongPassphrase),
        }
        Ok(SealedReader {
            input,
            cipher: chunk_cipher(&key),
            prefix,
            counter: 0,
            ahead: None,
            plain: Zeroizing::new(Vec::new()),
            pos: 0,
            done: false,
            offset: (fixed.len() + check.len()) as u64,
        })
    }

    fn damaged(&self, detail: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            BackupError::Damaged {
                offset: self.offset,
                detail: detail.into(),
            },
        )
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let mut sealed = vec![0u8; CHUNK + TAG];
        let mut n = 0;
        if let Some(b) = self.ahead.take() {
            sealed[0] = b;
            n = 1;
        }
        n += read_full(&mut self.input, &mut sealed[n..])?;
        sealed.truncate(n);
        let last = if n == CHUNK + TAG {
            let mut one = [0u8; 1];
            if read_full(&mut self.input, &mut one)? == 1 {
                self.ahead = Some(one[0]);
                false
            } else {
                true
            }
        } else {
            true
        };
        if n < TAG {
            return Err(self.damaged("cut short"));
        }
        let plain = self
            .cipher
            .decrypt(
                &nonce(&self.prefix, self.counter, last),
                Payload {
                    msg: &sealed,
                    aad: MAGIC,
                },
            )
            .map_err(|_| self.damaged("altered, or cut short"))?;
        self.offset += n as u64;
        self.counter = self.counter.wrapping_add(1);
        self.plain = Zeroizing::new(plain);
        self.pos = 0;
        self.done = last;
        Ok(())
    }

    /// Whether the whole stream has been read and authenticated, to its last chunk.
    pub(crate) fn at_end(&mut self) -> io::Result<bool> {
        if self.pos < self.plain.len() {
            return Ok(false);
        }
        while !self.done {
            self.next_chunk()?;
            if self.pos < self.plain.len() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl<R: Read> Read for SealedReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.plain.len() {
            if self.done {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = out.len().min(self.plain.len() - self.pos);
        out[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
