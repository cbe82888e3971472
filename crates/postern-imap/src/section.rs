//! Parts of a message as `BODY[…]` names them, and its `ENVELOPE`. Parsing is mail-parser's.

use imap_next::imap_types::core::{AString, IString, NString};
use imap_next::imap_types::envelope::{Address, Envelope};
use imap_next::imap_types::fetch::{Part, Section};
use mail_parser::{Message, MessageParser, PartType};

/// Where the header ends: just after its blank line (or the whole message if there is none).
pub fn header_end(msg: &[u8]) -> usize {
    msg.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| msg.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
        .unwrap_or(msg.len())
}

/// Header lines (each with its continuation lines) whose name is (or, with `not`, is not)
/// in `names`, followed by the blank line.
fn header_fields(header: &[u8], names: &[AString<'_>], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|b| *b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name = line.split(|b| *b == b':').next().unwrap_or_default();
            let listed = names
                .iter()
                .any(|n| n.as_ref().eq_ignore_ascii_case(name.trim_ascii()));
            keep = listed != not;
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn parse(msg: &[u8]) -> Option<Message<'_>> {
    MessageParser::default().parse(msg)
}

/// The part a part number names: `(header start, body start, end)` in `msg`.
fn locate(msg: &[u8], part: &Part) -> Option<(usize, usize, usize)> {
    let parsed = parse(msg)?;
    let mut cur = parsed.parts.first()?;
    for (depth, n) in part.0.as_ref().iter().enumerate() {
        let n = n.get() as usize;
        match &cur.body {
            PartType::Multipart(children) => {
                let id = *children.get(n - 1)?;
                cur = parsed.parts.get(id as usize)?;
            }
            // A single-part message's part 1 is its body.
            _ if depth == 0 && n == 1 => {}
            _ => return None,
        }
    }
    Some((
        cur.offset_header as usize,
        cur.offset_body as usize,
        cur.offset_end as usize,
    ))
}

/// The bytes `BODY[section]` names; an absent part is empty (as Dovecot answers).
pub(crate) fn section_bytes(msg: &[u8], section: Option<&Section<'_>>) -> Vec<u8> {
    let end = header_end(msg);
    let slice = |a: usize, b: usize| msg.get(a..b).unwrap_or_default().to_vec();
    match section {
        None => msg.to_vec(),
        Some(Section::Header(None)) => slice(0, end),
        Some(Section::HeaderFields(None, names)) => {
            header_fields(&msg[..end], names.as_ref(), false)
        }
        Some(Section::HeaderFieldsNot(None, names)) => {
            header_fields(&msg[..end], names.as_ref(), true)
        }
        Some(Section::Text(None)) => slice(end, msg.len()),
        Some(Section::Part(part)) => match locate(msg, part) {
            Some((_, body, stop)) => slice(body, stop),
            None => Vec::new(),
        },
        Some(Section::Mime(part)) => match locate(msg, part) {
            Some((head, body, _)) => slice(head, body),
            None => Vec::new(),
        },
        // Header and text of an attached message: rare; answered empty.
        Some(_) => Vec::new(),
    }
}

/// Bytes as an IMAP string (quoted when it can be, else a literal; NUL cannot travel).
pub(crate) fn nstring(bytes: Vec<u8>) -> NString<'static> {
    let bytes = if bytes.contains(&0) {
        bytes
            .into_iter()
            .map(|b| if b == 0 { b' ' } else { b })
            .collect()
    } else {
        bytes
    };
    NString(IString::try_from(bytes).ok())
}

fn nstr(s: Option<&str>) -> NString<'static> {
    match s {
        Some(s) => nstring(s.trim().as_bytes().to_vec()),
        None => NString(None),
    }
}

fn addresses(a: Option<&mail_parser::Address<'_>>) -> Vec<Address<'static>> {
    let Some(a) = a else { return Vec::new() };
    a.iter()
        .map(|addr| {
            let full = addr.address.as_deref().unwrap_or_default();
            let (local, host) = full.rsplit_once('@').unwrap_or((full, ""));
            Address {
                name: nstr(addr.name.as_deref()),
                adl: NString(None),
                mailbox: nstr(Some(local)),
                host: nstr(Some(host)),
            }
        })
        .collect()
}

/// The message's ENVELOPE.
pub(crate) fn envelope(msg: &[u8]) -> Envelope<'static> {
    let head = &msg[..header_end(msg)];
    let parsed = MessageParser::default().parse_headers(head);
    let Some(m) = parsed else {
        return Envelope {
            date: NString(None),
            subject: NString(None),
            from: Vec::new(),
            sender: Vec::new(),
            reply_to: Vec::new(),
            to: Vec::new(),
            cc: Vec::new(),
            bcc: Vec::new(),
            in_reply_to: NString(None),
            message_id: NString(None),
        };
    };
    let from = addresses(m.from());
    let sender = match m.sender() {
        Some(s) => addresses(Some(s)),
        None => from.clone(),
    };
    let reply_to = match m.reply_to() {
        Some(r) => addresses(Some(r)),
        None => from.clone(),
    };
    Envelope {
        date: nstr(m.header_raw("Date")),
        subject: nstr(m.header_raw("Subject")),
        from,
        sender,
        reply_to,
        to: addresses(m.to()),
        cc: addresses(m.cc()),
        bcc: addresses(m.bcc()),
        in_reply_to: nstr(m.header_raw("In-Reply-To")),
        message_id: nstr(m.header_raw("Message-ID")),
    }
}

/// The headers mail-parser reads, for SEARCH: (name, decoded text).
pub(crate) fn header_text(msg: &[u8], name: &str) -> String {
    let head = &msg[..header_end(msg)];
    let Some(m) = MessageParser::default().parse_headers(head) else {
        return String::new();
    };
    let lower = name.to_ascii_lowercase();
    let addr = |a: Option<&mail_parser::Address<'_>>| {
        a.map(|a| {
            a.iter()
                .map(|x| {
                    format!(
                        "{} <{}>",
                        x.name.as_deref().unwrap_or_default(),
                        x.address.as_deref().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
    };
    match lower.as_str() {
        "subject" => m.subject().unwrap_or_default().to_owned(),
        "from" => addr(m.from()),
        "to" => addr(m.to()),
        "cc" => addr(m.cc()),
        "bcc" => addr(m.bcc()),
        _ => m.header_raw(name).unwrap_or_default().trim().to_owned(),
    }
}

/// The Date header as Unix seconds.
pub(crate) fn sent_date(msg: &[u8]) -> Option<i64> {
    let head = &msg[..header_end(msg)];
    MessageParser::default()
        .parse_headers(head)?
        .date()
        .map(|d| d.to_timestamp())
}
