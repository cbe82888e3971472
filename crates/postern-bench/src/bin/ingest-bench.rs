//! P2: durable ingest. The same load (messages, size, parallel sessions) into:
//!   1. smtp-sink (Postfix's test server: accepts and discards) — the baseline,
//!   2. Postern's SMTP protocol layer alone (session state machine + I/O, no checks, no disk),
//!   3. Postern's whole receive path (parse + decrypt + verify + durable group commit),
//!   4. Postfix storing durably, the MTA a user would otherwise run: smtpd → cleanup → queue →
//!      virtual(8) delivery into a Maildir, fsync'd at each step (Debian's Postfix, started with
//!      its own configuration on a loopback port; skipped where it cannot run).
//!
//! The load comes from `blast` (below), a pipelining client like Postfix's smtp-source but able
//! to send distinct, real PGP/MIME messages (smtp-source repeats one message, which Postern would
//! store once); smtp-source itself is also run against smtp-sink, for comparison.
//!
//! Usage: `ingest-bench [MESSAGES] [SESSIONS] [ROUNDS]` (default 2000, 8, 3). Needs Postfix's smtp-sink and
//! smtp-source (`scripts/bench.sh ingest` unpacks Debian's postfix package for them) and, for
//! step 4, Postfix installed and root (it drops to its own users).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use postern_bench::load::blast;
use postern_core::{KdfParams, Network, Node, NodeConfig, Postern, SystemClock};
use postern_crypto::PublicKeyInfo;
use postern_mime::{compose, random_message_id, Draft, SenderKeys};
use postern_smtp::{data_block, Event, Reply, ServerConfig, ServerSession, SessionKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn postfix_dir() -> PathBuf {
    std::env::var_os("POSTFIX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/postfix"))
}

