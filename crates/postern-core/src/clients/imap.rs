//! The IMAP server's side in the core: an identity's mailboxes as a [`Mailstore`], and one
//! thread per connection driving a [`postern_imap::ImapSession`].

use std::collections::{HashMap, HashSet};
use std::io::ErrorKind as IoKind;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postern_imap::{
    Entry, Flags, ImapSession, Limits, LoginRefused, MailboxInfo, Mailstore, Refusal, Step,
};

use postern_store::ServedHead;

use super::cache::ServedCache;
use super::letter::read_letter;
use super::logins::LoginGuard;
use super::{ClientStream, Reach};
use crate::mail::{ARCHIVE, DRAFTS, INBOX, REQUESTS, SENT, TRASH};
use crate::{CoreError, DraftInput, FlagChange, Postern};

/// (Postern mailbox, IMAP name, RFC 6154 attribute)
const NAMES: &[(&str, &str, Option<&str>)] = &[
    (INBOX, "INBOX", None),
    (REQUESTS, "Requests", None),
    (DRAFTS, "Drafts", Some("Drafts")),
    (SENT, "Sent", Some("Sent")),
    (ARCHIVE, "Archive", Some("Archive")),
    (TRASH, "Trash", Some("Trash")),
];

fn folder(imap: &str) -> Result<&'static str, Refusal> {
    NAMES
        .iter()
        .find(|n| n.1 == imap)
        .map(|n| n.0)
        .ok_or(Refusal::NoMailbox)
}

fn refusal(e: CoreError) -> Refusal {
    match e {
        CoreError::BadMailbox(why) | CoreError::BadDraft(why) => Refusal::NotAllowed(why),
        CoreError::MessageNotFound(_) | CoreError::DraftNotFound(_) => Refusal::Gone,
        other => {
            tracing::warn!(error = %other, "IMAP: store failed");
            Refusal::Unavailable
        }
    }
}

/// One login's mail.
pub(crate) struct AccountMail {
    pub(crate) postern: Postern,
    identity: Option<i64>,
    guard: Arc<LoginGuard>,
    /// Who may log in here.
    reach: Reach,
    /// Whole messages, and headers.
    served: [Arc<ServedCache>; 2],
    /// (mailbox, UID) → message, as last listed.
    ids: HashMap<(&'static str, u32), i64>,
    /// Mailboxes whose kept served headers were read into the cache by this connection.
    heads_loaded: HashSet<&'static str>,
    /// Served headers built by this connection, to keep at rest (written together when the
    /// client waits: one transaction, not one per message).
    heads_built: HashMap<&'static str, Vec<ServedHead>>,
}

impl AccountMail {
    pub(crate) fn new(
        postern: Postern,
        guard: Arc<LoginGuard>,
        served: [Arc<ServedCache>; 2],
        reach: Reach,
    ) -> Self {
        AccountMail {
            postern,
            identity: None,
            guard,
            reach,
            served,
            ids: HashMap::new(),
            heads_loaded: HashSet::new(),
            heads_built: HashMap::new(),
        }
    }

    /// Read a mailbox's kept served headers into the cache, those still valid (same message
    /// at the same UID as listed).
    fn load_heads(&mut self, me: i64, f: &'static str) {
        if !self.heads_loaded.insert(f) {
            return;
        }
        let Ok(kept) = self.postern.store.served_heads(me, f) else {
            return;
        };
        for h in kept {
            let uid = h.uid as u32;
            if self.ids.get(&(f, uid)) == Some(&h.message_id) {
                let key = (me, h.message_id, f, uid);
                self.served[1].put(key, Arc::new(h.head), h.size);
            }
        }
    }

    /// Write the served headers built since the last call (called when the client waits).
    pub(crate) fn keep_heads(&mut self) {
        let Some(me) = self.identity else { return };
        for (f, heads) in self.heads_built.drain() {
            if let Err(e) = self.postern.store.keep_served_heads(me, f, &heads) {
                tracing::warn!(error = %e, "IMAP: cannot keep served headers");
            }
        }
    }

    fn me(&self) -> Result<i64, Refusal> {
        self.identity.ok_or(Refusal::Unavailable)
    }

