//! Composes the P3 benchmark's letter (4 KB of text, Alice to Bob) N times in a loop and prints
//! the time per message: a steady load to run under `perf record` when working on composing.
//! Usage: `compose_profile [N]` (default 20,000).

use anyhow::Result;
use postern_crypto::{IdentityKeys, PublicKeyInfo};
use postern_mime::{compose, random_message_id, Draft, SenderKeys};
use postern_types::LocalPart;

fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let text = "Postern benchmark text, 4 KB of it. ".repeat(4096 / 36 + 1)[..4096].to_owned();
    let alice = IdentityKeys::generate(LocalPart::new("alice")?, "Alice")?;
    let bob = IdentityKeys::generate(LocalPart::new("bob")?, "Bob")?;
    let bob_pub = PublicKeyInfo::parse(&bob.openpgp_public()?)?;
    let draft = Draft {
        from: alice.address().clone(),
        from_name: "Alice".into(),
        to: bob.address().clone(),
        subject: "benchmark".into(),
        text,
        attachments: vec![],
        headers: Vec::new(),
    };
    let mut rng = rand::thread_rng();
    let start = std::time::Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        let id = random_message_id(&mut rng);
        let sender = SenderKeys::of(&alice);
        bytes += compose(&draft, sender, bob_pub.cert(), 1_800_000_000, &id, &mut rng)?.len();
    }
    let took = start.elapsed();
    println!(
        "{n} messages in {took:.2?}: {:.1} µs each, {} bytes each",
        took.as_secs_f64() * 1e6 / n as f64,
        bytes / n.max(1)
    );
    Ok(())
}