fn postfix(tool: &str) -> Command {
    let dir = postfix_dir();
    let mut c = Command::new(dir.join("usr/sbin").join(tool));
    c.env("LD_LIBRARY_PATH", dir.join("usr/lib/postfix"));
    c
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Postern's SMTP session alone, answering 250 at once: the protocol layer's own speed.
async fn protocol_only_server(local: String) -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let local = local.clone();
            tokio::spawn(async move {
                let mut session = ServerSession::new(ServerConfig {
                    hostname: "bench".into(),
                    local_addresses: vec![local],
                    max_message_size: 25 << 20,
                    max_recipients: 16,
                    max_errors: 10,
                    max_commands: usize::MAX,
                    kind: SessionKind::Peer,
                });
                let mut pending = session.greet();
                let mut buf = vec![0u8; 16384];
                loop {
                    let mut out = Vec::new();
                    while !pending.is_empty() {
                        let mut next = Vec::new();
                        for e in pending {
                            match e {
                                Event::Reply(r) => out.extend_from_slice(&r.to_bytes()),
                                Event::Message { .. } => {
                                    next.extend(session.delivered(Reply::new(250, "2.0.0", "OK")))
                                }
                                Event::CardRequest(_) => next.extend(session.card(None)),
                                Event::Control { .. } => next
                                    .extend(session.answer(postern_smtp::Reply::new(
                                        502, "5.5.1", "Not here",
                                    ))),
                                Event::Auth { .. } => next.extend(session.authenticated(None)),
                                Event::Recipient { .. } => next.extend(
                                    session.recipient(Err(Reply::new(550, "5.1.1", "Not here"))),
                                ),
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
    Ok(addr)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Postern's whole receive path, on a fresh copy of the recipient's data directory: the time
/// until every message was acknowledged (each only after its durable commit).
async fn postern_round(
    template: &std::path::Path,
    work: &std::path::Path,
    from: &str,
    to: &str,
    messages: Arc<Vec<Vec<u8>>>,
    sessions: usize,
) -> Result<Duration> {
    let dir = work.join("bob");
    copy_dir(template, &dir)?;
    let bob = Postern::open(&dir, b"pw")?;
    let reg = work.join("registry");
    let transport = Network::Loopback {
        registry: reg.clone(),
    }
    .transport(work)?;
    let node = Node::start(&bob, transport, NodeConfig::default()).await?;
    let label = to
        .split('@')
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches(".onion")
        .to_owned();
    let node_addr = std::fs::read_to_string(reg.join(format!("{label}.25")))?;
    let count = messages.len();
    let (took, ok) = blast(node_addr.trim().to_owned(), from, to, messages, sessions).await?;
    drop(node);
    let stored = bob.inbox(None)?.len();
    if stored != count || ok != count {
        bail!("Postern stored {stored} of {count} ({ok} acknowledged)");
    }
    Ok(took)
}

/// Postfix storing durably: (when the last message was accepted, when the last was in the
/// Maildir), from the first byte.
async fn postfix_round(
    from: &str,
    messages: Arc<Vec<Vec<u8>>>,
    sessions: usize,
) -> Result<(Duration, Duration)> {
    let count = messages.len();
    let mta = postern_gateway::testing::postfix::Postfix::start(&[], None);
    let t = Instant::now();
    let (accepted, ok) = blast(
        format!("127.0.0.1:{}", mta.port),
        from,
        "bob@example.org",
        messages,
        sessions,
    )
    .await?;
    if ok != count {
        bail!("Postfix accepted {ok} of {count}:\n{}", mta.log());
    }
    while mta.delivered_count() < count {
        if t.elapsed() > Duration::from_secs(600) {
            bail!("Postfix delivered {} of {count}", mta.delivered_count());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((accepted, t.elapsed()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let sessions: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3).max(1);
    if !postfix_dir().join("usr/sbin/smtp-sink").is_file() {
        bail!(
            "smtp-sink not found under {} (run scripts/bench.sh ingest)",
            postfix_dir().display()
        );
    }
    let tmp = tempfile::tempdir()?;
    let kdf = KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    let mut alice =
        Postern::init_with(&tmp.path().join("alice"), b"pw", kdf, Arc::new(SystemClock))?;
    let mut bob = Postern::init_with(&tmp.path().join("bob"), b"pw", kdf, Arc::new(SystemClock))?;
    let a = alice.create_identity("alice", "Alice")?;
    let b = bob.create_identity("bob", "Bob")?;
    alice.add_contact("alice", &bob.export_card("bob", true)?)?;
    bob.add_contact("bob", &alice.export_card("alice", true)?)?;
    let alice_keys = alice.identity_keys("alice")?;
    let bob_key = PublicKeyInfo::parse(&bob.identity_keys("bob")?.openpgp_public()?)?;

    // Distinct messages: 1 KB of text each, PGP/MIME.
    let mut rng = rand::thread_rng();
    let text = "Ingest benchmark line of text, repeated to make a kilobyte.\n".repeat(17);
    let mut messages = Vec::with_capacity(count);
    for i in 0..count {
        let m = compose(
            &Draft {
                from: alice_keys.address().clone(),
                from_name: "Alice".into(),
                to: b.address.parse()?,
                subject: format!("message {i}"),
                text: text.clone(),
                attachments: vec![],
                headers: Vec::new(),
            },
            SenderKeys::of(&alice_keys),
            bob_key.cert(),
            1_800_000_000,
            &random_message_id(&mut rng),
            &mut rng,
        )?;
        messages.push(data_block(&m));
    }
    let size = messages.iter().map(Vec::len).sum::<usize>() / count;
    let messages = Arc::new(messages);
    println!("P2 durable ingest: {count} messages of ~{size} bytes over {sessions} sessions, loopback TCP");

    // 1. smtp-sink, with smtp-source and with postern-blast.
    let port = free_port()?;
    let _sink = Killed(
        postfix("smtp-sink")
            .args(["-u", "nobody", "-c", &format!("127.0.0.1:{port}"), "256"])
            .stdout(Stdio::null())
            .spawn()
            .context("smtp-sink")?,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    let st = postfix("smtp-source")
        .args([
            "-s",
            &sessions.to_string(),
            "-m",
            &count.to_string(),
            "-l",
            &size.to_string(),
        ])
        .args([
            "-f",
            &a.address,
            "-t",
            &b.address,
            &format!("127.0.0.1:{port}"),
        ])
        .status()?;
    if !st.success() {
        bail!("smtp-source failed");
    }
    let source_sink = t.elapsed();
    let (blast_sink, ok_sink) = blast(
        format!("127.0.0.1:{port}"),
        &a.address,
        &b.address,
        messages.clone(),
        sessions,
    )
    .await?;

    // 2. Postern's protocol layer alone.
    let proto = protocol_only_server(b.address.clone()).await?;
    let (blast_proto, ok_proto) =
        blast(proto, &a.address, &b.address, messages.clone(), sessions).await?;

    // 3 and 4, in alternating rounds (Postfix's durable rate swings between runs): Postern's
    // whole receive path on a fresh copy of Bob's store, then a fresh Postfix.
    drop(bob);
    let template = tmp.path().join("bob");
    let mut postern_rates = Vec::new();
    let mut postfix_rates = Vec::new();
    let with_postfix = postern_gateway::testing::postfix::Postfix::available();
    for round in 0..rounds {
        let work = tmp.path().join(format!("round-{round}"));
        let took = postern_round(
            &template,
            &work,
            &a.address,
            &b.address,
            messages.clone(),
            sessions,
        )
        .await?;
        postern_rates.push(rate(count, took));
        let line = if with_postfix {
            let (accepted, delivered) =
                postfix_round(&a.address, messages.clone(), sessions).await?;
            postfix_rates.push(rate(count, delivered));
            format!(
                "Postfix {:.0} msg/s in its Maildir ({:.0} accepted)",
                rate(count, delivered),
                rate(count, accepted)
            )
        } else {
            "Postfix skipped (needs Postfix installed and root)".into()
        };
        println!(
            "  round {}: Postern {:.0} msg/s stored; {line}",
            round + 1,
            rate(count, took)
        );
    }
    let r_n = median(postern_rates);

    let _ = (ok_sink, ok_proto);
    let (r_ss, r_bs, r_p) = (
        rate(count, source_sink),
        rate(count, blast_sink),
        rate(count, blast_proto),
    );
    println!("  smtp-source -> smtp-sink               {r_ss:>8.0} msg/s  (Postfix's own client)");
    println!("  postern-blast -> smtp-sink (baseline)  {r_bs:>8.0} msg/s");
    println!(
        "  postern-blast -> Postern SMTP layer    {r_p:>8.0} msg/s  = {:.0}% of smtp-sink",
        100.0 * r_p / r_bs
    );
    println!(
        "  postern-blast -> Postern receive path  {r_n:>8.0} msg/s  = {:.0}% of smtp-sink  (median of {rounds}; all {count} stored, durable)",
        100.0 * r_n / r_bs
    );
    if !postfix_rates.is_empty() {
        let r_d = median(postfix_rates);
        println!(
            "  postern-blast -> Postfix, in Maildir   {r_d:>8.0} msg/s  (median of {rounds}; the durable baseline)"
        );
        println!(
            "  Postern's receive path / Postfix durable = {:.2}x  (goal >= 1.5x)",
            r_n / r_d
        );
    }
    Ok(())
}
