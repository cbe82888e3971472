//! How a node behaves: limits, timeouts, retries. Every limit that holds against a hostile
//! stranger is here, with its default and why (also in `docs/protocol.md` §6).

use std::time::Duration;

/// Limits and timeouts of the SMTP server (per session).
#[derive(Debug, Clone)]
pub struct SmtpLimits {
    /// Largest message accepted, in octets; also the most a message may decrypt (and
    /// decompress) to.
    pub max_message_size: usize,
    /// Most recipients per message.
    pub max_recipients: usize,
    /// Failed commands tolerated per session (refused `CARD`, `XPULL`, `XRECEIPT` count too).
    pub max_errors: usize,
    /// How long a client may take to complete a command (RFC 5321 suggests 5 minutes).
    pub command_timeout: Duration,
    /// How long a client may take to send a whole message.
    pub data_timeout: Duration,
    /// How long to listen for a client that talks before the greeting.
    pub pregreet_wait: Duration,
    /// The longest a session may last, however busy: a `NOOP` every few minutes does not keep
    /// a session forever.
    pub session_lifetime: Duration,
    /// Most commands one session may send (a carrier forwarding a backlog sends three per
    /// message).
    pub max_commands: usize,
    /// Replies buffered before the session stops reading until the client takes them.
    pub max_pending_reply_bytes: usize,
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
            session_lifetime: Duration::from_secs(30 * 60),
            max_commands: 30_000,
            max_pending_reply_bytes: 16 * 1024,
        }
    }
}

/// Limits of the node as a whole, against many streams at once and against strangers.
#[derive(Debug, Clone)]
pub struct InboundLimits {
    /// SMTP sessions open at once, all identities together (beyond, the oldest session that
    /// has not begun a mail transaction is closed to make room).
    pub connections_per_node: usize,
    /// Sessions in a mail transaction (sender accepted) at once, all identities together.
    pub transactions_per_node: usize,
    /// Sessions in a mail transaction at once for one identity.
    pub transactions_per_identity: usize,
    /// Streams one rendezvous circuit may have open at once (arti closes the circuit beyond).
    pub streams_per_circuit: u32,
    /// Messages decrypted at once (each may hold `max_message_size` of plaintext).
    pub decrypt_parallel: usize,
    /// Largest first message from someone who is not a contact (no attachments).
    pub stranger_max_message: usize,
    /// Contact requests kept per identity, in bytes; the oldest are dropped beyond it.
    pub requests_quota_bytes: i64,
    /// Contact requests kept from one sender until they are accepted or declined.
    pub requests_per_sender: i64,
    /// Arti's onion-service proof-of-work defence (clients pay under load).
    pub onion_pow: bool,
}

impl Default for InboundLimits {
    fn default() -> Self {
        InboundLimits {
            connections_per_node: 512,
            transactions_per_node: 64,
            transactions_per_identity: 32,
            streams_per_circuit: 8,
            decrypt_parallel: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
            stranger_max_message: 128 * 1024,
            requests_quota_bytes: 16 * 1024 * 1024,
            requests_per_sender: 3,
            onion_pow: true,
        }
    }
}

/// When to retry and when to give up (RFC 5321 §4.5.4.1: retry at least every 30 minutes, give
/// up after 4–5 days).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Wait before the first retry; doubled after each failure.
    pub first_retry: Duration,
    /// Longest wait between attempts.
    pub max_interval: Duration,
    /// Give up this long after the message was queued.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_retry: Duration::from_secs(60),
            max_interval: Duration::from_secs(30 * 60),
            give_up_after: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt (1-based).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.first_retry
            .saturating_mul(factor)
            .min(self.max_interval)
    }
}

/// How long the client side waits for a peer.
#[derive(Debug, Clone, Copy)]
pub struct ClientTimeouts {
    /// For each reply, from the moment it is due (RFC 5321 §4.5.3.2: 5 minutes).
    pub reply: Duration,
    /// For the reply to a message's final dot (10 minutes).
    pub after_data: Duration,
    /// For a whole transaction (MAIL to the final reply), whatever the peer trickles.
    pub transaction: Duration,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        ClientTimeouts {
            reply: Duration::from_secs(300),
            after_data: Duration::from_secs(600),
            transaction: Duration::from_secs(30 * 60),
        }
    }
}

