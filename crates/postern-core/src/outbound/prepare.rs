//! Preparing an outbox row for delivery, whoever carries it: the draft unsealed, the
//! recipient's contact looked up, our carriers announced, and — when the recipient may not
//! know us — a proof-of-work stamp.

use std::sync::Arc;

use postern_crypto::PublicKeyInfo;
use postern_mime::{compose, Draft, SenderKeys};
use postern_store::{ContactRecord, OutboxRecord, StoreError};
use postern_types::MailAddress;

use super::delivery::DeliveryError;
use crate::context::{LocalIdentity, NodeShared};
use crate::invites::{KIND_HANDSHAKE, VERIFIED_BY_SCAN};
use crate::mail::draft::QueuedDraft;
use postern_carry as carry;
use postern_mime::stamp;

/// Everything needed to compose an outbox row's message, whoever carries it.
pub(crate) struct Prepared {
    pub me: Arc<LocalIdentity>,
    pub to: MailAddress,
    pub contact: Option<ContactRecord>,
    draft: Draft,
    date: i64,
    message_id: String,
    /// Proof-of-work bits to pay: the recipient may not know us yet (0: none).
    stamp_bits: u8,
    /// Now, for the stamp's day.
    stamp_day: i64,
}

impl Prepared {
    /// The message, signed and encrypted to `key`, with a proof-of-work stamp in front when the
    /// recipient may not know us (minted on a blocking thread: about a second of one core).
    pub(crate) async fn seal(&self, key: &[u8]) -> Result<Vec<u8>, DeliveryError> {
        let message = self.compose(key)?;
        if self.stamp_bits == 0 {
            return Ok(message);
        }
        let (to, fingerprint, bits) = (
            self.to.to_string(),
            self.me.keys.binding().fingerprint().to_vec(),
            self.stamp_bits,
        );
        let day = stamp::day_of(self.stamp_day);
        tokio::task::spawn_blocking(move || stamp::mint(&message, &to, &fingerprint, day, bits))
            .await
            .map_err(|e| DeliveryError::Transient(format!("minting the stamp failed: {e}")))
    }

    /// The message, signed and encrypted to `key`.
    fn compose(&self, key: &[u8]) -> Result<Vec<u8>, DeliveryError> {
        let info = PublicKeyInfo::parse(key)
            .map_err(|e| DeliveryError::Permanent(format!("recipient key: {e}")))?;
        compose(
            &self.draft,
            SenderKeys::of(&self.me.keys),
            info.cert(),
            self.date,
            &self.message_id,
            &mut rand::rngs::OsRng,
        )
        .map_err(|e| DeliveryError::Permanent(e.to_string()))
    }
}

pub(crate) fn prepare(shared: &NodeShared, row: &OutboxRecord) -> Result<Prepared, DeliveryError> {
    let store_err = |e: StoreError| DeliveryError::Transient(format!("local store: {e}"));
    let Some(me) = shared.identities.get(&row.identity_id).cloned() else {
        return Err(DeliveryError::Permanent(
            "the sending identity is not served by this node".into(),
        ));
    };
    let to: MailAddress = row
        .recipient
        .parse()
        .map_err(|e| DeliveryError::Permanent(format!("bad recipient address: {e}")))?;
    let draft_bytes = shared
        .with_store(|s| s.outgoing_draft(row.id))
        .map_err(store_err)?;
    let draft = QueuedDraft::from_bytes(&draft_bytes)
        .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
    let attachments = draft
        .attachments()
        .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
    let contact = match shared.with_store(|s| s.contact(me.id, &row.recipient)) {
        Ok(c) => Some(c),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(store_err(e)),
    };
    // Every message tells the recipient where it may hand mail for us while we are offline.
    let mut headers = draft.headers.clone();
    let my_carriers = shared
        .with_store(|s| s.my_carriers(me.id))
        .map_err(store_err)?;
    if let Some(h) = carry::carriers_header(
        &me.keys,
        &my_carriers,
        &row.recipient,
        shared.clock.now_unix(),
    ) {
        headers.push(("Postern-Carriers".into(), h));
    }
    let stamp_bits = if needs_stamp(
        shared,
        &me,
        &row.recipient,
        contact.as_ref(),
        &draft.headers,
    )
    .map_err(store_err)?
    {
        shared.config.stamp_bits
    } else {
        0
    };
    let from = me.keys.address().clone();
    Ok(Prepared {
        draft: Draft {
            from,
            from_name: me.keys.binding().display_name().to_owned(),
            to: to.clone(),
            subject: draft.subject.clone(),
            text: draft.text.clone(),
            attachments,
            headers,
        },
        me,
        to,
        contact,
        date: row.created_at,
        message_id: row.message_id.clone(),
        stamp_bits,
        stamp_day: shared.clock.now_unix(),
    })
}

/// Whether the recipient may not know us, so that a first message must pay a stamp: not when
/// we met by a scanned invite (both sides hold each other), not when it wrote to us (it holds
/// our card), not for the handshake itself (the invite was the recipient's consent).
fn needs_stamp(
    shared: &NodeShared,
    me: &LocalIdentity,
    recipient: &str,
    contact: Option<&ContactRecord>,
    headers: &[(String, String)],
) -> Result<bool, StoreError> {
    if shared.config.stamp_bits == 0
        || contact.is_some_and(|c| c.verification == VERIFIED_BY_SCAN)
        || headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("Postern-Kind") && v == KIND_HANDSHAKE)
    {
        return Ok(false);
    }
    Ok(!shared.with_store(|s| s.received_from(me.id, recipient))?)
}
