//! The SMTP server driver: runs a `ServerSession` over each stream that reaches an identity's
//! onion service, with what the protocol core leaves to its driver: a place in the node's
//! `SessionTable`, deadlines (per command, per message, per session), and how many replies may
//! wait for a client that does not read them.

use std::sync::Arc;

use postern_smtp::{Event, ServerConfig, ServerSession, SessionKind};
use postern_transport::{Listener, Stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::mailroom::Mailroom;
use super::sessions::{SessionTable, Ticket};
use crate::clients::ClientServers;
use crate::context::LocalIdentity;
use crate::{SmtpLimits, SMTP_PORT};

/// The identities one onion service answers for: its own, and the accounts it hosts, each
/// with its card text (with key, for `CARD`).
#[derive(Debug)]
pub(crate) struct OnionMembers {
    host: Arc<LocalIdentity>,
    members: Vec<(Arc<LocalIdentity>, Arc<String>)>,
}

impl OnionMembers {
    /// `host` with its card, and the accounts it hosts with theirs.
    pub(crate) fn new(
        host: (Arc<LocalIdentity>, Arc<String>),
        accounts: Vec<(Arc<LocalIdentity>, Arc<String>)>,
    ) -> Self {
        let mut members = vec![host.clone()];
        members.extend(accounts);
        OnionMembers {
            host: host.0,
            members,
        }
    }

    fn by_local(&self, local: &str) -> Option<&(Arc<LocalIdentity>, Arc<String>)> {
        self.members.iter().find(|(m, _)| {
            m.keys
                .address()
                .local()
                .as_str()
                .eq_ignore_ascii_case(local)
        })
    }

    /// The one member every recipient names, if they name one.
    fn recipient(&self, rcpt_to: &[String]) -> Option<Arc<LocalIdentity>> {
        let mut found: Option<&Arc<LocalIdentity>> = None;
        for r in rcpt_to {
            let (m, _) = self
                .members
                .iter()
                .find(|(m, _)| m.keys.address().to_string().eq_ignore_ascii_case(r.trim()))?;
            if found.is_some_and(|f| f.id != m.id) {
                return None;
            }
            found = Some(m);
        }
        found.cloned()
    }
}

/// Accept streams to one onion service and serve each SMTP session, as many at once as
/// `sessions` allows (a stream that finds no place gets `421` and is closed); streams to the
/// IMAP and submission ports go to `clients`, when the service hosts accounts.
pub(crate) async fn serve_onion(
    mut listener: Listener,
    members: Arc<OnionMembers>,
    mailroom: Arc<Mailroom>,
    limits: SmtpLimits,
    sessions: Arc<SessionTable>,
    clients: Option<Arc<ClientServers>>,
) {
    while let Some(incoming) = listener.accept().await {
        if incoming.port != SMTP_PORT {
            if let Some(clients) = &clients {
                let onion = members.host.keys.address().onion().to_string();
                tokio::spawn(
                    clients
                        .clone()
                        .serve_onion(incoming.port, incoming.stream, onion),
                );
            }
            continue;
        }
        let (members, mailroom, limits, sessions) = (
            members.clone(),
            mailroom.clone(),
            limits.clone(),
            sessions.clone(),
        );
        tokio::spawn(async move {
            let mut stream = incoming.stream;
            match sessions.admit(members.host.id).await {
                Some(ticket) => serve(stream, members, mailroom, limits, ticket).await,
                None => {
                    let busy = b"421 4.7.0 Too busy; try again later\r\n";
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
                        let _ = stream.write_all(busy).await;
                        let _ = stream.shutdown().await;
                    })
                    .await;
                }
            }
        });
    }
}

/// What the session's events asked for, after handling them.
enum Flow {
    Continue,
    Close,
}

/// Serve one SMTP connection to an onion service's `members`.
async fn serve(
    mut stream: Stream,
    members: Arc<OnionMembers>,
    mailroom: Arc<Mailroom>,
    limits: SmtpLimits,
    ticket: Ticket,
) {
    let session_end = Instant::now() + limits.session_lifetime;
    let evicted = ticket.evict.clone();
    let run = async {
        let mut session = ServerSession::new(ServerConfig {
            hostname: members.host.keys.address().onion().to_string(),
            local_addresses: members
                .members
                .iter()
                .map(|(m, _)| m.keys.address().to_string())
                .collect(),
            max_message_size: limits.max_message_size,
            max_recipients: limits.max_recipients,
            max_errors: limits.max_errors,
            max_commands: limits.max_commands,
            kind: SessionKind::Peer,
        });
        let mut buf = vec![0u8; 16 * 1024];
        // A client must wait for the greeting; listen briefly for one that does not.
        if let Ok(Ok(n)) = tokio::time::timeout(limits.pregreet_wait, stream.read(&mut buf)).await {
            if n == 0 {
                return;
            }
            let _ = session.input(&buf[..n]);
        }
        let greeting = session.greet();
        let mut io = Io {
            stream: &mut stream,
            members: &members,
            mailroom: &mailroom,
            max_pending: limits.max_pending_reply_bytes,
        };
        if let Flow::Close = io.handle(&mut session, greeting).await {
            return;
        }
        let mut deadline = Instant::now() + limits.command_timeout;
        loop {
            let events = tokio::select! {
                read = tokio::time::timeout_at(deadline, io.stream.read(&mut buf)) => match read {
                    Err(_) => session.timeout(),
                    Ok(Ok(0)) | Ok(Err(_)) => return,
                    Ok(Ok(n)) => session.input(&buf[..n]),
                },
                () = evicted.notified() => {
                    let why: &[u8] = if ticket.closing() {
                        b"421 4.3.2 Going offline for now; try again later\r\n"
                    } else {
                        b"421 4.7.0 Too busy; closing this idle session to make room\r\n"
                    };
                    let _ = io.stream.write_all(why).await;
                    let _ = io.stream.shutdown().await;
                    return;
                }
            };
            if events.iter().any(begins_transaction) && !ticket.begin_transaction() {
                let why: &[u8] = if ticket.closing() {
                    b"421 4.3.2 Going offline for now; try again later\r\n"
                } else {
                    b"421 4.3.2 Too many mail transactions at once; try again later\r\n"
                };
                let _ = io.stream.write_all(why).await;
                let _ = io.stream.shutdown().await;
                return;
            }
            if events.iter().any(is_progress) {
                ticket.progress();
            }
            let replied = events
                .iter()
                .any(|e| matches!(e, Event::Reply(_) | Event::Message { .. }));
            let in_data = events
                .iter()
                .any(|e| matches!(e, Event::Reply(r) if r.code == 354));
            let message = events.iter().any(|e| matches!(e, Event::Message { .. }));
            if let Flow::Close = io.handle(&mut session, events).await {
                return;
            }
            if message {
                ticket.end_transaction();
            }
            if replied {
                // Progress resets the clock; DATA gets the longer allowance. A client that
                // trickles bytes without completing anything (slowloris) runs out of time, and
                // however busy, a session ends at its lifetime.
                deadline = Instant::now()
                    + if in_data {
                        limits.data_timeout
                    } else {
                        limits.command_timeout
                    };
            }
        }
    };
    if tokio::time::timeout_at(session_end, run).await.is_err() {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            let _ = stream
                .write_all(b"421 4.4.2 Session too long, closing connection\r\n")
                .await;
            let _ = stream.shutdown().await;
        })
        .await;
    }
}

