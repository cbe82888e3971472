//! P6: mailing lists by gossip, Plumtree-style tree vs flooding on the same trust graph, in the
//! deterministic simulator (real signatures and wire messages; 1% of messages lost, 20% of
//! members offline at any time and coming back). First a 10 MB attachment on a 50-member list
//! (bytes per member), then lists of the given sizes.
//! Usage: `scripts/bench.sh list [MEMBERS,...] [POSTS] [churn|stable|both]` (default
//! `1000,5000 60 churn`).

use std::time::Instant;

use postern_list::sim::{run, Report, SimConfig};
use postern_list::Mode;

fn both(cfg: &SimConfig) -> (Report, Report, f64, f64) {
    let mut tree = cfg.clone();
    tree.node.mode = Mode::Plumtree;
    let mut flood = cfg.clone();
    flood.node.mode = Mode::Flood;
    let t = Instant::now();
    let a = run(tree);
    let ta = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let b = run(flood);
    (a, b, ta, t.elapsed().as_secs_f64())
}

fn row(name: &str, r: &Report, secs: f64) {
    println!(
        "  {name:<9} delivery {:>7.3}%  RMR {:>6.3}  LDH mean {:>5.2} max {:>2}  payload msgs {:>8}  control msgs {:>8}  KiB/member {:>9.1}  moved nearer {:>5}  ({:.1} s)",
        r.delivery * 100.0,
        r.rmr,
        r.ldh_mean,
        r.ldh_max,
        r.payload_messages,
        r.control_messages,
        r.bytes_per_member / 1024.0,
        r.moved_nearer,
        secs
    );
}

fn main() {
    // `cargo bench` adds `--bench`; only the positional arguments are ours.
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let sizes: Vec<usize> = args
        .next()
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1000, 5000]);
    let posts: usize = args.next().and_then(|p| p.parse().ok()).unwrap_or(60);
    // `churn` (the conditions), `stable` (no loss, nobody offline: the tree's shape
    // alone) or `both`.
    let conditions = args.next().unwrap_or_else(|| "churn".to_string());

    let cfg = SimConfig {
        members: 50,
        posts,
        blob: Some(10_000_000),
        ..SimConfig::default()
    };
    println!(
        "P6 attachment: 10 MB on one post of a 50-member list ({posts} posts, seed {})",
        cfg.seed
    );
    let (tree, flood, ta, tb) = both(&cfg);
    row("plumtree", &tree, ta);
    row("flooding", &flood, tb);
    println!(
        "  attachment bytes per member: plumtree {:.2} MB, flooding {:.2} MB (ratio {:.2}x); members holding it: {} and {} of 50",
        tree.blob_bytes_per_member / 1e6,
        flood.blob_bytes_per_member / 1e6,
        tree.blob_bytes_per_member / flood.blob_bytes_per_member,
        tree.blob_holders,
        flood.blob_holders
    );
    let runs: Vec<(usize, bool)> = sizes
        .iter()
        .flat_map(|&n| match conditions.as_str() {
            "stable" => vec![(n, true)],
            "both" => vec![(n, false), (n, true)],
            _ => vec![(n, false)],
        })
        .collect();
    for (members, stable) in runs {
        let mut cfg = SimConfig {
            members,
            posts,
            ..SimConfig::default()
        };
        if stable {
            (cfg.loss, cfg.offline, cfg.churn) = (0.0, 0.0, 0.0);
        }
        println!(
            "\n{members} members, {posts} posts ({} steady-state), seed {}, {}",
            posts - cfg.warmup,
            cfg.seed,
            if stable {
                "no loss, nobody offline"
            } else {
                "1% loss, 20% offline with churn"
            }
        );
        let (tree, flood, ta, tb) = both(&cfg);
        println!("  trust graph: {} links (degree 3-8)", tree.edges);
        row("plumtree", &tree, ta);
        row("flooding", &flood, tb);
        println!(
            "  RMR plumtree/flooding {:.4}; LDH plumtree - flooding {:+.2} hops (goal <= +2); payload messages ratio {:.3}",
            tree.rmr / flood.rmr,
            tree.ldh_mean - flood.ldh_mean,
            tree.payload_messages as f64 / flood.payload_messages as f64
        );
        println!(
            "  bytes per member: plumtree / flooding {:.2}",
            tree.bytes_per_member / flood.bytes_per_member
        );
        kinds("plumtree", &tree);
        kinds("flooding", &flood);
    }
}

/// KiB received per member by kind of message.
fn kinds(name: &str, r: &Report) {
    let n = r.members.max(1) as f64;
    let parts: Vec<String> = r
        .bytes_by_kind
        .iter()
        .map(|(kind, bytes)| format!("{kind} {:.1}", *bytes as f64 / n / 1024.0))
        .collect();
    println!("  {name:<9} KiB/member by kind: {}", parts.join(", "));
}
