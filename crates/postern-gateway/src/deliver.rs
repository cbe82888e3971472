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

enum Attempt {
    Done(DeliveryOutcome),
    /// This host did not work; try the next.
    NextHost(String),
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
        let Some((_, domain)) = rcpt.rsplit_once('@') else {
            return DeliveryOutcome::Permanent(format!("not an address: {rcpt}"));
        };
        let hosts = match self.hosts(&domain.to_ascii_lowercase()).await {
            Ok(h) => h,
            Err(outcome) => return outcome,
        };
        let mut last = String::from("no mail server answered");
        for host in hosts {
            let ips: Vec<IpAddr> = match self.dns.resolver().lookup_ip(host.as_str()).await {
                Ok(ips) => ips.iter().collect(),
                Err(e) => {
                    last = format!("{host}: {e}");
                    continue;
                }
            };
            for ip in ips {
                match self
                    .attempt(
                        &host,
                        SocketAddr::new(ip, self.port),
                        mail_from,
                        rcpt,
                        message,
                    )
                    .await
                {
                    Attempt::Done(outcome) => return outcome,
                    Attempt::NextHost(why) => last = format!("{host}: {why}"),
                }
            }
        }
        DeliveryOutcome::Transient(last)
    }

    async fn attempt(
        &self,
        host: &str,
        addr: SocketAddr,
        mail_from: &str,
        rcpt: &str,
        message: &[u8],
    ) -> Attempt {
        let mut client = match SmtpClient::connect(addr, self.timeout).await {
            Ok(c) => c,
            Err(e) => return Attempt::NextHost(e.to_string()),
        };
        match client.read().await {
            Ok(greeting) if greeting.code == 220 => {}
            Ok(greeting) => return Attempt::NextHost(format!("greeted with {greeting}")),
            Err(e) => return Attempt::NextHost(e.to_string()),
        }
        let ehlo = match client.ehlo(&self.helo).await {
            Ok(e) => e,
            Err(e) => return Attempt::NextHost(e.to_string()),
        };
        if !ehlo.has_capability(EXT_START_TLS) {
            return transaction(client, host, false, mail_from, rcpt, message).await;
        }
        // Opportunistic: the certificate is not checked (an MX's name is not authenticated by
        // DNS anyway without DANE/MTA-STS), but the session is encrypted.
        let mut tls = match client.start_tls(&build_tls_connector(true), host).await {
            Ok(t) => t,
            Err(e) => return Attempt::NextHost(format!("STARTTLS failed: {e}")),
        };
        if let Err(e) = tls.ehlo(&self.helo).await {
            return Attempt::NextHost(e.to_string());
        }
        transaction(tls, host, true, mail_from, rcpt, message).await
    }
}

async fn transaction<T: AsyncRead + AsyncWrite + Unpin>(
    mut client: SmtpClient<T>,
    host: &str,
    tls: bool,
    mail_from: &str,
    rcpt: &str,
    message: &[u8],
) -> Attempt {
    let params = Parameters::default();
    let result = async {
        client.mail_from(mail_from, &params).await?;
        client.rcpt_to(rcpt, &params).await?;
        client.data(message).await
    }
    .await;
    match result {
        Ok(()) => {
            // The message is accepted; a failed QUIT changes nothing.
            let _ = client.quit().await;
            Attempt::Done(DeliveryOutcome::Delivered {
                host: host.to_owned(),
                tls,
            })
        }
        Err(mail_send::Error::UnexpectedReply(reply)) if (500..600).contains(&reply.code) => {
            Attempt::Done(DeliveryOutcome::Permanent(format!("{host} said: {reply}")))
        }
        Err(mail_send::Error::UnexpectedReply(reply)) => {
            Attempt::Done(DeliveryOutcome::Transient(format!("{host} said: {reply}")))
        }
        Err(e) => Attempt::NextHost(e.to_string()),
    }
}
