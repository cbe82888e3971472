//! The gateway's public SMTP server: replies from the ordinary world, for reply addresses it
//! issued, over STARTTLS where the client wants it, with SPF, DKIM and DMARC checked.
//!
//! Every byte here comes from anyone on the Internet. The session (`postern_smtp`, public kind)
//! frames strictly and refuses smuggling; this driver bounds sessions (in all, per client
//! address), time (idle and whole session) and size, and answers `250` only once the
//! `ReplySink` has committed the message.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::dmarc::Policy;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimResult, DmarcResult, MessageAuthenticator,
    SpfResult,
};
use postern_smtp::{Event, Reply, ServerConfig, ServerSession, SessionKind};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::recipient::{InboundPolicy, RecipientVerdict};
use crate::reply::ReplyRoute;

/// Limits of the public server.
#[derive(Debug, Clone)]
pub struct PublicLimits {
    /// Largest message, octets.
    pub max_message_size: usize,
    /// Sessions at once, in all.
    pub max_sessions: usize,
    /// Sessions at once from one client address.
    pub max_sessions_per_ip: usize,
    /// Silence from the client before the session is closed (RFC 5321 §4.5.3.2: 5 minutes).
    pub idle: Duration,
    /// Longest session.
    pub session: Duration,
    /// Recipients per message.
    pub max_recipients: usize,
}

impl Default for PublicLimits {
    fn default() -> Self {
        PublicLimits {
            max_message_size: 25 * 1024 * 1024,
            max_sessions: 64,
            max_sessions_per_ip: 4,
            idle: Duration::from_secs(300),
            session: Duration::from_secs(1800),
            max_recipients: 16,
        }
    }
}

/// What the checks of an inbound message found (shown to the Postern user as such — never as
/// a verified sender).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundChecks {
    /// SPF of the envelope sender: `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`,
    /// `permerror`.
    pub spf: String,
    /// DKIM: `pass` if any signature verified, else the first result (`none` if unsigned).
    pub dkim: String,
    /// DMARC of the `From` domain: `pass`, `fail`, `none`, `temperror`, `permerror`.
    pub dmarc: String,
    /// The `Authentication-Results` header (RFC 8601) as the gateway wrote it.
    pub header: String,
}

/// One message taken by the public server.
#[derive(Debug, Clone)]
pub struct InboundMail {
    /// The reply addresses it was for (one or more routes).
    pub routes: Vec<ReplyRoute>,
    /// Envelope sender (`""` for a delivery report).
    pub mail_from: String,
    /// The client's address.
    pub peer: IpAddr,
    /// Whether it came over TLS.
    pub tls: bool,
    /// SPF, DKIM, DMARC.
    pub checks: InboundChecks,
    /// The message as received, CRLF line ends.
    pub data: Vec<u8>,
}

/// Where accepted replies go: the Postern side encrypts each to its user and commits it for
/// delivery. `Ok` is answered `250`; an `Err` reply is sent as it is.
#[async_trait::async_trait]
pub trait ReplySink: Send + Sync {
    /// Commit `mail` (durably, before returning `Ok`).
    async fn take(&self, mail: InboundMail) -> Result<(), Reply>;
}

/// The public server.
pub struct PublicServer {
    /// Host name in the greeting (the gateway's MX name).
    pub hostname: String,
    /// Which recipients are taken.
    pub policy: InboundPolicy,
    /// STARTTLS, when the gateway has a certificate.
    pub tls: Option<TlsAcceptor>,
    /// DNS for SPF, DKIM and DMARC.
    pub dns: Arc<MessageAuthenticator>,
    /// Limits.
    pub limits: PublicLimits,
    /// Where accepted mail goes.
    pub sink: Arc<dyn ReplySink>,
    /// Unix seconds now (injected for tests of expiry).
    pub now: Arc<dyn Fn() -> u64 + Send + Sync>,
    sessions: Mutex<HashMap<IpAddr, usize>>,
}

impl std::fmt::Debug for PublicServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicServer")
            .field("hostname", &self.hostname)
            .field("tls", &self.tls.is_some())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Errors reading the TLS certificate.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The files could not be read or hold no certificate / key.
    #[error("TLS certificate or key unreadable: {0}")]
    Files(String),
    /// rustls refused them.
    #[error("TLS certificate refused: {0}")]
    Refused(String),
}

/// A STARTTLS acceptor from a PEM certificate chain and private key.
pub fn tls_acceptor(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsAcceptor, TlsSetupError> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut &cert_pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| TlsSetupError::Files(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsSetupError::Files("no certificate in the PEM".into()));
    }
    let key = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(|e| TlsSetupError::Files(e.to_string()))?
        .ok_or_else(|| TlsSetupError::Files("no private key in the PEM".into()))?;
    // ring, as mail-send's client side uses (aws-lc-rs would add a second C crypto library
    // and cmake to the build). Port 25 TLS is opportunistic; ring's suites are the usual ones.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Refused(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsSetupError::Refused(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

