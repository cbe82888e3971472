//! One IMAP connection: the protocol flow is imap-next's, the answers are ours.

use std::num::NonZeroU32;

use imap_next::imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_next::imap_types::command::{Command, CommandBody};
use imap_next::imap_types::core::{Atom, IString, QuotedChar, Tag, Vec1};
use imap_next::imap_types::extensions::namespace::Namespace;
use imap_next::imap_types::flag::Flag;
use imap_next::imap_types::mailbox::Mailbox;
use imap_next::imap_types::response::{
    Bye, Capability, Code, CommandContinuationRequest, Data, Greeting, Status, StatusBody,
    StatusKind, Tagged,
};
use imap_next::server::{Error as FlowError, Event, Options, Server};
use imap_next::types::CommandAuthenticate;
use imap_next::{Interrupt, Io, State as _};

use crate::{Entry, Flags, LoginRefused, Mailstore, Refusal};

/// What the session offers, in the order `CAPABILITY` lists it.
pub const CAPABILITIES: &[&str] = &[
    "IMAP4rev1",
    "AUTH=PLAIN",
    "SASL-IR",
    "IDLE",
    "UIDPLUS",
    "MOVE",
    "LITERAL+",
    "UNSELECT",
    "ENABLE",
    "SPECIAL-USE",
    "NAMESPACE",
];

/// Bounds on one connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest literal accepted (an APPENDed message).
    pub max_literal: u32,
    /// Largest command line, literals included.
    pub max_command: u32,
    /// Unparsable commands tolerated before the connection is closed.
    pub max_errors: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_literal: 32 * 1024 * 1024,
            max_command: 32 * 1024 * 1024 + 64 * 1024,
            max_errors: 10,
        }
    }
}

/// What the driver does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Write these bytes to the client.
    Write(Vec<u8>),
    /// Read more bytes (and give them to [`ImapSession::feed`]), or wait for a change in the
    /// store while the client idles.
    NeedInput,
    /// Close the connection (everything due has been written).
    Close,
}

pub(crate) struct Selected {
    pub(crate) name: String,
    pub(crate) read_only: bool,
    /// The messages as the client was last told (sequence number = index + 1).
    pub(crate) entries: Vec<Entry>,
    /// UIDs COPY took to another mailbox: a message lives in one mailbox, so COPY moves it,
    /// but the client is shown it here until it expunges (the COPY, `\Deleted`, EXPUNGE
    /// idiom of clients without MOVE), so its sequence numbers hold meanwhile.
    pub(crate) copied_away: std::collections::BTreeSet<u32>,
    /// The store's version when `entries` was last brought up to date (`None`: unknown).
    pub(crate) version: Option<i64>,
}

pub(crate) enum Phase {
    Greeted,
    LoggedIn,
    Selected(Selected),
}

/// One client connection; see the crate documentation.
pub struct ImapSession<M: Mailstore> {
    server: Server,
    pub(crate) store: M,
    pub(crate) phase: Phase,
    idle: Option<Tag<'static>>,
    authenticating: Option<Tag<'static>>,
    errors: u32,
    limits: Limits,
    closing: bool,
}

impl<M: Mailstore> std::fmt::Debug for ImapSession<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSession")
            .field("logged_in", &!matches!(self.phase, Phase::Greeted))
            .field("idling", &self.idle.is_some())
            .finish_non_exhaustive()
    }
}

pub(crate) fn text(s: impl Into<String>) -> imap_next::imap_types::core::Text<'static> {
    let s: String = s.into();
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() || c == ']' { ' ' } else { c })
        .collect();
    imap_next::imap_types::core::Text::try_from(clean)
        .unwrap_or_else(|_| imap_next::imap_types::core::Text::unvalidated("."))
}

/// A status response (never fails: `text` made the text valid).
pub(crate) fn status(
    kind: StatusKind,
    tag: Option<Tag<'static>>,
    code: Option<Code<'static>>,
    what: impl Into<String>,
) -> Status<'static> {
    let body = StatusBody {
        kind,
        code,
        text: text(what),
    };
    match tag {
        Some(tag) => Status::Tagged(Tagged { tag, body }),
        None => Status::Untagged(body),
    }
}

fn bye_status(what: &str) -> Status<'static> {
    Status::Bye(Bye {
        code: None,
        text: text(what),
    })
}

