//! The receiving side of one SMTP connection, as a state machine.

use smtp_proto::Request;

use crate::session_types::{
    CarryClaim, Envelope, Event, ServerConfig, SessionKind, CONTROL_VERBS, MAX_CARD_REQUESTS,
    MAX_COMMAND_LINE, MAX_TEXT_LINE,
};
use crate::Reply;

#[derive(Debug, Default)]
struct DataState {
    buf: Vec<u8>,
    size: usize,
    too_big: bool,
    long_line: bool,
    nul: bool,
}

#[derive(Debug)]
enum State {
    Pregreet,
    Command,
    Data(DataState),
    AwaitMessage,
    AwaitCard,
    AwaitControl,
    /// `AUTH PLAIN` without an initial response: the next line is the response.
    AuthLine,
    AwaitAuth,
    AwaitRecipient,
    AwaitTls,
    Closed,
}

/// One SMTP server session.
#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    state: State,
    inbuf: Vec<u8>,
    /// Discarding the rest of an over-long line.
    discarding: bool,
    helo: bool,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    carry: Option<CarryClaim>,
    errors: usize,
    commands: usize,
    cards: usize,
    /// Submission: the address the client logged in as.
    user: Option<String>,
    /// Public: TLS is on.
    tls: bool,
    /// Public: the recipient waiting for the driver's verdict.
    pending_rcpt: Option<String>,
}

fn reply(code: u16, enhanced: &str, text: &str) -> Event {
    Event::Reply(Reply::new(code, enhanced, text))
}

/// An ordinary mailbox as a public server takes it from `MAIL FROM`: `local@domain`, printable
/// ASCII without spaces, at most 254 octets (RFC 5321 §4.5.3.1.3).
fn is_plain_address(addr: &str) -> bool {
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return false;
    };
    addr.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.is_empty()
        && addr.chars().all(|c| c.is_ascii_graphic())
}

fn is_address_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

