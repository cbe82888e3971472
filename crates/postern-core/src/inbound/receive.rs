//! The receive path: every message that reaches one of our identities is decrypted, its
//! signature checked against the sender's bound key, parsed and stored — or refused with a
//! specific SMTP reply, storing nothing.
//!
//! | refusal | reply |
//! |---|---|
//! | not PGP/MIME encrypted | `550 5.7.1` |
//! | cannot be decrypted with this identity's key | `550 5.7.5` |
//! | malformed MIME or OpenPGP, no Message-ID | `554 5.6.0` |
//! | inner `From` differs from the envelope sender | `550 5.7.1` |
//! | not signed, or the signature does not verify | `550 5.7.7` |
//! | signed by a key other than the one bound to the sender's address | `550 5.7.1` |
//! | unknown sender without key and binding, or a binding that does not verify | `550 5.7.1` |
//! | a signed display name with control, invisible or text-direction characters | `550 5.7.1` |
//! | the store cannot commit it now | `451 4.3.0` (the sender retries) |

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use postern_crypto::{Binding, IdentityKeys, PublicKeyInfo};
use postern_mime::{open, Letter, MimeError, SignerCheck};
use postern_smtp::{Envelope, Reply};
use postern_store::{Inserted, NewMessage, RevocationRecord, Store, StoreError};
use postern_types::MailAddress;
use sequoia_openpgp::Cert;

use super::controls;
use super::writer::MailWriter;
use super::{INBOX, REQUESTS};
use crate::revoke::revoked_sentence;
use crate::Clock;

/// One of our identities, as the node serves it.
#[derive(Debug)]
pub(crate) struct LocalIdentity {
    pub id: i64,
    pub keys: IdentityKeys,
    /// Why mail is refused, if its owner revoked the address.
    pub revoked: Option<String>,
    /// Keys this identity revoked (to tell senders why their mail cannot be read).
    pub revoked_keys: Vec<(Cert, String)>,
}

impl LocalIdentity {
    pub(crate) fn load(
        postern: &crate::Postern,
        id: i64,
        keys: IdentityKeys,
    ) -> Result<Self, crate::CoreError> {
        let own = postern.store.revocations(id, &keys.address().to_string())?;
        let mut revoked = None;
        let mut revoked_keys = Vec::new();
        for r in &own {
            let sentence = crate::revoke::revoked_sentence(r, "Its owner");
            if r.scope == "address" {
                revoked = Some(sentence);
            } else if let Some(cert) = r
                .public_key
                .as_deref()
                .and_then(|k| PublicKeyInfo::parse(k).ok())
            {
                revoked_keys.push((cert.cert().clone(), sentence));
            }
        }
        Ok(LocalIdentity {
            id,
            keys,
            revoked,
            revoked_keys,
        })
    }
}

/// Receives mail for the node's identities.
#[derive(Debug)]
pub(crate) struct Mailroom {
    reader: Mutex<Store>,
    writer: MailWriter,
    pub(super) clock: Arc<dyn Clock>,
    /// Wakes the carrier loop when a message is held or pulled.
    pub(super) carrier_wake: Arc<tokio::sync::Notify>,
    /// Contacts' keys, parsed and policy-checked once (keyed by the key's bytes).
    certs: Mutex<HashMap<Vec<u8>, Cert>>,
}

/// Most parsed contact keys kept in memory.
const MAX_CACHED_CERTS: usize = 4096;

fn refuse(code: u16, enhanced: &str, text: &str) -> Reply {
    Reply::new(code, enhanced, text)
}

/// What the checks decided, before storing.
pub(super) struct Accepted {
    pub letter: Letter,
    /// The sender's name as authenticated: the address book's, or the one its binding signs.
    /// The `From` header's display name is never shown: nothing vouches for it.
    pub sender_name: String,
    pub inner: Vec<u8>,
    pub folder: &'static str,
    pub verification: &'static str,
    pub learned_key: Option<(i64, Vec<u8>)>,
    pub sender_key: Option<Vec<u8>>,
    pub sender_sig: Option<Vec<u8>>,
}

impl Mailroom {
    pub(crate) fn new(
        reader: Store,
        writer: MailWriter,
        clock: Arc<dyn Clock>,
        carrier_wake: Arc<tokio::sync::Notify>,
    ) -> Self {
        Mailroom {
            reader: Mutex::new(reader),
            writer,
            clock,
            carrier_wake,
            certs: Mutex::new(HashMap::new()),
        }
    }

    /// A contact's key as a usable certificate, parsed once per key.
    fn contact_cert(&self, key: &[u8]) -> Option<Cert> {
        let mut cache = self
            .certs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = cache.get(key) {
            return Some(c.clone());
        }
        let cert = PublicKeyInfo::parse(key).ok()?.cert().clone();
        if cache.len() >= MAX_CACHED_CERTS {
            cache.clear();
        }
        cache.insert(key.to_vec(), cert.clone());
        Some(cert)
    }

