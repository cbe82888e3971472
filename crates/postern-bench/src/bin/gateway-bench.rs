//! G1: the gateway's outbound throughput, and Postfix relaying the same messages to the same
//! sink, side by side (issue: goal ≥ 50% of Postfix).
//!
//! - **Gateway**: what `postern-core`'s gateway does for each message a contact hands over —
//!   build it (RFC 5322 from the gateway's domain, reply address), DKIM-sign it, queue it sealed
//!   in a real store (`gateway_outbox`, SQLCipher) —, then its delivery loop: take what is due,
//!   unseal, look the MX up over DNS (a DNS server on loopback), deliver over SMTP with
//!   STARTTLS where offered (the sink offers none): rounds of 64, 8 sessions at once, several
//!   messages per session, each round's outcomes recorded in one transaction.
//! - **Postfix**: Debian's Postfix (own configuration on loopback: smtpd → cleanup → queue,
//!   fsync'd → smtp client) takes the same signed messages over SMTP (8 pipelining sessions) and
//!   relays them to the sink with its default concurrency.
//! - **The sink**: one SMTP server on loopback (Postern's session state machine, accepting every
//!   message and counting it); the clock stops when it has counted them all.
//!
//! Usage: `gateway-bench [MESSAGES]` (default 2000). Needs Postfix and root (`scripts/bench.sh gateway`).

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use postern_bench::load::blast;
use postern_crypto::KdfParams;
use postern_gateway::testing::dns::{serve, Entry, Zone};
use postern_gateway::testing::{dkim, postfix::Postfix};
use postern_gateway::{
    mint_local_part, resolver, DeliveryOutcome, DkimKey, Dns, MxDelivery, OutboundMessage,
    Outgoing, ReplySecret,
};
use postern_smtp::{data_block, Event, Reply, ServerConfig, ServerSession, SessionKind};
use postern_store::{NewIdentity, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const DOMAIN: &str = "gw.example.net";
const SINK_DOMAIN: &str = "sink.example";
const AT_ONCE: usize = 8;

/// The counting sink.
async fn sink() -> Result<(u16, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.set_nodelay(true);
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut session = ServerSession::new(ServerConfig {
                    hostname: "sink.example".into(),
                    local_addresses: Vec::new(),
                    max_message_size: 1 << 20,
                    max_recipients: 10,
                    max_errors: 10,
                    max_commands: 1_000_000,
                    kind: SessionKind::Public { starttls: false },
                });
                let mut pending = session.greet();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let mut out = Vec::new();
                    while !pending.is_empty() {
                        let mut next = Vec::new();
                        for e in pending {
                            match e {
                                Event::Reply(r) => out.extend_from_slice(&r.to_bytes()),
                                Event::Recipient { .. } => next.extend(session.recipient(Ok(()))),
                                Event::Message { .. } => {
                                    counted.fetch_add(1, Ordering::SeqCst);
                                    next.extend(session.delivered(Reply::new(250, "2.0.0", "OK")))
                                }
                                Event::CardRequest(_) => next.extend(session.card(None)),
                                Event::Control { .. } => {
                                    next.extend(session.answer(Reply::new(502, "5.5.1", "no")))
                                }
                                Event::Auth { .. } => next.extend(session.authenticated(None)),
                                Event::StartTls | Event::Close => {}
                            }
                        }
                        pending = next;
                    }
                    if !out.is_empty() && s.write_all(&out).await.is_err() {
                        return;
                    }
                    if session.is_closed() {
                        return;
                    }
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending = session.input(&buf[..n]),
                    }
                }
            });
        }
    });
    Ok((port, count))
}

