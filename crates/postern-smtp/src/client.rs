//! Helpers for the sending side: reply parsing and DATA framing.

use crate::Reply;

/// Longest reply accepted from a peer (all lines together).
const MAX_REPLY: usize = 64 * 1024;

/// A peer sent something that is not an SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyParseError {
    /// Not `ddd[ -]text CRLF`.
    Malformed(String),
    /// Larger than any reply we accept.
    TooLong,
}

impl std::error::Error for ReplyParseError {}

impl std::fmt::Display for ReplyParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplyParseError::Malformed(l) => write!(f, "malformed SMTP reply line {l:?}"),
            ReplyParseError::TooLong => f.write_str("SMTP reply too long"),
        }
    }
}

/// Incremental parser of SMTP replies.
#[derive(Debug, Default)]
pub struct ReplyParser {
    buf: Vec<u8>,
    code: Option<u16>,
    lines: Vec<String>,
    size: usize,
}

fn split_enhanced(text: &str) -> (Option<String>, String) {
    let mut parts = text.splitn(2, ' ');
    let first = parts.next().unwrap_or("");
    let is_enhanced = {
        let p: Vec<&str> = first.split('.').collect();
        p.len() == 3
            && matches!(p[0], "2" | "4" | "5")
            && p.iter()
                .all(|x| !x.is_empty() && x.len() <= 3 && x.bytes().all(|b| b.is_ascii_digit()))
    };
    if is_enhanced {
        (
            Some(first.to_owned()),
            parts.next().unwrap_or("").to_owned(),
        )
    } else {
        (None, text.to_owned())
    }
}

impl ReplyParser {
    /// A new parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add bytes read from the peer.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete reply, if the buffered bytes hold one.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, ReplyParseError> {
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.buf.drain(..=pos).collect();
            self.size += raw.len();
            if self.size > MAX_REPLY {
                return Err(ReplyParseError::TooLong);
            }
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\r', '\n']);
            let bytes = line.as_bytes();
            if bytes.len() < 3 || !bytes[..3].iter().all(u8::is_ascii_digit) {
                return Err(ReplyParseError::Malformed(line.to_owned()));
            }
            let code: u16 = line[..3]
                .parse()
                .map_err(|_| ReplyParseError::Malformed(line.to_owned()))?;
            if !(200..600).contains(&code) {
                return Err(ReplyParseError::Malformed(line.to_owned()));
            }
            if self.code.is_some_and(|c| c != code) {
                return Err(ReplyParseError::Malformed(line.to_owned()));
            }
            self.code = Some(code);
            let (more, text) = match bytes.get(3) {
                None => (false, ""),
                Some(b' ') => (false, &line[4..]),
                Some(b'-') => (true, &line[4..]),
                Some(_) => return Err(ReplyParseError::Malformed(line.to_owned())),
            };
            self.lines.push(text.to_owned());
            if !more {
                let lines = std::mem::take(&mut self.lines);
                self.code = None;
                self.size = 0;
                // The enhanced code (if any) is taken from the first line and stripped from all.
                let (enhanced, _) = split_enhanced(&lines[0]);
                let lines = if enhanced.is_some() {
                    lines.iter().map(|l| split_enhanced(l).1).collect()
                } else {
                    lines
                };
                return Ok(Some(Reply {
                    code,
                    enhanced,
                    lines,
                }));
            }
        }
        if self.buf.len() > MAX_REPLY {
            return Err(ReplyParseError::TooLong);
        }
        Ok(None)
    }
}

/// A message as a DATA block: every line ending made CRLF, lines starting with `.` dot-stuffed,
/// and the terminating `.CRLF` appended.
pub fn data_block(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 50 + 8);
    let mut at_line_start = true;
    let mut i = 0;
    while i < message.len() {
        let b = message[i];
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        match b {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if message.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                at_line_start = true;
            }
            b'\n' => {
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            _ => {
                out.push(b);
                at_line_start = false;
            }
        }
        i += 1;
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_multiline_replies_split_anywhere() {
        let wire = b"220 host ESMTP Postern\r\n250-host\r\n250-PIPELINING\r\n250 SIZE 100\r\n550 5.1.1 No such recipient here\r\n";
        for split in 0..wire.len() {
            let mut p = ReplyParser::new();
            let mut got = Vec::new();
            for chunk in [&wire[..split], &wire[split..]] {
                p.feed(chunk);
                while let Some(r) = p.next_reply().expect("parse") {
                    got.push(r);
                }
            }
            assert_eq!(got.len(), 3, "split at {split}");
            assert_eq!(got[1].lines, vec!["host", "PIPELINING", "SIZE 100"]);
            assert_eq!(got[2].code, 550);
            assert_eq!(got[2].enhanced.as_deref(), Some("5.1.1"));
            assert_eq!(got[2].text(), "No such recipient here");
        }
    }

    #[test]
    fn rejects_garbage_replies() {
        for bad in [
            &b"hello\r\n"[..],
            b"999 x\r\n",
            b"250-a\r\n550 b\r\n",
            b"25\r\n",
            b"250x\r\n",
        ] {
            let mut p = ReplyParser::new();
            p.feed(bad);
            assert!(
                p.next_reply().is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut p = ReplyParser::new();
        p.feed(&vec![b'2'; MAX_REPLY + 1]);
        assert_eq!(p.next_reply(), Err(ReplyParseError::TooLong));
    }

    #[test]
    fn data_block_normalises_and_stuffs() {
        assert_eq!(
            data_block(b"a\nb\r\n.c\r.\n"),
            b"a\r\nb\r\n..c\r\n..\r\n.\r\n"
        );
        assert_eq!(data_block(b"x"), b"x\r\n.\r\n");
        assert_eq!(data_block(b""), b".\r\n");
    }
}
