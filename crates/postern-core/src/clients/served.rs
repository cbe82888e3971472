//! A message as a mail client is served it: the decrypted inner message, whose protected
//! headers are the real ones, with every header of the names we use for our verdict taken
//! out and our own put in. A sender cannot make a client show "verified".

use sha2::Digest;

use crate::mail::{DRAFTS, SENT};
use crate::{CoreError, Postern};

/// The verdict header (RFC 8601) and our own detail header; both are removed from what a
/// sender wrote before ours are added.
pub const VERDICT_HEADERS: &[&str] = &["authentication-results", "x-postern-verified"];

/// Postern's own control headers travel inside the encryption and mean nothing to a client.
fn ours_to_strip(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    VERDICT_HEADERS.contains(&n.as_str()) || n.starts_with("postern-") || n == "autocrypt"
}

/// The header without lines a client must not trust (and their continuations).
fn strip_headers(header: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len());
    let mut dropping = false;
    for line in header.split_inclusive(|b| *b == b'\n') {
        let continuation = line.starts_with(b" ") || line.starts_with(b"\t");
        if !continuation {
            let name = line.split(|b| *b == b':').next().unwrap_or_default();
            dropping = ours_to_strip(&String::from_utf8_lossy(name));
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Whether a message's header says it is PGP/MIME encrypted (`multipart/encrypted`).
fn for_holder(header: &[u8]) -> bool {
    let text = String::from_utf8_lossy(header).to_ascii_lowercase();
    let unfolded = text.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().any(|l| {
        l.strip_prefix("content-type:")
            .is_some_and(|v| v.trim_start().starts_with("multipart/encrypted"))
    })
}

fn split_header(msg: &[u8]) -> (&[u8], &[u8]) {
    match msg.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => (&msg[..p + 2], &msg[p + 4..]),
        None => (msg, &[][..]),
    }
}

/// What we say about a message.
struct Verdict {
    /// `pass` or `none` (RFC 8601 method result).
    result: &'static str,
    /// The `header.from` property or the comment.
    property: String,
    /// `X-Postern-Verified`: `contact`, `first_contact`, `own`, …
    detail: String,
    /// The line shown at the top of the text (none for our own mail).
    line: String,
    /// A boundary the message cannot contain.
    boundary: String,
}

impl Postern {
    /// Message `id` as served over IMAP; see the module documentation.
    pub fn served_message(&self, id: i64) -> Result<Vec<u8>, CoreError> {
        let m = self.record(id)?;
        let own = m.folder == SENT || m.folder == DRAFTS;
        let (result, line) = match m.verification.as_str() {
            _ if own => ("none", String::new()),
            "contact" => (
                "pass",
                format!(
                    "Postern: signed by {} and verified with the key in your address book.",
                    m.sender
                ),
            ),
            "first_contact" => (
                "pass",
                format!(
                    "Postern: signed by {} with the key bound to its onion address (first \
                     contact: not yet in your address book).",
                    m.sender
                ),
            ),
            crate::own_devices::VERIFIED_BY_OWN_DEVICE => (
                "pass",
                format!(
                    "Postern: signed by {}; verified by your other device that received it, \
                     which sent this copy.",
                    m.sender
                ),
            ),
            _ => ("none", format!("Postern: {} was not verified.", m.sender)),
        };
        let mime = self.mime_of(&m)?;
        // Content encrypted to a hosted account's holder is served as the PGP/MIME message it
        // is (their client decrypts it and checks the sender's signature inside): no line of
        // ours in front, only the headers.
        let line = if for_holder(split_header(&mime).0) {
            String::new()
        } else {
            line
        };
        // The same bytes at every fetch (clients cache by UID), and a boundary the message
        // cannot contain: it would have to contain its own hash.
        let digest = sha2::Sha256::digest(&mime);
        let verdict = Verdict {
            result,
            property: if own {
                " (your own mail)".to_owned()
            } else {
                format!(" header.from={}", m.sender)
            },
            detail: if own {
                "own".into()
            } else {
                m.verification.clone()
            },
            line,
            boundary: format!("postern-{}", data_encoding::HEXLOWER.encode(&digest[..12])),
        };
        Ok(serve(&mime, &verdict))
    }
}

fn serve(mime: &[u8], v: &Verdict) -> Vec<u8> {
    let (header, body) = split_header(mime);
    let header = strip_headers(header);
    let mut out = Vec::with_capacity(mime.len() + 512);
    out.extend_from_slice(
        format!(
            "Authentication-Results: postern; pgp={}{}\r\nX-Postern-Verified: {}\r\n",
            v.result, v.property, v.detail
        )
        .as_bytes(),
    );
    if v.line.is_empty() {
        out.extend_from_slice(&header);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        return out;
    }
    // The verdict as the first thing the reader sees: the message becomes the second part of a
    // multipart/mixed whose first part is that line.
    let boundary = &v.boundary;
    let mut content = Vec::new();
    let mut in_content = false;
    for l in header.split_inclusive(|b| *b == b'\n') {
        let continuation = l.starts_with(b" ") || l.starts_with(b"\t");
        if !continuation {
            let lower = l.to_ascii_lowercase();
            in_content = lower.starts_with(b"content-");
            if lower.starts_with(b"mime-version") {
                continue;
            }
        }
        if in_content {
            content.extend_from_slice(l);
        } else {
            out.extend_from_slice(l);
        }
    }
    out.extend_from_slice(
        format!(
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
             --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n{}\r\n--{boundary}\r\n",
            v.line
        )
        .as_bytes(),
    );
    if content.is_empty() {
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    }
    out.extend_from_slice(&content);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    if !body.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(line: &str) -> Verdict {
        Verdict {
            result: "pass",
            property: " header.from=a@b.onion".into(),
            detail: "contact".into(),
            line: line.into(),
            boundary: "postern-0011".into(),
        }
    }

    const FORGED: &[u8] = b"From: a@b.onion\r\nAuthentication-Results: postern; pgp=pass\r\n\x20header.from=bank@c.onion\r\nX-Postern-Verified: contact\r\nx-postern-verified:\r\n \
        folded\r\nPostern-Introduce: x\r\nAutocrypt: addr=a; keydata=AAAA\r\nSubject: hi\r\n\
        MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
        Authentication-Results: in the body stays\r\n";

    fn header_lines(msg: &[u8]) -> Vec<String> {
        let (h, _) = split_header(msg);
        String::from_utf8_lossy(h)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_sender_cannot_forge_the_verdict() {
        for line in ["", "Postern: signed by a@b.onion and verified."] {
            let out = serve(FORGED, &verdict(line));
            let lines = header_lines(&out);
            let ours: Vec<_> = lines
                .iter()
                .filter(|l| l.to_ascii_lowercase().starts_with("authentication-results"))
                .collect();
            assert_eq!(
                ours,
                ["Authentication-Results: postern; pgp=pass header.from=a@b.onion"]
            );
            let detail: Vec<_> = lines
                .iter()
                .filter(|l| l.to_ascii_lowercase().starts_with("x-postern"))
                .collect();
            assert_eq!(detail, ["X-Postern-Verified: contact"]);
            let text = String::from_utf8_lossy(&out);
            assert!(!text.contains("bank@c.onion"), "{text}");
            assert!(!text.contains("folded"), "{text}");
            assert!(!text.contains("Postern-Introduce"), "{text}");
            assert!(!text.contains("keydata"), "{text}");
            assert!(text.contains("Subject: hi"), "{text}");
            assert!(text.contains("in the body stays"), "{text}");
        }
    }

    #[test]
    fn pgp_mime_for_a_holder_is_recognised_even_folded() {
        assert!(for_holder(
            b"From: a@b.onion\r\nContent-Type:\r\n multipart/encrypted; protocol=x\r\n"
        ));
        assert!(for_holder(b"content-type: Multipart/Encrypted\r\n"));
        assert!(!for_holder(FORGED));
        assert!(!for_holder(
            b"Subject: Content-Type: multipart/encrypted\r\nContent-Type: text/plain\r\n"
        ));
    }

    #[test]
    fn the_verdict_line_comes_first_and_the_message_parses() {
        let out = serve(FORGED, &verdict("Postern: signed by a@b.onion."));
        let m = mail_parser::MessageParser::default()
            .parse(&out)
            .expect("parses");
        assert_eq!(m.subject(), Some("hi"));
        assert_eq!(
            m.body_text(0).as_deref(),
            Some("Postern: signed by a@b.onion.")
        );
        assert!(m
            .body_text(1)
            .is_some_and(|t| t.contains("in the body stays")));
        assert_eq!(m.parts.len(), 3, "{}", String::from_utf8_lossy(&out));
    }
}
