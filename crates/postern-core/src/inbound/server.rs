//! The SMTP server driver: runs a `ServerSession` over a transport stream, with the timeouts
//! the protocol core leaves to its driver.

use std::sync::Arc;
use std::time::Duration;

use postern_smtp::{Event, ServerConfig, ServerSession};
use postern_transport::Stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::receive::{LocalIdentity, Mailroom};

/// Limits and timeouts of the SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpLimits {
    /// Largest message accepted, in octets.
    pub max_message_size: usize,
    /// Most recipients per message.
    pub max_recipients: usize,
    /// Failed commands tolerated per session.
    pub max_errors: usize,
    /// How long a client may take to complete a command (RFC 5321 suggests 5 minutes).
    pub command_timeout: Duration,
    /// How long a client may take to send a whole message.
    pub data_timeout: Duration,
    /// How long to listen for a client that talks before the greeting.
    pub pregreet_wait: Duration,
}

impl Default for SmtpLimits {
    fn default() -> Self {
        SmtpLimits {
            max_message_size: 25 * 1024 * 1024,
            max_recipients: 16,
            max_errors: 10,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(600),
            pregreet_wait: Duration::from_millis(50),
        }
    }
}

/// What the session's events asked for, after handling them.
enum Flow {
    Continue,
    Close,
}

/// Serve one SMTP connection for `me`. `card` is the identity's card text (with key), given to
/// peers that ask with `CARD`.
pub(crate) async fn serve(
    mut stream: Stream,
    me: Arc<LocalIdentity>,
    card: Arc<String>,
    mailroom: Arc<Mailroom>,
    limits: SmtpLimits,
) {
    let address = me.keys.address().to_string();
    let mut session = ServerSession::new(ServerConfig {
        hostname: me.keys.address().onion().to_string(),
        local_addresses: vec![address],
        max_message_size: limits.max_message_size,
        max_recipients: limits.max_recipients,
        max_errors: limits.max_errors,
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
    if let Flow::Close = handle(&mut stream, &mut session, greeting, &me, &card, &mailroom).await {
        return;
    }
    let mut deadline = Instant::now() + limits.command_timeout;
    loop {
        let read = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await;
        let events = match read {
            Err(_) => session.timeout(),
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(n)) => session.input(&buf[..n]),
        };
        let replied = events
            .iter()
            .any(|e| matches!(e, Event::Reply(_) | Event::Message { .. }));
        let in_data = events
            .iter()
            .any(|e| matches!(e, Event::Reply(r) if r.code == 354));
        if let Flow::Close = handle(&mut stream, &mut session, events, &me, &card, &mailroom).await
        {
            return;
        }
        if replied {
            // Progress resets the clock; DATA gets the longer allowance. A client that trickles
            // bytes without completing anything (slowloris) runs out of time.
            deadline = Instant::now()
                + if in_data {
                    limits.data_timeout
                } else {
                    limits.command_timeout
                };
        }
    }
}

/// Carry out the session's events; writes replies, commits messages, answers CARD.
async fn handle(
    stream: &mut Stream,
    session: &mut ServerSession,
    events: Vec<Event>,
    me: &Arc<LocalIdentity>,
    card: &Arc<String>,
    mailroom: &Arc<Mailroom>,
) -> Flow {
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
                    if !out.is_empty() && stream.write_all(&std::mem::take(&mut out)).await.is_err()
                    {
                        return Flow::Close;
                    }
                    let reply = if envelope.carry.is_some() {
                        mailroom.hold(me, envelope, data).await
                    } else {
                        mailroom.receive(me.clone(), envelope, data).await
                    };
                    next.extend(session.delivered(reply));
                }
                Event::CardRequest(local) => {
                    let answer = (local == me.keys.address().local().as_str())
                        .then(|| card.as_ref().clone());
                    next.extend(session.card(answer));
                }
                Event::Control { verb, args } => {
                    let reply = match verb.as_str() {
                        "XPULL" => mailroom.pull(me, &args),
                        "XRECEIPT" => mailroom.receipt(me, &args),
                        _ => postern_smtp::Reply::new(502, "5.5.1", "Command not implemented"),
                    };
                    next.extend(session.answer(reply));
                }
                Event::Close => close = true,
            }
        }
        queue = next;
    }
    if !out.is_empty() && stream.write_all(&out).await.is_err() {
        return Flow::Close;
    }
    let _ = stream.flush().await;
    if close {
        let _ = stream.shutdown().await;
        Flow::Close
    } else {
        Flow::Continue
    }
}