    pub(super) fn with_reader<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut guard = self
            .reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Take in one message for `me`. The reply is what the SMTP session sends after DATA.
    pub(crate) async fn receive(
        &self,
        me: Arc<LocalIdentity>,
        envelope: Envelope,
        data: Vec<u8>,
    ) -> Reply {
        if let Some(why) = &me.revoked {
            return refuse(550, "5.7.1", &format!("{why}; mail to it is refused"));
        }
        let Ok(sender) = envelope.mail_from.parse::<MailAddress>() else {
            return refuse(553, "5.1.7", "Sender must be a Postern address");
        };
        let revocations = match self.with_reader(|s| s.revocations(me.id, &envelope.mail_from)) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("revocation lookup failed: {e}");
                return refuse(451, "4.3.0", "Cannot check the sender now; try again later");
            }
        };
        if let Some(r) = revocations.iter().find(|r| r.scope == "address") {
            return refuse(
                550,
                "5.7.1",
                &format!(
                    "{}; mail from it is refused",
                    revoked_sentence(r, "The sender")
                ),
            );
        }
        let contact = match self.with_reader(|s| s.contact(me.id, &envelope.mail_from)) {
            Ok(c) => Some(c),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => {
                tracing::error!("address book lookup failed: {e}");
                return refuse(451, "4.3.0", "Cannot check the sender now; try again later");
            }
        };
        let known_cert = contact
            .as_ref()
            .and_then(|c| c.public_key.as_deref())
            .and_then(|k| self.contact_cert(k));
        let raw = data.clone();
        let identity_id = me.id;
        let (me2, contact2) = (me.clone(), contact.clone());
        let checked = tokio::task::spawn_blocking(move || {
            check(&me2, &sender, contact2, known_cert, &revocations, &data)
        })
        .await
        .unwrap_or_else(|_| Err(refuse(451, "4.3.0", "Internal error; try again later")));
        let mut a = match checked {
            Ok(a) => a,
            Err(reply) => return reply,
        };
        let now = self.clock.now_unix();
        match self.with_reader(|s| controls::apply(s, now, &me, contact.as_ref(), &a)) {
            Ok(Some(folder)) => a.folder = folder,
            Ok(None) => {}
            Err(reply) => return reply,
        }
        let Some(message_id) = a.letter.message_id.clone() else {
            return refuse(554, "5.6.0", "Message has no Message-ID");
        };
        if let Some((contact_id, key)) = &a.learned_key {
            if let Err(e) = self.with_reader(|s| s.set_contact_key(*contact_id, key)) {
                tracing::warn!("could not record a contact's key: {e}");
            }
        }
        let message = NewMessage {
            identity_id,
            message_id,
            sender: a.letter.from.clone(),
            sender_name: a.sender_name.clone(),
            subject: a.letter.subject.clone(),
            folder: a.folder.to_owned(),
            verification: a.verification.to_owned(),
            sent_at: a.letter.date,
            received_at: self.clock.now_unix(),
            inner: a.inner,
            raw,
            sender_key: a.sender_key,
            sender_binding_sig: a.sender_sig,
        };
        match self.writer.store(message).await {
            Ok(Inserted::New(_)) => Reply::new(250, "2.0.0", "Stored"),
            Ok(Inserted::Duplicate(_)) => Reply::new(250, "2.0.0", "Already stored"),
            Err(e) => {
                tracing::error!("storing a message failed: {e}");
                refuse(
                    451,
                    "4.3.0",
                    "Cannot store the message now; try again later",
                )
            }
        }
    }
}

fn open_err(e: MimeError) -> Reply {
    match e {
        MimeError::NotEncrypted => refuse(
            550,
            "5.7.1",
            "Postern accepts only OpenPGP-encrypted mail (PGP/MIME)",
        ),
        MimeError::Undecryptable => refuse(
            550,
            "5.7.5",
            "Cannot decrypt: the message is not encrypted to this identity's key",
        ),
        other => refuse(554, "5.6.0", &format!("Malformed message: {other}")),
    }
}

fn signature_err(check: &SignerCheck, sender: &MailAddress) -> Option<Reply> {
    match check {
        SignerCheck::Good { .. } => None,
        SignerCheck::Unsigned => Some(refuse(550, "5.7.7", "Message is not signed")),
        SignerCheck::Bad(_) => Some(refuse(550, "5.7.7", "Signature does not verify")),
        SignerCheck::UnknownKey => Some(refuse(
            550,
            "5.7.1",
            &format!(
                "Signed by a key that is not bound to the sender {}",
                sender.redacted()
            ),
        )),
    }
}