impl ServerSession {
    /// A new session. Nothing is sent until `greet`.
    pub fn new(config: ServerConfig) -> Self {
        ServerSession {
            config,
            state: State::Pregreet,
            inbuf: Vec::new(),
            discarding: false,
            helo: false,
            mail_from: None,
            rcpt_to: Vec::new(),
            carry: None,
            errors: 0,
            commands: 0,
            cards: 0,
            user: None,
            tls: false,
            pending_rcpt: None,
        }
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Whether the session waits for `delivered` or `card` (the driver should not read).
    pub fn is_waiting(&self) -> bool {
        matches!(
            self.state,
            State::AwaitMessage
                | State::AwaitCard
                | State::AwaitControl
                | State::AwaitAuth
                | State::AwaitRecipient
                | State::AwaitTls
        )
    }

    /// Send the greeting — unless the client already spoke, which a client must not do.
    pub fn greet(&mut self) -> Vec<Event> {
        if !matches!(self.state, State::Pregreet) {
            return Vec::new();
        }
        if !self.inbuf.is_empty() {
            self.state = State::Closed;
            return vec![
                reply(
                    554,
                    "5.5.0",
                    "Protocol error: client sent data before the greeting",
                ),
                Event::Close,
            ];
        }
        self.state = State::Command;
        vec![reply(
            220,
            "",
            &format!("{} ESMTP Postern", self.config.hostname),
        )]
    }

    /// The driver gave up waiting for the client.
    pub fn timeout(&mut self) -> Vec<Event> {
        if self.is_closed() {
            return Vec::new();
        }
        self.state = State::Closed;
        vec![
            reply(421, "4.4.2", "Timeout, closing connection"),
            Event::Close,
        ]
    }

    /// Bytes from the client.
    pub fn input(&mut self, bytes: &[u8]) -> Vec<Event> {
        if self.is_closed() {
            return Vec::new();
        }
        self.inbuf.extend_from_slice(bytes);
        let mut out = Vec::new();
        self.process(&mut out);
        out
    }

    /// The outcome of committing the message from the last `Event::Message`.
    pub fn delivered(&mut self, outcome: Reply) -> Vec<Event> {
        if !matches!(self.state, State::AwaitMessage) {
            return Vec::new();
        }
        self.reset_transaction();
        self.state = State::Command;
        let mut out = vec![Event::Reply(outcome)];
        self.process(&mut out);
        out
    }

    /// The answer to the last `Event::CardRequest`: the card's text form, or `None` if there is
    /// no such identity here.
    pub fn card(&mut self, card: Option<String>) -> Vec<Event> {
        if !matches!(self.state, State::AwaitCard) {
            return Vec::new();
        }
        self.state = State::Command;
        let card_missing = card.is_none();
        let mut out = vec![match card {
            Some(text) => {
                // Reply lines stay well under the 512-octet limit.
                let lines = text
                    .as_bytes()
                    .chunks(400)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                Event::Reply(Reply::multiline(250, lines))
            }
            None => reply(550, "5.1.1", "No such identity here"),
        }];
        if card_missing {
            self.count_error(&mut out);
        }
        self.process(&mut out);
        out
    }

    /// The driver's answer to the last `Event::Auth`: the address logged in as, or `None`.
    pub fn authenticated(&mut self, address: Option<String>) -> Vec<Event> {
        if !matches!(self.state, State::AwaitAuth) {
            return Vec::new();
        }
        self.state = State::Command;
        let mut out = Vec::new();
        match address {
            Some(a) => {
                self.user = Some(a.to_ascii_lowercase());
                out.push(reply(235, "2.7.0", "Authentication successful"));
            }
            None => self.error(&mut out, 535, "5.7.8", "Authentication credentials invalid"),
        }
        self.process(&mut out);
        out
    }

    /// The driver's answer to the last `Event::Control`.
    pub fn answer(&mut self, answer: Reply) -> Vec<Event> {
        if !matches!(self.state, State::AwaitControl) {
            return Vec::new();
        }
        self.state = State::Command;
        let refused = answer.code >= 500;
        let mut out = vec![Event::Reply(answer)];
        if refused {
            self.count_error(&mut out);
        }
        self.process(&mut out);
        out
    }

    /// Public: the driver's answer to the last `Event::Recipient` (`Ok`: take it; `Err`: the
    /// refusal to send, which counts as an error).
    pub fn recipient(&mut self, verdict: Result<(), Reply>) -> Vec<Event> {
        let State::AwaitRecipient = self.state else {
            return Vec::new();
        };
        self.state = State::Command;
        let mut out = Vec::new();
        match (verdict, self.pending_rcpt.take()) {
            (Ok(()), Some(addr)) => {
                if !self.rcpt_to.contains(&addr) {
                    self.rcpt_to.push(addr);
                }
                out.push(reply(250, "2.1.5", "Recipient OK"));
            }
            (Ok(()), None) => self.error(&mut out, 503, "5.5.1", "No recipient pending"),
            (Err(refusal), _) => {
                out.push(Event::Reply(refusal));
                self.count_error(&mut out);
            }
        }
        self.process(&mut out);
        out
    }

    /// Public: TLS is now on. RFC 3207: the session starts over (the client must say EHLO
    /// again) and nothing the client sent before the handshake is used.
    pub fn tls_started(&mut self) -> Vec<Event> {
        let State::AwaitTls = self.state else {
            return Vec::new();
        };
        self.inbuf.clear();
        self.discarding = false;
        self.helo = false;
        self.tls = true;
        self.reset_transaction();
        self.state = State::Command;
        Vec::new()
    }

    fn submission(&self) -> bool {
        self.config.kind == SessionKind::Submission
    }

    fn public(&self) -> bool {
        matches!(self.config.kind, SessionKind::Public { .. })
    }

    /// An `AUTH PLAIN` response: base64 of `authzid NUL authcid NUL password`.
    fn auth_plain(&mut self, response: &str, out: &mut Vec<Event>) {
        let decoded = data_encoding::BASE64.decode(response.as_bytes()).ok();
        let fields: Option<Vec<String>> = decoded.map(|d| {
            d.split(|b| *b == 0)
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect()
        });
        match fields.as_deref() {
            Some([authz, user, password]) if authz.is_empty() || authz == user => {
                self.state = State::AwaitAuth;
                out.push(Event::Auth {
                    user: user.clone(),
                    password: password.clone(),
                });
            }
            _ => self.error(out, 501, "5.5.2", "Malformed AUTH PLAIN response"),
        }
    }

    fn starttls(&mut self, has_args: bool, out: &mut Vec<Event>) {
        if self.config.kind != (SessionKind::Public { starttls: true }) {
            return self.error(out, 502, "5.5.1", "Command not implemented");
        }
        if has_args {
            return self.error(out, 501, "5.5.4", "Syntax: STARTTLS");
        }
        if self.tls {
            return self.error(out, 503, "5.5.1", "TLS already active");
        }
        // Bytes pipelined after STARTTLS were sent in clear and must not be read as if they
        // came over TLS (CVE-2011-0411).
        self.inbuf.clear();
        self.reset_transaction();
        self.state = State::AwaitTls;
        out.push(reply(220, "2.0.0", "Ready to start TLS"));
        out.push(Event::StartTls);
    }

    fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
        self.carry = None;
    }

