//! P1: end to end on the private Tor network — `send` until the message is stored at the
//! recipient — against a raw onion connect + echo between the same two nodes.
//! Usage: `mail-tor-bench [N]` (default 20 of each).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use postern_bench::{ms, Stats};
use postern_core::{KdfParams, Network, Node, NodeConfig, Postern, SystemClock};
use postern_crypto::IdentityKeys;
use postern_testnet::{Testnet, TestnetOptions};
use postern_transport::ServiceOptions;
use postern_types::LocalPart;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn wait_inbox(p: &Postern, n: usize, limit: Duration) -> Result<()> {
    let start = Instant::now();
    while p.inbox(None)?.len() < n {
        if start.elapsed() > limit {
            bail!("message not stored within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let tmp = tempfile::tempdir()?;
    eprintln!("starting the private Tor network");
    let net = Testnet::start(&tmp.path().join("net"), &TestnetOptions::default())?;
    let network = Network::Tor {
        network_toml: Some(net.arti_network_toml()),
        bootstrap_timeout: Duration::from_secs(60),
    };
    let kdf = KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    let (ad, bd) = (tmp.path().join("alice"), tmp.path().join("bob"));
    let mut alice = Postern::init_with(&ad, b"pw", kdf, Arc::new(SystemClock))?;
    let mut bob = Postern::init_with(&bd, b"pw", kdf, Arc::new(SystemClock))?;
    let a = alice.create_identity("alice", "Alice")?;
    let b = bob.create_identity("bob", "Bob")?;
    alice.add_contact("alice", &bob.export_card("bob", true)?)?;
    bob.add_contact("bob", &alice.export_card("alice", true)?)?;
    let alice_node = Node::start(&alice, network.transport(&ad)?, NodeConfig::default()).await?;
    let bob_node = Node::start(&bob, network.transport(&bd)?, NodeConfig::default()).await?;

    // An echo service on Bob's node, for the raw baseline.
    let echo = IdentityKeys::generate(LocalPart::new("echo")?, "")?;
    let mut listener = bob_node
        .transport()
        .serve(&echo, &ServiceOptions::for_ports(&[25]))
        .await?;
    tokio::spawn(async move {
        while let Some(mut inc) = listener.accept().await {
            tokio::spawn(async move {
                let mut b = [0u8; 64];
                while let Ok(k) = inc.stream.read(&mut b).await {
                    if k == 0
                        || inc.stream.write_all(&b[..k]).await.is_err()
                        || inc.stream.flush().await.is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    let from = *alice.identity_keys("alice")?.address().onion();
    let raw = || async {
        let start = Instant::now();
        let mut s = alice_node
            .transport()
            .connect(&from, echo.address().onion(), 25)
            .await?;
        s.write_all(b"x").await?;
        s.flush().await?;
        let mut one = [0u8; 1];
        s.read_exact(&mut one).await?;
        Ok::<Duration, anyhow::Error>(start.elapsed())
    };

    eprintln!("nodes up; warming up");
    // Warm up both paths (descriptors fetched, circuits built).
    let warm = Instant::now();
    loop {
        if raw().await.is_ok() {
            break;
        }
        if warm.elapsed() > Duration::from_secs(120) {
            bail!("echo service unreachable");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    alice.send("alice", &b.address, "warm-up", "hello", &[])?;
    alice_node.wake_outbox();
    wait_inbox(&bob, 1, Duration::from_secs(120)).await?;

    eprintln!("warm; measuring");
    let (mut mail, mut echo_t) = (Vec::new(), Vec::new());
    for i in 0..n {
        echo_t.push(raw().await?);
        let start = Instant::now();
        alice.send(
            "alice",
            &b.address,
            &format!("message {i}"),
            "A short message over Tor.",
            &[],
        )?;
        alice_node.wake_outbox();
        wait_inbox(&bob, i + 2, Duration::from_secs(120)).await?;
        mail.push(start.elapsed());
    }
    let (sm, se) = (
        Stats::of(&mail).unwrap_or_else(|| unreachable!()),
        Stats::of(&echo_t).unwrap_or_else(|| unreachable!()),
    );
    println!(
        "P1 end to end on the private Tor network ({} from {}, n={n})",
        b.address.split('@').next().unwrap_or(""),
        a.address.split('@').next().unwrap_or("")
    );
    println!(
        "  send -> stored at recipient   median {:>9}  p90 {:>9}",
        ms(sm.median),
        ms(sm.p90)
    );
    println!(
        "  raw onion connect + echo      median {:>9}  p90 {:>9}",
        ms(se.median),
        ms(se.p90)
    );
    println!(
        "  difference of medians: {}  (goal: at most 200 ms)",
        ms(sm.median.saturating_sub(se.median))
    );
    Ok(())
}