    fn id(&mut self, mailbox: &str, uid: u32) -> Result<i64, Refusal> {
        let f = folder(mailbox)?;
        if let Some(id) = self.ids.get(&(f, uid)) {
            return Ok(*id);
        }
        self.entries(mailbox)?;
        self.ids.get(&(f, uid)).copied().ok_or(Refusal::Gone)
    }
}

impl Mailstore for AccountMail {
    fn login(&mut self, user: &str, password: &str) -> Result<(), LoginRefused> {
        if self.guard.locked() {
            return Err(LoginRefused::TooMany);
        }
        match self.postern.check_client_login(user, password, &self.reach) {
            Some(id) => {
                self.guard.succeeded();
                self.identity = Some(id);
                Ok(())
            }
            None => {
                self.guard.failed("imap");
                Err(LoginRefused::Wrong)
            }
        }
    }

    fn mailboxes(&mut self) -> Result<Vec<MailboxInfo>, Refusal> {
        let me = self.me()?;
        let boxes = self
            .postern
            .store
            .mailboxes(me)
            .map_err(|e| refusal(e.into()))?;
        Ok(NAMES
            .iter()
            .filter_map(|(ours, imap, special)| {
                let b = boxes.iter().find(|b| b.name == *ours)?;
                Some(MailboxInfo {
                    name: (*imap).to_owned(),
                    special_use: *special,
                    uidvalidity: b.uidvalidity as u32,
                    uidnext: b.uidnext as u32,
                })
            })
            .collect())
    }

    fn entries(&mut self, mailbox: &str) -> Result<Vec<Entry>, Refusal> {
        let me = self.me()?;
        let f = folder(mailbox)?;
        let listed = self
            .postern
            .store
            .mailbox_listing(me, f)
            .map_err(|e| refusal(e.into()))?;
        self.ids.retain(|k, _| k.0 != f);
        Ok(listed
            .iter()
            .map(|r| {
                self.ids.insert((f, r.uid as u32), r.id);
                Entry {
                    uid: r.uid as u32,
                    flags: Flags {
                        seen: r.flags.seen,
                        answered: r.flags.answered,
                        flagged: r.flags.flagged,
                        deleted: r.flags.deleted,
                        draft: f == DRAFTS,
                    },
                    received_at: r.received_at,
                }
            })
            .collect())
    }

    fn message(&mut self, mailbox: &str, uid: u32) -> Result<Vec<u8>, Refusal> {
        let id = self.id(mailbox, uid)?;
        let key = (self.me()?, id, folder(mailbox)?, uid);
        if let Some((bytes, _)) = self.served[0].get(&key) {
            return Ok(bytes.as_ref().clone());
        }
        let bytes = self.postern.served_message(id).map_err(refusal)?;
        let size = bytes.len() as u32;
        let head = bytes[..postern_imap::header_end(&bytes)].to_vec();
        // Kept at rest too: the next listing, even after a restart, need not build it again.
        self.heads_built.entry(key.2).or_default().push(ServedHead {
            message_id: id,
            uid: uid.into(),
            size,
            head: head.clone(),
        });
        self.served[1].put(key, Arc::new(head), size);
        self.served[0].put(key, Arc::new(bytes.clone()), size);
        Ok(bytes)
    }

    fn header(&mut self, mailbox: &str, uid: u32) -> Result<(Vec<u8>, u32), Refusal> {
        let id = self.id(mailbox, uid)?;
        let key = (self.me()?, id, folder(mailbox)?, uid);
        if let Some((head, size)) = self.served[1].get(&key) {
            return Ok((head.as_ref().clone(), size));
        }
        self.load_heads(key.0, key.2);
        if let Some((head, size)) = self.served[1].get(&key) {
            return Ok((head.as_ref().clone(), size));
        }
        let bytes = self.message(mailbox, uid)?;
        let end = postern_imap::header_end(&bytes);
        Ok((bytes[..end].to_vec(), bytes.len() as u32))
    }

    fn set_flags(&mut self, mailbox: &str, uid: u32, flags: Flags) -> Result<(), Refusal> {
        let id = self.id(mailbox, uid)?;
        let change = FlagChange {
            seen: Some(flags.seen),
            flagged: Some(flags.flagged),
            answered: Some(flags.answered),
            deleted: Some(flags.deleted),
        };
        self.postern
            .set_flags(id, change)
            .map(|_| ())
            .map_err(refusal)
    }