/// The CPU-heavy checks (decrypt, verify, parse), off the async threads.
fn check(
    me: &LocalIdentity,
    sender: &MailAddress,
    contact: Option<postern_store::ContactRecord>,
    known_cert: Option<Cert>,
    revocations: &[RevocationRecord],
    data: &[u8],
) -> Result<Accepted, Reply> {
    let recipient = me.keys.openpgp_cert();
    let opened = match open(data, recipient, known_cert.as_ref()) {
        Ok(o) => o,
        Err(MimeError::Undecryptable) => {
            if let Some((_, why)) = me
                .revoked_keys
                .iter()
                .find(|(cert, _)| postern_mime::encrypted_for(data, cert))
            {
                return Err(refuse(
                    550,
                    "5.7.1",
                    &format!(
                        "Encrypted to a revoked key: {why}. Fetch the new card and send again"
                    ),
                ));
            }
            return Err(open_err(MimeError::Undecryptable));
        }
        Err(e) => return Err(open_err(e)),
    };
    let letter = Letter::parse(&opened.inner).map_err(open_err)?;
    let rotation = controls::rotates_key(&letter, sender, contact.as_ref());
    if letter.from != sender.to_string() {
        return Err(refuse(
            550,
            "5.7.1",
            "The From address does not match the envelope sender",
        ));
    }
    if let (Some(contact), Some(_), false) = (&contact, &known_cert, rotation) {
        // A contact whose key we hold: the signature must be by exactly that key.
        if let Some(r) = controls::revoked_signer(&letter, revocations) {
            if !matches!(&opened.signer, SignerCheck::Good { .. }) {
                return Err(r);
            }
        }
        if let Some(r) = signature_err(&opened.signer, sender) {
            return Err(r);
        }
        let SignerCheck::Good { fingerprint } = &opened.signer else {
            return Err(refuse(550, "5.7.7", "Signature does not verify"));
        };
        if *fingerprint != contact.fingerprint {
            return Err(refuse(
                550,
                "5.7.1",
                "Signed by a key that is not bound to the sender",
            ));
        }
        return Ok(Accepted {
            letter,
            sender_name: contact.display_name.clone(),
            inner: opened.inner,
            folder: INBOX,
            verification: "contact",
            learned_key: None,
            sender_key: None,
            sender_sig: None,
        });
    }
    // First contact (or a contact whose key we never had): the message must carry the sender's
    // key and binding, the binding must verify for the sender's onion address, and the message
    // must be signed by that key.
    let (Some(key), Some(bh)) = (letter.sender_key.clone(), letter.sender_binding.clone()) else {
        return Err(refuse(
            550,
            "5.7.1",
            "A first message must carry the sender's key and binding (Autocrypt, Postern-Binding)",
        ));
    };
    if postern_card::DisplayName::new(&bh.display_name).is_err() {
        return Err(refuse(
            550,
            "5.7.1",
            "The sender's display name contains control, invisible or text-direction characters",
        ));
    }
    let info = PublicKeyInfo::parse(&key).map_err(|_| {
        refuse(
            550,
            "5.7.1",
            "The sender's key in the message is not usable",
        )
    })?;
    let binding = Binding::from_parts(
        sender.clone(),
        bh.display_name.clone(),
        info.fingerprint(),
        bh.signature,
    )
    .map_err(|_| {
        refuse(
            550,
            "5.7.1",
            "The sender's key is not bound to its onion address",
        )
    })?;
    info.check_against(&binding).map_err(|_| {
        refuse(
            550,
            "5.7.1",
            "The sender's key is not bound to its onion address",
        )
    })?;
    if let Some(r) = controls::revoked_signer(&letter, revocations) {
        return Err(r);
    }
    if let Some(c) = &contact {
        if c.fingerprint != info.fingerprint() && !rotation {
            return Err(refuse(
                550,
                "5.7.1",
                "The sender's key differs from the one in the address book",
            ));
        }
    }
    let opened = open(data, recipient, Some(info.cert())).map_err(open_err)?;
    if let Some(r) = signature_err(&opened.signer, sender) {
        return Err(r);
    }
    // A key rotation replaces the key (and fingerprint) in `controls::apply`.
    let learned_key = contact
        .as_ref()
        .filter(|_| !rotation)
        .map(|c| (c.id, key.clone()));
    let sender_sig = Some(bh.signature.to_vec());
    let sender_name = match &contact {
        Some(c) => c.display_name.clone(),
        None => bh.display_name.clone(),
    };
    Ok(Accepted {
        letter,
        sender_name,
        inner: opened.inner,
        folder: if contact.is_some() { INBOX } else { REQUESTS },
        verification: if contact.is_some() {
            "contact"
        } else {
            "first_contact"
        },
        learned_key,
        sender_key: Some(key),
        sender_sig,
    })
}
