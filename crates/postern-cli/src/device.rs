//! `postern device offer|receive`: a second device by QR code or link, over Tor.

use std::time::Duration;

use postern_core::{DeviceLink, Postern};

use crate::args::{Cli, DeviceCommand};
use crate::node::network;
use crate::output::{print_json, progress, qr_text, Output};
use crate::{open, passphrase, CliError};

/// A directory for this transfer's own Tor state (a node may be running on the data directory
/// with its own), removed afterwards.
struct TorState(std::path::PathBuf);
impl TorState {
    fn new(dir: &std::path::Path) -> Result<Self, CliError> {
        let d = dir.join(format!(".device-tor-{}", std::process::id()));
        std::fs::create_dir_all(&d)
            .map_err(|e| CliError::Io(format!("cannot create {}: {e}", d.display())))?;
        Ok(TorState(d))
    }
}
impl Drop for TorState {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io(format!("cannot start the async runtime: {e}")))
}

pub(crate) fn run(cli: &Cli, cmd: &DeviceCommand, out: &Output) -> Result<(), CliError> {
    match cmd {
        DeviceCommand::Offer {
            without_mail,
            valid_for,
            no_qr,
            net,
        } => {
            let p = open(cli)?;
            let network = network(net)?;
            let state = TorState::new(p.data_dir())?;
            let json = out.json();
            let draw = !no_qr && !json;
            let rt = runtime()?;
            let sent = rt.block_on(async {
                let transport = network.transport(&state.0)?;
                let mut shown = |link: &str| {
                    use std::io::Write as _;
                    if json {
                        print_json(&serde_json::json!({ "link": link }));
                    } else {
                        if draw {
                            if let Some(q) = qr_text(link) {
                                say!("{q}");
                            }
                        }
                        say!("Scan this on the new device, or give it this link (once, in the next {valid_for} minutes):");
                        say!("{link}");
                        say!("Waiting for the new device…");
                    }
                    let _ = std::io::stdout().flush();
                };
                let mut step = progress("Sending");
                p.offer_device(
                    transport,
                    !without_mail,
                    Duration::from_secs(valid_for.saturating_mul(60)),
                    &mut shown,
                    &mut step,
                )
                .await
            });
            std::mem::forget(rt);
            let s = sent?;
            if json {
                print_json(&serde_json::json!({
                    "sent": true,
                    "identities": s.identities,
                    "messages": s.messages,
                }));
            } else {
                say!(
                    "Sent {} identit{} to the new device. Run only one of the two with them at a time.",
                    s.identities.len(),
                    if s.identities.len() == 1 { "y" } else { "ies" }
                );
            }
        }
        DeviceCommand::Receive { link, net } => {
            let dir = cli.data_dir()?;
            if Postern::exists(&dir) {
                return Err(CliError::Core(postern_core::CoreError::Store(
                    postern_core::StoreError::AlreadyExists(dir),
                )));
            }
            let link = DeviceLink::parse(link)?;
            let new = passphrase::new()?;
            let network = network(net)?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::Io(format!("cannot create {}: {e}", dir.display())))?;
            let state = TorState::new(&dir)?;
            let rt = runtime()?;
            let got = rt.block_on(async {
                let transport = network.transport(&state.0)?;
                let mut step = progress("Receiving");
                Postern::receive_device(
                    &dir,
                    transport,
                    &link,
                    new.as_bytes(),
                    Duration::from_secs(net.bootstrap_timeout),
                    &mut step,
                )
                .await
            });
            std::mem::forget(rt);
            drop(state);
            let (_, s) = got?;
            if out.json() {
                print_json(&serde_json::json!({
                    "received": true,
                    "identities": s.identities,
                    "messages": s.messages,
                }));
            } else {
                say!(
                    "Received {} identities into {}:",
                    s.identities.len(),
                    dir.display()
                );
                for i in &s.identities {
                    say!("  {i}");
                }
                say!("Run only one device with these identities at a time.");
            }
        }
    }
    Ok(())
}
