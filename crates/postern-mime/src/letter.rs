//! The inner message, once decrypted.

use data_encoding::BASE64;
use mail_parser::{MessageParser, MimeHeaders};

use crate::{Attachment, MimeError};

/// The `Postern-Binding` header: the sender's display name and binding signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingHeader {
    /// Display name covered by the binding.
    pub display_name: String,
    /// The onion key's signature.
    pub signature: [u8; 64],
}

/// A decrypted message, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// Sender address (inner `From`).
    pub from: String,
    /// Sender display name, if given.
    pub from_name: Option<String>,
    /// Recipients (inner `To`).
    pub to: Vec<String>,
    /// The real subject.
    pub subject: String,
    /// `Date`, Unix seconds.
    pub date: Option<i64>,
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To`: the Message-ID this answers, without angle brackets.
    pub in_reply_to: Option<String>,
    /// `References`: the thread's Message-IDs, oldest first, without angle brackets.
    pub references: Vec<String>,
    /// Plain-text body.
    pub text: String,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// The sender's OpenPGP key, from the `Autocrypt` header (if its `addr` is the sender).
    pub sender_key: Option<Vec<u8>>,
    /// The sender's binding, from `Postern-Binding`.
    pub sender_binding: Option<BindingHeader>,
    /// What kind of Postern message this is (`Postern-Kind`: `handshake`, `introduction`,
    /// `revocation`), if not plain mail.
    pub kind: Option<String>,
    /// An invite token being redeemed (`Postern-Invite`).
    pub invite: Option<String>,
    /// A signed revocation statement (`Postern-Revocation`, base64).
    pub revocation: Option<Vec<u8>>,
    /// The sender's carriers and the passes it signed for us (`Postern-Carriers`).
    pub carriers: Option<String>,
    /// Gateway mail (`Postern-Gateway`): for `gateway-out`, the ordinary address to deliver to;
    /// for `gateway-in`, where the reply came from and what the gateway's checks found.
    pub gateway: Option<String>,
    /// The content is encrypted to a hosted account's holder (a PGP/MIME body inside the
    /// letter): readable only in their mail client; `text` is empty, `subject` a placeholder
    /// and there are no attachments here.
    pub for_holder: bool,
}

fn attributes(value: &str) -> impl Iterator<Item = (String, String)> + '_ {
    value.split(';').filter_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
    })
}

fn b64(v: &str) -> Option<Vec<u8>> {
    let clean: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    BASE64.decode(clean.as_bytes()).ok()
}

/// Message-IDs of a header (one or a list), at most a thread's worth.
fn ids(v: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    const MAX_REFERENCES: usize = 100;
    let list: Vec<&str> = match v {
        mail_parser::HeaderValue::Text(t) => vec![t.as_ref()],
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
        .filter(|id| {
            !id.is_empty() && id.len() <= 250 && id.bytes().all(|b| (0x21..0x7f).contains(&b))
        })
        .take(MAX_REFERENCES)
        .map(str::to_owned)
        .collect()
}

impl Letter {
    /// Parse a decrypted inner message.
    pub fn parse(inner: &[u8]) -> Result<Letter, MimeError> {
        let msg = MessageParser::default()
            .parse(inner)
            .ok_or_else(|| MimeError::Malformed("the decrypted message is not MIME".into()))?;
        let from_addr = msg.from().and_then(|a| a.first());
        let from = from_addr
            .and_then(|a| a.address())
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| MimeError::Malformed("no From address".into()))?;
        let from_name = from_addr.and_then(|a| a.name()).map(str::to_owned);
        let to = msg
            .to()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.address().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default();
        let for_holder = msg.content_type().is_some_and(|c| {
            c.ctype().eq_ignore_ascii_case("multipart")
                && c.subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("encrypted"))
        });
        let mut attachments = Vec::new();
        for part in msg.attachments().filter(|_| !for_holder) {
            let content_type = part
                .content_type()
                .map(|c| match c.subtype() {
                    Some(s) => format!("{}/{}", c.ctype(), s),
                    None => c.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into());
            attachments.push(Attachment {
                name: part.attachment_name().unwrap_or("attachment").to_owned(),
                content_type,
                data: part.contents().to_vec(),
            });
        }
        let sender_key = msg.header_raw("Autocrypt").and_then(|v| {
            let attrs: Vec<(String, String)> = attributes(v).collect();
            let addr = attrs
                .iter()
                .find(|(k, _)| k == "addr")?
                .1
                .to_ascii_lowercase();
            if addr != from {
                return None;
            }
            b64(&attrs.iter().find(|(k, _)| k == "keydata")?.1)
        });
        let sender_binding = msg.header_raw("Postern-Binding").and_then(|v| {
            let attrs: Vec<(String, String)> = attributes(v).collect();
            if attrs.iter().find(|(k, _)| k == "v")?.1 != "1" {
                return None;
            }
            let name = b64(&attrs.iter().find(|(k, _)| k == "name")?.1)?;
            let sig: [u8; 64] = b64(&attrs.iter().find(|(k, _)| k == "sig")?.1)?
                .try_into()
                .ok()?;
            Some(BindingHeader {
                display_name: String::from_utf8(name).ok()?,
                signature: sig,
            })
        });
        let control = |name: &str| {
            msg.header_raw(name)
                .map(|v| v.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        };
        Ok(Letter {
            kind: control("Postern-Kind"),
            invite: control("Postern-Invite"),
            revocation: control("Postern-Revocation").and_then(|v| b64(&v)),
            carriers: control("Postern-Carriers"),
            gateway: msg
                .header_raw("Postern-Gateway")
                .map(|v| v.trim().to_owned()),
            from,
            from_name,
            to,
            subject: msg.subject().unwrap_or("").to_owned(),
            date: msg.date().map(|d| d.to_timestamp()),
            message_id: msg.message_id().map(str::to_owned),
            in_reply_to: ids(msg.in_reply_to()).into_iter().next(),
            references: ids(msg.references()),
            // Lines end in LF for people and programs; the wire form's CRLF is a transport detail.
            text: msg
                .body_text(0)
                .filter(|_| !for_holder)
                .map(|t| t.replace("\r\n", "\n"))
                .unwrap_or_default(),
            attachments,
            sender_key,
            sender_binding,
            for_holder,
        })
    }
}
