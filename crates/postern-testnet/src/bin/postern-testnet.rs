//! `postern-testnet up DIR [--c-tor-compat] [--owner-pid PID]` / `postern-testnet down DIR`.
//!
//! `up` starts the network and prints the path of the arti configuration for it; the daemons
//! exit with the owner process (default: the caller of this command).

use std::path::Path;
use std::process::ExitCode;

use postern_testnet::{Testnet, TestnetOptions};

fn usage() -> ExitCode {
    eprintln!("usage: postern-testnet up DIR [--c-tor-compat] [--owner-pid PID] | down DIR");
    ExitCode::from(2)
}

fn parent_pid() -> Option<u32> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(cmd), Some(dir)) = (args.first(), args.get(1)) else {
        return usage();
    };
    let dir = Path::new(dir);
    match cmd.as_str() {
        "up" => {
            let mut opts = TestnetOptions {
                owner_pid: parent_pid(),
                ..Default::default()
            };
            let mut rest = args[2..].iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--c-tor-compat" => opts.c_tor_compat = true,
                    "--owner-pid" => match rest.next().and_then(|p| p.parse().ok()) {
                        Some(p) => opts.owner_pid = Some(p),
                        None => return usage(),
                    },
                    _ => return usage(),
                }
            }
            let started = std::time::Instant::now();
            match Testnet::start(dir, &opts) {
                Ok(mut net) => {
                    let toml = dir.join("arti-network.toml");
                    if let Err(e) = std::fs::write(&toml, net.arti_network_toml()) {
                        eprintln!("error: cannot write {}: {e}", toml.display());
                        net.stop();
                        return ExitCode::from(11);
                    }
                    eprintln!(
                        "private Tor network ready in {:.1}s ({} nodes)",
                        started.elapsed().as_secs_f64(),
                        net.nodes().len()
                    );
                    println!("{}", toml.display());
                    // Leave the daemons running; they stop with the owner process or `down`.
                    std::mem::forget(net);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    if let Ok(mut n) = Testnet::attach(dir) {
                        n.stop();
                    }
                    ExitCode::from(10)
                }
            }
        }
        "down" => match Testnet::attach(dir) {
            Ok(net) => {
                let mut owned = net;
                owned.stop_attached();
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(6)
            }
        },
        _ => usage(),
    }
}
