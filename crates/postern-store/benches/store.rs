//! The encrypted store (SQLCipher) against the same data without encryption, side by side:
//!
//! - P4 search: N generated messages (default 100,000); p50/p95 of typical queries through
//!   `Store::search` on the encrypted store vs bare FTS5 (`MATCH … ORDER BY rank`) on an
//!   unencrypted copy of the same rows. Goal ≤ 1.5×, p95 < 30 ms.
//! - Ingest: storing and indexing messages (the receive path's writes, in groups of 64 per
//!   transaction as the mail writer commits) on the encrypted store vs the same code on an
//!   unencrypted database. Goal ≥ 85 % of the plaintext rate.
//! - Opening the encrypted store (Argon2id at the default cost, then the first query), and
//!   changing its passphrase.
//!
//! Usage: `cargo bench -p postern-store --bench store [-- MESSAGES]` (or `scripts/bench.sh store`).

use std::time::{Duration, Instant};

use postern_crypto::KdfParams;
use postern_store::{fts_query, Inserted, NewIdentity, NewMessage, SearchText, Store};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Postern's cost for new stores (`postern_core::DEFAULT_KDF`).
const KDF: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 1,
};

/// A vocabulary of `VOCABULARY` made-up words (three syllables each), drawn Zipf-like (word `i`
/// with weight 1/(i+1)), as words in real text are.
const VOCABULARY: usize = 2000;
const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "gu", "ho", "ji", "pa", "ze",
];

fn word(i: usize) -> String {
    format!(
        "{}{}{}",
        SYLLABLES[i % 16],
        SYLLABLES[(i / 16) % 16],
        SYLLABLES[(i / 256) % 16]
    )
}

struct Seeded {
    state: u64,
    cumulative: Vec<f64>,
}

impl Seeded {
    fn new(seed: u64) -> Self {
        let mut total = 0.0;
        let cumulative = (0..VOCABULARY)
            .map(|i| {
                total += 1.0 / (i as f64 + 1.0);
                total
            })
            .collect();
        Seeded {
            state: seed,
            cumulative,
        }
    }
    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
    fn word(&mut self) -> String {
        let total = self.cumulative[VOCABULARY - 1];
        let r = (self.next() % 1_000_000) as f64 / 1_000_000.0 * total;
        word(
            self.cumulative
                .partition_point(|c| *c < r)
                .min(VOCABULARY - 1),
        )
    }
}

struct Generated {
    subject: String,
    body: String,
    name: String,
    sender: String,
}

fn generate(n: usize) -> Vec<Generated> {
    let mut rng = Seeded::new(0x5e_a2c4_b4e7);
    let names = [
        "Alice Liddell",
        "Bob Builder",
        "Carol Singer",
        "Dave Lister",
        "Erin Brock",
    ];
    (0..n)
        .map(|_| {
            let who = (rng.next() % names.len() as u64) as usize;
            let subject: Vec<String> = (0..4).map(|_| rng.word()).collect();
            let body: Vec<String> = (0..60).map(|_| rng.word()).collect();
            Generated {
                subject: subject.join(" "),
                body: body.join(" "),
                name: names[who].to_owned(),
                sender: format!(
                    "{}@{}.onion",
                    names[who].split(' ').next().unwrap_or("x").to_lowercase(),
                    "a".repeat(56)
                ),
            }
        })
        .collect()
}

