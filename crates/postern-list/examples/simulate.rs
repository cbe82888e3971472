//! Runs one simulation with parameters from the command line, for exploring the protocol:
//! `cargo run --release -p postern-list --example simulate -- members=1000 posts=60 mode=flood`.

use postern_list::sim::{run, SimConfig};
use postern_list::Mode;

fn main() {
    let mut cfg = SimConfig::default();
    for arg in std::env::args().skip(1) {
        let Some((k, v)) = arg.split_once('=') else {
            eprintln!("arguments are key=value");
            std::process::exit(2);
        };
        let num = || {
            v.parse::<u64>().unwrap_or_else(|_| {
                eprintln!("{k}: not a number: {v}");
                std::process::exit(2)
            })
        };
        match k {
            "members" => cfg.members = num() as usize,
            "posts" => cfg.posts = num() as usize,
            "seed" => cfg.seed = num(),
            "graft" => cfg.node.graft_timeout = num(),
            "retry" => cfg.node.retry_timeout = num(),
            "shortcut" => cfg.node.shortcut = num() as u32,
            "offline" => cfg.offline = num() as f64 / 100.0,
            "churn" => cfg.churn = num() as f64 / 1000.0,
            "loss" => cfg.loss = num() as f64 / 1000.0,
            "blob" => cfg.blob = Some(num() as usize),
            "mode" => {
                cfg.node.mode = if v == "flood" {
                    Mode::Flood
                } else {
                    Mode::Plumtree
                }
            }
            _ => {
                eprintln!("unknown parameter {k}");
                std::process::exit(2);
            }
        }
    }
    let started = std::time::Instant::now();
    let r = run(cfg);
    println!("{r:?}");
    println!("took {:.1} s", started.elapsed().as_secs_f64());
}
