//! P7: a carrier drains its backlog. A carrier holds N messages for a recipient who was offline;
//! the recipient comes online (and pulls); the time until all N are stored at the recipient,
//! against the recipient's direct-ingest rate for N other messages measured in the same run
//! (the same client load as P2: parallel pipelined sessions).
//!
//! Usage: `carrier-bench [MESSAGES] [SESSIONS]` (default 10000, 8). Loopback TCP; the same
//! SMTP, receive and carrier code that runs over Tor.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use postern_bench::load::blast;
use postern_core::{Clock, KdfParams, Network, Node, NodeConfig, Postern, SystemClock};
use postern_crypto::{IdentityKeys, PublicKeyInfo};
use postern_mime::{compose, random_message_id, Draft, SenderKeys};
use postern_smtp::data_block;
use postern_store::{NewCarried, Store, DB_FILE_NAME};
use sha2::{Digest, Sha256};

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn messages(
    alice: &IdentityKeys,
    to: &str,
    bob_key: &PublicKeyInfo,
    count: usize,
    tag: &str,
) -> Result<Vec<Vec<u8>>> {
    let mut rng = rand::thread_rng();
    let text = "Carrier benchmark line of text, repeated to make a kilobyte.\n".repeat(17);
    (0..count)
        .map(|i| {
            Ok(compose(
                &Draft {
                    from: alice.address().clone(),
                    from_name: "Alice".into(),
                    to: to.parse()?,
                    subject: format!("{tag} {i}"),
                    text: text.clone(),
                    attachments: vec![],
                    headers: Vec::new(),
                },
                SenderKeys::of(alice),
                bob_key.cert(),
                1_800_000_000,
                &random_message_id(&mut rng),
                &mut rng,
            )?)
        })
        .collect()
}

async fn wait_stored(bob: &Postern, want: usize, limit: Duration) -> Result<Duration> {
    let start = Instant::now();
    loop {
        let n = bob.inbox(None)?.len();
        if n >= want {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            bail!("only {n} of {want} stored after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let sessions: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let tmp = tempfile::tempdir()?;
    let kdf = KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    let init =
        |name: &str| Postern::init_with(&tmp.path().join(name), b"pw", kdf, Arc::new(SystemClock));
    let (mut alice, mut bob, mut carol) = (init("alice")?, init("bob")?, init("carol")?);
    alice.create_identity("alice", "Alice")?;
    let b = bob.create_identity("bob", "Bob")?;
    let c = carol.create_identity("carol", "Carol")?;
    bob.add_contact("bob", &alice.export_card("alice", true)?)?;
    carol.add_contact("carol", &bob.export_card("bob", true)?)?;
    carol.set_carrier_mode("carol", true)?;
    carol.set_carrier_policy(
        "carol",
        std::slice::from_ref(&b.address),
        &[],
        Some(4 * 1024 * 1024 * 1024),
        None,
    )?;
    bob.designate_carrier("bob", &c.address, true)?;
    let alice_keys = alice.identity_keys("alice")?;
    let bob_key = PublicKeyInfo::parse(&bob.identity_keys("bob")?.openpgp_public()?)?;

    let direct = messages(&alice_keys, &b.address, &bob_key, count, "direct")?;
    let carried = messages(&alice_keys, &b.address, &bob_key, count, "carried")?;
    let size = direct.iter().map(Vec::len).sum::<usize>() / count;
    println!(
        "P7 carrier drain: {count} held messages of ~{size} bytes vs direct ingest of {count} over {sessions} sessions, loopback TCP"
    );

    let reg = tmp.path().join("registry");
    let net = Network::Loopback {
        registry: reg.clone(),
    };
    let mut patient = NodeConfig::default();
    patient.retry.first_retry = Duration::from_secs(3600);
    patient.retry.max_interval = Duration::from_secs(3600);

    // 1. Direct ingest at Bob.
    let label = b
        .address
        .split('@')
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches(".onion")
        .to_owned();
    let node = Node::start(
        &bob,
        net.transport(&tmp.path().join("bob"))?,
        patient.clone(),
    )
    .await?;
    let addr = std::fs::read_to_string(reg.join(format!("{label}.25")))?;
    let blocks: Vec<Vec<u8>> = direct.iter().map(|m| data_block(m)).collect();
    let alice_addr = alice_keys.address().to_string();
    let (direct_time, ok) = blast(
        addr.trim().to_owned(),
        &alice_addr,
        &b.address,
        Arc::new(blocks),
        sessions,
    )
    .await?;
    if ok != count {
        bail!("direct: {ok} of {count} acknowledged");
    }
    drop(node);

    // 2. Carol holds the other N while Bob is offline.
    {
        let mut store = Store::open(&tmp.path().join("carol").join(DB_FILE_NAME), b"pw")?;
        let now = SystemClock.now_unix();
        for m in &carried {
            store.hold_carried(
                &NewCarried {
                    identity_id: c.id,
                    sender: &alice_addr,
                    recipient: &b.address,
                    data_hash: &Sha256::digest(m),
                    data: m,
                    received_at: now,
                    expires_at: now + 86_400,
                },
                i64::MAX,
            )?;
        }
    }
    let _carol = Node::start(
        &carol,
        net.transport(&tmp.path().join("carol"))?,
        patient.clone(),
    )
    .await?;
    // Carol tries Bob once (offline) and backs off for an hour: only Bob's pull starts the drain.
    tokio::time::sleep(Duration::from_secs(2)).await;
    if carol.carriers("carol", 0.999)?.mode.held != count {
        bail!("Carol does not hold {count} messages");
    }

    // 3. Bob comes online and pulls.
    let started = Instant::now();
    let _bob = Node::start(&bob, net.transport(&tmp.path().join("bob"))?, patient).await?;
    wait_stored(&bob, 2 * count, Duration::from_secs(1800)).await?;
    let drain_time = started.elapsed();
    let held = carol.carriers("carol", 0.999)?.mode.held;

    let (r_direct, r_drain) = (rate(count, direct_time), rate(count, drain_time));
    println!(
        "  direct ingest (client -> Bob)        {r_direct:>8.0} msg/s  ({:.1} s)",
        direct_time.as_secs_f64()
    );
    println!(
        "  carrier drain (Carol -> Bob, pulled) {r_drain:>8.0} msg/s  ({:.1} s, {held} left held)",
        drain_time.as_secs_f64()
    );
    println!(
        "  drain / direct = {:.0}%  (goal >= 50%)",
        100.0 * r_drain / r_direct
    );
    Ok(())
}
