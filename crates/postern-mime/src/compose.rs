//! Writing a message: inner MIME with protected headers, signed then encrypted, wrapped in
//! `multipart/encrypted`.

use std::io::Write;

use data_encoding::{BASE32_NOPAD, BASE64};
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::MimePart;
use mail_builder::MessageBuilder;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient, Signer};
use openpgp::types::Features;
use rand::RngCore;
use sequoia_openpgp as openpgp;

use postern_crypto::{Binding, IdentityKeys, MessageSigner, MESSAGE_HASH};
use postern_types::MailAddress;

use crate::MimeError;

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// Contents.
    pub data: Vec<u8>,
}

/// What the person wrote.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Sender (one of our identities).
    pub from: MailAddress,
    /// Sender's display name.
    pub from_name: String,
    /// Recipient.
    pub to: MailAddress,
    /// Subject (protected: only inside the encryption).
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// Postern control headers, protected inside the encryption (name, value): a
    /// `Postern-Kind`, an invite token, a revocation statement; and the threading headers
    /// `In-Reply-To` and `References`. Other names must start with `Postern-`; values must be
    /// printable ASCII (they are folded as needed).
    pub headers: Vec<(String, String)>,
}

/// The sender's keys: the OpenPGP certificate with secrets, and the identity's binding.
#[derive(Debug, Clone, Copy)]
pub struct SenderKeys<'a> {
    /// OpenPGP certificate with secret keys.
    pub cert: &'a openpgp::Cert,
    /// The identity's binding (address, display name, fingerprint, onion-key signature).
    pub binding: &'a Binding,
    /// The certificate's signing key, expanded once per identity.
    pub signer: &'a MessageSigner,
    /// The certificate without secrets, serialized (for the Autocrypt header).
    pub public_key: &'a [u8],
}

impl<'a> SenderKeys<'a> {
    /// The sender keys of one of our identities.
    pub fn of(keys: &'a IdentityKeys) -> Self {
        SenderKeys {
            cert: keys.openpgp_cert(),
            binding: keys.binding(),
            signer: keys.message_signer(),
            public_key: keys.openpgp_public_bytes(),
        }
    }
}

fn random_token(rng: &mut dyn RngCore, bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rng.fill_bytes(&mut b);
    BASE32_NOPAD.encode(&b).to_ascii_lowercase()
}

/// A fresh Message-ID (without angle brackets): random on both sides of the `@`, so it says
/// nothing about the sender's address, host or other identities.
pub fn random_message_id(rng: &mut dyn RngCore) -> String {
    format!("{}@{}", random_token(rng, 15), random_token(rng, 10))
}

/// `prefix` then `token` with a space every 64 characters: the header writer folds long lines
/// only at whitespace, and readers drop the whitespace again (base64 and Postern's header values
/// have none of their own).
fn fold(prefix: &str, token: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + token.len() + token.len() / 64);
    out.push_str(prefix);
    let mut rest = token;
    while !rest.is_empty() {
        if out.len() > prefix.len() {
            out.push(' ');
        }
        let cut = rest.char_indices().nth(64).map_or(rest.len(), |(i, _)| i);
        out.push_str(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

/// One of a recipient's encryption keys, valid under the policy.
type RecipientKey<'a> = openpgp::cert::amalgamation::key::ValidErasedKeyAmalgamation<
    'a,
    openpgp::packet::key::PublicParts,
>;

fn encryption_keys<'a>(
    cert: &'a openpgp::Cert,
    policy: &'a StandardPolicy<'a>,
) -> Vec<RecipientKey<'a>> {
    cert.keys()
        .with_policy(policy, None)
        .supported()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .collect()
}

/// The signed-then-encrypted OpenPGP message (ASCII armored) of `inner`: the OpenPGP layer of
/// [`compose`], on its own.
pub fn sign_and_encrypt(
    inner: &[u8],
    sender: &MessageSigner,
    recipient: &openpgp::Cert,
) -> Result<Vec<u8>, MimeError> {
    let policy = StandardPolicy::new();
    // To the recipient alone. Autocrypt clients also encrypt to the sender, so that a copy
    // fetched back from a server can be read; Postern's sender keeps its copy unsealed in its
    // own encrypted store (Sent), and the sealed message only ever goes to the recipient, so
    // a second session-key packet would cost a second X25519 and leave one more key that
    // opens mail already sent (a carrier's hold, a captured stream).
    let recipients = encryption_keys(recipient, &policy);
    if recipients.is_empty() {
        return Err(MimeError::RecipientKey("no usable encryption key".into()));
    }
    sign_and_encrypt_to(inner, sender, recipients)
}

