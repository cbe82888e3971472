//! A node under a stranger's load, and a contact's mail still getting through. Over loopback
//! TCP, Bob's node (the product's receive path) gets, at once: 2,000 streams that open a
//! session and sit idle (reconnecting whenever they are closed), and 50 strangers sending
//! first messages without a stamp as fast as they are answered. Meanwhile Alice, a contact,
//! delivers one message at a time (connect, greeting, EHLO, MAIL/RCPT/DATA, the final 250).
//! Closed idle streams come back a second later.
//! Baseline, same run: the same deliveries to the same node when idle. Prints p50/p99 of
//! Alice's delivery time in both, and the ratio.
//!
//! Usage: `load-bench [MESSAGES] [IDLE_STREAMS] [STRANGERS]` (default 300 2000 50).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use postern_bench::load::read_reply;
use postern_bench::{ms, ratio};
use postern_core::{KdfParams, Network, Node, NodeConfig, Postern, SystemClock};
use postern_crypto::{IdentityKeys, PublicKeyInfo};
use postern_mime::{compose, random_message_id, Draft, SenderKeys};
use postern_smtp::data_block;
use postern_types::LocalPart;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

fn seal(from: &IdentityKeys, to: &str, key: &PublicKeyInfo, text: &str) -> Result<Vec<u8>> {
    let mut rng = rand::thread_rng();
    Ok(data_block(&compose(
        &Draft {
            from: from.address().clone(),
            from_name: String::new(),
            to: to.parse()?,
            subject: "load".into(),
            text: text.into(),
            attachments: vec![],
            headers: vec![],
        },
        SenderKeys::of(from),
        key.cert(),
        1_800_000_000,
        &random_message_id(&mut rng),
        &mut rng,
    )?))
}

/// One delivery on a new connection: the final reply's code.
async fn deliver(addr: &str, from: &str, to: &str, block: &[u8]) -> Result<u16> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut buf = Vec::new();
    if read_reply(&mut s, &mut buf).await? != 220 {
        bail!("no greeting");
    }
    s.write_all(format!("EHLO a\r\nMAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n").as_bytes())
        .await?;
    for want in [250, 250, 250, 354] {
        let got = read_reply(&mut s, &mut buf).await?;
        if got != want {
            return Ok(got);
        }
    }
    s.write_all(block).await?;
    let code = read_reply(&mut s, &mut buf).await?;
    let _ = s.write_all(b"QUIT\r\n").await;
    Ok(code)
}

/// Alice's deliveries, one after another: each one's time. Refused ones are retried (as her
/// node would) and timed from the first try.
async fn alice_delivers(
    addr: &str,
    from: &str,
    to: &str,
    messages: &[Vec<u8>],
) -> Result<(Vec<Duration>, usize)> {
    let mut times = Vec::with_capacity(messages.len());
    let mut retries = 0;
    for m in messages {
        let started = Instant::now();
        loop {
            match deliver(addr, from, to, m).await {
                Ok(250) => break,
                _ if started.elapsed() > Duration::from_secs(60) => bail!("Alice never got in"),
                _ => {
                    retries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        times.push(started.elapsed());
    }
    Ok((times, retries))
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let idle: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let strangers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let tmp = tempfile::tempdir()?;
    let kdf = KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    let mut alice =
        Postern::init_with(&tmp.path().join("alice"), b"pw", kdf, Arc::new(SystemClock))?;
    let mut bob = Postern::init_with(&tmp.path().join("bob"), b"pw", kdf, Arc::new(SystemClock))?;
    let a = alice.create_identity("alice", "Alice")?.address;
    let b = bob.create_identity("bob", "Bob")?.address;
    bob.add_contact("bob", &alice.export_card("alice", true)?)?;
    let alice_keys = alice.identity_keys("alice")?;
    let bob_key = PublicKeyInfo::parse(&bob.identity_keys("bob")?.openpgp_public()?)?;
    let text = "A line of a contact's letter.\n".repeat(30);
    let mut messages = Vec::with_capacity(2 * count);
    for _ in 0..2 * count {
        messages.push(seal(&alice_keys, &b, &bob_key, &text)?);
    }
    // Each stranger sends a 50 KB first message, unstamped: refused after it is read and
    // checked, which is the work a stranger can make a node do.
    let mut stranger_mail = Vec::with_capacity(strangers);
    for i in 0..strangers {
        let k = IdentityKeys::generate(LocalPart::new(&format!("stranger{i}"))?, "")?;
        let block = seal(&k, &b, &bob_key, &"x".repeat(50 * 1024))?;
        stranger_mail.push((k.address().to_string(), block));
    }

    let reg = tmp.path().join("registry");
    let transport = Network::Loopback {
        registry: reg.clone(),
    }
    .transport(tmp.path())?;
    let _node = Node::start(&bob, transport, NodeConfig::default()).await?;
    let label = b
        .split('@')
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches(".onion")
        .to_owned();
    let addr = std::fs::read_to_string(reg.join(format!("{label}.25")))?
        .trim()
        .to_owned();
    println!(
        "Load: Alice (a contact) delivers {count} messages one at a time; under load: {idle} idle \
         streams and {strangers} strangers sending, loopback TCP, default limits"
    );

    // Idle node: the baseline.
    let (mut quiet, _) = alice_delivers(&addr, &a, &b, &messages[..count]).await?;

    // Under load.
    let stop = Arc::new(AtomicBool::new(false));
    let (held, reconnects, refused) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut load = Vec::new();
    for _ in 0..idle {
        let (addr, stop, held, reconnects) =
            (addr.clone(), stop.clone(), held.clone(), reconnects.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut s) = TcpStream::connect(&addr).await {
                    let mut buf = Vec::new();
                    if let Ok(220) = read_reply(&mut s, &mut buf).await {
                        let _ = s.write_all(b"EHLO idle\r\n").await;
                        held.fetch_add(1, Ordering::Relaxed);
                        // Sit idle until closed.
                        let _ = read_reply(&mut s, &mut buf).await;
                        let _ = read_reply(&mut s, &mut buf).await;
                        held.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                reconnects.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
    for (from, block) in stranger_mail {
        let (addr, stop, refused, to) = (addr.clone(), stop.clone(), refused.clone(), b.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(code) = deliver(&addr, &from, &to, &block).await {
                    if code >= 400 {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (mut busy, retries) = alice_delivers(&addr, &a, &b, &messages[count..]).await?;
    stop.store(true, Ordering::Relaxed);
    let (held_at_end, reconnected, strangers_refused) = (
        held.load(Ordering::Relaxed),
        reconnects.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    for t in load {
        t.abort();
    }

    let (q50, q99) = (percentile(&mut quiet, 0.5), percentile(&mut quiet, 0.99));
    let (b50, b99) = (percentile(&mut busy, 0.5), percentile(&mut busy, 0.99));
    println!("  idle node:    p50 {} p99 {}", ms(q50), ms(q99));
    println!(
        "  under load:   p50 {} p99 {}  ({retries} of Alice's tries turned away and retried)",
        ms(b50),
        ms(b99)
    );
    println!(
        "  load seen: {strangers_refused} stranger messages refused, {reconnected} idle streams \
         closed and reopened, {held_at_end} holding a session at the end"
    );
    println!(
        "  contact's p99 under load / idle: {}  (p50: {})",
        ratio(b99, q99),
        ratio(b50, q50)
    );
    Ok(())
}
