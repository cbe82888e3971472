//! Message submission (RFC 6409) for mail clients: `postern_smtp::ServerSession` in
//! submission mode, one thread per connection. A submitted message goes through the same
//! path as the app's: a draft per recipient, sent (signed, encrypted, queued in the outbox,
//! carriers and all) and filed in Sent, in one transaction each.

use std::io::ErrorKind as IoKind;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postern_smtp::{Event, Reply, ServerConfig, ServerSession, SessionKind};

use super::letter::read_letter;
use super::logins::LoginGuard;
use super::{ClientStream, Reach};
use crate::{CoreError, DraftInput, OutboxView, Postern};

/// How long a submission client may stay silent.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5 * 60);

impl Postern {
    /// Send what a mail client submitted for `identity_id`: checked for every recipient first
    /// (nothing is sent if one is refused), then one message per recipient.
    pub(crate) fn submit(
        &mut self,
        identity_id: i64,
        recipients: &[String],
        message: &[u8],
    ) -> Result<Vec<OutboxView>, CoreError> {
        let letter = read_letter(message)?;
        let me = self.find_identity(&identity_id.to_string())?;
        Self::check_size(&letter.text, &letter.attachments)?;
        for to in recipients {
            self.check_sendable(&me, to, &letter.subject)?;
        }
        let mut sent = Vec::new();
        for to in recipients {
            let draft = self.save_draft(
                &DraftInput {
                    id: None,
                    identity: identity_id.to_string(),
                    to: to.clone(),
                    subject: letter.subject.clone(),
                    text: letter.text.clone(),
                    in_reply_to: letter.in_reply_to.clone(),
                    references: letter.references.clone(),
                    ..Default::default()
                },
                &letter.attachments,
            )?;
            sent.push(self.send_draft(draft.id)?);
        }
        Ok(sent)
    }
}

/// Serve one submission connection until it ends; `wake` tells the outbox there is mail.
pub(crate) fn serve_connection(
    mut stream: impl ClientStream,
    mut postern: Postern,
    guard: Arc<LoginGuard>,
    reach: Reach,
    max_message_size: usize,
    wake: &dyn Fn(),
) {
    if stream.set_read_timeout(Some(COMMAND_TIMEOUT)).is_err() {
        return;
    }
    let mut session = ServerSession::new(ServerConfig {
        hostname: match &reach {
            Reach::Local => "localhost".into(),
            Reach::Onion(onion) => onion.clone(),
        },
        local_addresses: Vec::new(),
        max_message_size,
        max_recipients: 20,
        max_errors: 10,
        max_commands: 1000,
        kind: SessionKind::Submission,
    });
    let mut user: Option<i64> = None;
    let mut events = session.greet();
    let mut buf = vec![0u8; 16 * 1024];
    let started = Instant::now();
    loop {
        while !events.is_empty() {
            let mut next = Vec::new();
            for e in events {
                match e {
                    Event::Reply(r) => {
                        if stream.write_all(&r.to_bytes()).is_err() {
                            return;
                        }
                    }
                    Event::Close => return,
                    Event::Auth {
                        user: name,
                        password,
                    } => {
                        let found = if guard.locked() {
                            None
                        } else {
                            postern.check_client_login(&name, &password, &reach)
                        };
                        match found {
                            Some(_) => guard.succeeded(),
                            None => guard.failed("submission"),
                        }
                        user = found;
                        next.extend(session.authenticated(found.map(|_| name.clone())));
                    }
                    Event::Message { envelope, data } => {
                        let reply = match user {
                            Some(id) => match postern.submit(id, &envelope.rcpt_to, &data) {
                                Ok(sent) => {
                                    wake();
                                    Reply::new(
                                        250,
                                        "2.0.0",
                                        format!("Queued for {} recipient(s)", sent.len()),
                                    )
                                }
                                Err(e) => {
                                    let text = e.to_string().replace(['\r', '\n'], " ");
                                    Reply::new(554, "5.6.0", format!("Not sent: {text}"))
                                }
                            },
                            None => Reply::new(530, "5.7.0", "Authentication required"),
                        };
                        next.extend(session.delivered(reply));
                    }
                    // Not offered on submission.
                    Event::CardRequest(_) => next.extend(session.card(None)),
                    Event::Control { .. } => {
                        next.extend(session.answer(Reply::new(502, "5.5.1", "Not here")))
                    }
                    // Only a public session asks these.
                    Event::Recipient { .. } => {
                        next.extend(session.recipient(Err(Reply::new(550, "5.1.1", "Not here"))))
                    }
                    Event::StartTls => return,
                }
            }
            events = next;
        }
        if session.is_closed() || started.elapsed() > Duration::from_secs(24 * 3600) {
            return;
        }
        events = match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => session.input(&buf[..n]),
            Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {
                session.timeout()
            }
            Err(_) => return,
        };
    }
}