fn sign_and_encrypt_to<'a>(
    inner: &[u8],
    sender: &MessageSigner,
    recipients: impl IntoIterator<Item = impl Into<Recipient<'a>>>,
) -> Result<Vec<u8>, MimeError> {
    let build = |e: openpgp::anyhow::Error| MimeError::Build(e.to_string());
    let mut sink = Vec::with_capacity(inner.len() * 4 / 3 + 1024);
    {
        let message = Message::new(&mut sink);
        let message = Armorer::new(message).build().map_err(build)?;
        let message = Encryptor::for_recipients(message, recipients)
            .build()
            .map_err(build)?;
        let message = Signer::new(message, sender.clone())
            .map_err(build)?
            .hash_algo(MESSAGE_HASH)
            .map_err(build)?
            .build()
            .map_err(build)?;
        let mut literal = LiteralWriter::new(message).build().map_err(build)?;
        literal
            .write_all(inner)
            .map_err(|e| MimeError::Build(e.to_string()))?;
        literal.finalize().map_err(build)?;
    }
    Ok(sink)
}

/// Threading headers a draft may carry besides Postern's own (inside the encryption, like
/// the subject).
const THREADING_HEADERS: &[&str] = &["In-Reply-To", "References"];

/// A letter before sealing: what the sender's own copy (Sent, Drafts) keeps, and what
/// [`compose`] encrypts. `to` is absent for a draft whose recipient is not yet an address.
#[derive(Debug, Clone, Copy)]
pub struct Unsealed<'a> {
    /// Sender.
    pub from: &'a MailAddress,
    /// Sender's display name.
    pub from_name: &'a str,
    /// Recipient, if there is one yet.
    pub to: Option<&'a MailAddress>,
    /// Subject.
    pub subject: &'a str,
    /// Plain-text body.
    pub text: &'a str,
    /// Attachments.
    pub attachments: &'a [Attachment],
    /// Postern control headers and the threading headers (`In-Reply-To`, `References`).
    pub headers: &'a [(String, String)],
}

fn inner_part<'a>(
    u: &'a Unsealed<'a>,
    date: i64,
    message_id: &'a str,
    rng: &mut dyn RngCore,
) -> Result<MimePart<'a>, MimeError> {
    let text = match crate::text_part::encode_text(u.text) {
        Some(e) => MimePart::new("text/plain", e.body).transfer_encoding(e.encoding),
        None => MimePart::new("text/plain", u.text),
    };
    let mut parts = vec![text];
    for a in u.attachments {
        parts.push(
            MimePart::new(ContentType::new(a.content_type.as_str()), a.data.as_slice())
                .attachment(a.name.as_str()),
        );
    }
    let body = MimePart::new(
        ContentType::new("multipart/mixed")
            .attribute("boundary", random_token(rng, 15))
            .attribute("protected-headers", "v1"),
        parts,
    );
    with_headers(body, u, date, message_id)
}

/// A PGP/MIME `multipart/encrypted` body around an armored OpenPGP message (RFC 3156).
fn encrypted_body(armored: String, rng: &mut dyn RngCore) -> MimePart<'static> {
    MimePart::new(
        ContentType::new("multipart/encrypted")
            .attribute("boundary", random_token(rng, 15))
            .attribute("protocol", "application/pgp-encrypted"),
        vec![
            MimePart::new(
                ContentType::new("application/pgp-encrypted"),
                "Version: 1\r\n",
            ),
            MimePart::new(
                ContentType::new("application/octet-stream").attribute("name", "encrypted.asc"),
                crlf_lines(&armored),
            )
            .inline()
            .transfer_encoding("7bit"),
        ],
    )
}

