//! A list post's content (`docs/protocol.md` §15): a small MIME message with the subject and
//! the text, and one `Postern-Attachment` header per attachment naming it — its hash (as in
//! the signed post's blob references), its content type and its file name (base64url, so any
//! name survives a header). The attachments themselves are blobs, fetched by hash.
//!
//! Everything here reads an author's bytes: a header that names no blob of the post is
//! ignored, a name is made safe, a content type that is not one becomes
//! `application/octet-stream`.

use data_encoding::BASE64URL_NOPAD;
use postern_list::BlobRef;
use serde::Serialize;

use crate::mail::reading::safe_file_name;

const ATTACHMENT_HEADER: &str = "Postern-Attachment";
const OCTET_STREAM: &str = "application/octet-stream";

/// An attachment of a list post.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ListAttachmentView {
    /// SHA-256 of the content, hex.
    pub hash: String,
    pub name: String,
    pub content_type: String,
    /// Bytes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: u64,
    /// Whether this member holds it yet (it follows the post from a neighbour).
    pub held: bool,
    /// Larger than a list carries (`MAX_LIST_ATTACHMENT`, posted by another client): it is
    /// never fetched.
    pub too_large: bool,
}

/// What an attachment is called in a post: name and content type, by hash.
pub(crate) struct Named<'a> {
    pub hash: [u8; 32],
    pub name: &'a str,
    pub content_type: &'a str,
}

/// A post's content.
pub(crate) fn build(subject: &str, text: &str, attachments: &[Named<'_>]) -> Vec<u8> {
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    let text = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let mut head = format!(
        "Subject: {}\r\nMIME-Version: 1.0\r\n",
        header_safe(&subject)
    );
    for a in attachments {
        let content_type = if is_content_type(a.content_type) {
            a.content_type
        } else {
            OCTET_STREAM
        };
        head.push_str(&format!(
            "{ATTACHMENT_HEADER}: {} {} {}\r\n",
            hex(&a.hash),
            content_type,
            BASE64URL_NOPAD.encode(a.name.as_bytes())
        ));
    }
    format!(
        "{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}"
    )
    .into_bytes()
}

/// A subject as a header value: non-ASCII as an RFC 2047 word.
fn header_safe(subject: &str) -> String {
    if subject.is_ascii() {
        subject.to_owned()
    } else {
        format!(
            "=?utf-8?b?{}?=",
            data_encoding::BASE64.encode(subject.as_bytes())
        )
    }
}

/// A post's subject, text and attachments (those of `blobs`, the post's signed references, in
/// their order; `held` tells whether this member has one).
pub(crate) fn read(
    bytes: &[u8],
    blobs: &[BlobRef],
    held: impl Fn(&[u8; 32]) -> bool,
) -> (String, String, Vec<ListAttachmentView>) {
    let parsed = mail_parser::MessageParser::default().parse(bytes);
    let (subject, text) = match &parsed {
        Some(m) => (
            m.subject().unwrap_or_default().to_owned(),
            m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        ),
        None => (String::new(), String::from_utf8_lossy(bytes).into_owned()),
    };
    let named: Vec<(String, String, String)> = parsed
        .as_ref()
        .map(|m| {
            m.headers()
                .iter()
                .filter(|h| h.name().eq_ignore_ascii_case(ATTACHMENT_HEADER))
                .filter_map(|h| h.value().as_text())
                .filter_map(|v| {
                    let mut f = v.split_whitespace();
                    let (hash, ct, name) = (f.next()?, f.next()?, f.next().unwrap_or(""));
                    Some((hash.to_ascii_lowercase(), ct.to_owned(), name.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let attachments = blobs
        .iter()
        .map(|b| {
            let hash = hex(&b.hash.0);
            let found = named.iter().find(|(h, _, _)| *h == hash);
            let name = found
                .and_then(|(_, _, n)| BASE64URL_NOPAD.decode(n.as_bytes()).ok())
                .map(|n| {
                    String::from_utf8_lossy(&n)
                        .chars()
                        .take(255)
                        .collect::<String>()
                })
                .unwrap_or_default();
            let content_type = found
                .map(|(_, ct, _)| ct.as_str())
                .filter(|ct| is_content_type(ct))
                .unwrap_or(OCTET_STREAM)
                .to_ascii_lowercase();
            ListAttachmentView {
                hash,
                name: safe_file_name(&name),
                content_type,
                size: b.len,
                held: held(&b.hash.0),
                too_large: b.len > super::MAX_LIST_ATTACHMENT as u64,
            }
        })
        .collect();
    (subject, text, attachments)
}

/// `type/subtype` of RFC 2045 token characters, short.
fn is_content_type(s: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&c))
    };
    s.len() <= 127 && s.split_once('/').is_some_and(|(a, b)| token(a) && token(b))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use postern_list::BlobHash;

    fn blob(data: &[u8]) -> BlobRef {
        BlobRef {
            hash: BlobHash::of(data),
            len: data.len() as u64,
        }
    }

    #[test]
    fn names_and_types_round_trip_and_only_the_posts_blobs_count() {
        let (a, b) = (blob(b"first"), blob(b"second"));
        let bytes = build(
            "Files",
            "Two files.\n",
            &[
                Named {
                    hash: a.hash.0,
                    name: "Report ü 2026.pdf",
                    content_type: "application/pdf",
                },
                Named {
                    hash: b.hash.0,
                    name: "../../.bashrc",
                    content_type: "text/plain; evil=\"yes\"",
                },
                Named {
                    hash: [9; 32],
                    name: "not in the post",
                    content_type: "text/plain",
                },
            ],
        );
        let (subject, text, atts) = read(&bytes, &[a, b], |h| *h == a.hash.0);
        assert_eq!(subject, "Files");
        assert_eq!(text.replace("\r\n", "\n"), "Two files.\n");
        assert_eq!(atts.len(), 2, "only the post's own blobs: {atts:?}");
        assert_eq!(atts[0].name, "Report ü 2026.pdf");
        assert_eq!(atts[0].content_type, "application/pdf");
        assert_eq!((atts[0].size, atts[0].held), (5, true));
        assert_eq!(
            atts[1].name, "bashrc",
            "a path and a leading dot are dropped"
        );
        assert_eq!(atts[1].content_type, OCTET_STREAM);
        assert!(!atts[1].held);
        assert!(!atts[0].too_large && !atts[1].too_large);
        // One larger than a list carries (another client posted it) says it is not fetched.
        let huge = BlobRef {
            hash: BlobHash([3; 32]),
            len: crate::MAX_LIST_ATTACHMENT as u64 + 1,
        };
        let (_, _, atts) = read(b"Subject: s\r\n\r\nbig", &[huge], |_| false);
        assert!(atts[0].too_large && !atts[0].held);
    }

    #[test]
    fn a_blob_without_a_header_or_with_a_bad_one_still_shows() {
        let a = blob(b"x");
        let forged = format!(
            "Subject: s\r\nPostern-Attachment: {} \u{1b}[31m/x %%%\r\n\r\nt",
            hex(&a.hash.0)
        );
        let (_, _, atts) = read(forged.as_bytes(), std::slice::from_ref(&a), |_| false);
        assert_eq!(atts.len(), 1);
        assert_eq!(atts[0].content_type, OCTET_STREAM);
        assert!(!atts[0].name.chars().any(char::is_control));
        let (_, _, atts) = read(b"Subject: s\r\n\r\nno header", &[a], |_| false);
        assert_eq!(atts.len(), 1);
        assert!(!atts[0].name.is_empty(), "a name is never empty");
    }
}