async fn until(count: &AtomicUsize, n: usize, limit: Duration) -> Result<()> {
    let start = Instant::now();
    while count.load(Ordering::SeqCst) < n {
        if start.elapsed() > limit {
            bail!(
                "only {} of {n} messages reached the sink",
                count.load(Ordering::SeqCst)
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

/// The messages a contact hands over (distinct texts, 1–2 KB each).
fn letters(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            (
                format!("Message {i}"),
                format!(
                    "Hello {i},\r\n\r\n{}\r\n",
                    "Postern through a gateway. ".repeat(40 + i % 40)
                ),
            )
        })
        .collect()
}

fn render(
    key: &DkimKey,
    secret: &ReplySecret,
    i: usize,
    subject: &str,
    text: &str,
) -> Result<Vec<u8>> {
    let to = format!("reader{}@{SINK_DOMAIN}", i % 50);
    let message = OutboundMessage {
        sender_name: "A Postern user".into(),
        reply_address: format!(
            "{}@{DOMAIN}",
            mint_local_part(secret, 7, 1_900_000_000, &to)
        ),
        to,
        subject: subject.into(),
        text: text.into(),
        message_id: format!("bench{i}@{DOMAIN}"),
        in_reply_to: None,
        date: 1_800_000_000,
        gateway_domain: DOMAIN.into(),
        attachments: Vec::new(),
    };
    Ok(key.sign(&message.render()?)?)
}

async fn gateway(
    n: usize,
    dns: std::net::SocketAddr,
    sink_port: u16,
) -> Result<(Duration, Duration)> {
    let dir = tempfile::tempdir()?;
    let params = KdfParams {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    };
    let mut store = Store::create(&dir.path().join("postern.db"), b"bench", params)?;
    let id = store
        .insert_identity(&NewIdentity {
            local_part: "gateway",
            onion: "benchgatewayonionaddressbenchgatewayonionaddressbenchga.onion",
            display_name: "Gateway",
            fingerprint: &[7; 20],
            binding_sig: &[9; 64],
            public_key: b"KEY",
            onion_secret: b"ONION-SECRET-0123456789abcdefXYZ",
            openpgp_secret: b"OPENPGP-SECRET",
            created_at: 1_700_000_000,
            host_id: None,
        })?
        .id;
    let key = DkimKey::from_pem(dkim::KEY_PEM, DOMAIN, "postern")?;
    let secret = ReplySecret::from_bytes([3; 32]);
    let sender = "alice@benchaliceonionaddressbenchaliceonionaddressbenchalice.onion";
    let start = Instant::now();
    for (i, (subject, text)) in letters(n).iter().enumerate() {
        let signed = render(&key, &secret, i, subject, text)?;
        let to = format!("reader{}@{SINK_DOMAIN}", i % 50);
        store.gateway_enqueue(
            id,
            sender,
            &format!("r-bounce@{DOMAIN}"),
            &to,
            subject,
            &signed,
            1,
        )?;
    }
    let queued = start.elapsed();
    // The delivery loop of `postern-core/src/gateway/outgoing.rs`: rounds of 64 due messages,
    // delivered over 8 sessions at once, outcomes recorded in one transaction per round.
    let delivery = MxDelivery::new(resolver(&Dns::Server(dns))?, sink_port, DOMAIN);
    loop {
        let due = store.gateway_due(i64::MAX, 64)?;
        if due.is_empty() {
            break;
        }
        let messages = due
            .iter()
            .map(|o| store.gateway_message(o))
            .collect::<Result<Vec<_>, _>>()?;
        let items: Vec<Outgoing<'_>> = due
            .iter()
            .zip(&messages)
            .map(|(o, m)| Outgoing {
                mail_from: &o.envelope_from,
                rcpt: &o.recipient,
                message: m,
            })
            .collect();
        let outcomes = delivery.deliver_many(&items, AT_ONCE).await;
        store.in_transaction(|s| {
            for (o, outcome) in due.iter().zip(outcomes) {
                match outcome {
                    DeliveryOutcome::Delivered { .. } => s.gateway_done(o.id)?,
                    other => bail!("delivery failed: {other:?}"),
                }
            }
            Ok(())
        })?;
    }
    Ok((start.elapsed(), queued))
}

async fn postfix(n: usize, sink_port: u16, count: &AtomicUsize) -> Result<Duration> {
    let postfix = Postfix::start(&[], Some((SINK_DOMAIN, sink_port)));
    let key = DkimKey::from_pem(dkim::KEY_PEM, DOMAIN, "postern")?;
    let secret = ReplySecret::from_bytes([3; 32]);
    // One recipient for blast's single envelope; the bytes are the gateway's signed messages.
    let blocks: Vec<Vec<u8>> = letters(n)
        .iter()
        .enumerate()
        .map(|(i, (s, t))| render(&key, &secret, i, s, t).map(|m| data_block(&m)))
        .collect::<Result<_>>()?;
    let before = count.load(Ordering::SeqCst);
    let start = Instant::now();
    let (_, accepted) = blast(
        format!("127.0.0.1:{}", postfix.port),
        &format!("r-bounce@{DOMAIN}"),
        &format!("reader@{SINK_DOMAIN}"),
        Arc::new(blocks),
        AT_ONCE,
    )
    .await?;
    if accepted != n {
        bail!("Postfix took {accepted} of {n}:\n{}", postfix.log());
    }
    until(count, before + n, Duration::from_secs(600))
        .await
        .with_context(|| postfix.log())?;
    Ok(start.elapsed())
}

fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2000);
    if !Postfix::available() {
        bail!("Postfix is needed (apt-get install postfix) and root to run it");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (sink_port, count) = sink().await?;
        let dns = serve(
            Zone::default()
                .with(SINK_DOMAIN, Entry::Mx(10, "mx.sink.example"))
                .with("mx.sink.example", Entry::A(Ipv4Addr::LOCALHOST)),
        )
        .await;
        println!("G1 gateway outbound: {n} DKIM-signed messages to one SMTP sink on loopback, {AT_ONCE} at once");
        let (ours, queued) = gateway(n, dns, sink_port).await?;
        until(&count, n, Duration::from_secs(5)).await?;
        let theirs = postfix(n, sink_port, &count).await?;
        let rate = |d: Duration| n as f64 / d.as_secs_f64();
        println!(
            "  gateway (build + sign + queue, then MX lookup + deliver): {:>8.0} msg/s  ({:.2} s; building, signing and queueing {:.2} s)",
            rate(ours),
            ours.as_secs_f64(),
            queued.as_secs_f64()
        );
        println!(
            "  Postfix (smtpd → queue → smtp relay):                     {:>8.0} msg/s  ({:.2} s)",
            rate(theirs),
            theirs.as_secs_f64()
        );
        println!(
            "  ratio gateway / Postfix: {:.2} (goal ≥ 0.50)",
            rate(ours) / rate(theirs)
        );
        Ok(())
    })
}