/// `text` with CRLF line ends. Armor is short ASCII lines, so 7bit is what mail-builder's
/// detection would choose; declaring it skips that byte-by-byte scan and copy of the largest part
/// of every message (a tenth of composing one).
fn crlf_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32 + 2);
    for line in text.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(l) => {
                out.push_str(l.strip_suffix('\r').unwrap_or(l));
                out.push_str("\r\n");
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `body` with the letter's headers: From, To, Subject, Date, Message-ID, the threading
/// headers and Postern's control headers.
fn with_headers<'a>(
    body: MimePart<'a>,
    u: &'a Unsealed<'a>,
    date: i64,
    message_id: &'a str,
) -> Result<MimePart<'a>, MimeError> {
    let from = u.from.to_string();
    let from_addr = if u.from_name.is_empty() {
        Address::new_address(None::<&str>, from)
    } else {
        Address::new_address(Some(u.from_name), from)
    };
    let mut inner = body.header("From", from_addr);
    if let Some(to) = u.to {
        inner = inner.header("To", Address::new_address(None::<&str>, to.to_string()));
    }
    inner = inner
        .header("Subject", Text::new(u.subject))
        .header("Date", Date::new(date))
        .header("Message-ID", MessageId::new(message_id));
    for (name, value) in u.headers {
        let threading = THREADING_HEADERS.contains(&name.as_str());
        if !(threading || name.starts_with("Postern-"))
            || name == "Postern-Binding"
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            || !value.bytes().all(|b| (0x20..0x7f).contains(&b))
        {
            return Err(MimeError::Build(format!(
                "not a Postern control header: {name}"
            )));
        }
        inner = inner.header(name.clone(), Raw::new(fold("", value)));
    }
    Ok(inner)
}

/// The letter as its sender keeps it (not encrypted: the store is).
pub fn unsealed_letter(
    u: &Unsealed<'_>,
    date: i64,
    message_id: &str,
    rng: &mut dyn RngCore,
) -> Result<Vec<u8>, MimeError> {
    let mut out = Vec::new();
    inner_part(u, date, message_id, rng)?
        .write_part(&mut out)
        .map_err(|e| MimeError::Build(e.to_string()))?;
    Ok(out)
}

/// Compose the message `draft` from `sender` to `recipient`'s key, encrypted to the recipient
/// alone (the sender's copy is the [`Unsealed`] letter it keeps).
///
/// `date` (Unix seconds) is written in UTC; `message_id` should come from
/// [`random_message_id`]; `rng` supplies MIME boundaries.
pub fn compose(
    draft: &Draft,
    sender: SenderKeys<'_>,
    recipient: &openpgp::Cert,
    date: i64,
    message_id: &str,
    rng: &mut dyn RngCore,
) -> Result<Vec<u8>, MimeError> {
    let from = draft.from.to_string();
    let autocrypt = fold(
        &format!("addr={from}; prefer-encrypt=mutual; keydata="),
        &BASE64.encode(sender.public_key),
    );
    let binding = format!(
        "v=1; name={}; sig={}",
        BASE64.encode(sender.binding.display_name().as_bytes()),
        BASE64.encode(sender.binding.signature())
    );
    let unsealed = Unsealed {
        from: &draft.from,
        from_name: &draft.from_name,
        to: Some(&draft.to),
        subject: &draft.subject,
        text: &draft.text,
        attachments: &draft.attachments,
        headers: &draft.headers,
    };
    let policy = StandardPolicy::new();
    let keys = encryption_keys(recipient, &policy);
    // The holder's encryption keys of a hosted account's certificate (see
    // `postern_crypto::HOLDER_NOTATION`); none for any other.
    let holder: Vec<_> = keys
        .iter()
        .filter(|k| postern_crypto::is_holder_binding(k.binding_signature()))
        .collect();
    let is_mail = !draft.headers.iter().any(|(n, _)| n == "Postern-Kind");
    let inner = if holder.is_empty() || !is_mail {
        inner_part(&unsealed, date, message_id, rng)?
    } else {
        // A hosted account whose holder gave their own key: the content (with the real
        // subject as a protected header) is signed and encrypted to the holder alone; the
        // host, who opens the outer layer to authenticate the sender, sees only the envelope.
        let mut content = Vec::new();
        inner_part(&unsealed, date, message_id, rng)?
            .write_part(&mut content)
            .map_err(|e| MimeError::Build(e.to_string()))?;
        // A holder's key is someone else's (GnuPG, say): the encryption every implementation
        // reads, whatever the account's certificate advertises.
        let holder = holder.iter().map(|k| {
            Recipient::new(
                Features::empty().set_seipdv1(),
                openpgp::KeyHandle::from(k.key().keyid()),
                k.key(),
            )
        });
        let armored = sign_and_encrypt_to(&content, sender.signer, holder)?;
        let armored = String::from_utf8(armored).map_err(|e| MimeError::Build(e.to_string()))?;
        let envelope = Unsealed {
            subject: "...",
            ..unsealed
        };
        let body = encrypted_body(armored, rng);
        let mut out = Vec::new();
        with_headers(body, &envelope, date, message_id)?
            .header("Autocrypt", Raw::new(autocrypt.clone()))
            .header("Postern-Binding", Raw::new(binding.clone()))
            .write_part(&mut out)
            .map_err(|e| MimeError::Build(e.to_string()))?;
        return seal(&out, draft, sender, keys, date, message_id, rng);
    };
    let inner = inner
        .header("Autocrypt", Raw::new(autocrypt))
        .header("Postern-Binding", Raw::new(binding));
    let mut inner_bytes = Vec::new();
    inner
        .write_part(&mut inner_bytes)
        .map_err(|e| MimeError::Build(e.to_string()))?;
    seal(&inner_bytes, draft, sender, keys, date, message_id, rng)
}

