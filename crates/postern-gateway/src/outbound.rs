//! The message an ordinary recipient gets: RFC 5322 from the gateway's domain, DKIM-signed.

use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done};
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::MimePart;
use mail_builder::MessageBuilder;

/// Headers the DKIM signature covers (RFC 6376 §5.4.1's recommendations, and the ones the
/// gateway writes). `From` is named twice so that a second `From` added later breaks it.
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "From",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// Errors building or signing outbound mail.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The DKIM key could not be read.
    #[error("DKIM key unreadable (an RSA key in PKCS#8 or PKCS#1 PEM is expected): {0}")]
    DkimKey(String),
    /// Signing failed.
    #[error("DKIM signing failed: {0}")]
    Sign(String),
    /// Writing the message failed.
    #[error("could not write the message: {0}")]
    Write(#[from] std::io::Error),
    /// Encrypting to the recipient's key failed.
    #[error("could not encrypt to the recipient's key: {0}")]
    Encrypt(String),
}

/// The gateway's DKIM signing key (RSA-SHA256, relaxed/relaxed: what every receiver checks).
pub struct DkimKey {
    signer: DkimSigner<RsaKey<Sha256>, Done>,
}

impl std::fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DkimKey(..)")
    }
}

impl DkimKey {
    /// A key from PEM (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`), for `domain`, published
    /// under `selector._domainkey.domain`.
    pub fn from_pem(pem: &str, domain: &str, selector: &str) -> Result<Self, OutboundError> {
        let key = RsaKey::<Sha256>::from_pkcs8_pem(pem)
            .or_else(|_| RsaKey::<Sha256>::from_rsa_pem(pem))
            .map_err(|e| OutboundError::DkimKey(e.to_string()))?;
        let signer = DkimSigner::from_key(key)
            .domain(domain)
            .selector(selector)
            .headers(SIGNED_HEADERS.iter().copied())
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed);
        Ok(DkimKey { signer })
    }

    /// The DNS TXT record for `<selector>._domainkey.<domain>`: `v=DKIM1; k=rsa; p=<public key>`.
    pub fn dns_record(pem: &str) -> Result<String, OutboundError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|e| OutboundError::DkimKey(e.to_string()))?;
        let public = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|e| OutboundError::DkimKey(e.to_string()))?;
        Ok(format!(
            "v=DKIM1; k=rsa; p={}",
            data_encoding::BASE64.encode(public.as_bytes())
        ))
    }

    /// `message` with a `DKIM-Signature` header in front.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, OutboundError> {
        let signature = self
            .signer
            .sign(message)
            .map_err(|e| OutboundError::Sign(e.to_string()))?;
        let header = signature.to_header();
        let mut out = Vec::with_capacity(header.len() + message.len());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(message);
        Ok(out)
    }
}

/// A Postern user's message as it leaves for an ordinary address, in clear.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    /// The sender's name as they chose to show it (no onion address).
    pub sender_name: String,
    /// The reply address issued for this correspondent (full address at the gateway domain).
    pub reply_address: String,
    /// The ordinary recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Text body.
    pub text: String,
    /// Message-ID (without angle brackets), at the gateway's domain.
    pub message_id: String,
    /// The correspondent's Message-ID this answers, if any.
    pub in_reply_to: Option<String>,
    /// Unix seconds.
    pub date: i64,
    /// The gateway's domain (named in the `X-Postern-Gateway` header).
    pub gateway_domain: String,
    /// Attachments: file name, MIME type, bytes.
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

impl OutboundMessage {
    fn sender_address(&self) -> Address<'_> {
        Address::new_address(Some(self.sender_name.as_str()), self.reply_address.as_str())
    }

    /// The envelope every form shares: addresses, date, Message-ID, threading, and the note
    /// that a Postern user sent it.
    fn envelope(&self, subject: &str) -> MessageBuilder<'_> {
        let mut builder = MessageBuilder::new()
            .from(self.sender_address())
            .to(Address::new_address(None::<&str>, self.to.as_str()))
            .subject(subject.to_owned())
            .message_id(MessageId::new(self.message_id.as_str()))
            .date(self.date)
            .header(
                "X-Postern-Gateway",
                Raw::new(format!(
                    "sent by a Postern user through {}; replies reach them",
                    self.gateway_domain
                )),
            );
        if let Some(parent) = &self.in_reply_to {
            builder = builder
                .in_reply_to(MessageId::new(parent.as_str()))
                .references(MessageId::new(parent.as_str()));
        }
        builder
    }

    /// RFC 5322 bytes, CRLF line ends, quoted-printable or base64 where needed.
    pub fn render(&self) -> Result<Vec<u8>, OutboundError> {
        let mut builder = self.envelope(&self.subject).text_body(self.text.as_str());
        for (name, content_type, data) in &self.attachments {
            builder = builder.attachment(content_type.as_str(), name.as_str(), data.as_slice());
        }
        Ok(builder.write_to_vec()?)
    }

    /// The message encrypted to the recipient's OpenPGP key (RFC 3156 PGP/MIME, encrypt-only):
    /// `encrypt` turns the inner entity — text, attachments, and the real subject as a
    /// protected header — into an armored OpenPGP message; outside it the subject is "...".
    pub fn render_encrypted(
        &self,
        encrypt: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
    ) -> Result<Vec<u8>, OutboundError> {
        let mut parts = vec![MimePart::new("text/plain", self.text.as_str())];
        for (name, content_type, data) in &self.attachments {
            parts.push(
                MimePart::new(ContentType::new(content_type.as_str()), data.as_slice())
                    .attachment(name.as_str()),
            );
        }
        let inner = MimePart::new(
            ContentType::new("multipart/mixed").attribute("protected-headers", "v1"),
            parts,
        )
        .header("From", self.sender_address())
        .header("To", Address::new_address(None::<&str>, self.to.as_str()))
        .header("Subject", Text::new(self.subject.as_str()))
        .header("Date", Date::new(self.date))
        .header("Message-ID", MessageId::new(self.message_id.as_str()));
        let mut inner_bytes = Vec::new();
        inner.write_part(&mut inner_bytes)?;
        let armored = String::from_utf8(encrypt(&inner_bytes).map_err(OutboundError::Encrypt)?)
            .map_err(|_| OutboundError::Encrypt("the armored message is not text".into()))?;
        let body = MimePart::new(
            ContentType::new("multipart/encrypted")
                .attribute("protocol", "application/pgp-encrypted"),
            vec![
                MimePart::new(
                    ContentType::new("application/pgp-encrypted"),
                    "Version: 1\r\n",
                ),
                MimePart::new(
                    ContentType::new("application/octet-stream").attribute("name", "encrypted.asc"),
                    armored,
                )
                .inline(),
            ],
        );
        Ok(self.envelope("...").body(body).write_to_vec()?)
    }
}
