//! The mail API a person uses: send, inbox, read, outbox, contact requests.

use postern_crypto::{Binding, PublicKeyInfo};
use postern_mime::{random_message_id, Letter};
use postern_store::{MessageRecord, NewContact, OutboxRecord, StoreError};
use serde::Serialize;

use super::draft::QueuedDraft;
use super::{INBOX, REQUESTS};
use crate::{CoreError, Postern};

/// Largest message (text and attachments) accepted for sending.
pub const MAX_SEND_BYTES: usize = 20 * 1024 * 1024;

/// A message in a list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MessageSummary {
    /// Local number (for `read`).
    pub id: i64,
    /// The receiving identity's address.
    pub identity: String,
    /// Sender address.
    pub from: String,
    /// Sender display name.
    pub from_name: String,
    /// Subject.
    pub subject: String,
    /// Its mailbox: `inbox`, `requests`, `drafts`, `sent`, `archive` or `trash`.
    pub folder: String,
    /// Its UID in that mailbox (IMAP's).
    pub uid: i64,
    /// Our own mail (Sent, Drafts): to whom.
    pub to: String,
    /// How the sender was verified: `contact` (the key in the address book) or `first_contact`
    /// (the key the message carried, bound to the sender's onion address).
    pub verification: String,
    /// The sender's Date.
    pub sent_at: Option<i64>,
    /// When it arrived.
    pub received_at: i64,
    /// Whether it has been read.
    pub read: bool,
    /// Starred.
    pub flagged: bool,
    /// Answered.
    pub answered: bool,
    /// The conversation it is in (the Message-ID of its first message).
    pub thread: String,
    /// Its Message-ID.
    pub message_id: String,
}

/// An attachment's description.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttachmentInfo {
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: usize,
}

/// A message, opened.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MessageView {
    /// The list fields.
    #[serde(flatten)]
    pub summary: MessageSummary,
    /// Recipients (the letter's To).
    pub recipients: Vec<String>,
    /// The Message-ID it answers.
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first.
    pub references: Vec<String>,
    /// Plain-text body.
    pub text: String,
    /// Attachments.
    pub attachments: Vec<AttachmentInfo>,
}

/// A message in the outbox.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxView {
    /// Local number.
    pub id: i64,
    /// Sending identity.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// `queued`, `sending`, `carried` (held by carriers for an offline recipient), `delivered`
    /// or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Next attempt (Unix seconds), while queued.
    pub next_attempt: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: i64,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
    /// The carrier that delivered it (`None`: delivered directly, or not yet).
    pub delivered_via: Option<String>,
    /// Its state as a sentence, the same in the CLI and the app.
    pub status: String,
}

fn at(t: Option<i64>) -> String {
    t.map(|t| format!("{} UTC", postern_types::utc_minute(t)))
        .unwrap_or_default()
}

/// An outbox row's state as a sentence.
fn delivery_sentence(r: &OutboxRecord) -> String {
    match (r.state.as_str(), &r.last_error) {
        ("delivered", _) => match &r.delivered_via {
            Some(c) => format!("delivered via carrier {c} {}", at(r.delivered_at)),
            None => format!("delivered {}", at(r.delivered_at)),
        },
        ("carried", Some(note)) => {
            format!("held by carriers until the recipient is online: {note}")
        }
        ("carried", None) => "held by carriers until the recipient is online".into(),
        ("failed", Some(e)) => format!("failed: {e}"),
        ("queued", Some(e)) if r.attempts > 0 => format!(
            "queued, retry {} (attempt {} failed: {e})",
            at(Some(r.next_attempt)),
            r.attempts
        ),
        ("queued", _) => "queued".into(),
        (s, _) => s.to_owned(),
    }
}

impl Postern {
    pub(crate) fn summary(&self, m: &MessageRecord) -> MessageSummary {
        MessageSummary {
            id: m.id,
            identity: self.address_of(m.identity_id),
            from: m.sender.clone(),
            from_name: m.sender_name.clone(),
            subject: m.subject.clone(),
            folder: m.folder.clone(),
            verification: m.verification.clone(),
            sent_at: m.sent_at,
            received_at: m.received_at,
            read: m.read,
            uid: m.uid,
            to: m.recipients.clone(),
            flagged: m.flags.flagged,
            answered: m.flags.answered,
            thread: m.threading.thread.clone(),
            message_id: m.message_id.clone(),
        }
    }

    fn outbox_view(&self, r: &OutboxRecord) -> OutboxView {
        let subject = self
            .store
            .outgoing_draft(r.id)
            .ok()
            .and_then(|d| QueuedDraft::from_bytes(&d).ok())
            .map(|d| d.subject)
            .unwrap_or_default();
        OutboxView {
            id: r.id,
            from: self.address_of(r.identity_id),
            to: r.recipient.clone(),
            subject,
            state: r.state.clone(),
            attempts: r.attempts,
            next_attempt: (r.state == "queued").then_some(r.next_attempt),
            last_error: r.last_error.clone(),
            created_at: r.created_at,
            delivered_at: r.delivered_at,
            delivered_via: r.delivered_via.clone(),
            status: delivery_sentence(r),
        }
    }

