//! Reading stored mail: a message's text and attachments (their contents stored once, outside
//! the message, see `postern_store` blobs), saving attachments safely, and the whole message
//! as MIME again (for a mail client).

use std::path::{Path, PathBuf};

use postern_mime::{Attachment, Letter};
use postern_store::{MessageRecord, StoreError};

use super::api::{AttachmentInfo, MessageView};
use crate::{CoreError, Postern};

/// Where an attachment's content is: a stored blob, or (mail stored before blobs) inside the
/// message.
enum Content {
    Blob(Vec<u8>),
    Inline(Vec<u8>),
}

struct Stored {
    name: String,
    content_type: String,
    size: usize,
    content: Content,
}

/// What is shown of a message whose content is itself encrypted, to an identity that is not a
/// hosted account with its holder's key (nobody here can read it).
pub const NESTED_ENCRYPTED_TEXT: &str =
    "[The content of this message is encrypted once more, to a key this device does not hold.]";

impl Postern {
    /// Whether the identity is a hosted account whose holder gave their own key.
    fn has_holder_key(&self, identity_id: i64) -> Result<bool, CoreError> {
        let r = self.store.identity(identity_id)?;
        Ok(r.host_id.is_some()
            && postern_crypto::PublicKeyInfo::parse(&r.public_key)
                .is_ok_and(|k| postern_crypto::has_holder_key(k.cert())))
    }

    fn stored_attachments(&self, m: &MessageRecord) -> Result<Vec<Stored>, CoreError> {
        let rows = self.store.message_attachments(m.id)?;
        if rows.is_empty() {
            let letter = Letter::parse(m.inner.as_deref().unwrap_or_default())
                .map_err(|e| CoreError::Corrupt(format!("stored message {}: {e}", m.id)))?;
            return Ok(letter
                .attachments
                .into_iter()
                .map(|a| Stored {
                    size: a.data.len(),
                    name: a.name,
                    content_type: a.content_type,
                    content: Content::Inline(a.data),
                })
                .collect());
        }
        Ok(rows
            .into_iter()
            .map(|r| Stored {
                size: usize::try_from(r.size).unwrap_or(0),
                name: r.name,
                content_type: r.content_type,
                content: Content::Blob(r.hash),
            })
            .collect())
    }

    pub(crate) fn attachment_infos(
        &self,
        m: &MessageRecord,
    ) -> Result<Vec<AttachmentInfo>, CoreError> {
        Ok(self
            .stored_attachments(m)?
            .into_iter()
            .map(|a| AttachmentInfo {
                name: a.name,
                content_type: a.content_type,
                size: a.size,
            })
            .collect())
    }

    /// Open a message (and mark it read).
    pub fn read(&mut self, id: i64) -> Result<MessageView, CoreError> {
        let m = self.record(id)?;
        let letter = Letter::parse(m.inner.as_deref().unwrap_or_default())
            .map_err(|e| CoreError::Corrupt(format!("stored message {id}: {e}")))?;
        let attachments = self.attachment_infos(&m)?;
        self.store.mark_read(id)?;
        if !m.flags.seen {
            let flags = postern_store::Flags {
                seen: true,
                ..m.flags
            };
            self.share_flags(&m, m.flags, flags)?;
        }
        let mut summary = self.summary(&m);
        summary.read = true;
        Ok(MessageView {
            summary,
            recipients: letter.to,
            in_reply_to: Some(m.threading.in_reply_to.clone()).filter(|s| !s.is_empty()),
            references: m.threading.references.clone(),
            text: if !letter.for_holder {
                letter.text
            } else if self.has_holder_key(m.identity_id)? {
                crate::HOLDER_ONLY_TEXT.to_owned()
            } else {
                NESTED_ENCRYPTED_TEXT.to_owned()
            },
            attachments,
        })
    }

    /// A message's attachments, with their contents.
    pub fn attachments(&self, id: i64) -> Result<Vec<Attachment>, CoreError> {
        let m = self.record(id)?;
        self.stored_attachments(&m)?
            .into_iter()
            .map(|a| {
                Ok(Attachment {
                    data: match a.content {
                        Content::Blob(hash) => self.store.read_blob(&hash)?,
                        Content::Inline(data) => data,
                    },
                    name: a.name,
                    content_type: a.content_type,
                })
            })
            .collect()
    }

    /// A message as MIME again, attachments put back (what a mail client fetches).
    pub fn message_mime(&self, id: i64) -> Result<Vec<u8>, CoreError> {
        let m = self.record(id)?;
        self.mime_of(&m)
    }

