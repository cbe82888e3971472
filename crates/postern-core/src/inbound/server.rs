//! The SMTP server driver: runs a `ServerSession` over each stream that reaches an identity's
//! onion service, with what the protocol core leaves to its driver: a place in the node's
//! `SessionTable`, deadlines (per command, per message, per session), and how many replies may
//! wait for a client that does not read them.

use std::sync::Arc;

use postern_smtp::{Event, ServerConfig, ServerSession};
use postern_transport::{Listener, Stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::mailroom::Mailroom;
use super::sessions::{SessionTable, Ticket};
use crate::context::LocalIdentity;
use crate::{SmtpLimits, SMTP_PORT};

/// Accept streams to `me`'s service and serve each SMTP session, as many at once as `sessions`
/// allows; a stream that finds no place gets `421` and is closed.
pub(crate) async fn serve_identity(
    mut listener: Listener,
    me: Arc<LocalIdentity>,
    card: Arc<String>,
    mailroom: Arc<Mailroom>,
    limits: SmtpLimits,
    sessions: Arc<SessionTable>,
) {
    while let Some(incoming) = listener.accept().await {
        if incoming.port != SMTP_PORT {
            continue;
        }
        let (me, card, mailroom, limits, sessions) = (
            me.clone(),
            card.clone(),
            mailroom.clone(),
            limits.clone(),
            sessions.clone(),
        );
        tokio::spawn(async move {
            let mut stream = incoming.stream;
            match sessions.admit(me.id).await {
                Some(ticket) => serve(stream, me, card, mailroom, limits, ticket).await,
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

/// Serve one SMTP connection for `me`. `card` is the identity's card text (with key), given to
/// peers that ask with `CARD`.
async fn serve(
    mut stream: Stream,
    me: Arc<LocalIdentity>,
    card: Arc<String>,
    mailroom: Arc<Mailroom>,
    limits: SmtpLimits,
    ticket: Ticket,
) {
    let session_end = Instant::now() + limits.session_lifetime;
    let evicted = ticket.evict.clone();
    let run = async {
        let address = me.keys.address().to_string();
        let mut session = ServerSession::new(ServerConfig {
            hostname: me.keys.address().onion().to_string(),
            local_addresses: vec![address],
            max_message_size: limits.max_message_size,
            max_recipients: limits.max_recipients,
            max_errors: limits.max_errors,
            max_commands: limits.max_commands,
            submission: false,
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
            me: &me,
            card: &card,
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
                    let _ = io
                        .stream
                        .write_all(b"421 4.7.0 Too busy; closing this idle session to make room\r\n")
                        .await;
                    let _ = io.stream.shutdown().await;
                    return;
                }
            };
            if events.iter().any(begins_transaction) && !ticket.begin_transaction() {
                let _ = io
                    .stream
                    .write_all(b"421 4.3.2 Too many mail transactions at once; try again later\r\n")
                    .await;
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
            if let Flow::Close = io.handle(&mut session, events).await {
                return;
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
    me: &'a Arc<LocalIdentity>,
    card: &'a Arc<String>,
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
                        let reply = if envelope.carry.is_some() {
                            self.mailroom.hold(self.me, envelope, data)
                        } else {
                            self.mailroom.receive(self.me.clone(), envelope, data).await
                        };
                        next.extend(session.delivered(reply));
                    }
                    Event::CardRequest(local) => {
                        let answer = (local == self.me.keys.address().local().as_str())
                            .then(|| self.card.as_ref().clone());
                        next.extend(session.card(answer));
                    }
                    Event::Control { verb, args } => {
                        let reply = match verb.as_str() {
                            "XPULL" => self.mailroom.pull(self.me, &args),
                            "XRECEIPT" => self.mailroom.receipt(self.me, &args),
                            _ => postern_smtp::Reply::new(502, "5.5.1", "Command not implemented"),
                        };
                        next.extend(session.answer(reply));
                    }
                    // Only a submission session asks to log in; this one is not.
                    Event::Auth { .. } => next.extend(session.authenticated(None)),
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
