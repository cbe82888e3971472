//! Writing: drafts saved as they are typed (in the Drafts mailbox, inside the encrypted
//! store), replies and forwards prepared by the core (quoting, subject, References), the
//! check before writing from an identity to someone it never wrote to, and sending a draft —
//! queued in the outbox and filed in Sent in one transaction.

use postern_mime::{cargo, random_message_id, unsealed_letter, Attachment, Letter, Unsealed};
use postern_store::{DraftContent, MessageRecord, NewMessage, Threading};
use postern_types::MailAddress;
use serde::{Deserialize, Serialize};

use super::api::{AttachmentInfo, OutboxView, MAX_SEND_BYTES};
use super::draft::QueuedDraft;
use super::{gateway_draft, DRAFTS, SENT};
use crate::{CoreError, Postern};

/// A draft, as the Write screen edits it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DraftView {
    /// Its number (a message in Drafts).
    pub id: i64,
    /// The writing identity's address.
    pub identity: String,
    /// To, as typed.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Text.
    pub text: String,
    /// The Message-ID it answers.
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first.
    pub references: Vec<String>,
    /// Attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// When it was last saved.
    pub saved_at: i64,
    /// For an ordinary address (name@domain): the gateway contact it goes through.
    pub via_gateway: Option<String>,
    /// The fingerprint of the recipient's OpenPGP key the gateway is to encrypt to, if given.
    pub recipient_key: Option<String>,
}

/// What the Write screen saves.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DraftInput {
    /// The draft to replace; absent for a new one.
    #[serde(default)]
    pub id: Option<i64>,
    /// The writing identity (address, name or number).
    pub identity: String,
    /// To, as typed.
    #[serde(default)]
    pub to: String,
    /// Subject.
    #[serde(default)]
    pub subject: String,
    /// Text.
    #[serde(default)]
    pub text: String,
    /// The Message-ID it answers (kept from the stored draft when absent).
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs (kept from the stored draft when empty).
    #[serde(default)]
    pub references: Vec<String>,
    /// For an ordinary address: the gateway contact to send through (kept from the stored
    /// draft when absent).
    #[serde(default)]
    pub via_gateway: Option<String>,
    /// For an ordinary address: the recipient's OpenPGP public key, armored, for the gateway to
    /// encrypt to (kept from the stored draft when absent).
    #[serde(default)]
    pub to_key: Option<String>,
}

/// Whether writing from an identity to an address needs a second look.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecipientCheck {
    /// The recipient, as understood.
    pub address: String,
    /// A contact of the writing identity.
    pub is_contact: bool,
    /// The writing identity has written to it before.
    pub written_before: bool,
    /// Ask before sending.
    pub confirm: bool,
    /// Our other identities that know this address (the person may have meant one of them).
    pub known_to: Vec<String>,
    /// What to ask, or '' when nothing needs asking.
    pub sentence: String,
}

fn threading_headers(in_reply_to: &str, references: &[String]) -> Vec<(String, String)> {
    let mut h = Vec::new();
    if !in_reply_to.is_empty() {
        h.push(("In-Reply-To".to_owned(), format!("<{in_reply_to}>")));
    }
    if !references.is_empty() {
        let refs: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
        h.push(("References".to_owned(), refs.join(" ")));
    }
    h
}

/// A Message-ID as a header may carry it: printable, no brackets or spaces.
fn clean_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    (!id.is_empty()
        && id.len() <= 250
        && id
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) && b != b'<' && b != b'>'))
    .then(|| id.to_owned())
}

fn name_or<'a>(name: &'a str, local_part: &'a str) -> &'a str {
    if name.is_empty() {
        local_part
    } else {
        name
    }
}

fn prefixed(prefix: &str, subject: &str) -> String {
    let s = subject.trim();
    if s.to_ascii_lowercase()
        .starts_with(&prefix.to_ascii_lowercase())
    {
        s.to_owned()
    } else {
        format!("{prefix} {s}")
    }
}