    /// Put a draft in the outbox (mail, or a handshake, introduction or revocation).
    pub(crate) fn queue(
        &mut self,
        identity_id: i64,
        to: &str,
        draft: QueuedDraft,
    ) -> Result<OutboxView, CoreError> {
        let message_id = random_message_id(&mut rand::rngs::OsRng);
        let row = self.store.enqueue(
            identity_id,
            to,
            &message_id,
            &draft.to_bytes(),
            self.clock.now_unix(),
        )?;
        Ok(self.outbox_view(&row))
    }

    /// The outbox (all identities, or one).
    pub fn outbox(&self, identity: Option<&str>) -> Result<Vec<OutboxView>, CoreError> {
        let id = identity
            .map(|i| self.find_identity(i))
            .transpose()?
            .map(|r| r.id);
        Ok(self
            .store
            .outbox(id)?
            .iter()
            .map(|r| self.outbox_view(r))
            .collect())
    }

    /// One outbox entry.
    pub fn outgoing(&self, id: i64) -> Result<OutboxView, CoreError> {
        match self.store.outgoing(id) {
            Ok(r) => Ok(self.outbox_view(&r)),
            Err(StoreError::NotFound(_)) => Err(CoreError::MessageNotFound(id)),
            Err(e) => Err(e.into()),
        }
    }

    /// Mail from contacts (all identities, or one), newest first.
    pub fn inbox(&self, identity: Option<&str>) -> Result<Vec<MessageSummary>, CoreError> {
        self.folder(identity, INBOX)
    }

    /// Mail from senders who are not contacts: contact requests.
    pub fn requests(&self, identity: Option<&str>) -> Result<Vec<MessageSummary>, CoreError> {
        self.folder(identity, REQUESTS)
    }

    fn folder(
        &self,
        identity: Option<&str>,
        folder: &str,
    ) -> Result<Vec<MessageSummary>, CoreError> {
        let id = identity
            .map(|i| self.find_identity(i))
            .transpose()?
            .map(|r| r.id);
        Ok(self
            .store
            .messages(id, folder)?
            .iter()
            .map(|m| self.summary(m))
            .collect())
    }

    pub(crate) fn record(&self, id: i64) -> Result<MessageRecord, CoreError> {
        match self.store.message(id) {
            Ok(m) => Ok(m),
            Err(StoreError::NotFound(_)) => Err(CoreError::MessageNotFound(id)),
            Err(e) => Err(e.into()),
        }
    }

    /// Decline a contact request: every message its sender has waiting as a request for that
    /// identity is deleted (the sender is not told). Returns how many.
    pub fn decline_request(&mut self, id: i64) -> Result<usize, CoreError> {
        let m = self.record(id)?;
        if m.folder != REQUESTS {
            return Err(CoreError::NotARequest(id));
        }
        Ok(self
            .store
            .delete_messages_from(m.identity_id, &m.sender, REQUESTS)?)
    }

    /// Delete one message.
    pub fn delete_message(&mut self, id: i64) -> Result<(), CoreError> {
        match self.store.delete_message(id) {
            Err(StoreError::NotFound(_)) => Err(CoreError::MessageNotFound(id)),
            other => Ok(other?),
        }
    }

    /// Accept a contact request: the sender becomes a contact (with the key and binding its
    /// message carried, checked again) and its messages move to the inbox.
    pub fn accept_request(&mut self, id: i64) -> Result<crate::ContactView, CoreError> {
        let m = self.record(id)?;
        if m.folder != REQUESTS {
            return Err(CoreError::NotARequest(id));
        }
        let (Some(key), Some(sig)) = (&m.sender_key, &m.sender_binding_sig) else {
            return Err(CoreError::Corrupt(format!(
                "request {id} lacks the sender's key"
            )));
        };
        let letter = Letter::parse(m.inner.as_deref().unwrap_or_default())
            .map_err(|e| CoreError::Corrupt(format!("stored message {id}: {e}")))?;
        let name = letter
            .sender_binding
            .map(|b| b.display_name)
            .unwrap_or_default();
        let sig: [u8; 64] = sig
            .as_slice()
            .try_into()
            .map_err(|_| CoreError::Corrupt(format!("request {id}: bad signature length")))?;
        let info = PublicKeyInfo::parse(key)?;
        let binding = Binding::from_parts(m.sender.parse()?, name, info.fingerprint(), sig)?;
        info.check_against(&binding)?;
        let contact = self.store.insert_contact(&NewContact {
            identity_id: m.identity_id,
            address: &m.sender,
            display_name: binding.display_name(),
            fingerprint: binding.fingerprint(),
            binding_sig: binding.signature(),
            public_key: Some(key),
            verification: "first_contact",
            added_at: self.clock.now_unix(),
        })?;
        self.store
            .move_messages_from(m.identity_id, &m.sender, REQUESTS, INBOX)?;
        self.describe(contact)
    }
}
