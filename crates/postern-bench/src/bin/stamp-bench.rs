//! The proof-of-work stamp on a first message to a stranger: what minting costs the sender (the
//! default bits, and a few more and fewer) against what checking costs the receiver, on this
//! machine. Usage: `stamp-bench [ROUNDS]` (default 20 per setting).

use std::time::Instant;

use postern_mime::stamp;

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let message = vec![b'x'; 4096];
    let to = "bob@example.onion";
    println!("Proof-of-work stamps: {rounds} messages per setting, one core");
    for bits in [
        stamp::DEFAULT_BITS - 4,
        stamp::DEFAULT_BITS - 2,
        stamp::DEFAULT_BITS,
        stamp::DEFAULT_BITS + 2,
    ] {
        let mut mint = Vec::new();
        let mut check = Vec::new();
        for i in 0..rounds {
            let fpr = [i as u8; 20];
            let t = Instant::now();
            let stamped = stamp::mint(&message, to, &fpr, 20_000, bits);
            mint.push(t.elapsed());
            let t = Instant::now();
            let ok = stamp::find(&stamped).is_some_and(|s| s.holds(to, &fpr, 20_000, bits));
            check.push(t.elapsed());
            assert!(ok);
        }
        mint.sort();
        check.sort();
        let mean = mint.iter().map(|d| d.as_secs_f64()).sum::<f64>() / f64::from(rounds);
        println!(
            "  {bits} bits{}: mint mean {:.2} s, median {:.2} s, p90 {:.2} s; check median {:.1} µs (mint/check {:.0}x)",
            if bits == stamp::DEFAULT_BITS { " (default)" } else { "" },
            mean,
            mint[mint.len() / 2].as_secs_f64(),
            mint[mint.len() * 9 / 10].as_secs_f64(),
            check[check.len() / 2].as_secs_f64() * 1e6,
            mean / check[check.len() / 2].as_secs_f64().max(1e-9)
        );
    }
}
