//! A message a mail client wrote (APPEND to Drafts, or submitted), read into what Postern
//! sends: subject, text, threading and attachments. Parsing is mail-parser's.

use mail_parser::{MessageParser, MimeHeaders};
use postern_mime::Attachment;

use crate::CoreError;

/// What a client's message says.
#[derive(Debug, Default)]
pub(crate) struct ClientLetter {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub attachments: Vec<Attachment>,
}

fn ids(v: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match v {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn read_letter(bytes: &[u8]) -> Result<ClientLetter, CoreError> {
    let m = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| CoreError::BadDraft("the message could not be read as mail".into()))?;
    let to = m
        .to()
        .into_iter()
        .flat_map(|a| a.iter())
        .chain(m.cc().into_iter().flat_map(|a| a.iter()))
        .filter_map(|a| a.address.as_deref().map(str::to_ascii_lowercase))
        .collect();
    let text = m
        .body_text(0)
        .map(|t| t.replace("\r\n", "\n"))
        .unwrap_or_default();
    let attachments = m
        .attachments()
        .map(|a| Attachment {
            name: a.attachment_name().unwrap_or("attachment").to_owned(),
            content_type: a
                .content_type()
                .map(|c| match c.subtype() {
                    Some(s) => format!("{}/{}", c.ctype(), s),
                    None => c.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            data: a.contents().to_vec(),
        })
        .collect();
    Ok(ClientLetter {
        to,
        subject: m.subject().unwrap_or_default().to_owned(),
        text,
        message_id: m.message_id().map(str::to_owned),
        in_reply_to: ids(m.in_reply_to()).into_iter().next(),
        references: ids(m.references()),
        attachments,
    })
}