pub(crate) fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

pub(crate) fn flag_list(f: Flags) -> Vec<Flag<'static>> {
    let mut v = Vec::new();
    if f.seen {
        v.push(Flag::Seen);
    }
    if f.answered {
        v.push(Flag::Answered);
    }
    if f.flagged {
        v.push(Flag::Flagged);
    }
    if f.deleted {
        v.push(Flag::Deleted);
    }
    if f.draft {
        v.push(Flag::Draft);
    }
    v
}

/// The flags Postern keeps out of a client's list (keywords are accepted and not kept, as
/// `PERMANENTFLAGS` says).
pub(crate) fn flags_from(list: &[Flag<'_>], mut base: Flags, set: bool) -> Flags {
    for f in list {
        match f {
            Flag::Seen => base.seen = set,
            Flag::Answered => base.answered = set,
            Flag::Flagged => base.flagged = set,
            Flag::Deleted => base.deleted = set,
            Flag::Draft => base.draft = set,
            _ => {}
        }
    }
    base
}

fn mailbox_name(m: &Mailbox<'_>) -> String {
    match m {
        Mailbox::Inbox => "INBOX".to_owned(),
        Mailbox::Other(o) => {
            let s = String::from_utf8_lossy(o.as_ref()).into_owned();
            if s.eq_ignore_ascii_case("inbox") {
                "INBOX".to_owned()
            } else {
                s
            }
        }
    }
}

pub(crate) fn imap_mailbox(name: &str) -> Mailbox<'static> {
    if name == "INBOX" {
        return Mailbox::Inbox;
    }
    Mailbox::try_from(name.to_owned()).unwrap_or(Mailbox::Inbox)
}

/// `*` and `%` (no hierarchy here, so both match anything).
pub(crate) fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') | Some('%') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some(c) => {
                n.first()
                    .is_some_and(|d| d == c || (c.eq_ignore_ascii_case(d)))
                    && go(&p[1..], &n[1..])
            }
        }
    }
    go(&p, &n)
}

impl<M: Mailstore> ImapSession<M> {
    /// A new connection: the greeting is the first thing [`step`](Self::step) writes.
    pub fn new(store: M, limits: Limits) -> Self {
        let mut options = Options::default();
        options.max_literal_size = limits.max_literal;
        options.max_command_size = limits.max_command;
        let _ = options.set_literal_reject_text("literal too large".into());
        let greeting = Greeting::ok(
            Some(Code::Capability(Self::capabilities())),
            "Postern IMAP ready",
        )
        .unwrap_or_else(|_| Greeting::ok(None, "ready").expect("static greeting"));
        ImapSession {
            server: Server::new(options, greeting),
            store,
            phase: Phase::Greeted,
            idle: None,
            authenticating: None,
            errors: 0,
            limits,
            closing: false,
        }
    }