    /// [`Self::message_mime`] of a record already read.
    pub(crate) fn mime_of(&self, m: &MessageRecord) -> Result<Vec<u8>, CoreError> {
        let id = m.id;
        let own: Vec<Vec<u8>> = self
            .store
            .message_attachments(id)?
            .into_iter()
            .map(|r| r.hash)
            .collect();
        let mut failed = None;
        let mime = postern_mime::cargo::put_back(m.inner.as_deref().unwrap_or_default(), |h| {
            // Only this message's own attachments.
            if !own.iter().any(|o| o.as_slice() == h.as_slice()) {
                return None;
            }
            self.store.read_blob(h).map_err(|e| failed = Some(e)).ok()
        });
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(mime),
        }
    }

    /// Save a message's attachments into `dir`, each under its own name made safe: no path, no
    /// leading dot, no control or text-direction characters. A file is never overwritten and no
    /// link is followed: an existing name gets " (1)", " (2)", … before its extension. Files are
    /// the owner's alone (0600). Returns the paths written.
    pub fn save_attachments(&self, id: i64, dir: &Path) -> Result<Vec<PathBuf>, CoreError> {
        let io = |path: &Path, e: std::io::Error| {
            CoreError::Store(StoreError::Io {
                path: path.to_owned(),
                source: e,
            })
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut saved = Vec::new();
        let m = self.record(id)?;
        for a in self.stored_attachments(&m)? {
            let (path, mut file) = create_in(dir, &a.name)?;
            // A stored blob is copied a chunk at a time, never whole in memory.
            match a.content {
                Content::Blob(hash) => {
                    self.store.copy_blob(&hash, &mut file)?;
                }
                Content::Inline(data) => {
                    std::io::Write::write_all(&mut file, &data).map_err(|e| io(&path, e))?
                }
            }
            saved.push(path);
        }
        Ok(saved)
    }
}

/// A new file in `dir` (made if missing) named after an attachment: `name` made safe, and
/// `name (1).ext`, `name (2).ext`… if taken; never an existing file or link.
pub(crate) fn create_in(dir: &Path, name: &str) -> Result<(PathBuf, std::fs::File), CoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |path: &Path, e: std::io::Error| {
        CoreError::Store(StoreError::Io {
            path: path.to_owned(),
            source: e,
        })
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let name = safe_file_name(name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    let mut n = 0;
    loop {
        let candidate = if n == 0 {
            dir.join(&name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        // create_new: O_CREAT|O_EXCL, which also refuses an existing link.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&candidate)
        {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(io(&candidate, e)),
        }
    }
}

/// An attachment's name as a file name: only its last path component, without characters a
/// terminal or file manager would misread, never a dotfile, never empty.
pub fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !postern_types::is_invisible_or_direction(*c))
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim().to_owned();
    let clean = cut_keeping_extension(&clean, MAX_NAME_BYTES);
    if clean.is_empty() {
        "attachment".into()
    } else {
        clean
    }
}

/// Longest file name written, in bytes: file systems take 255, and " (n)" may follow.
const MAX_NAME_BYTES: usize = 200;

/// `name` cut to at most `max` bytes at a character boundary, its extension (up to 16 bytes)
/// kept.
fn cut_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let ext = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() < 16 => &name[stem.len()..],
        _ => "",
    };
    let mut stem = String::new();
    for c in name[..name.len() - ext.len()].chars() {
        if stem.len() + c.len_utf8() + ext.len() > max {
            break;
        }
        stem.push(c);
    }
    stem + ext
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use postern_store::{NewMessage, Threading};

    use super::NESTED_ENCRYPTED_TEXT;
    use crate::{KdfParams, Postern, SystemClock, HOLDER_ONLY_TEXT};

    #[test]
    fn a_long_name_is_cut_to_bytes_a_file_system_takes_and_keeps_its_extension() {
        let long = "é".repeat(300) + ".pdf";
        let name = super::safe_file_name(&long);
        assert!(name.len() <= 200, "{} bytes", name.len());
        assert!(name.ends_with("é.pdf"), "{name}");
        assert_eq!(super::safe_file_name("short.txt"), "short.txt");
        let no_ext = "😀".repeat(100);
        let name = super::safe_file_name(&no_ext);
        assert!(name.len() <= 200 && name.chars().all(|c| c == '😀'));
    }

    /// A message whose decrypted content is another encrypted message, stored for an ordinary
    /// identity: it says so, and does not claim to be for a hosted account's holder.
    #[test]
    fn nested_encryption_is_not_called_a_holders_mail_for_an_ordinary_identity() {
        let tmp = tempfile::tempdir().expect("tmp");
        let kdf = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let mut p =
            Postern::init_with(tmp.path(), b"pw", kdf, Arc::new(SystemClock)).expect("init");
        let me = p.create_identity("me", "Me").expect("me").id;
        let inner = b"From: a@b.onion\r\nSubject: ...\r\nMessage-ID: <n@x>\r\n\
            Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=B\r\n\r\n\
            --B\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\
            --B\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\
            -----END PGP MESSAGE-----\r\n--B--\r\n";
        let id = match p
            .store
            .insert_message(&NewMessage {
                identity_id: me,
                message_id: "n@x".into(),
                sender: "a@b.onion".into(),
                sender_name: String::new(),
                subject: "...".into(),
                folder: "inbox".into(),
                verification: "contact".into(),
                sent_at: None,
                received_at: 1_800_000_000,
                inner: inner.to_vec(),
                raw: Vec::new(),
                sender_key: None,
                sender_binding_sig: None,
                threading: Threading::default(),
                recipients: String::new(),
                seen: false,
            })
            .expect("insert")
        {
            postern_store::Inserted::New(id) | postern_store::Inserted::Duplicate(id) => id,
        };
        let text = p.read(id).expect("read").text;
        assert_eq!(text, NESTED_ENCRYPTED_TEXT);
        assert_ne!(text, HOLDER_ONLY_TEXT);
    }
}
