//! SMTP replies.

use std::fmt;

/// One SMTP reply: a code, an optional enhanced status code, and one or more lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Three-digit code.
    pub code: u16,
    /// Enhanced status code (RFC 3463), e.g. `2.0.0`.
    pub enhanced: Option<String>,
    /// Text lines (at least one).
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply.
    pub fn new(code: u16, enhanced: &str, text: impl Into<String>) -> Self {
        Reply {
            code,
            enhanced: (!enhanced.is_empty()).then(|| enhanced.to_owned()),
            lines: vec![text.into()],
        }
    }

    /// A multi-line reply (no enhanced code; used for EHLO and CARD).
    pub fn multiline(code: u16, lines: Vec<String>) -> Self {
        Reply {
            code,
            enhanced: None,
            lines,
        }
    }

    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5xx: do not retry.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// Wire form, every line CRLF-terminated.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let n = self.lines.len().max(1);
        for i in 0..n {
            let sep = if i + 1 == n { ' ' } else { '-' };
            let text = self.lines.get(i).map(String::as_str).unwrap_or("");
            match (&self.enhanced, i) {
                (Some(e), _) => {
                    out.extend_from_slice(format!("{}{sep}{e} {text}\r\n", self.code).as_bytes())
                }
                (None, _) => {
                    out.extend_from_slice(format!("{}{sep}{text}\r\n", self.code).as_bytes())
                }
            }
        }
        out
    }

    /// The text of all lines joined with a space (for showing to people).
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.enhanced {
            Some(e) => write!(f, "{} {e} {}", self.code, self.text()),
            None => write!(f, "{} {}", self.code, self.text()),
        }
    }
}