/// How many deliveries run at once.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryLimits {
    /// All identities together.
    pub per_node: usize,
    /// One identity's deliveries: a slow peer of one identity never delays another's.
    pub per_identity: usize,
    /// To one recipient.
    pub per_recipient: usize,
}

impl Default for DeliveryLimits {
    fn default() -> Self {
        DeliveryLimits {
            per_node: 16,
            per_identity: 4,
            per_recipient: 2,
        }
    }
}

/// How a node behaves.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// SMTP server limits and timeouts (per session).
    pub smtp: SmtpLimits,
    /// Limits of the node as a whole, and for strangers.
    pub inbound: InboundLimits,
    /// Outbox (and carrier forwarding) retry policy.
    pub retry: RetryPolicy,
    /// Deliveries at once.
    pub delivery: DeliveryLimits,
    /// Client-side deadlines.
    pub client: ClientTimeouts,
    /// The chance, from carriers' measured availability, that at least one carrier a message is
    /// handed to is reachable: decides how many carriers get it (default 99.9%).
    pub carrier_target: f64,
    /// How often a carrier retries telling a sender (who may be offline) how its message ended.
    pub receipt_retry: Duration,
    /// Proof-of-work bits of a first message to someone who does not know the sender: what
    /// this node asks of strangers, and what it pays itself (0: none).
    pub stamp_bits: u8,
    /// Local IMAP and submission servers for mail clients (none by default).
    pub clients: crate::ClientPorts,
    /// Mailing lists' timers.
    pub lists: ListTimers,
    /// One active service per identity across the person's devices.
    pub devices: DeviceLeases,
    /// Gateway mode's network side (used when an identity is a gateway).
    pub gateway: GatewayNetwork,
    /// Keeping one device's identities from being linked by when they act.
    pub unlinking: Unlinking,
}

/// What a node does so that its identities do not act in step (`docs/protocol.md` §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unlinking {
    /// When a node serving more than one identity comes online, each identity asks its
    /// carriers for held mail after its own random delay, up to this — not all back to back,
    /// which would tell a carrier that serves several of them (or watches them) that they are
    /// one device. `0`: at once.
    pub pull_spread: Duration,
    /// When a node serving more than one onion service starts, each service is launched after
    /// its own random delay, up to this — not all in one loop, which would show on the network
    /// (descriptors published together, introduction circuits built together) that they came
    /// up together. A node with one service launches it at once, and so is the service of an
    /// identity on several of the person's devices (the device holding its lease must answer
    /// at its address when another device checks, `docs/protocol.md` §17). `0`: at once.
    pub launch_spread: Duration,
}

/// When each of `n` things (identities' pulls, their services' launches) happens, from now: at
/// once for one; for several, each after its own uniformly random delay up to `spread`, drawn
/// independently.
pub(crate) fn independent_delays(
    n: usize,
    spread: Duration,
    rng: &mut impl rand::Rng,
) -> Vec<Duration> {
    if n <= 1 || spread.is_zero() {
        return vec![Duration::ZERO; n];
    }
    let ms = u64::try_from(spread.as_millis()).unwrap_or(u64::MAX);
    (0..n)
        .map(|_| Duration::from_millis(rng.gen_range(0..ms)))
        .collect()
}

impl Default for Unlinking {
    fn default() -> Self {
        Unlinking {
            // Long enough that pulls of different identities rarely fall within the same few
            // seconds; short enough that mail held while offline still arrives soon.
            pull_spread: Duration::from_secs(30),
            // Like the pulls: apart by seconds, while a service is up within half a minute.
            launch_spread: Duration::from_secs(30),
        }
    }
}

