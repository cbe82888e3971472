//! The IMAP server's side in the core: an identity's mailboxes as a [`Mailstore`], and one
//! thread per connection driving a [`postern_imap::ImapSession`].

use std::collections::HashMap;
use std::io::ErrorKind as IoKind;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postern_imap::{
    Entry, Flags, ImapSession, Limits, LoginRefused, MailboxInfo, Mailstore, Refusal, Step,
};

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
            Step::NeedInput => match stream.read(&mut buf) {
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