enum Ended<S> {
    Closed,
    StartTls(S),
}

impl PublicServer {
    /// A server; see the fields.
    pub fn new(
        hostname: &str,
        policy: InboundPolicy,
        tls: Option<TlsAcceptor>,
        dns: Arc<MessageAuthenticator>,
        limits: PublicLimits,
        sink: Arc<dyn ReplySink>,
        now: Arc<dyn Fn() -> u64 + Send + Sync>,
    ) -> Self {
        PublicServer {
            hostname: hostname.to_owned(),
            policy,
            tls,
            dns,
            limits,
            sink,
            now,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Accept connections until the listener fails.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        while let Ok((stream, peer)) = listener.accept().await {
            let server = self.clone();
            tokio::spawn(async move { server.connection(stream, peer).await });
        }
    }

    /// Count a session in; `false` when a limit says no.
    fn enter(&self, ip: IpAddr) -> bool {
        let Ok(mut sessions) = self.sessions.lock() else {
            return false;
        };
        let total: usize = sessions.values().sum();
        let mine = sessions.get(&ip).copied().unwrap_or(0);
        if total >= self.limits.max_sessions || mine >= self.limits.max_sessions_per_ip {
            return false;
        }
        *sessions.entry(ip).or_default() += 1;
        true
    }

    fn leave(&self, ip: IpAddr) {
        if let Ok(mut sessions) = self.sessions.lock() {
            if let Some(n) = sessions.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    sessions.remove(&ip);
                }
            }
        }
    }

    async fn connection(self: Arc<Self>, mut stream: TcpStream, peer: SocketAddr) {
        // Replies are small and each awaited by the client: no Nagle delay.
        let _ = stream.set_nodelay(true);
        let ip = peer.ip();
        if !self.enter(ip) {
            let busy = Reply::new(421, "4.7.0", "Too many connections, try again later");
            let _ = stream.write_all(&busy.to_bytes()).await;
            return;
        }
        let deadline = Instant::now() + self.limits.session;
        let _ = tokio::time::timeout_at(deadline.into(), self.session(stream, ip)).await;
        self.leave(ip);
    }

    async fn session(&self, stream: TcpStream, ip: IpAddr) {
        let mut session = ServerSession::new(ServerConfig {
            hostname: self.hostname.clone(),
            local_addresses: Vec::new(),
            max_message_size: self.limits.max_message_size,
            max_recipients: self.limits.max_recipients,
            max_errors: 10,
            max_commands: 1000,
            kind: SessionKind::Public {
                starttls: self.tls.is_some(),
            },
        });
        let greeting = session.greet();
        let plain = match self.drive(&mut session, stream, greeting, ip, false).await {
            Ended::StartTls(s) => s,
            Ended::Closed => return,
        };
        let Some(acceptor) = &self.tls else { return };
        let Ok(Ok(tls)) = tokio::time::timeout(self.limits.idle, acceptor.accept(plain)).await
        else {
            return;
        };
        let events = session.tls_started();
        self.drive(&mut session, tls, events, ip, true).await;
    }

    async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        session: &mut ServerSession,
        mut stream: S,
        first: Vec<Event>,
        ip: IpAddr,
        tls: bool,
    ) -> Ended<S> {
        let mut queue = first;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let mut out = Vec::new();
            let mut starttls = false;
            while !queue.is_empty() {
                let mut next = Vec::new();
                for event in queue {
                    match event {
                        Event::Reply(r) => out.extend_from_slice(&r.to_bytes()),
                        Event::Recipient { address, mail_from } => {
                            let verdict =
                                match self.policy.recipient(&address, &mail_from, (self.now)()) {
                                    RecipientVerdict::Accept(_) => Ok(()),
                                    RecipientVerdict::Refuse(r) => Err(r),
                                };
                            next.extend(session.recipient(verdict));
                        }
                        Event::Message { envelope, data } => {
                            if stream.write_all(&out).await.is_err() {
                                return Ended::Closed;
                            }
                            out.clear();
                            let reply = self.message(envelope, data, ip, tls).await;
                            next.extend(session.delivered(reply));
                        }
                        Event::StartTls => starttls = true,
                        // Not offered publicly; refused if asked.
                        Event::CardRequest(_) => next.extend(session.card(None)),
                        Event::Control { .. } => next.extend(session.answer(Reply::new(
                            502,
                            "5.5.1",
                            "Command not implemented",
                        ))),
                        Event::Auth { .. } => next.extend(session.authenticated(None)),
                        Event::Close => {}
                    }
                }
                queue = next;
            }
            if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
                return Ended::Closed;
            }
            if starttls {
                return Ended::StartTls(stream);
            }
            if session.is_closed() {
                let _ = stream.shutdown().await;
                return Ended::Closed;
            }
            match tokio::time::timeout(self.limits.idle, stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return Ended::Closed,
                Ok(Ok(n)) => queue = session.input(&buf[..n]),
                Err(_) => queue = session.timeout(),
            }
        }
    }

    async fn message(
        &self,
        envelope: postern_smtp::Envelope,
        data: Vec<u8>,
        ip: IpAddr,
        tls: bool,
    ) -> Reply {
        let now = (self.now)();
        let routes: Vec<ReplyRoute> = envelope
            .rcpt_to
            .iter()
            .filter_map(
                |r| match self.policy.recipient(r, &envelope.mail_from, now) {
                    RecipientVerdict::Accept(route) => Some(route),
                    RecipientVerdict::Refuse(_) => None,
                },
            )
            .collect();
        if routes.is_empty() {
            return crate::recipient::no_such_reply_address();
        }
        let checks = match self.check(&data, &envelope.mail_from, ip).await {
            Ok(c) => c,
            Err(refusal) => return refusal,
        };
        let mail = InboundMail {
            routes,
            mail_from: envelope.mail_from,
            peer: ip,
            tls,
            checks,
            data,
        };
        match self.sink.take(mail).await {
            Ok(()) => Reply::new(250, "2.0.0", "Accepted for delivery to the Postern user"),
            Err(r) => r,
        }
    }

    /// SPF, DKIM and DMARC; a DMARC failure under `p=reject` refuses the message.
    async fn check(
        &self,
        data: &[u8],
        mail_from: &str,
        ip: IpAddr,
    ) -> Result<InboundChecks, Reply> {
        let Some(message) = AuthenticatedMessage::parse(data) else {
            return Err(Reply::new(550, "5.6.0", "Message has no parsable header"));
        };
        let dkim = self.dns.verify_dkim(&message).await;
        // The session does not keep the client's EHLO name; SPF's HELO identity is only used
        // here for `<>`, where the sender domain stands in.
        let mail_from_domain = mail_from.rsplit_once('@').map_or("unknown", |(_, d)| d);
        let sender = if mail_from.is_empty() {
            format!("postmaster@{mail_from_domain}")
        } else {
            mail_from.to_owned()
        };
        let spf = self
            .dns
            .verify_spf(SpfParameters::verify_mail_from(
                ip,
                mail_from_domain,
                &self.hostname,
                &sender,
            ))
            .await;
        let dmarc = self
            .dns
            .verify_dmarc(DmarcParameters::new(
                &message,
                &dkim,
                mail_from_domain,
                &spf,
            ))
            .await;
        // mail-auth leaves both DMARC results at "none" when a record exists and nothing
        // aligned passes; that is a DMARC failure (RFC 7489 §6.6.2), so it is judged here.
        let dmarc_word = match (dmarc.dkim_result(), dmarc.spf_result()) {
            (DmarcResult::Pass, _) | (_, DmarcResult::Pass) => "pass",
            (DmarcResult::TempError(_), _) | (_, DmarcResult::TempError(_)) => "temperror",
            (DmarcResult::PermError(_), _) | (_, DmarcResult::PermError(_)) => "permerror",
            _ if dmarc.dmarc_record().is_none() => "none",
            _ => "fail",
        };
        let mut header = AuthenticationResults::new(&self.hostname)
            .with_dkim_results(&dkim, message.from())
            .with_spf_mailfrom_result(&spf, ip, &sender, mail_from_domain)
            .to_string();
        let policy = match dmarc.policy() {
            Policy::Reject => " policy.dmarc=reject",
            Policy::Quarantine => " policy.dmarc=quarantine",
            Policy::None => " policy.dmarc=none",
            Policy::Unspecified => "",
        };
        let from_domain = message.from().rsplit_once('@').map_or("", |(_, d)| d);
        header.push_str(&format!(
            ";\r\n\tdmarc={dmarc_word} header.from={from_domain}{policy}"
        ));
        if dmarc_word == "fail" && dmarc.policy() == Policy::Reject {
            return Err(Reply::new(
                550,
                "5.7.1",
                format!("Refused by the DMARC policy of {}", dmarc.domain()),
            ));
        }
        let dkim_word = if dkim.iter().any(|d| d.result() == &DkimResult::Pass) {
            "pass"
        } else {
            match dkim.first().map(|d| d.result()) {
                None | Some(DkimResult::None) => "none",
                Some(DkimResult::Neutral(_)) => "neutral",
                Some(DkimResult::Fail(_)) => "fail",
                Some(DkimResult::TempError(_)) => "temperror",
                Some(DkimResult::PermError(_)) => "permerror",
                Some(DkimResult::Pass) => "pass",
            }
        };
        let spf_word = match spf.result() {
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::Neutral => "neutral",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
            SpfResult::None => "none",
        };
        Ok(InboundChecks {
            spf: spf_word.into(),
            dkim: dkim_word.into(),
            dmarc: dmarc_word.into(),
            header,
        })
    }
}
