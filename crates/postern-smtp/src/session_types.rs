//! What a server session is configured with, and what it hands its driver: the types around
//! `ServerSession`, apart from the state machine itself (`server.rs`).

use crate::Reply;

/// Longest command line, CRLF included (RFC 5321 §4.5.3.1.4).
pub const MAX_COMMAND_LINE: usize = 512;
/// Longest text line in DATA, CRLF included (RFC 5321 §4.5.3.1.6).
pub const MAX_TEXT_LINE: usize = 1000;

/// What a session accepts.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Name in the greeting and the EHLO reply (the served onion address).
    pub hostname: String,
    /// Recipients this session accepts (lower case); every other RCPT gets 550.
    pub local_addresses: Vec<String>,
    /// Largest message accepted, in octets after dot-unstuffing.
    pub max_message_size: usize,
    /// Most recipients per message.
    pub max_recipients: usize,
    /// Failed commands tolerated before the session is closed (refused `CARD`s and refused
    /// control verbs count too).
    pub max_errors: usize,
    /// Commands one session may send before it is closed.
    pub max_commands: usize,
    /// Whom the session serves.
    pub kind: SessionKind,
}

/// Whom a session serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// Another Postern node, over an onion service: Postern addresses only, `CARD`, `XCARRY`
    /// and the control verbs.
    Peer,
    /// Message submission (RFC 6409) for a mail client instead of delivery between nodes:
    /// `AUTH PLAIN` first, the sender must be the logged-in address, any Postern address may
    /// be a recipient; no `CARD`, `XCARRY` or control verbs.
    Submission,
    /// A gateway's public server on the ordinary Internet: any sender address (or `<>`), each
    /// recipient decided by the driver (`Event::Recipient`, answered with
    /// `ServerSession::recipient`), `STARTTLS` offered when `starttls` (`Event::StartTls`, then
    /// `ServerSession::tls_started`); no Postern verbs.
    Public {
        /// Offer STARTTLS.
        starttls: bool,
    },
}

/// `CARD` requests one session may make (a client needs one per recipient it lacks a key for).
pub const MAX_CARD_REQUESTS: usize = 4;

/// Sender and recipients of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// MAIL FROM address.
    pub mail_from: String,
    /// RCPT TO addresses (accepted ones only).
    pub rcpt_to: Vec<String>,
    /// A hand-over to a carrier (`XCARRY`), whose credentials the driver checks.
    pub carry: Option<CarryClaim>,
}

/// `XCARRY <recipient> <credentials…>`: the client asks this node to hold a message for
/// `recipient` (not served here) as its carrier. The session only allows that one foreign
/// recipient in the transaction; checking the credentials is the driver's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarryClaim {
    /// The final recipient.
    pub recipient: String,
    /// The credentials as sent (opaque to the session).
    pub credentials: Vec<String>,
}

/// Verbs answered by the driver (`Event::Control`, then `ServerSession::answer`).
pub const CONTROL_VERBS: &[&str] = &["XRECEIPT", "XPULL", "XDEVICE"];

/// What the session asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Send this reply.
    Reply(Reply),
    /// A complete message. Commit it, then call `ServerSession::delivered` with the reply to
    /// send (250 only once it is durable). The session processes no more input until then.
    Message {
        /// Envelope.
        envelope: Envelope,
        /// Message, dot-unstuffed, CRLF line endings.
        data: Vec<u8>,
    },
    /// `CARD <local part>`: answer with `ServerSession::card`.
    CardRequest(String),
    /// One of `CONTROL_VERBS` with its arguments: answer with `ServerSession::answer`.
    Control {
        /// The verb, upper case.
        verb: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// `AUTH PLAIN` (submission): check the login, then call `ServerSession::authenticated`.
    Auth {
        /// The authentication identity.
        user: String,
        /// The password.
        password: String,
    },
    /// Public server: may this recipient have mail from `mail_from` (`""` for `<>`)? Answer
    /// with `ServerSession::recipient`.
    Recipient {
        /// The address as given in `RCPT TO`.
        address: String,
        /// The transaction's sender.
        mail_from: String,
    },
    /// Public server: the `220` to `STARTTLS` came before this; start TLS on the connection
    /// (nothing read before it may be used), then call `ServerSession::tls_started`.
    StartTls,
    /// Close the connection after sending what came before.
    Close,
}
