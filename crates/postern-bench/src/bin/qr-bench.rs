//! The scanner on a randomised corpus: a new identity and invite each run (so a new QR payload),
//! pictures of every kind the fixed CI corpus has (photographs, light on dark, small codes), with
//! a seed drawn at random. Prints the rate per kind and the seed of any picture that failed, so
//! that it can be reproduced. Usage: `qr-bench [VARIANTS] [ROUNDS]` (default 240 × 5).

use std::collections::BTreeMap;
use std::time::Instant;

use postern_card::{ContactCard, Invite};
use postern_crypto::IdentityKeys;
use postern_qr::corpus::{variants, Kind};
use postern_types::LocalPart;
use rand::RngCore;

const KINDS: &[Kind] = &[
    Kind::Photo,
    Kind::LightOnDark,
    Kind::Photo,
    Kind::Small,
    Kind::Photo,
];

fn payload() -> anyhow::Result<String> {
    let keys = IdentityKeys::generate(LocalPart::new("alice")?, "Alice Ørsted")?;
    let card = ContactCard::for_identity(&keys, false)?;
    let mut token = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut token);
    Ok(Invite::new(card, token, 1_800_000_000).to_text())
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(240);
    let rounds: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);
    let mut per_kind: BTreeMap<Kind, (usize, usize)> = BTreeMap::new();
    let mut failed = Vec::new();
    let start = Instant::now();
    for _ in 0..rounds {
        let text = payload()?;
        let seed = rand::rngs::OsRng.next_u64();
        for v in variants(&text, seed, n, KINDS)? {
            let e = per_kind.entry(v.kind).or_default();
            e.1 += 1;
            if v.scan().is_ok_and(|found| found.contains(&text)) {
                e.0 += 1;
            } else {
                if let Ok(dir) = std::env::var("POSTERN_QR_FAILURES") {
                    if let Ok(seen) = v.as_seen() {
                        let _ = seen.save(format!("{dir}/{seed:x}-{}.png", v.index));
                    }
                }
                failed.push(format!(
                    "seed {seed:#x} variant {} ({}, {:?}; {})",
                    v.index,
                    v.kind.name(),
                    v.medium,
                    v.drawn
                ));
            }
        }
    }
    let (ok, all) = per_kind
        .values()
        .fold((0, 0), |(a, b), (o, n)| (a + o, b + n));
    println!(
        "randomised QR corpus: {rounds} payloads × {n} pictures in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    for (kind, (o, t)) in &per_kind {
        println!(
            "  {:<14} {o:>5} of {t:>5} decoded ({:.2}%)",
            kind.name(),
            100.0 * *o as f64 / *t as f64
        );
    }
    println!(
        "  {:<14} {ok:>5} of {all:>5} decoded ({:.2}%; goal 100%)",
        "all",
        100.0 * ok as f64 / all as f64
    );
    for f in failed.iter().take(12) {
        println!("  failed: {f}");
    }
    if failed.len() > 12 {
        println!("  … and {} more", failed.len() - 12);
    }
    Ok(())
}
