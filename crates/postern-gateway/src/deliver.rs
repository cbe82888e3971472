//! Delivery to an ordinary mail server: MX lookup over ordinary DNS, then SMTP with STARTTLS
//! wherever the server offers it (opportunistic TLS, RFC 7435 — what MTAs do on port 25).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mail_auth::hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::MessageAuthenticator;
use mail_send::smtp::message::Parameters;
use mail_send::smtp::tls::build_tls_connector;
use mail_send::SmtpClient;
use smtp_proto::EXT_START_TLS;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Where MX lookups go.
#[derive(Debug, Clone)]
pub enum Dns {
    /// The system's resolver (`/etc/resolv.conf`).
    System,
    /// One name server (plain DNS over UDP and TCP), e.g. a local resolver.
    Server(SocketAddr),
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Accepted by the recipient's server.
    Delivered {
        /// The MX host that took it.
        host: String,
        /// Whether the session was encrypted (STARTTLS).
        tls: bool,
    },
    /// Try again later (4xx, no server reachable, DNS trouble): the reason as shown to the sender.
    Transient(String),
    /// Will never work (5xx, no such domain, null MX): bounce with this reason.
    Permanent(String),
}

/// Errors setting delivery up.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The resolver could not be set up.
    #[error("DNS resolver: {0}")]
    Resolver(String),
}

/// Delivers mail to ordinary servers.
pub struct MxDelivery {
    dns: Arc<MessageAuthenticator>,
    /// Port of the recipient's servers (25; tests use another).
    port: u16,
    /// Name in EHLO: the gateway's host name.
    helo: String,
    timeout: Duration,
}

impl std::fmt::Debug for MxDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MxDelivery")
            .field("port", &self.port)
            .field("helo", &self.helo)
            .finish_non_exhaustive()
    }
}

/// A resolver for `dns` (MX lookups here; SPF, DKIM and DMARC in `inbound`).
pub fn resolver(dns: &Dns) -> Result<Arc<MessageAuthenticator>, DeliveryError> {
    match dns {
        Dns::System => MessageAuthenticator::new_system_conf(),
        Dns::Server(addr) => {
            let servers = NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
            let mut opts = ResolverOpts::default();
            opts.attempts = 2;
            opts.timeout = Duration::from_secs(5);
            MessageAuthenticator::new(ResolverConfig::from_parts(None, vec![], servers), opts)
        }
    }
    .map(Arc::new)
    .map_err(|e| DeliveryError::Resolver(e.to_string()))
}

impl MxDelivery {
    /// Delivery through `dns`, to servers on `port`, introducing itself as `helo`.
    pub fn new(dns: Arc<MessageAuthenticator>, port: u16, helo: &str) -> Self {
        MxDelivery {
            dns,
            port,
            helo: helo.to_owned(),
            timeout: Duration::from_secs(60),
        }
    }

    /// The hosts to try for `domain`, best first (RFC 5321 §5.1: MX by preference, or the
    /// domain itself when it has no MX; RFC 7505's null MX means it takes no mail).
    async fn hosts(&self, domain: &str) -> Result<Vec<String>, DeliveryOutcome> {
        let no_cache: Option<&mail_auth::common::cache::NoCache<_, _>> = None;
        match self.dns.mx_lookup(domain, no_cache).await {
            Ok(records) if records.is_empty() => Ok(vec![domain.to_owned()]),
            Ok(records) => {
                let hosts: Vec<String> = records
                    .iter()
                    .flat_map(|mx| mx.exchanges.iter())
                    .map(|h| h.trim_end_matches('.').to_owned())
                    .collect();
                if hosts.iter().all(String::is_empty) {
                    return Err(DeliveryOutcome::Permanent(format!(
                        "{domain} accepts no mail (null MX)"
                    )));
                }
                Ok(hosts.into_iter().filter(|h| !h.is_empty()).collect())
            }
            Err(mail_auth::Error::DnsRecordNotFound(ResponseCode::NXDomain)) => Err(
                DeliveryOutcome::Permanent(format!("no such domain: {domain}")),
            ),
            Err(mail_auth::Error::DnsRecordNotFound(_)) => Ok(vec![domain.to_owned()]),
            Err(e) => Err(DeliveryOutcome::Transient(format!(
                "DNS lookup for {domain} failed: {e}"
            ))),
        }
    }