    fn move_message(&mut self, mailbox: &str, uid: u32, to: &str) -> Result<u32, Refusal> {
        let id = self.id(mailbox, uid)?;
        let target = folder(to)?;
        self.postern.move_message(id, target).map_err(refusal)?;
        let r = self.postern.record(id).map_err(refusal)?;
        Ok(r.uid as u32)
    }

    fn expunge(&mut self, mailbox: &str, only: Option<&[u32]>) -> Result<Vec<u32>, Refusal> {
        let me = self.me()?;
        let f = folder(mailbox)?;
        match only {
            None => Ok(self
                .postern
                .store
                .expunge(me, f)
                .map_err(|e| refusal(e.into()))?
                .into_iter()
                .map(|u| u as u32)
                .collect()),
            Some(uids) => {
                let entries = self.entries(mailbox)?;
                let mut gone = Vec::new();
                for e in entries
                    .iter()
                    .filter(|e| e.flags.deleted && uids.contains(&e.uid))
                {
                    let id = self.id(mailbox, e.uid)?;
                    self.postern.delete_message(id).map_err(refusal)?;
                    gone.push(e.uid);
                }
                Ok(gone)
            }
        }
    }

    fn append(&mut self, mailbox: &str, message: &[u8], flags: Flags) -> Result<u32, Refusal> {
        let me = self.me()?;
        let f = folder(mailbox)?;
        let letter = read_letter(message).map_err(refusal)?;
        if f == SENT {
            // A client keeping a copy of what it just submitted: Postern filed it already.
            let known = letter.message_id.as_deref().and_then(|mid| {
                self.postern
                    .store
                    .message_by_message_id(me, mid)
                    .ok()
                    .flatten()
            });
            return match known {
                Some(id) => {
                    let r = self.postern.record(id).map_err(refusal)?;
                    Ok(r.uid as u32)
                }
                None => Err(Refusal::NotAllowed(
                    "Postern files what you send in Sent itself; send it through submission".into(),
                )),
            };
        }
        if f != DRAFTS {
            return Err(Refusal::NotAllowed(
                "messages can be added only to Drafts (mail arrives through Postern)".into(),
            ));
        }
        let draft = self
            .postern
            .save_draft(
                &DraftInput {
                    id: None,
                    identity: me.to_string(),
                    to: letter.to.join(", "),
                    subject: letter.subject,
                    text: letter.text,
                    in_reply_to: letter.in_reply_to,
                    references: letter.references,
                    ..Default::default()
                },
                &letter.attachments,
            )
            .map_err(refusal)?;
        if flags.seen || flags.flagged {
            let _ = self.postern.set_flags(
                draft.id,
                FlagChange {
                    seen: Some(flags.seen),
                    flagged: Some(flags.flagged),
                    ..Default::default()
                },
            );
        }
        let r = self.postern.record(draft.id).map_err(refusal)?;
        Ok(r.uid as u32)
    }

    fn version(&mut self) -> Option<i64> {
        // Every change to the store is an event (the app's live view rests on the same log).
        self.postern.last_event().ok()
    }

