//! `postern run`: the headless node.

use std::io::IsTerminal;
use std::time::Duration;

use postern_core::{BootstrapStatus, Network, Node, NodeConfig, Postern, RetryPolicy};
use tokio::sync::watch;

use crate::args::{NetworkArgs, RunArgs};
use crate::CliError;

pub(crate) fn network(args: &NetworkArgs) -> Result<Network, CliError> {
    if let Some(dir) = &args.loopback {
        return Ok(Network::Loopback {
            registry: dir.clone(),
        });
    }
    let network_toml = match &args.network_config {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            CliError::Io(format!(
                "cannot read the network configuration {}: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    Ok(Network::Tor {
        network_toml,
        bootstrap_timeout: Duration::from_secs(args.bootstrap_timeout),
    })
}

/// Write to standard output or error, and go on if nobody reads them any more: a node must not
/// die because a service manager or a script stopped reading (`println!` would panic on EPIPE).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
macro_rules! err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($t)*);
    }};
}

/// Draw bootstrap progress on stderr: a bar on a terminal, a line per step otherwise.
async fn show_progress(mut rx: watch::Receiver<BootstrapStatus>) {
    let tty = std::io::stderr().is_terminal();
    let mut last_line = String::new();
    loop {
        let s = rx.borrow_and_update().clone();
        let pct = (s.fraction.clamp(0.0, 1.0) * 100.0).round() as usize;
        if tty {
            let filled = pct / 5;
            err!(
                "\r\x1b[2KConnecting to Tor [{}{}] {pct:>3}% {}",
                "#".repeat(filled),
                "-".repeat(20 - filled),
                s.phase
            );
        } else {
            let line = format!("Connecting to Tor: {pct:>3}% {}", s.phase);
            if line != last_line {
                err!("{line}\n");
                last_line = line;
            }
        }
        if s.ready || rx.changed().await.is_err() {
            break;
        }
    }
    if tty {
        err!("\n");
    }
}

pub(crate) fn run(postern: Postern, args: &RunArgs) -> Result<(), CliError> {
    let network = network(&args.net)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io(format!("cannot start the async runtime: {e}")))?;
    let result = rt.block_on(async move {
        let transport = network.transport(postern.data_dir())?;
        let progress = tokio::spawn(show_progress(transport.bootstrap_status()));
        let mut config = NodeConfig {
            retry: RetryPolicy {
                first_retry: Duration::from_secs(args.retry_first.max(1)),
                max_interval: Duration::from_secs(args.retry_max.max(1)),
                give_up_after: Duration::from_secs(args.give_up_after),
            },
            ..NodeConfig::default()
        };
        config.smtp.max_message_size = args.max_message_size;
        config.stamp_bits = args.stamp_bits;
        config.clients = postern_core::ClientPorts {
            imap: args.imap_port,
            submission: args.submission_port,
        };
        config.gateway.listen = args.gateway_listen;
        config.gateway.hostname = args.gateway_hostname.clone();
        config.gateway.tls_cert = args.gateway_tls_cert.clone();
        config.gateway.tls_key = args.gateway_tls_key.clone();
        if let Some(dns) = args.gateway_dns {
            config.gateway.dns = postern_core::GatewayDns::Server(dns);
        }
        config.gateway.smtp_port = args.gateway_smtp_port;
        let started = Node::start(&postern, transport, config).await;
        let _ = progress.await;
        let node = started?;
        let serving = node.serving();
        out!(
            "Connected. Serving {} identit{}:",
            serving.len(),
            if serving.len() == 1 { "y" } else { "ies" }
        );
        for a in serving {
            out!("  {a}");
        }
        for (a, device) in node.standing_by() {
            out!("Not serving {a}: your device {device} serves it (`postern device take-over -i {a}` to serve it here).");
        }
        if let Some(c) = node.clients() {
            if let Some(a) = c.imap {
                out!("Mail clients: IMAP on {a}");
            }
            if let Some(a) = c.submission {
                out!("Mail clients: SMTP submission on {a}");
            }
        }
        wait_for_stop().await?;
        out!("Stopping.");
        drop(node);
        Ok(())
    });
    // Everything acknowledged is committed. Arti's onion-service proof-of-work threads never end
    // on their own (arti 0.47) and panic when the runtime shuts down under them: leave without
    // shutting it down; the process ends with this function.
    std::mem::forget(rt);
    result
}

/// Ctrl-C (SIGINT) or SIGTERM (a service manager stopping the node).
async fn wait_for_stop() -> Result<(), CliError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| CliError::Io(format!("cannot wait for SIGTERM: {e}")))?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => {
            r.map_err(|e| CliError::Io(format!("cannot wait for Ctrl-C: {e}")))
        }
        _ = term.recv() => Ok(()),
    }
}