    fn capabilities() -> Vec1<Capability<'static>> {
        let caps = CAPABILITIES
            .iter()
            .map(|c| match *c {
                "IMAP4rev1" => Capability::Imap4Rev1,
                "AUTH=PLAIN" => Capability::Auth(AuthMechanism::Plain),
                "SASL-IR" => Capability::SaslIr,
                "IDLE" => Capability::Idle,
                "UIDPLUS" => Capability::UidPlus,
                "MOVE" => Capability::Move,
                "LITERAL+" => Capability::LiteralPlus,
                "UNSELECT" => Capability::Unselect,
                "ENABLE" => Capability::Enable,
                "NAMESPACE" => Capability::Namespace,
                other => Capability::from(Atom::unvalidated(other.to_owned())),
            })
            .collect::<Vec<_>>();
        Vec1::unvalidated(caps)
    }

    /// The store this session answers from.
    pub fn store(&self) -> &M {
        &self.store
    }

    /// The store, to change it (tests).
    pub fn store_mut(&mut self) -> &mut M {
        &mut self.store
    }

    /// Whether the client is idling (the driver then calls [`changed`](Self::changed) when
    /// the store changes).
    pub fn idling(&self) -> bool {
        self.idle.is_some()
    }

    /// Whether a login succeeded.
    pub fn logged_in(&self) -> bool {
        !matches!(self.phase, Phase::Greeted)
    }

    /// Bytes from the client.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.server.enqueue_input(bytes);
    }

    /// The store changed: an idling client is told now.
    pub fn changed(&mut self) {
        if self.idle.is_some() {
            self.report_changes(true);
        }
    }

    /// Tell the client something and close (idle timeout, shutdown).
    pub fn bye(&mut self, why: &str) {
        self.server.enqueue_status(bye_status(why));
        self.closing = true;
    }

    /// Progress: what to write, or that input is needed, or that the connection is over.
    pub fn step(&mut self) -> Step {
        loop {
            match self.server.next() {
                Err(Interrupt::Io(Io::Output(bytes))) => return Step::Write(bytes),
                Err(Interrupt::Io(Io::NeedMoreInput)) => {
                    return if self.closing {
                        Step::Close
                    } else {
                        Step::NeedInput
                    };
                }
                Err(Interrupt::Error(e)) => {
                    if self.closing {
                        return Step::Close;
                    }
                    self.flow_error(e);
                }
                // Closing: what was queued is written (each write reports itself sent);
                // anything the client says after that is not read.
                Ok(Event::ResponseSent { .. } | Event::GreetingSent { .. }) if self.closing => {}
                Ok(_) if self.closing => return Step::Close,
                Ok(event) => self.event(event),
            }
        }
    }

    fn flow_error(&mut self, e: FlowError) {
        self.errors += 1;
        let (why, bytes) = match &e {
            FlowError::ExpectedCrlfGotLf { discarded_bytes } => {
                ("lines end with CRLF", discarded_bytes)
            }
            FlowError::MalformedMessage { discarded_bytes } => {
                ("could not parse that command", discarded_bytes)
            }
            FlowError::LiteralTooLong { .. } => return self.count_error(),
            FlowError::CommandTooLong { discarded_bytes } => ("command too long", discarded_bytes),
        };
        // Answer with the command's tag when it has one, so the client is not left waiting.
        let tag = bytes
            .declassify()
            .split(|b| *b == b' ')
            .next()
            .and_then(|t| Tag::try_from(t.to_vec()).ok());
        self.server
            .enqueue_status(status(StatusKind::Bad, tag, None, why));
        self.count_error();
    }

    fn count_error(&mut self) {
        if self.errors >= self.limits.max_errors {
            self.bye("too many bad commands");
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::GreetingSent { .. } | Event::ResponseSent { .. } => {}
            Event::CommandReceived { command } => self.command(command),
            Event::CommandAuthenticateReceived {
                command_authenticate,
            } => self.authenticate(command_authenticate),
            Event::AuthenticateDataReceived { authenticate_data } => {
                let tag = self.authenticating.take();
                let status = match (tag, authenticate_data) {
                    (Some(tag), AuthenticateData::Continue(data)) => {
                        self.plain_login(tag, data.declassify())
                    }
                    (Some(tag), AuthenticateData::Cancel) => {
                        status(StatusKind::Bad, Some(tag), None, "authentication cancelled")
                    }
                    (None, _) => {
                        status(StatusKind::Bad, None, None, "no authentication in progress")
                    }
                };
                let _ = self.server.authenticate_finish(status);
            }
            Event::IdleCommandReceived { tag } => {
                if matches!(self.phase, Phase::Greeted) {
                    let _ = self.server.idle_reject(status(
                        StatusKind::No,
                        Some(tag),
                        None,
                        "log in first",
                    ));
                    return;
                }
                if let Ok(c) = CommandContinuationRequest::basic(None, text("idling")) {
                    let _ = self.server.idle_accept(c);
                }
                self.idle = Some(tag);
                self.report_changes(true);
            }
            Event::IdleDoneReceived => {
                if let Some(tag) = self.idle.take() {
                    self.ok(tag, None, "IDLE done");
                }
            }
        }
    }

    fn authenticate(&mut self, c: CommandAuthenticate) {
        let status = if !matches!(self.phase, Phase::Greeted) {
            status(StatusKind::Bad, Some(c.tag), None, "already logged in")
        } else if c.mechanism != AuthMechanism::Plain {
            status(
                StatusKind::No,
                Some(c.tag),
                None,
                "only AUTHENTICATE PLAIN is offered",
            )
        } else if let Some(initial) = c.initial_response {
            self.plain_login(c.tag, initial.declassify())
        } else {
            self.authenticating = Some(c.tag);
            let _ = self
                .server
                .authenticate_continue(CommandContinuationRequest::base64(Vec::new()));
            return;
        };
        let _ = self.server.authenticate_finish(status);
    }

    fn plain_login(&mut self, tag: Tag<'static>, response: &[u8]) -> Status<'static> {
        // authzid NUL authcid NUL password
        let mut parts = response.split(|b| *b == 0);
        let (Some(authz), Some(user), Some(pass), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return status(StatusKind::Bad, Some(tag), None, "malformed PLAIN response");
        };
        if !authz.is_empty() && authz != user {
            return status(
                StatusKind::No,
                Some(tag),
                None,
                "no logging in as someone else",
            );
        }
        let user = String::from_utf8_lossy(user).into_owned();
        let pass = String::from_utf8_lossy(pass).into_owned();
        self.login_status(tag, &user, &pass)
    }

    fn login_status(&mut self, tag: Tag<'static>, user: &str, pass: &str) -> Status<'static> {
        match self.store.login(user, pass) {
            Ok(()) => {
                self.phase = Phase::LoggedIn;
                status(
                    StatusKind::Ok,
                    Some(tag),
                    Some(Code::Capability(Self::capabilities())),
                    "logged in",
                )
            }
            Err(e @ LoginRefused::Wrong) | Err(e @ LoginRefused::TooMany) => {
                self.errors += 1;
                let code = Code::Other(imap_next::imap_types::response::CodeOther::unvalidated(
                    b"AUTHENTICATIONFAILED".as_slice(),
                ));
                status(StatusKind::No, Some(tag), Some(code), e.to_string())
            }
        }
    }

    pub(crate) fn ok(&mut self, tag: Tag<'static>, code: Option<Code<'static>>, what: &str) {
        self.server
            .enqueue_status(status(StatusKind::Ok, Some(tag), code, what));
    }

    pub(crate) fn no(&mut self, tag: Tag<'static>, why: &str) {
        self.server
            .enqueue_status(status(StatusKind::No, Some(tag), None, why));
    }

    pub(crate) fn bad(&mut self, tag: Tag<'static>, why: &str) {
        self.server
            .enqueue_status(status(StatusKind::Bad, Some(tag), None, why));
    }

    pub(crate) fn data(&mut self, d: Data<'static>) {
        self.server.enqueue_data(d);
    }

    pub(crate) fn untagged_ok(&mut self, code: Code<'static>, what: &str) {
        self.server
            .enqueue_status(status(StatusKind::Ok, None, Some(code), what));
    }

    pub(crate) fn selected(&mut self) -> Option<&mut Selected> {
        match &mut self.phase {
            Phase::Selected(s) => Some(s),
            _ => None,
        }
    }

    fn command(&mut self, command: Command<'static>) {
        let tag = command.tag;
        let logged_in = !matches!(self.phase, Phase::Greeted);
        match command.body {
            CommandBody::Capability => {
                self.data(Data::Capability(Self::capabilities()));
                self.ok(tag, None, "CAPABILITY done");
            }
            CommandBody::Noop | CommandBody::Check => {
                self.report_changes(true);
                self.ok(tag, None, "done");
            }
            CommandBody::Logout => {
                self.server.enqueue_status(bye_status("logging out"));
                self.ok(tag, None, "LOGOUT done");
                self.closing_after_flush();
            }
            CommandBody::Login { username, password } => {
                if logged_in {
                    return self.bad(tag, "already logged in");
                }
                let user = String::from_utf8_lossy(username.as_ref()).into_owned();
                let pass = String::from_utf8_lossy(password.declassify().as_ref()).into_owned();
                let s = self.login_status(tag, &user, &pass);
                self.server.enqueue_status(s);
            }
            _ if !logged_in => self.no(tag, "log in first"),
            CommandBody::Enable { .. } => {
                self.data(Data::Enabled {
                    capabilities: Vec::new(),
                });
                self.ok(tag, None, "nothing to enable");
            }
            CommandBody::Namespace => {
                self.data(Data::Namespace {
                    personal: vec![Namespace {
                        prefix: IString::try_from("").unwrap_or_else(|_| {
                            IString::from(imap_next::imap_types::core::Quoted::unvalidated(""))
                        }),
                        delimiter: QuotedChar::try_from('/').ok(),
                        extensions: Vec::new(),
                    }],
                    other: Vec::new(),
                    shared: Vec::new(),
                });
                self.ok(tag, None, "NAMESPACE done");
            }
            CommandBody::Select { mailbox, .. } => self.select(tag, &mailbox_name(&mailbox), false),
            CommandBody::Examine { mailbox, .. } => self.select(tag, &mailbox_name(&mailbox), true),
            CommandBody::Unselect => {
                self.phase = Phase::LoggedIn;
                self.ok(tag, None, "UNSELECT done");
            }
            CommandBody::Close => {
                if let Phase::Selected(s) = &self.phase {
                    if !s.read_only {
                        let name = s.name.clone();
                        let _ = self.store.expunge(&name, None);
                    }
                }
                self.phase = Phase::LoggedIn;
                self.ok(tag, None, "CLOSE done");
            }
            CommandBody::Create { .. }
            | CommandBody::Delete { .. }
            | CommandBody::Rename { .. } => self.no(
                tag,
                "Postern's mailboxes are fixed: INBOX, Requests, Drafts, Sent, Archive, Trash",
            ),
            CommandBody::Subscribe { .. } | CommandBody::Unsubscribe { .. } => {
                self.ok(tag, None, "every mailbox is subscribed")
            }
            CommandBody::List {
                mailbox_wildcard, ..
            } => self.list(tag, &mailbox_wildcard, false),
            CommandBody::Lsub {
                mailbox_wildcard, ..
            } => self.list(tag, &mailbox_wildcard, true),
            CommandBody::Status {
                mailbox,
                item_names,
            } => self.status(tag, &mailbox_name(&mailbox), &item_names),
            CommandBody::Append {
                mailbox,
                flags,
                message,
                ..
            } => {
                let name = mailbox_name(&mailbox);
                let bytes: &[u8] = match &message {
                    imap_next::imap_types::extensions::binary::LiteralOrLiteral8::Literal(l) => {
                        l.data()
                    }
                    imap_next::imap_types::extensions::binary::LiteralOrLiteral8::Literal8(l) => {
                        l.data.as_ref()
                    }
                };
                let bytes = bytes.to_vec();
                let info = self.info(&name);
                match (
                    info,
                    self.store
                        .append(&name, &bytes, flags_from(&flags, Flags::default(), true)),
                ) {
                    (Some(info), Ok(uid)) => {
                        let code = Code::AppendUid {
                            uid_validity: nz(info.uidvalidity),
                            uid: nz(uid),
                        };
                        self.report_changes(false);
                        self.ok(tag, Some(code), "APPEND done")
                    }
                    (None, _) => self.no_mailbox(tag),
                    (_, Err(e)) => self.refused(tag, e),
                }
            }
            CommandBody::Idle | CommandBody::Authenticate { .. } => {
                self.bad(tag, "unexpected command")
            }
            body => self.selected_command(tag, body),
        }
    }

    fn closing_after_flush(&mut self) {
        self.closing = true;
    }

    fn selected_command(&mut self, tag: Tag<'static>, body: CommandBody<'static>) {
        if self.selected().is_none() {
            return self.bad(tag, "select a mailbox first");
        }
        match body {
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                ..
            } => self.fetch(tag, &sequence_set, macro_or_item_names, uid),
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                ..
            } => self.store_flags(tag, &sequence_set, kind, response, &flags, uid),
            CommandBody::Search { criteria, uid, .. } => self.search(tag, &criteria, uid),
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.move_messages(tag, &sequence_set, &mailbox_name(&mailbox), uid),
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.copy_messages(tag, &sequence_set, &mailbox_name(&mailbox), uid),
            CommandBody::Expunge => self.expunge(tag, None),
            CommandBody::ExpungeUid { sequence_set } => self.expunge(tag, Some(&sequence_set)),
            _ => self.bad(tag, "that command is not offered"),
        }
    }

    pub(crate) fn no_mailbox(&mut self, tag: Tag<'static>) {
        let code = Code::TryCreate;
        self.server.enqueue_status(status(
            StatusKind::No,
            Some(tag),
            Some(code),
            Refusal::NoMailbox.to_string(),
        ));
    }

    pub(crate) fn refused(&mut self, tag: Tag<'static>, e: Refusal) {
        match e {
            Refusal::NoMailbox => self.no_mailbox(tag),
            e => self.no(tag, &e.to_string()),
        }
    }
}