/// Gateway mode's network side: where replies come in, how the world's MX hosts are found and
/// reached, and the retry schedule of mail leaving (`docs/protocol.md` §19).
#[derive(Debug, Clone)]
pub struct GatewayNetwork {
    /// The public SMTP server for replies (e.g. `0.0.0.0:25`); `None`: none (mail still goes
    /// out, replies cannot come back).
    pub listen: Option<std::net::SocketAddr>,
    /// Its host name (the MX name), in the greeting.
    pub hostname: Option<String>,
    /// STARTTLS certificate chain and key (PEM files); without them, no STARTTLS.
    pub tls_cert: Option<std::path::PathBuf>,
    /// See `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// Ordinary DNS for MX, SPF, DKIM and DMARC (never over Tor).
    pub dns: postern_gateway::Dns,
    /// The port of recipients' mail servers (25).
    pub smtp_port: u16,
    /// Limits of the public server.
    pub limits: postern_gateway::PublicLimits,
    /// Retries of mail leaving: an MTA's schedule (Postfix: from 5 minutes, at most 4 hours
    /// apart, bounced after 5 days).
    pub retry: RetryPolicy,
}

impl Default for GatewayNetwork {
    fn default() -> Self {
        GatewayNetwork {
            listen: None,
            hostname: None,
            tls_cert: None,
            tls_key: None,
            dns: postern_gateway::Dns::System,
            smtp_port: 25,
            limits: postern_gateway::PublicLimits::default(),
            retry: RetryPolicy {
                first_retry: Duration::from_secs(300),
                max_interval: Duration::from_secs(4 * 3600),
                give_up_after: Duration::from_secs(5 * 24 * 3600),
            },
        }
    }
}

/// One active service per identity across a person's devices (`docs/protocol.md` §17).
#[derive(Debug, Clone, Copy)]
pub struct DeviceLeases {
    /// How long a device waits, before serving an identity that was copied to another
    /// device, for an answer at the identity's own address (no answer: it serves).
    pub check_patience: Duration,
    /// How often a serving device asks its own addresses again, and renews its leases.
    pub recheck: Duration,
    /// How long a lease runs unless renewed.
    pub lease: Duration,
}

impl Default for DeviceLeases {
    fn default() -> Self {
        DeviceLeases {
            check_patience: Duration::from_secs(60),
            recheck: Duration::from_secs(15 * 60),
            lease: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Mailing lists' timers (`docs/protocol.md` §15). Each step of a list is a message over Tor
/// (seconds), so these are minutes where the simulator's are hundreds of milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct ListTimers {
    /// How long a post announced by a neighbour may take to come by the tree before that
    /// neighbour is asked for it (graft); one to two times this, at random.
    pub graft: Duration,
    /// How long an asked neighbour may take before the next one is asked.
    pub retry: Duration,
    /// How often one neighbour in turn is told this member's heads (anti-entropy); every
    /// neighbour is told when the node starts.
    pub sync: Duration,
}

impl Default for ListTimers {
    fn default() -> Self {
        ListTimers {
            graft: Duration::from_secs(60),
            retry: Duration::from_secs(120),
            sync: Duration::from_secs(3600),
        }
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            smtp: SmtpLimits::default(),
            inbound: InboundLimits::default(),
            retry: RetryPolicy::default(),
            delivery: DeliveryLimits::default(),
            client: ClientTimeouts::default(),
            carrier_target: 0.999,
            receipt_retry: Duration::from_secs(60),
            stamp_bits: postern_mime::stamp::DEFAULT_BITS,
            clients: crate::ClientPorts::default(),
            lists: ListTimers::default(),
            devices: DeviceLeases::default(),
            gateway: GatewayNetwork::default(),
            unlinking: Unlinking::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::independent_delays;
    use rand::SeedableRng;
    use std::time::Duration;

    #[test]
    fn identities_act_on_their_own_schedules() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let spread = Duration::from_secs(30);
        assert_eq!(
            independent_delays(1, spread, &mut rng),
            vec![Duration::ZERO]
        );
        assert_eq!(
            independent_delays(3, Duration::ZERO, &mut rng),
            vec![Duration::ZERO; 3]
        );
        let delays = independent_delays(10, spread, &mut rng);
        assert!(delays.iter().all(|d| *d < spread), "{delays:?}");
        let mut sorted = delays.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 10, "independent draws: {delays:?}");
        // Spread over the window, not bunched: the draws span most of it.
        let span = sorted[9] - sorted[0];
        assert!(span > spread / 2, "{delays:?}");
    }
}
