//! The text of a `device-flags` message between a person's own devices (docs/protocol.md §18):
//! one line per message, `<Message-ID> sender ±name…` — the message by its Message-ID and its
//! sender's address (as duplicates are told apart), then only the flags that changed, each at
//! most once, `+` set and `-` cleared (`seen`, `answered`, `flagged`, `deleted`). Any malformed
//! line refuses the whole text.

/// Most messages one flags text names.
pub const MAX_LINES: usize = 512;
/// Longest Message-ID or sender taken (an RFC 5322 line).
const MAX_WORD: usize = 998;

/// What changed in one message's flags, as one device tells another (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagLine {
    /// The message's Message-ID, without angle brackets.
    pub message_id: String,
    /// Its sender's address.
    pub sender: String,
    /// Read.
    pub seen: Option<bool>,
    /// Answered.
    pub answered: Option<bool>,
    /// Starred.
    pub flagged: Option<bool>,
    /// Marked for removal.
    pub deleted: Option<bool>,
}

/// Why a flags text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagsError {
    /// More than [`MAX_LINES`] lines.
    #[error("too many messages in one flags message")]
    TooMany,
    /// A line that does not start with `<Message-ID> sender`.
    #[error("a flags line must start with a <Message-ID> and the sender's address")]
    NoMessage,
    /// A word that is not `+name` or `-name` of a known flag.
    #[error("a flag is written +name or -name, with name seen, answered, flagged or deleted")]
    BadFlag,
    /// A flag named twice, or none.
    #[error("a flags line names at least one flag, each once")]
    Repeated,
}

fn word_ok(w: &str) -> bool {
    !w.is_empty()
        && w.len() <= MAX_WORD
        && !w.contains(['<', '>'])
        && !w.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl FlagLine {
    /// The line, without its line break; `None` if the Message-ID or sender cannot be written in
    /// it (spaces, angle brackets, controls, too long) or no flag changed.
    pub fn to_line(&self) -> Option<String> {
        if !word_ok(&self.message_id) || !word_ok(&self.sender) {
            return None;
        }
        let mut line = format!("<{}> {}", self.message_id, self.sender);
        let mut any = false;
        for (name, v) in [
            ("seen", self.seen),
            ("answered", self.answered),
            ("flagged", self.flagged),
            ("deleted", self.deleted),
        ] {
            if let Some(on) = v {
                line.push(' ');
                line.push(if on { '+' } else { '-' });
                line.push_str(name);
                any = true;
            }
        }
        any.then_some(line)
    }
}

/// Read a flags text (blank lines and surrounding space ignored).
pub fn parse(text: &str) -> Result<Vec<FlagLine>, FlagsError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if out.len() == MAX_LINES {
            return Err(FlagsError::TooMany);
        }
        let mut words = line.split_ascii_whitespace();
        let id = words
            .next()
            .and_then(|w| w.strip_prefix('<'))
            .and_then(|w| w.strip_suffix('>'))
            .filter(|w| word_ok(w))
            .ok_or(FlagsError::NoMessage)?;
        let sender = words
            .next()
            .filter(|w| word_ok(w))
            .ok_or(FlagsError::NoMessage)?;
        let mut f = FlagLine {
            message_id: id.to_owned(),
            sender: sender.to_owned(),
            ..FlagLine::default()
        };
        for w in words {
            let (on, name) = match w.split_at_checked(1) {
                Some(("+", n)) => (true, n),
                Some(("-", n)) => (false, n),
                _ => return Err(FlagsError::BadFlag),
            };
            let slot = match name {
                "seen" => &mut f.seen,
                "answered" => &mut f.answered,
                "flagged" => &mut f.flagged,
                "deleted" => &mut f.deleted,
                _ => return Err(FlagsError::BadFlag),
            };
            if slot.is_some() {
                return Err(FlagsError::Repeated);
            }
            *slot = Some(on);
        }
        if [f.seen, f.answered, f.flagged, f.deleted]
            .iter()
            .all(Option::is_none)
        {
            return Err(FlagsError::Repeated);
        }
        out.push(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, seen: Option<bool>, flagged: Option<bool>) -> FlagLine {
        FlagLine {
            message_id: id.into(),
            sender: "carol@c.onion".into(),
            seen,
            flagged,
            ..FlagLine::default()
        }
    }

    #[test]
    fn lines_round_trip_with_only_what_changed() {
        let a = line("a.b@c.onion", Some(true), Some(false));
        let b = line("x@y", None, Some(true));
        let (la, lb) = (a.to_line().expect("a"), b.to_line().expect("b"));
        assert_eq!(lb, "<x@y> carol@c.onion +flagged");
        let text = format!("{la}\r\n\r\n  {lb}  \n");
        assert_eq!(parse(&text), Ok(vec![a, b]));
        assert_eq!(parse(""), Ok(vec![]));
    }

    #[test]
    fn what_cannot_be_written_is_not() {
        assert_eq!(line("a@b", None, None).to_line(), None);
        for id in ["", "a b", "a>b", "a<b", "a\u{7}b"] {
            assert_eq!(line(id, Some(true), None).to_line(), None, "{id:?}");
        }
        assert_eq!(line(&"x".repeat(999), Some(true), None).to_line(), None);
        let mut no_sender = line("a@b", Some(true), None);
        no_sender.sender = "c d".into();
        assert_eq!(no_sender.to_line(), None);
    }

    #[test]
    fn malformed_lines_are_refused() {
        for (bad, why) in [
            ("a@b c@d +seen", FlagsError::NoMessage),
            ("<> c@d +seen", FlagsError::NoMessage),
            ("<a<b> c@d +seen", FlagsError::NoMessage),
            ("<a@b>", FlagsError::NoMessage),
            ("<a@b> c@d", FlagsError::Repeated),
            ("<a@b> c@d +seen -seen", FlagsError::Repeated),
            ("<a@b> c@d +seen +recent", FlagsError::BadFlag),
            ("<a@b> c@d seen", FlagsError::BadFlag),
            ("<a@b> c@d *deleted", FlagsError::BadFlag),
            ("<a@b> c@d é", FlagsError::BadFlag),
        ] {
            assert_eq!(parse(bad), Err(why), "{bad}");
        }
        let one = "<a@b> c@d +seen\n";
        assert_eq!(parse(&one.repeat(MAX_LINES + 1)), Err(FlagsError::TooMany));
        assert_eq!(
            parse(&one.repeat(MAX_LINES)).map(|v| v.len()),
            Ok(MAX_LINES)
        );
    }
}