/// The outer message: `inner` signed and encrypted to the recipient (and the sender), in a
/// PGP/MIME envelope that says nothing but the addresses and date.
fn seal(
    inner_bytes: &[u8],
    draft: &Draft,
    sender: SenderKeys<'_>,
    recipient: Vec<RecipientKey<'_>>,
    date: i64,
    message_id: &str,
    rng: &mut dyn RngCore,
) -> Result<Vec<u8>, MimeError> {
    let (from, to) = (draft.from.to_string(), draft.to.to_string());
    if recipient.is_empty() {
        return Err(MimeError::RecipientKey("no usable encryption key".into()));
    }
    let armored = sign_and_encrypt_to(inner_bytes, sender.signer, recipient)?;
    let armored = String::from_utf8(armored).map_err(|e| MimeError::Build(e.to_string()))?;
    MessageBuilder::new()
        .from(Address::new_address(None::<&str>, from.as_str()))
        .to(Address::new_address(None::<&str>, to.as_str()))
        .subject("...")
        .date(Date::new(date))
        .message_id(message_id)
        .body(encrypted_body(armored, rng))
        .write_to_vec()
        .map_err(|e| MimeError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_puts_a_space_after_every_64_characters_of_the_token() {
        let token: String = (0..130)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let folded = fold("keydata=", &token);
        let pieces: Vec<&str> = folded["keydata=".len()..].split(' ').collect();
        assert_eq!(
            pieces.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [64, 64, 2]
        );
        assert_eq!(pieces.concat(), token);
        assert_eq!(fold("p=", ""), "p=");
        assert_eq!(fold("", &"é".repeat(65)), format!("{} é", "é".repeat(64)));
    }

    #[test]
    fn the_armored_part_is_what_encoding_detection_would_write() {
        let armored: String = std::iter::once("-----BEGIN PGP MESSAGE-----\n\n".to_owned())
            .chain((0..40).map(|i| format!("{}\n", "wV4DR+/a9".repeat(7)[i % 5..].to_owned())))
            .chain(["=AbCd\n-----END PGP MESSAGE-----\n".to_owned()])
            .collect();
        let detected = MimePart::new(
            ContentType::new("application/octet-stream").attribute("name", "encrypted.asc"),
            armored.clone(),
        )
        .inline();
        let declared = MimePart::new(
            ContentType::new("application/octet-stream").attribute("name", "encrypted.asc"),
            crlf_lines(&armored),
        )
        .inline()
        .transfer_encoding("7bit");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        detected.write_part(&mut a).expect("detected");
        declared.write_part(&mut b).expect("declared");
        assert!(String::from_utf8_lossy(&a).contains("7bit"));
        assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        assert_eq!(crlf_lines("a\r\nb\nc"), "a\r\nb\r\nc");
    }
}