    fn search_text(&mut self, mailbox: &str, text: &str) -> Result<Vec<u32>, Refusal> {
        let me = self.me()?;
        let f = folder(mailbox)?;
        let hits = self
            .postern
            .search(Some(&me.to_string()), text, crate::mail::MAX_RESULTS)
            .map_err(refusal)?;
        Ok(hits
            .into_iter()
            .filter(|h| h.message.folder == f)
            .map(|h| h.message.uid as u32)
            .collect())
    }
}

/// How long a connection may say nothing (RFC 3501: at least 30 minutes).
pub(crate) const IMAP_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How often an idling client's mailbox is looked at (new mail reaches it within this).
const IDLE_CHECK: Duration = Duration::from_millis(200);

/// Serve one IMAP connection until it ends.
pub(crate) fn serve_connection(mut stream: impl ClientStream, mail: AccountMail, limits: Limits) {
    if stream.set_read_timeout(Some(IDLE_CHECK)).is_err() {
        return;
    }
    let mut last_event = mail.postern.last_event().unwrap_or(0);
    let mut session = ImapSession::new(mail, limits);
    let mut heard = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    // Responses go out together when the session waits for input (one write for a FETCH of
    // a whole mailbox, not one per message), or once this much is waiting.
    let mut out = Vec::with_capacity(64 * 1024);
    loop {
        let step = session.step();
        if !matches!(step, Step::Write(_)) || out.len() >= 256 * 1024 {
            if !out.is_empty() && stream.write_all(&out).is_err() {
                return;
            }
            out.clear();
        }
        match step {
            Step::Write(bytes) => out.extend_from_slice(&bytes),
            Step::Close => return,
            Step::NeedInput => match keep_then_read(&mut session, &mut stream, &mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    heard = Instant::now();
                    session.feed(&buf[..n]);
                }
                Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {
                    if session.idling() {
                        let now = session.store().postern.last_event().unwrap_or(last_event);
                        if now != last_event {
                            last_event = now;
                            session.changed();
                        }
                    }
                    if heard.elapsed() > IMAP_IDLE_TIMEOUT {
                        session.bye("idle for too long; closing");
                    }
                }
                Err(_) => return,
            },
        }
    }
}

/// Keep the headers the last command built, then wait for the client.
fn keep_then_read(
    session: &mut ImapSession<AccountMail>,
    stream: &mut impl ClientStream,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    session.store_mut().keep_heads();
    stream.read(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KdfParams, SystemClock};

    fn login(p: &Postern, password: &str) -> AccountMail {
        let budget = 1 << 20;
        let mut a = AccountMail::new(
            p.another_handle().expect("handle"),
            Arc::default(),
            [
                Arc::new(ServedCache::new(budget)),
                Arc::new(ServedCache::new(budget)),
            ],
            Reach::Local,
        );
        let user = p.client_login("me").expect("login").user;
        a.login(&user, password).expect("logged in");
        a
    }

    #[test]
    fn served_headers_are_kept_and_used_only_for_the_uid_they_were_built_for() {
        let tmp = tempfile::tempdir().expect("tmp");
        let kdf = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let mut p =
            Postern::init_with(tmp.path(), b"pw", kdf, Arc::new(SystemClock)).expect("init");
        let me = p.create_identity("me", "Me").expect("identity").id;
        let password = p
            .rotate_client_password("me")
            .expect("password")
            .password
            .expect("shown");
        let mut a = login(&p, &password);
        let letter = b"From: <me@x.onion>\r\nSubject: kept\r\n\r\nbody\r\n";
        let uid = a
            .append("Drafts", letter, Flags::default())
            .expect("append");
        a.entries("Drafts").expect("list");
        let (head, size) = a.header("Drafts", uid).expect("header");
        assert!(String::from_utf8_lossy(&head).contains("Subject: kept"));
        a.keep_heads();
        let kept = p.store.served_heads(me, DRAFTS).expect("kept");
        assert_eq!(kept.len(), 1);
        assert_eq!(
            (kept[0].head.as_slice(), kept[0].size),
            (head.as_slice(), size)
        );

        // A new connection (an empty cache, as after a restart) is given the kept header: a
        // marker put in its place shows it is not rebuilt.
        let marker = |uid: u32| ServedHead {
            message_id: kept[0].message_id,
            uid: uid.into(),
            size: 7,
            head: b"X-Kept: yes\r\n\r\n".to_vec(),
        };
        p.store
            .keep_served_heads(me, DRAFTS, &[marker(uid)])
            .expect("marker");
        let mut b = login(&p, &password);
        b.entries("Drafts").expect("list");
        assert_eq!(
            b.header("Drafts", uid).expect("header"),
            (b"X-Kept: yes\r\n\r\n".to_vec(), 7)
        );
        // Kept for another UID (the message changed or moved since): built again.
        p.store
            .keep_served_heads(me, DRAFTS, &[marker(uid + 1)])
            .expect("marker");
        let mut c = login(&p, &password);
        c.entries("Drafts").expect("list");
        assert_eq!(c.header("Drafts", uid).expect("header"), (head, size));
    }
}