/// Store and index `mail` (numbered from `offset`) for the store's identity; how long it took.
fn fill(s: &mut Store, mail: &[Generated], offset: usize) -> Result<Duration> {
    let identity = match s.identities()?.first() {
        Some(i) => i.id,
        None => {
            s.insert_identity(&NewIdentity {
                local_part: "me",
                onion: "meonion.onion",
                display_name: "Me",
                fingerprint: &[7; 20],
                binding_sig: &[9; 64],
                public_key: b"public",
                onion_secret: b"onion secret",
                openpgp_secret: b"openpgp secret",
                created_at: 1,
                host_id: None,
            })?
            .id
        }
    };
    let started = Instant::now();
    for (group, chunk) in mail.chunks(64).enumerate() {
        s.in_transaction(|s| {
            for (i, g) in chunk.iter().enumerate() {
                let n = offset + group * 64 + i;
                let m = NewMessage {
                    identity_id: identity,
                    message_id: format!("<{n}@bench>"),
                    sender: g.sender.clone(),
                    sender_name: g.name.clone(),
                    subject: g.subject.clone(),
                    folder: "inbox".into(),
                    verification: "contact".into(),
                    sent_at: Some(n as i64),
                    received_at: n as i64,
                    inner: format!("Subject: {}\r\n\r\n{}", g.subject, g.body).into_bytes(),
                    raw: Vec::new(),
                    sender_key: None,
                    sender_binding_sig: None,
                    ..Default::default()
                };
                let Inserted::New(id) = s.insert_message(&m)? else {
                    continue;
                };
                s.index_message(
                    id,
                    identity,
                    &SearchText {
                        subject: &g.subject,
                        body: &g.body,
                        sender_name: &g.name,
                        sender: &g.sender,
                        attachment_names: "",
                    },
                )?;
            }
            Ok::<(), postern_store::StoreError>(())
        })?;
    }
    Ok(started.elapsed())
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; the first number given is the message count.
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let mail = generate(n);
    println!("Store: {n} generated messages, encrypted (SQLCipher) vs unencrypted, same rows");

    let enc_path = dir.path().join("enc/postern.db");
    let plain_path = dir.path().join("plain/postern.db");
    std::fs::create_dir_all(plain_path.parent().unwrap_or(dir.path()))?;
    let kdf = KDF;
    let mut enc = Store::create(&enc_path, b"bench passphrase", kdf)?;
    let mut plain = Store::create_unencrypted_for_comparison(&plain_path)?;
    // Ingest, interleaved in halves so that neither store gets the warmer machine.
    let half = n / 2;
    let (a, b) = mail.split_at(half);
    let mut t_plain = fill(&mut plain, a, 0)?;
    let mut t_enc = fill(&mut enc, a, 0)?;
    t_enc += fill(&mut enc, b, half)?;
    t_plain += fill(&mut plain, b, half)?;
    let (rate_enc, rate_plain) = (
        n as f64 / t_enc.as_secs_f64(),
        n as f64 / t_plain.as_secs_f64(),
    );
    println!(
        "  ingest (store + index, 64 per transaction): encrypted {rate_enc:.0}/s, plaintext {rate_plain:.0}/s: {:.0} % (goal ≥ 85 %)",
        100.0 * rate_enc / rate_plain
    );
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    drop(enc);
    // Open: the key file's Argon2id, SQLCipher's first page, the integrity check.
    let t = Instant::now();
    let enc = Store::open(&enc_path, b"bench passphrase")?;
    let opened = t.elapsed();
    println!(
        "  open the encrypted store ({:.0} MB, Argon2id {} MiB x {}): {:.0} ms",
        size(&enc_path) as f64 / 1e6,
        kdf.memory_kib / 1024,
        kdf.iterations,
        ms(opened)
    );

    // Search.
    let identity = enc.identities()?[0].id;
    // Typical queries: words of middling and low frequency, two and three words, a phrase, a
    // prefix, a sender; and, apart, the most frequent word (in nearly every message).
    let (w30, w200, w1500) = (word(30), word(200), word(1500));
    let phrase = format!("\"{} {}\"", word(40), word(41));
    let prefix = format!("{}*", &word(120)[..4]);
    let two = format!("{} {}", word(60), word(90));
    let three = format!("{} {} {}", word(20), word(70), word(300));
    let sender = format!("from:carol {}", word(50));
    let queries: Vec<&str> = vec![
        &w30,
        &w200,
        &w1500,
        &phrase,
        &prefix,
        &two,
        &three,
        &sender,
        "from:dave",
    ];
    let common = word(0);
    let bare = |q: &str| -> Result<usize> {
        let fts = fts_query(q).unwrap_or_default();
        let mut st = plain.connection().prepare_cached(
            "SELECT rowid FROM message_search WHERE message_search MATCH ?1 ORDER BY rank LIMIT 50",
        )?;
        let rows = st.query_map([fts], |r| r.get::<_, i64>(0))?;
        Ok(rows.count())
    };
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    let rounds = 30;
    for round in 0..rounds {
        for &q in &queries {
            // Alternate which goes first.
            let mut timed_ours = || -> Result<usize> {
                let t = Instant::now();
                let hits = enc.search(Some(identity), q, 50)?.len();
                ours.push(t.elapsed());
                Ok(hits)
            };
            let mut timed_base = || -> Result<usize> {
                let t = Instant::now();
                let hits = bare(q)?;
                base.push(t.elapsed());
                Ok(hits)
            };
            if round % 2 == 0 {
                timed_ours()?;
                timed_base()?;
            } else {
                timed_base()?;
                timed_ours()?;
            }
        }
    }
    let (o50, o95) = (percentile(&mut ours, 0.5), percentile(&mut ours, 0.95));
    let (b50, b95) = (percentile(&mut base, 0.5), percentile(&mut base, 0.95));
    println!(
        "  P4 search ({} queries x {rounds}): encrypted Store::search p50 {:.2} ms, p95 {:.2} ms; bare FTS5 unencrypted p50 {:.2} ms, p95 {:.2} ms; ratio p50 {:.2}x, p95 {:.2}x (goal ≤ 1.5x, p95 < 30 ms)",
        queries.len(),
        ms(o50),
        ms(o95),
        ms(b50),
        ms(b95),
        ms(o50) / ms(b50).max(1e-6),
        ms(o95) / ms(b95).max(1e-6),
    );
    let total = |q: &str| -> Result<usize> {
        let fts = fts_query(q).unwrap_or_default();
        Ok(plain.connection().query_row(
            "SELECT count(*) FROM message_search WHERE message_search MATCH ?1",
            [fts],
            |r| r.get::<_, i64>(0),
        )? as usize)
    };
    for q in queries.iter().copied().chain([common.as_str()]) {
        let t = Instant::now();
        let hits = enc.search(Some(identity), q, 50)?.len();
        let ours = t.elapsed();
        let t = Instant::now();
        bare(q)?;
        let theirs = t.elapsed();
        println!(
            "    {q:<28} {:>6} matching, top {hits}: {:.2} ms (bare {:.2} ms){}",
            total(q)?,
            ms(ours),
            ms(theirs),
            if q == common {
                "  <- the most frequent word, not in the p50/p95"
            } else {
                ""
            }
        );
    }

    // Passphrase change: the key file only.
    let t = Instant::now();
    enc.change_passphrase(b"bench passphrase", b"another passphrase", kdf)?;
    println!(
        "  change of passphrase on the {n}-message store: {:.0} ms (the key file is rewritten; nothing else)",
        ms(t.elapsed())
    );
    Ok(())
}