fn quoted(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                ">".to_owned()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Postern {
    pub(crate) fn address_of(&self, identity_id: i64) -> String {
        self.store
            .identity(identity_id)
            .map(|r| format!("{}@{}", r.local_part, r.onion))
            .unwrap_or_default()
    }

    fn draft_record(&self, id: i64) -> Result<MessageRecord, CoreError> {
        match self.record(id) {
            Ok(m) if m.folder == DRAFTS => Ok(m),
            Ok(_) | Err(CoreError::MessageNotFound(_)) => Err(CoreError::DraftNotFound(id)),
            Err(e) => Err(e),
        }
    }

    fn check_subject(subject: &str) -> Result<(), CoreError> {
        if subject.chars().any(char::is_control) {
            return Err(CoreError::BadDraft(
                "the subject must be one line without control characters".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn check_size(text: &str, attachments: &[Attachment]) -> Result<(), CoreError> {
        let size = text.len() + attachments.iter().map(|a| a.data.len()).sum::<usize>();
        if size > MAX_SEND_BYTES {
            return Err(CoreError::BadDraft(format!(
                "the message is {size} bytes; the limit is {MAX_SEND_BYTES}"
            )));
        }
        Ok(())
    }

    /// Save what is being written (a new draft, or over an existing one), with `add` attached
    /// to what it already had.
    pub fn save_draft(
        &mut self,
        d: &DraftInput,
        add: &[Attachment],
    ) -> Result<DraftView, CoreError> {
        let key = d
            .to_key
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .map(|k| gateway_draft::parse_key(d.to.trim(), k.as_bytes()))
            .transpose()?;
        self.save_draft_keyed(d, add, key)
    }

    /// [`Self::save_draft`] with the recipient's key already read.
    pub(crate) fn save_draft_keyed(
        &mut self,
        d: &DraftInput,
        add: &[Attachment],
        key: Option<postern_mime::OutsiderKey>,
    ) -> Result<DraftView, CoreError> {
        let me = self.find_identity(&d.identity)?;
        Self::check_subject(&d.subject)?;
        let old = d.id.map(|id| self.draft_record(id)).transpose()?;
        if let Some(old) = &old {
            if old.identity_id != me.id {
                return Err(CoreError::BadDraft(
                    "a draft stays with the identity that began it".into(),
                ));
            }
        }
        let mut attachments = match &old {
            Some(o) => self.attachments(o.id)?,
            None => Vec::new(),
        };
        attachments.extend_from_slice(add);
        Self::check_size(&d.text, &attachments)?;
        let threading = Threading {
            in_reply_to: d
                .in_reply_to
                .as_deref()
                .and_then(clean_id)
                .or_else(|| old.as_ref().map(|o| o.threading.in_reply_to.clone()))
                .unwrap_or_default(),
            references: if d.references.is_empty() {
                old.as_ref()
                    .map(|o| o.threading.references.clone())
                    .unwrap_or_default()
            } else {
                d.references.iter().filter_map(|r| clean_id(r)).collect()
            },
            thread: String::new(),
        };
        let from: MailAddress = format!("{}@{}", me.local_part, me.onion).parse()?;
        let to: Option<MailAddress> = d.to.trim().parse().ok();
        let message_id = match &old {
            Some(o) => o.message_id.clone(),
            None => random_message_id(&mut rand::rngs::OsRng),
        };
        let now = self.clock.now_unix();
        let mut headers = threading_headers(&threading.in_reply_to, &threading.references);
        let route = gateway_draft::Route::for_draft(self, &me, d, old.as_ref(), key)?;
        headers.extend(route.header());
        let letter = unsealed_letter(
            &Unsealed {
                from: &from,
                from_name: &me.display_name,
                to: to.as_ref(),
                subject: &d.subject,
                text: &d.text,
                attachments: &attachments,
                headers: &headers,
            },
            now,
            &message_id,
            &mut rand::rngs::OsRng,
        )
        .map_err(|e| CoreError::BadDraft(e.to_string()))?;
        let (inner, cargo) = cargo::take_out(&letter).unwrap_or((letter, Vec::new()));
        let recipients = d.to.trim().to_owned();
        let new = NewMessage {
            identity_id: me.id,
            message_id,
            sender: from.to_string(),
            sender_name: me.display_name.clone(),
            subject: d.subject.clone(),
            folder: DRAFTS.into(),
            verification: "own".into(),
            sent_at: None,
            received_at: now,
            inner,
            raw: Vec::new(),
            sender_key: None,
            sender_binding_sig: None,
            threading,
            recipients,
            seen: true,
        };
        let id = self.store.in_transaction(|s| -> Result<i64, CoreError> {
            let id = match &old {
                Some(o) => {
                    s.replace_draft(
                        o.id,
                        &DraftContent {
                            subject: &new.subject,
                            recipients: &new.recipients,
                            inner: &new.inner,
                            threading: &new.threading,
                            saved_at: now,
                        },
                    )?;
                    s.clear_message_attachments(o.id)?;
                    o.id
                }
                None => match s.insert_message(&new)? {
                    postern_store::Inserted::New(id) | postern_store::Inserted::Duplicate(id) => id,
                },
            };
            for (position, c) in cargo.iter().enumerate() {
                let hash = s.put_blob(&c.data)?;
                s.add_message_attachment(id, position as i64, &c.name, &c.content_type, &hash)?;
            }
            Ok(id)
        })?;
        self.store.collect_garbage()?;
        self.draft(id)
    }

    /// A draft, to go on writing it.
    pub fn draft(&self, id: i64) -> Result<DraftView, CoreError> {
        let m = self.draft_record(id)?;
        let letter = Letter::parse(m.inner.as_deref().unwrap_or_default())
            .map_err(|e| CoreError::Corrupt(format!("draft {id}: {e}")))?;
        let route = gateway_draft::Route::of(&letter);
        Ok(DraftView {
            id,
            identity: self.address_of(m.identity_id),
            to: m.recipients.clone(),
            subject: m.subject.clone(),
            text: letter.text,
            in_reply_to: Some(m.threading.in_reply_to.clone()).filter(|s| !s.is_empty()),
            references: m.threading.references.clone(),
            attachments: self.attachment_infos(&m)?,
            saved_at: m.received_at,
            recipient_key: route.key_fingerprint(),
            via_gateway: route.via,
        })
    }

    /// Throw a draft away.
    pub fn discard_draft(&mut self, id: i64) -> Result<(), CoreError> {
        self.draft_record(id)?;
        self.delete_message(id)
    }

    /// A reply to a message, as a new draft: to its sender (or, for our own mail, to whom we
    /// wrote), "Re:" once, the text quoted, and the thread's References.
    pub fn reply(&mut self, id: i64, all: bool) -> Result<DraftView, CoreError> {
        let m = self.record(id)?;
        let me = self.address_of(m.identity_id);
        let letter = Letter::parse(m.inner.as_deref().unwrap_or_default())
            .map_err(|e| CoreError::Corrupt(format!("stored message {id}: {e}")))?;
        let mut to: Vec<String> = if m.sender == me {
            m.recipients
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect()
        } else {
            vec![m.sender.clone()]
        };
        if all {
            for a in &letter.to {
                if *a != me && !to.contains(a) {
                    to.push(a.clone());
                }
            }
        }
        let mut references = m.threading.references.clone();
        if references.is_empty() && !m.threading.in_reply_to.is_empty() {
            references.push(m.threading.in_reply_to.clone());
        }
        references.push(m.message_id.clone());
        let who = if m.sender_name.is_empty() {
            m.sender.clone()
        } else {
            m.sender_name.clone()
        };
        let when = postern_types::utc_minute(m.sent_at.unwrap_or(m.received_at));
        let text = format!(
            "\n\nOn {when} UTC, {who} wrote:\n{}\n",
            quoted(&letter.text)
        );
        // A reply to an ordinary address goes back through a gateway: the one that brought
        // the message, or the one our own message went through.
        let via_gateway = if m.verification == crate::gateway::VERIFIED_BY_GATEWAY {
            Some(letter.from.clone())
        } else {
            gateway_draft::Route::of(&letter).via
        }
        .filter(|_| {
            to.iter()
                .all(|a| crate::gateway::ordinary_address(a).is_some())
        });
        self.save_draft(
            &DraftInput {
                id: None,
                identity: me,
                to: to.join(", "),
                subject: prefixed("Re:", &m.subject),
                text,
                in_reply_to: Some(m.message_id.clone()),
                references,
                via_gateway,
                to_key: None,
            },
            &[],
        )
    }

    /// A message forwarded, as a new draft with its text and attachments (a new thread).
    pub fn forward(&mut self, id: i64) -> Result<DraftView, CoreError> {
        let m = self.record(id)?;
        let letter = Letter::parse(m.inner.as_deref().unwrap_or_default())
            .map_err(|e| CoreError::Corrupt(format!("stored message {id}: {e}")))?;
        let attachments = self.attachments(id)?;
        let from = if m.sender_name.is_empty() {
            m.sender.clone()
        } else {
            format!("{} <{}>", m.sender_name, m.sender)
        };
        let text = format!(
            "\n\n---------- Forwarded message ----------\nFrom: {from}\nDate: {} UTC\n\
             Subject: {}\n\n{}\n",
            postern_types::utc_minute(m.sent_at.unwrap_or(m.received_at)),
            m.subject,
            letter.text
        );
        self.save_draft(
            &DraftInput {
                id: None,
                identity: self.address_of(m.identity_id),
                to: String::new(),
                subject: prefixed("Fwd:", &m.subject),
                text,
                in_reply_to: None,
                references: Vec::new(),
                ..Default::default()
            },
            &attachments,
        )
    }

    /// Whether to ask before an identity writes to `to`: it is not the identity's contact and
    /// the identity never wrote to it. Writing from the wrong one of one's unlinkable
    /// identities is the mistake the app must not let happen quietly.
    pub fn check_recipient(&self, identity: &str, to: &str) -> Result<RecipientCheck, CoreError> {
        let me = self.find_identity(identity)?;
        let address: MailAddress = to.trim().parse()?;
        let address = address.to_string();
        let is_contact = self.store.contact(me.id, &address).is_ok();
        let written_before = self.store.has_written_to(me.id, &address)?;
        let mut known_to = Vec::new();
        let mut known_as = Vec::new();
        let mut their_name = String::new();
        for other in self.store.identities()? {
            if other.id == me.id {
                continue;
            }
            if let Ok(c) = self.store.contact(other.id, &address) {
                known_to.push(format!("{}@{}", other.local_part, other.onion));
                known_as.push(format!(
                    "\u{201c}{}\u{201d}",
                    name_or(&other.display_name, &other.local_part)
                ));
                if their_name.is_empty() {
                    their_name = c.display_name.clone();
                }
            }
        }
        let confirm = !is_contact && !written_before;
        let mine = format!(
            "\u{201c}{}\u{201d}",
            name_or(&me.display_name, &me.local_part)
        );
        let them = if their_name.is_empty() {
            address.clone()
        } else {
            format!("{their_name} ({address})")
        };
        let sentence = if !confirm {
            String::new()
        } else if known_to.is_empty() {
            format!(
                "Your identity {mine} has never written to {them}, who is not one of its \
                 contacts. They will learn this identity's address. Send from {mine}?"
            )
        } else {
            format!(
                "{them} is a contact of your identity {} — not of {mine}, which has never \
                 written to them. They will learn {mine}'s address. Send from {mine}?",
                known_as.join(" and ")
            )
        };
        Ok(RecipientCheck {
            address,
            is_contact,
            written_before,
            confirm,
            known_to,
            sentence,
        })
    }

    pub(crate) fn check_sendable(
        &self,
        me: &postern_store::IdentityRecord,
        to: &str,
        subject: &str,
    ) -> Result<MailAddress, CoreError> {
        if to.contains(',') {
            return Err(CoreError::BadDraft(
                "a message goes to one recipient; write to the others separately".into(),
            ));
        }
        let to: MailAddress = to.trim().parse()?;
        if to.to_string() == format!("{}@{}", me.local_part, me.onion) {
            return Err(CoreError::BadDraft(
                "an identity cannot send to itself".into(),
            ));
        }
        Self::check_subject(subject)?;
        self.refuse_own_revoked(me)?;
        self.refuse_revoked(me, &to.to_string())?;
        Ok(to)
    }

    /// Send a draft: queued for delivery and filed in Sent (readable later) in one
    /// transaction; the message it answers is marked answered.
    pub fn send_draft(&mut self, id: i64) -> Result<OutboxView, CoreError> {
        let m = self.draft_record(id)?;
        let me = self
            .store
            .identity(m.identity_id)
            .map_err(|_| CoreError::DraftNotFound(id))?;
        let letter = Letter::parse(m.inner.as_deref().unwrap_or_default())
            .map_err(|e| CoreError::Corrupt(format!("draft {id}: {e}")))?;
        let t = &m.threading;
        let mut headers = threading_headers(&t.in_reply_to, &t.references);
        // To an ordinary address: queued to the gateway it goes through, filed in Sent as to
        // the address. To a Postern address: queued and filed as to it.
        let (deliver_to, to, gateway) = match crate::gateway::ordinary_address(&m.recipients) {
            Some(to) => {
                Self::check_subject(&m.subject)?;
                let (gateway, handover) = gateway_draft::Route::of(&letter).out(self, &me, &to)?;
                headers.extend(handover);
                (gateway.clone(), to, Some(gateway))
            }
            None => {
                let to = self
                    .check_sendable(&me, &m.recipients, &m.subject)?
                    .to_string();
                (to.clone(), to, None)
            }
        };
        let attachments = self.attachments(id)?;
        Self::check_size(&letter.text, &attachments)?;
        let queued = QueuedDraft::new(&m.subject, &letter.text, &attachments).with_headers(headers);
        let now = self.clock.now_unix();
        let names: Vec<&str> = attachments.iter().map(|a| a.name.as_str()).collect();
        let row = self.store.in_transaction(|s| -> Result<_, CoreError> {
            let row = s.enqueue(me.id, &deliver_to, &m.message_id, &queued.to_bytes(), now)?;
            let thread = s.thread_for(me.id, &t.in_reply_to, &t.references, &m.message_id)?;
            s.file_as_sent(id, &m.message_id, &to, &thread, now)?;
            if let Some(gateway) = &gateway {
                s.note_gateway_choice(me.id, gateway, now)?;
            }
            if !t.in_reply_to.is_empty() {
                if let Some(parent) = s.message_by_message_id(me.id, &t.in_reply_to)? {
                    let before = s.message(parent)?;
                    let flags = postern_store::Flags {
                        answered: true,
                        ..before.flags
                    };
                    s.set_flags(parent, flags)?;
                    crate::own_devices::share_flags_in(s, &before, before.flags, flags, now)?;
                }
            }
            s.index_message(
                id,
                me.id,
                &postern_store::SearchText {
                    subject: &m.subject,
                    body: &letter.text,
                    sender_name: &me.display_name,
                    sender: &to,
                    attachment_names: &names.join(" "),
                },
            )?;
            Ok(row)
        })?;
        debug_assert_eq!(SENT, "sent");
        self.outgoing(row.id)
    }

    /// Write and send in one step (the CLI's `send`): checked first, then kept as a draft
    /// only for as long as it takes to file it in Sent.
    pub fn send(
        &mut self,
        identity: &str,
        to: &str,
        subject: &str,
        text: &str,
        attachments: &[Attachment],
    ) -> Result<OutboxView, CoreError> {
        let me = self.find_identity(identity)?;
        self.check_sendable(&me, to, subject)?;
        Self::check_size(text, attachments)?;
        let draft = self.save_draft(
            &DraftInput {
                id: None,
                identity: me.id.to_string(),
                to: to.trim().to_owned(),
                subject: subject.to_owned(),
                text: text.to_owned(),
                in_reply_to: None,
                references: Vec::new(),
                ..Default::default()
            },
            attachments,
        )?;
        self.send_draft(draft.id)
    }
}