    fn close_bare(&mut self, out: &mut Vec<Event>, what: &str) {
        self.state = State::Closed;
        self.inbuf.clear();
        out.push(reply(
            521,
            "5.5.2",
            &format!("Bare {what} received; only CRLF ends a line. Closing connection"),
        ));
        out.push(Event::Close);
    }

    /// Find the next line (through LF). If the buffered partial line is over `limit`, discard it
    /// (keeping the last byte, which may be a CR) and remember to discard up to the next LF.
    /// Returns `Err(what)` for a bare CR found in the discarded part.
    fn next_line(&mut self, limit: usize) -> Result<Option<(Vec<u8>, bool)>, &'static str> {
        if let Some(pos) = self.inbuf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.inbuf.drain(..=pos).collect();
            let was_discarding = std::mem::take(&mut self.discarding);
            return Ok(Some((line, was_discarding)));
        }
        if self.inbuf.len() > limit {
            let keep = self.inbuf.len() - 1;
            if self.inbuf[..keep].contains(&b'\r') {
                return Err("CR");
            }
            self.inbuf.drain(..keep);
            self.discarding = true;
        }
        Ok(None)
    }

    fn process(&mut self, out: &mut Vec<Event>) {
        loop {
            match self.state {
                State::Pregreet
                | State::AwaitMessage
                | State::AwaitCard
                | State::AwaitControl
                | State::AwaitAuth
                | State::AwaitRecipient
                | State::AwaitTls
                | State::Closed => return,
                State::AuthLine => {
                    let (line, long) = match self.next_line(MAX_COMMAND_LINE) {
                        Ok(Some(l)) => l,
                        Ok(None) => return,
                        Err(what) => return self.close_bare(out, what),
                    };
                    if line.len() < 2 || line[line.len() - 2] != b'\r' {
                        return self.close_bare(out, "LF");
                    }
                    self.state = State::Command;
                    if long {
                        self.error(out, 500, "5.5.2", "Line too long");
                        continue;
                    }
                    let response = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
                    if response.trim() == "*" {
                        self.error(out, 501, "5.0.0", "Authentication cancelled");
                        continue;
                    }
                    self.auth_plain(response.trim(), out);
                }
                State::Command => {
                    let (line, long) = match self.next_line(MAX_COMMAND_LINE) {
                        Ok(Some(l)) => l,
                        Ok(None) => return,
                        Err(what) => return self.close_bare(out, what),
                    };
                    if line.len() < 2 || line[line.len() - 2] != b'\r' {
                        return self.close_bare(out, "LF");
                    }
                    if line[..line.len() - 2].contains(&b'\r') {
                        return self.close_bare(out, "CR");
                    }
                    if long || line.len() > MAX_COMMAND_LINE {
                        self.error(out, 500, "5.5.2", "Line too long");
                        continue;
                    }
                    self.command(&line, out);
                }
                State::Data(_) => {
                    let (line, long) = match self.next_line(MAX_TEXT_LINE) {
                        Ok(Some(l)) => l,
                        Ok(None) => {
                            if self.discarding {
                                if let State::Data(d) = &mut self.state {
                                    d.long_line = true;
                                }
                            }
                            return;
                        }
                        Err(what) => return self.close_bare(out, what),
                    };
                    if line.len() < 2 || line[line.len() - 2] != b'\r' {
                        return self.close_bare(out, "LF");
                    }
                    let content = &line[..line.len() - 2];
                    if content.contains(&b'\r') {
                        return self.close_bare(out, "CR");
                    }
                    if let Some(done) = self.data_line(content, long || line.len() > MAX_TEXT_LINE)
                    {
                        out.push(done);
                    }
                }
            }
        }
    }

    /// One line of DATA (without its CRLF). Returns an event when the message ends. Only a line
    /// that is exactly "." ends it: never the kept tail of an over-long line.
    fn data_line(&mut self, content: &[u8], long: bool) -> Option<Event> {
        let max = self.config.max_message_size;
        let State::Data(d) = &mut self.state else {
            return None;
        };
        if content == b"." && !long {
            let d = std::mem::take(d);
            let outcome = if d.too_big {
                reply(
                    552,
                    "5.3.4",
                    &format!("Message too big (limit {max} octets)"),
                )
            } else if d.long_line {
                reply(554, "5.6.0", "Message has a line longer than 1000 octets")
            } else if d.nul {
                reply(554, "5.6.0", "Message contains a NUL character")
            } else {
                let envelope = Envelope {
                    mail_from: self.mail_from.clone().unwrap_or_default(),
                    rcpt_to: self.rcpt_to.clone(),
                    carry: self.carry.clone(),
                };
                self.state = State::AwaitMessage;
                return Some(Event::Message {
                    envelope,
                    data: d.buf,
                });
            };
            self.reset_transaction();
            self.state = State::Command;
            return Some(outcome);
        }
        d.long_line |= long;
        d.nul |= content.contains(&0);
        let text = content.strip_prefix(b".").unwrap_or(content);
        if !d.too_big {
            if d.size + text.len() + 2 > max {
                d.too_big = true;
                d.buf = Vec::new();
            } else {
                d.buf.extend_from_slice(text);
                d.buf.extend_from_slice(b"\r\n");
                d.size += text.len() + 2;
            }
        }
        None
    }

    fn error(&mut self, out: &mut Vec<Event>, code: u16, enhanced: &str, text: &str) {
        out.push(reply(code, enhanced, text));
        self.count_error(out);
    }

    fn count_error(&mut self, out: &mut Vec<Event>) {
        self.errors += 1;
        if self.errors > self.config.max_errors {
            self.close_with(out, "Too many errors, closing connection");
        }
    }

    fn close_with(&mut self, out: &mut Vec<Event>, text: &str) {
        self.state = State::Closed;
        self.inbuf.clear();
        out.push(reply(421, "4.7.0", text));
        out.push(Event::Close);
    }

    fn command(&mut self, line: &[u8], out: &mut Vec<Event>) {
        self.commands += 1;
        if self.commands > self.config.max_commands {
            return self.close_with(out, "Too many commands in one session, closing connection");
        }
        let text = String::from_utf8_lossy(&line[..line.len() - 2]);
        let mut words = text.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        if self.public() {
            if verb == "STARTTLS" {
                return self.starttls(words.next().is_some(), out);
            }
            if verb == "AUTH"
                || verb == "CARD"
                || verb == "XCARRY"
                || CONTROL_VERBS.contains(&verb.as_str())
            {
                return self.error(out, 502, "5.5.1", "Command not implemented");
            }
        }
        if self.submission() {
            if verb == "AUTH" {
                let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
                let initial = words.next().map(str::to_owned);
                if !self.helo {
                    return self.error(out, 503, "5.5.1", "Send EHLO first");
                }
                if self.user.is_some() {
                    return self.error(out, 503, "5.5.1", "Already authenticated");
                }
                if mechanism != "PLAIN" {
                    return self.error(out, 504, "5.5.4", "Only AUTH PLAIN is offered");
                }
                match initial {
                    Some(r) => self.auth_plain(&r, out),
                    None => {
                        self.state = State::AuthLine;
                        out.push(Event::Reply(Reply::new(334, "", "")));
                    }
                }
                return;
            }
            if verb == "CARD" || verb == "XCARRY" || CONTROL_VERBS.contains(&verb.as_str()) {
                return self.error(out, 502, "5.5.1", "Command not implemented");
            }
        }
        if verb == "CARD" {
            let local = words.next().unwrap_or("");
            if !self.helo {
                return self.error(out, 503, "5.5.1", "Send EHLO first");
            }
            self.cards += 1;
            if self.cards > MAX_CARD_REQUESTS {
                return self.error(out, 503, "5.5.1", "Enough CARD requests in this session");
            }
            if local.is_empty()
                || local.len() > 64
                || !local.chars().all(is_address_char)
                || words.next().is_some()
            {
                return self.error(out, 501, "5.5.4", "Syntax: CARD <name>");
            }
            self.state = State::AwaitCard;
            out.push(Event::CardRequest(local.to_ascii_lowercase()));
            return;
        }
        if verb == "XCARRY" {
            let args: Vec<String> = words.map(str::to_owned).collect();
            if !self.helo {
                return self.error(out, 503, "5.5.1", "Send EHLO first");
            }
            if self.mail_from.is_some() || self.carry.is_some() {
                return self.error(out, 503, "5.5.1", "XCARRY comes once, before MAIL");
            }
            let Some((recipient, credentials)) = args.split_first() else {
                return self.error(
                    out,
                    501,
                    "5.5.4",
                    "Syntax: XCARRY <recipient> <credentials>",
                );
            };
            let recipient = recipient.to_ascii_lowercase();
            if recipient.parse::<postern_types::MailAddress>().is_err() || credentials.len() > 8 {
                return self.error(
                    out,
                    501,
                    "5.5.4",
                    "Syntax: XCARRY <recipient> <credentials>",
                );
            }
            self.carry = Some(CarryClaim {
                recipient,
                credentials: credentials.to_vec(),
            });
            out.push(reply(
                250,
                "2.0.0",
                "Hand-over noted; checked after the message",
            ));
            return;
        }
        if CONTROL_VERBS.contains(&verb.as_str()) {
            if !self.helo {
                return self.error(out, 503, "5.5.1", "Send EHLO first");
            }
            if self.mail_from.is_some() {
                return self.error(out, 503, "5.5.1", "Not inside a mail transaction");
            }
            let args: Vec<String> = words.map(str::to_owned).collect();
            if args.len() > 8 {
                return self.error(out, 501, "5.5.4", "Too many arguments");
            }
            self.state = State::AwaitControl;
            out.push(Event::Control { verb, args });
            return;
        }
        let request = Request::parse(&mut line.iter());
        match request {
            Ok(Request::Ehlo { .. }) => {
                self.helo = true;
                self.reset_transaction();
                out.push(Event::Reply(Reply::multiline(
                    250,
                    vec![
                        self.config.hostname.clone(),
                        "PIPELINING".into(),
                        "8BITMIME".into(),
                        format!("SIZE {}", self.config.max_message_size),
                        "ENHANCEDSTATUSCODES".into(),
                    ]
                    .into_iter()
                    .chain(match self.config.kind {
                        SessionKind::Submission => vec!["AUTH PLAIN".into()],
                        SessionKind::Peer => vec!["CARD".into(), "XCARRY".into()],
                        SessionKind::Public { starttls } if starttls && !self.tls => {
                            vec!["STARTTLS".into()]
                        }
                        SessionKind::Public { .. } => vec![],
                    })
                    .collect(),
                )));
            }
            Ok(Request::Helo { .. }) => {
                self.helo = true;
                self.reset_transaction();
                out.push(reply(250, "", &self.config.hostname));
            }
            Ok(Request::Mail { from }) => {
                if !self.helo {
                    return self.error(out, 503, "5.5.1", "Send EHLO first");
                }
                if self.mail_from.is_some() {
                    return self.error(out, 503, "5.5.1", "Sender already given");
                }
                if self.submission() && self.user.is_none() {
                    return self.error(out, 530, "5.7.0", "Authentication required");
                }
                let addr = from.address.to_ascii_lowercase();
                if let Some(user) = self.submission().then_some(()).and(self.user.as_ref()) {
                    if &addr != user {
                        let text = format!("Sender must be the logged-in address {user}");
                        return self.error(out, 553, "5.7.1", &text);
                    }
                }
                if self.public() {
                    if !addr.is_empty() && !is_plain_address(&addr) {
                        return self.error(out, 553, "5.1.7", "Bad sender address syntax");
                    }
                } else if addr.parse::<postern_types::MailAddress>().is_err() {
                    return self.error(
                        out,
                        553,
                        "5.1.7",
                        "Sender must be a Postern address (name@<56 characters>.onion)",
                    );
                }
                if from.size > self.config.max_message_size {
                    return self.error(out, 552, "5.3.4", "Message too big");
                }
                self.mail_from = Some(addr);
                out.push(reply(250, "2.1.0", "Sender OK"));
            }
            Ok(Request::Rcpt { to }) => {
                if self.mail_from.is_none() {
                    return self.error(out, 503, "5.5.1", "Need MAIL before RCPT");
                }
                let addr = to.address.to_ascii_lowercase();
                if self.rcpt_to.len() >= self.config.max_recipients {
                    return self.error(out, 452, "4.5.3", "Too many recipients");
                }
                if self.public() {
                    self.pending_rcpt = Some(addr.clone());
                    self.state = State::AwaitRecipient;
                    out.push(Event::Recipient {
                        address: addr,
                        mail_from: self.mail_from.clone().unwrap_or_default(),
                    });
                    return;
                }
                // A hand-over names exactly one recipient: the one it is carried for.
                let allowed = match &self.carry {
                    Some(c) => c.recipient == addr,
                    None if self.submission() => addr.parse::<postern_types::MailAddress>().is_ok(),
                    None => self.config.local_addresses.contains(&addr),
                };
                if !allowed && self.submission() {
                    return self.error(
                        out,
                        550,
                        "5.1.1",
                        "Postern delivers to Postern addresses only (name@<56 characters>.onion)",
                    );
                }
                if !allowed {
                    return self.error(out, 550, "5.1.1", "No such recipient here");
                }
                if !self.rcpt_to.contains(&addr) {
                    self.rcpt_to.push(addr);
                }
                out.push(reply(250, "2.1.5", "Recipient OK"));
            }
            Ok(Request::Data) => {
                if self.mail_from.is_none() || self.rcpt_to.is_empty() {
                    return self.error(out, 503, "5.5.1", "Need MAIL and RCPT before DATA");
                }
                self.state = State::Data(DataState::default());
                out.push(reply(354, "", "End data with <CR><LF>.<CR><LF>"));
            }
            Ok(Request::Rset) => {
                self.reset_transaction();
                out.push(reply(250, "2.0.0", "OK"));
            }
            Ok(Request::Noop { .. }) => out.push(reply(250, "2.0.0", "OK")),
            Ok(Request::Quit) => {
                self.state = State::Closed;
                self.inbuf.clear();
                out.push(reply(221, "2.0.0", "Bye"));
                out.push(Event::Close);
            }
            Ok(Request::Vrfy { .. }) => out.push(reply(252, "2.5.2", "Cannot verify; send mail")),
            Ok(_) => self.error(out, 502, "5.5.1", "Command not implemented"),
            Err(smtp_proto::Error::UnknownCommand) => {
                self.error(out, 500, "5.5.1", "Command unrecognized")
            }
            Err(_) => self.error(out, 501, "5.5.4", "Syntax error in parameters"),
        }
    }
}