/// Whether the session's sender was just accepted (`MAIL`).
fn begins_transaction(e: &Event) -> bool {
    matches!(e, Event::Reply(r) if r.code == 250 && r.enhanced.as_deref() == Some("2.1.0"))
}

/// Whether an event shows a session doing what SMTP is for: a sender or recipient accepted, a
/// message begun or complete.
fn is_progress(e: &Event) -> bool {
    match e {
        Event::Message { .. } => true,
        Event::Reply(r) => {
            r.code == 354
                || (r.code == 250 && r.enhanced.as_deref().is_some_and(|e| e.starts_with("2.1.")))
        }
        _ => false,
    }
}

/// One session's stream and what its events need.
struct Io<'a> {
    stream: &'a mut Stream,
    members: &'a Arc<OnionMembers>,
    mailroom: &'a Arc<Mailroom>,
    max_pending: usize,
}

impl Io<'_> {
    async fn flush(&mut self, out: &mut Vec<u8>) -> bool {
        if out.is_empty() {
            return true;
        }
        let ok = self.stream.write_all(out).await.is_ok();
        out.clear();
        ok
    }

    /// Carry out the session's events; writes replies (never more than `max_pending` bytes
    /// waiting: a client that pipelines commands without reading the replies waits for its
    /// own reading), commits messages, answers CARD and the control verbs.
    async fn handle(&mut self, session: &mut ServerSession, events: Vec<Event>) -> Flow {
        let mut queue = events;
        let mut out = Vec::new();
        let mut close = false;
        while !queue.is_empty() {
            let mut next = Vec::new();
            for e in queue {
                match e {
                    Event::Reply(r) => out.extend_from_slice(&r.to_bytes()),
                    Event::Message { envelope, data } => {
                        // Send what is pending first: the client may be waiting on it.
                        if !self.flush(&mut out).await {
                            return Flow::Close;
                        }
                        let host = &self.members.host;
                        let reply = if envelope.carry.is_some() {
                            self.mailroom.hold(host, envelope, data)
                        } else {
                            match self.members.recipient(&envelope.rcpt_to) {
                                Some(me) => self.mailroom.receive(me, envelope, data).await,
                                None => postern_smtp::Reply::new(
                                    554,
                                    "5.5.3",
                                    "One recipient per message on this service",
                                ),
                            }
                        };
                        next.extend(session.delivered(reply));
                    }
                    Event::CardRequest(local) => {
                        let answer = self
                            .members
                            .by_local(&local)
                            .map(|(_, card)| card.as_ref().clone());
                        next.extend(session.card(answer));
                    }
                    Event::Control { verb, args } => {
                        let reply = match verb.as_str() {
                            "XPULL" => self.mailroom.pull(&self.members.host, &args),
                            "XRECEIPT" => self.mailroom.receipt(&self.members.host, &args),
                            "XDEVICE" => self.mailroom.leases.answer(&self.members.host, &args),
                            _ => postern_smtp::Reply::new(502, "5.5.1", "Command not implemented"),
                        };
                        next.extend(session.answer(reply));
                    }
                    // Only a submission session asks to log in; this one is not.
                    Event::Auth { .. } => next.extend(session.authenticated(None)),
                    // Only a gateway's public session asks these; this one is not.
                    Event::Recipient { .. } => next.extend(session.recipient(Err(
                        postern_smtp::Reply::new(550, "5.1.1", "No such recipient here"),
                    ))),
                    Event::StartTls => return Flow::Close,
                    Event::Close => close = true,
                }
                if out.len() >= self.max_pending && !self.flush(&mut out).await {
                    return Flow::Close;
                }
            }
            queue = next;
        }
        if !self.flush(&mut out).await {
            return Flow::Close;
        }
        let _ = self.stream.flush().await;
        if close {
            let _ = self.stream.shutdown().await;
            Flow::Close
        } else {
            Flow::Continue
        }
    }
}
