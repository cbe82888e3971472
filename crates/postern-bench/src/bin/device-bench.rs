//! A second device by link, over the private Tor network: a store of N messages (default
//! 10,000) offered and received (`postern device offer|receive`), against a raw onion stream
//! carrying the same number of bytes between the same two Tor clients.
//! Usage: `device-bench [N]`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use postern_bench::ms;
use postern_core::{DeviceLink, KdfParams, Network, Postern, SystemClock};
use postern_crypto::IdentityKeys;
use postern_store::{NewMessage, Store};
use postern_testnet::{Testnet, TestnetOptions};
use postern_transport::ServiceOptions;
use postern_types::{LocalPart, OnionAddress};
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

const KDF: KdfParams = KdfParams {
    memory_kib: 1024,
    iterations: 1,
    parallelism: 1,
};

/// A store like a person's after some years: N messages of about 3 KiB as received (sealed,
/// so incompressible) and 1.5 KiB of text each, seeded.
fn fill(dir: &std::path::Path, n: usize) -> Result<()> {
    let mut p = Postern::init_with(dir, b"pw", KDF, Arc::new(SystemClock))?;
    p.create_identity("alice", "Alice")?;
    drop(p);
    let mut s = Store::open(&dir.join("postern.db"), b"pw")?;
    let me = s.identities()?[0].id;
    let mut rng = rand::rngs::StdRng::seed_from_u64(10_000);
    let words = [
        "meeting", "tomorrow", "garden", "report", "train", "letter", "photos", "plan",
    ];
    s.in_transaction(|s| {
        for i in 0..n {
            let mut raw = vec![0u8; 2500 + rng.gen_range(0..1200)];
            rng.fill(&mut raw[..]);
            let text: String = (0..220)
                .map(|_| words[rng.gen_range(0..words.len())])
                .collect::<Vec<_>>()
                .join(" ");
            let inner = format!("Subject: message {i}\r\nFrom: bob@x.onion\r\n\r\n{text}\r\n");
            s.insert_message(&NewMessage {
                identity_id: me,
                message_id: format!("<{i}@bench>"),
                sender: "bob@x.onion".into(),
                sender_name: "Bob".into(),
                subject: format!("message {i}"),
                folder: "inbox".into(),
                verification: "contact".into(),
                received_at: i as i64,
                inner: inner.into_bytes(),
                raw,
                ..Default::default()
            })?;
        }
        Ok::<(), postern_store::StoreError>(())
    })?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir()?;
    eprintln!("filling a store with {n} messages");
    let laptop = tmp.path().join("laptop");
    fill(&laptop, n)?;
    let alice = Postern::open(&laptop, b"pw")?;
    eprintln!("starting the private Tor network");
    let net = Testnet::start(&tmp.path().join("net"), &TestnetOptions::default())?;
    let network = Network::Tor {
        network_toml: Some(net.arti_network_toml()),
        bootstrap_timeout: Duration::from_secs(60),
    };
    let offering = network.transport(&tmp.path().join("tor-offer"))?;
    let receiving = network.transport(&tmp.path().join("tor-receive"))?;
    offering.start().await?;
    receiving.start().await?;

    // The transfer: from the link shown to the new device's store restored.
    let (tx, mut rx) = watch::channel(None::<(String, Instant)>);
    let phone = tmp.path().join("phone");
    let started = Instant::now();
    let offer = async {
        let mut shown = |link: &str| {
            let _ = tx.send(Some((link.to_owned(), Instant::now())));
        };
        alice
            .offer_device(
                offering.clone(),
                true,
                Duration::from_secs(600),
                &mut shown,
                &mut |_, _| {},
            )
            .await
    };
    let receive = async {
        let (link, shown_at) = rx
            .wait_for(|l| l.is_some())
            .await?
            .clone()
            .unwrap_or_else(|| unreachable!());
        let link = DeviceLink::parse(&link)?;
        let mut bytes = 0u64;
        let mut received_at = None;
        let (_, summary) = Postern::receive_device(
            &phone,
            receiving.clone(),
            &link,
            b"phone",
            Duration::from_secs(120),
            &mut |d, t| {
                bytes = t;
                if d == t {
                    received_at = Some(Instant::now());
                }
            },
        )
        .await?;
        let done = Instant::now();
        Ok::<_, anyhow::Error>((shown_at, received_at.unwrap_or(done), done, bytes, summary))
    };
    let (sent, got) = tokio::join!(offer, receive);
    sent?;
    let (shown_at, received_at, done, bytes, summary) = got?;
    if summary.messages != n as i64 {
        bail!("{} messages arrived, not {n}", summary.messages);
    }
    let export = shown_at - started;
    let transfer = received_at - shown_at;
    let restore = done - received_at;

    // The baseline: the same bytes on a raw onion stream between the same two clients, after the
    // service is reachable (so it includes one connect, as the transfer does).
    let sink = IdentityKeys::generate(LocalPart::new("sink")?, "")?;
    let mut listener = offering
        .serve(&sink, &ServiceOptions::for_ports(&[4466]))
        .await?;
    let total = bytes;
    tokio::spawn(async move {
        if let Some(mut inc) = listener.accept().await {
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0u64;
            while got < total {
                match inc.stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(k) => got += k as u64,
                }
            }
            let _ = inc.stream.write_all(b"OK").await;
            let _ = inc.stream.flush().await;
        }
    });
    let from = OnionAddress::from_public_key([9; 32]);
    let raw_start = Instant::now();
    let mut s = loop {
        match receiving.connect(&from, sink.address().onion(), 4466).await {
            Ok(s) => break s,
            Err(_) if raw_start.elapsed() < Duration::from_secs(120) => {
                tokio::time::sleep(Duration::from_secs(2)).await
            }
            Err(e) => return Err(e.into()),
        }
    };
    let connected = Instant::now();
    let chunk = vec![0x5au8; 64 * 1024];
    let mut sent = 0u64;
    while sent < total {
        let k = (total - sent).min(chunk.len() as u64) as usize;
        s.write_all(&chunk[..k]).await?;
        sent += k as u64;
    }
    s.flush().await?;
    let mut ack = [0u8; 2];
    s.read_exact(&mut ack).await?;
    let raw = connected.elapsed();

    let mib = bytes as f64 / (1024.0 * 1024.0);
    let rate = |d: Duration| mib / d.as_secs_f64().max(1e-9);
    println!(
        "Second device by link over the private Tor network ({n} messages, {mib:.1} MiB backup)"
    );
    println!("  export (before the link is shown)    {:>10}", ms(export));
    println!(
        "  transfer: link shown -> all bytes    {:>10}  {:>7.2} MiB/s (includes reaching the new onion service)",
        ms(transfer),
        rate(transfer)
    );
    println!("  restore (checked, put in place)      {:>10}", ms(restore));
    println!(
        "  raw onion stream, same bytes         {:>10}  {:>7.2} MiB/s (after connecting, {} to connect)",
        ms(raw),
        rate(raw),
        ms(connected - raw_start)
    );
    println!(
        "  ratio transfer / raw: {:.2}x   whole move (export + transfer + restore) / raw: {:.2}x",
        transfer.as_secs_f64() / raw.as_secs_f64().max(1e-9),
        (done - started).as_secs_f64() / raw.as_secs_f64().max(1e-9)
    );
    // Arti's onion-service proof-of-work threads panic when the runtime shuts down under them
    // (arti 0.47): leave now that everything is printed.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    std::process::exit(0)
}
