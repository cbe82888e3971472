//! A message and its cargo kept apart (seed 004): the attachments of a decrypted message are
//! taken out, to be stored once by their content hash, and the message keeps one line per
//! attachment naming that content. Putting them back gives an equivalent MIME message (the
//! attachments' base64 re-wrapped at 76 columns).
//!
//! Only attachment parts encoded in base64 directly inside the message are taken out (what
//! Postern and GnuPG's mail tools send); anything else stays where it is.

use data_encoding::BASE64;
use mail_parser::{Encoding, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::MimeError;

/// The line that stands in for an attachment's body.
const PLACEHOLDER: &[u8] = b"Postern-Cargo-SHA256: ";

/// An attachment taken out of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cargo {
    /// SHA-256 of its content.
    pub hash: [u8; 32],
    /// Its file name, as the message gives it.
    pub name: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its content.
    pub data: Vec<u8>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// `inner` with its attachments taken out, and the attachments. A message that already holds
/// the placeholder text is kept whole: nothing a sender writes can stand for stored content.
pub fn take_out(inner: &[u8]) -> Result<(Vec<u8>, Vec<Cargo>), MimeError> {
    if find(inner, PLACEHOLDER).is_some() {
        return Ok((inner.to_vec(), Vec::new()));
    }
    let msg = MessageParser::default()
        .parse(inner)
        .ok_or_else(|| MimeError::Malformed("the decrypted message is not MIME".into()))?;
    let mut cuts = Vec::new();
    for (i, part) in msg.parts.iter().enumerate() {
        let attached = msg.attachments.contains(&(i as u32));
        let binary = matches!(part.body, PartType::Binary(_) | PartType::InlineBinary(_));
        let text_attachment = matches!(part.body, PartType::Text(_) | PartType::Html(_));
        if !attached || !(binary || text_attachment) || part.encoding != Encoding::Base64 {
            continue;
        }
        let (start, end) = (part.offset_body as usize, part.offset_end as usize);
        if start >= end || end > inner.len() {
            continue;
        }
        // The bytes the base64 body encodes, decoded here and strictly: what the parser hands
        // out for a text part is converted from its charset (and lenient decoding may have
        // dropped bytes), which put back would not be the part the message had. A body that is
        // not clean base64 stays where it is.
        let compact: Vec<u8> = inner[start..end]
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let Ok(data) = BASE64.decode(&compact) else {
            continue;
        };
        // Nothing to store once (and an empty body would not read back as an attachment).
        if data.is_empty() {
            continue;
        }
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(s) => format!("{}/{}", c.ctype(), s),
                None => c.ctype().to_owned(),
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        let hash: [u8; 32] = Sha256::digest(&data).into();
        cuts.push((
            start,
            end,
            Cargo {
                hash,
                name: part.attachment_name().unwrap_or("attachment").to_owned(),
                content_type,
                data,
            },
        ));
    }
    cuts.sort_by_key(|c| c.0);
    let mut skeleton = Vec::with_capacity(inner.len().min(64 * 1024));
    let mut at = 0;
    let mut cargo = Vec::with_capacity(cuts.len());
    for (start, end, c) in cuts {
        if start < at {
            continue;
        }
        skeleton.extend_from_slice(&inner[at..start]);
        skeleton.extend_from_slice(PLACEHOLDER);
        skeleton.extend_from_slice(hex(&c.hash).as_bytes());
        // Keep the line ending the body had before the next boundary.
        let body = &inner[start..end];
        if body.ends_with(b"\r\n") {
            skeleton.extend_from_slice(b"\r\n");
        } else if body.ends_with(b"\n") {
            skeleton.extend_from_slice(b"\n");
        }
        at = end;
        cargo.push(c);
    }
    skeleton.extend_from_slice(&inner[at..]);
    Ok((skeleton, cargo))
}

/// The hashes a message with its attachments taken out refers to, in order.
pub fn cargo_hashes(skeleton: &[u8]) -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    let mut rest = skeleton;
    while let Some(pos) = find(rest, PLACEHOLDER) {
        let after = &rest[pos + PLACEHOLDER.len()..];
        if let Some(h) = after.get(..64).and_then(unhex) {
            out.push(h);
        }
        rest = &after[after.len().min(64)..];
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Put the attachments back: `content` gives each one's bytes by hash (`None`: it is gone,
/// and the part stays empty).
pub fn put_back(skeleton: &[u8], mut content: impl FnMut(&[u8; 32]) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(skeleton.len());
    let mut rest = skeleton;
    while let Some(pos) = find(rest, PLACEHOLDER) {
        out.extend_from_slice(&rest[..pos]);
        let after = &rest[pos + PLACEHOLDER.len()..];
        let Some(hash) = after.get(..64).and_then(unhex) else {
            out.extend_from_slice(PLACEHOLDER);
            rest = after;
            continue;
        };
        if let Some(data) = content(&hash) {
            let encoded = BASE64.encode(&data);
            let mut lines = encoded.as_bytes().chunks(76).peekable();
            while let Some(line) = lines.next() {
                out.extend_from_slice(line);
                if lines.peek().is_some() {
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
        rest = &after[64..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(attachments: &[(&str, &[u8])]) -> Vec<u8> {
        let mut m = b"From: a@b.onion\r\nTo: c@d.onion\r\nSubject: s\r\nMessage-ID: <x@y>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nHello there.\r\n"
            .to_vec();
        for (name, data) in attachments {
            m.extend_from_slice(
                format!(
                    "--B\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                )
                .as_bytes(),
            );
            let enc = BASE64.encode(data);
            for line in enc.as_bytes().chunks(60) {
                m.extend_from_slice(line);
                m.extend_from_slice(b"\r\n");
            }
        }
        m.extend_from_slice(b"--B--\r\n");
        m
    }

    #[test]
    fn a_text_attachment_in_another_charset_keeps_its_bytes() {
        // Latin-1 "café" as an attachment: stored as the bytes the message carried, not as
        // the parser's UTF-8 rendering of them, and put back the same.
        let latin1 = b"caf\xe9\r\n";
        let m = format!(
            "From: a@b.onion\r\nTo: c@d.onion\r\nSubject: s\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nHi\r\n\
--B\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
Content-Disposition: attachment; filename=\"menu.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
{}\r\n--B--\r\n",
            BASE64.encode(latin1)
        );
        let (skeleton, cargo) = take_out(m.as_bytes()).expect("take out");
        assert_eq!(cargo.len(), 1);
        assert_eq!(cargo[0].data, latin1);
        let back = put_back(&skeleton, |_| Some(cargo[0].data.clone()));
        let (_, again) = take_out(&back).expect("again");
        assert_eq!(again, cargo);
    }

    #[test]
    fn a_body_that_is_not_clean_base64_stays_in_place() {
        let mut m = message(&[("a.bin", b"0123456789")]);
        let at = find(&m, b"MDEy").expect("body");
        m.splice(at..at, b"!!\r\n\r\n".iter().copied());
        let (skeleton, cargo) = take_out(&m).expect("take out");
        assert!(cargo.is_empty());
        assert_eq!(skeleton, m);
    }

    #[test]
    fn attachments_come_out_and_go_back_in() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let m = message(&[("a.bin", &big), ("b.txt", b"small")]);
        let (skeleton, cargo) = take_out(&m).expect("take out");
        assert_eq!(cargo.len(), 2);
        assert_eq!(cargo[0].data, big);
        assert_eq!(cargo[0].name, "a.bin");
        assert_eq!(cargo[1].data, b"small");
        assert!(skeleton.len() < 1200, "{} bytes", skeleton.len());
        assert_eq!(cargo_hashes(&skeleton), vec![cargo[0].hash, cargo[1].hash]);
        let back = put_back(&skeleton, |h| {
            cargo.iter().find(|c| &c.hash == h).map(|c| c.data.clone())
        });
        let letter = crate::Letter::parse(&back).expect("parse");
        assert_eq!(letter.text.trim_end(), "Hello there.");
        assert_eq!(letter.attachments.len(), 2);
        assert_eq!(letter.attachments[0].data, big);
        assert_eq!(letter.attachments[1].name, "b.txt");
        // Putting back is the same every time (an IMAP client sees one message).
        assert_eq!(
            back,
            put_back(&skeleton, |h| cargo
                .iter()
                .find(|c| &c.hash == h)
                .map(|c| c.data.clone()))
        );
    }

    #[test]
    fn a_sender_cannot_write_the_placeholder() {
        let mut m = message(&[("a.bin", b"data")]);
        let at = m.windows(5).position(|w| w == b"Hello").expect("text");
        let fake = format!("Postern-Cargo-SHA256: {}\r\n", "ab".repeat(32));
        m.splice(at..at, fake.bytes());
        let (skeleton, cargo) = take_out(&m).expect("take out");
        assert!(cargo.is_empty());
        assert_eq!(skeleton, m);
    }

    #[test]
    fn an_empty_attachment_stays_where_it_is() {
        // Found by fuzzing: taken out, it came back as no attachment at all.
        let m = message(&[("empty.bin", b""), ("b.txt", b"small")]);
        let (skeleton, cargo) = take_out(&m).expect("take out");
        assert_eq!(cargo.len(), 1);
        assert_eq!(cargo[0].name, "b.txt");
        let back = put_back(&skeleton, |h| {
            cargo.iter().find(|c| &c.hash == h).map(|c| c.data.clone())
        });
        let (_, again) = take_out(&back).expect("again");
        assert_eq!(again, cargo);
    }

    #[test]
    fn a_message_without_attachments_is_unchanged() {
        let m = message(&[]);
        let (skeleton, cargo) = take_out(&m).expect("take out");
        assert!(cargo.is_empty());
        assert_eq!(skeleton, m);
        assert_eq!(put_back(&skeleton, |_| None), m);
    }
}