    /// Deliver `message` from `mail_from` to `rcpt`.
    pub async fn deliver(&self, mail_from: &str, rcpt: &str, message: &[u8]) -> DeliveryOutcome {
        let one = [Outgoing {
            mail_from,
            rcpt,
            message,
        }];
        self.deliver_all(&one)
            .await
            .pop()
            .unwrap_or_else(|| DeliveryOutcome::Transient("not attempted".into()))
    }

    /// Deliver `items` over at most `sessions` sessions at once: grouped by recipient domain,
    /// each domain's messages shared among its sessions, each session carrying several messages
    /// (as an MTA reuses connections). Outcomes in the order of `items`.
    pub async fn deliver_many(
        &self,
        items: &[Outgoing<'_>],
        sessions: usize,
    ) -> Vec<DeliveryOutcome> {
        let mut domains: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, o) in items.iter().enumerate() {
            let d = o
                .rcpt
                .rsplit_once('@')
                .map(|(_, d)| d.to_ascii_lowercase())
                .unwrap_or_default();
            match domains.iter_mut().find(|(k, _)| *k == d) {
                Some((_, v)) => v.push(i),
                None => domains.push((d, vec![i])),
            }
        }
        // Sessions per domain in proportion to its messages, at least one each.
        let sessions = sessions.max(1);
        let mut chunks: Vec<Vec<usize>> = Vec::new();
        for (_, idx) in &domains {
            let share = (idx.len() * sessions)
                .div_ceil(items.len().max(1))
                .clamp(1, sessions);
            let per = idx.len().div_ceil(share);
            chunks.extend(idx.chunks(per.max(1)).map(<[usize]>::to_vec));
        }
        let mut outcomes: Vec<Option<DeliveryOutcome>> = vec![None; items.len()];
        for wave in chunks.chunks(sessions) {
            let runs = wave.iter().map(|chunk| {
                let batch: Vec<Outgoing<'_>> = chunk.iter().map(|&i| items[i]).collect();
                async move { (chunk, self.deliver_all(&batch).await) }
            });
            for (chunk, results) in futures::future::join_all(runs).await {
                for (&i, r) in chunk.iter().zip(results) {
                    outcomes[i] = Some(r);
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| DeliveryOutcome::Transient("not attempted".into())))
            .collect()
    }

    /// Deliver messages for one recipient domain over as few sessions as it takes (one, when
    /// all goes well: `RSET` between transactions — as an MTA reuses its connections). The
    /// outcomes are in the order of `batch`. Messages for other domains than the first's are
    /// delivered one by one.
    pub async fn deliver_all(&self, batch: &[Outgoing<'_>]) -> Vec<DeliveryOutcome> {
        let domain_of =
            |o: &Outgoing<'_>| o.rcpt.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
        let Some(first) = batch.first() else {
            return Vec::new();
        };
        let Some(domain) = domain_of(first) else {
            let mut out = vec![DeliveryOutcome::Permanent(format!(
                "not an address: {}",
                first.rcpt
            ))];
            out.extend(Box::pin(self.deliver_all(&batch[1..])).await);
            return out;
        };
        let mut outcomes: Vec<Option<DeliveryOutcome>> = vec![None; batch.len()];
        let (mine, others): (Vec<usize>, Vec<usize>) =
            (0..batch.len()).partition(|&i| domain_of(&batch[i]).as_deref() == Some(&domain));
        for i in others {
            let o = &batch[i];
            outcomes[i] = Some(Box::pin(self.deliver(o.mail_from, o.rcpt, o.message)).await);
        }
        match self.hosts(&domain).await {
            Err(outcome) => {
                for &i in &mine {
                    outcomes[i] = Some(outcome.clone());
                }
            }
            Ok(hosts) => {
                let mut last = String::from("no mail server answered");
                'hosts: for host in hosts {
                    let ips: Vec<IpAddr> = match self.dns.resolver().lookup_ip(host.as_str()).await
                    {
                        Ok(ips) => ips.iter().collect(),
                        Err(e) => {
                            last = format!("{host}: {e}");
                            continue;
                        }
                    };
                    for ip in ips {
                        let pending: Vec<usize> = mine
                            .iter()
                            .copied()
                            .filter(|&i| outcomes[i].is_none())
                            .collect();
                        if pending.is_empty() {
                            break 'hosts;
                        }
                        let addr = SocketAddr::new(ip, self.port);
                        if let Some(why) = self
                            .session(&host, addr, batch, &pending, &mut outcomes)
                            .await
                        {
                            last = format!("{host}: {why}");
                        }
                    }
                }
                for &i in &mine {
                    if outcomes[i].is_none() {
                        outcomes[i] = Some(DeliveryOutcome::Transient(last.clone()));
                    }
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| DeliveryOutcome::Transient("not attempted".into())))
            .collect()
    }

    /// One session to `addr`: the `pending` messages of `batch`, each outcome written as it is
    /// known. Returns why the session ended early (the rest to try on the next host), if it did.
    async fn session(
        &self,
        host: &str,
        addr: SocketAddr,
        batch: &[Outgoing<'_>],
        pending: &[usize],
        outcomes: &mut [Option<DeliveryOutcome>],
    ) -> Option<String> {
        let stream = match tokio::time::timeout(self.timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Some(e.to_string()),
            Err(_) => return Some("connection timed out".into()),
        };
        // Commands and replies are small and answered one by one: no Nagle delay.
        let _ = stream.set_nodelay(true);
        let mut client = SmtpClient {
            stream,
            timeout: self.timeout,
        };
        match client.read().await {
            Ok(greeting) if greeting.code == 220 => {}
            Ok(greeting) => return Some(format!("greeted with {greeting}")),
            Err(e) => return Some(e.to_string()),
        }
        let ehlo = match client.ehlo(&self.helo).await {
            Ok(e) => e,
            Err(e) => return Some(e.to_string()),
        };
        if !ehlo.has_capability(EXT_START_TLS) {
            return transactions(client, host, false, batch, pending, outcomes).await;
        }
        // Opportunistic: the certificate is not checked (an MX's name is not authenticated by
        // DNS anyway without DANE/MTA-STS), but the session is encrypted.
        let mut tls = match client.start_tls(&build_tls_connector(true), host).await {
            Ok(t) => t,
            Err(e) => return Some(format!("STARTTLS failed: {e}")),
        };
        if let Err(e) = tls.ehlo(&self.helo).await {
            return Some(e.to_string());
        }
        transactions(tls, host, true, batch, pending, outcomes).await
    }
}

/// One message to deliver.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Envelope sender.
    pub mail_from: &'a str,
    /// The recipient.
    pub rcpt: &'a str,
    /// The message.
    pub message: &'a [u8],
}

async fn transactions<T: AsyncRead + AsyncWrite + Unpin>(
    mut client: SmtpClient<T>,
    host: &str,
    tls: bool,
    batch: &[Outgoing<'_>],
    pending: &[usize],
    outcomes: &mut [Option<DeliveryOutcome>],
) -> Option<String> {
    let params = Parameters::default();
    for (n, &i) in pending.iter().enumerate() {
        let o = &batch[i];
        if n > 0 {
            if let Err(e) = client.rset().await {
                return Some(e.to_string());
            }
        }
        let result = async {
            client.mail_from(o.mail_from, &params).await?;
            client.rcpt_to(o.rcpt, &params).await?;
            client.data(o.message).await
        }
        .await;
        outcomes[i] = Some(match result {
            Ok(()) => DeliveryOutcome::Delivered {
                host: host.to_owned(),
                tls,
            },
            Err(mail_send::Error::UnexpectedReply(reply)) if (500..600).contains(&reply.code) => {
                DeliveryOutcome::Permanent(format!("{host} said: {reply}"))
            }
            Err(mail_send::Error::UnexpectedReply(reply)) => {
                DeliveryOutcome::Transient(format!("{host} said: {reply}"))
            }
            // The connection broke: this message and the rest go to the next host.
            Err(e) => return Some(e.to_string()),
        });
    }
    // Everything is answered; a failed QUIT changes nothing.
    let _ = client.quit().await;
    None
}
