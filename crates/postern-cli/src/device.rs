//! `postern device offer|receive|status|take-over|lost` (and `link`, in `device_link`): a second device by QR code or link, over
//! Tor, and which device serves each identity.

use std::time::Duration;

use postern_core::{DeviceLink, Postern, RevocationScope, TakeOver};

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
        DeviceCommand::Link { .. }
        | DeviceCommand::Linked { .. }
        | DeviceCommand::Unlink { .. } => crate::device_link::run(cli, cmd, out)?,
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
                    "Sent {} identit{} to the new device. This device goes on serving them until the new one takes over (`postern device take-over` there).",
                    s.identities.len(),
                    if s.identities.len() == 1 { "y" } else { "ies" }
                );
            }
        }
        DeviceCommand::Lost {
            identity,
            address,
            reason,
            yes,
        } => {
            let mut p = open(cli)?;
            let me = p.identity(identity)?;
            let (scope, question) = if *address {
                (
                    RevocationScope::Address,
                    format!(
                        "Revoke the address {} for good, since a device holding it is lost?",
                        me.address
                    ),
                )
            } else {
                (
                    RevocationScope::Key,
                    format!(
                        "Serve {} only here and replace its OpenPGP key, since a device holding it is lost?",
                        me.address
                    ),
                )
            };
            if !yes && !passphrase::confirm(&question)? {
                return Err(CliError::Usage(
                    "nothing changed (pass --yes to go ahead without asking)".into(),
                ));
            }
            let lost = p.device_lost(&me.id.to_string(), scope, reason)?;
            if out.json() {
                print_json(&serde_json::json!({
                    "term": lost.term,
                    "revocation": lost.revocation,
                }));
            } else {
                out.revocation(&lost.revocation);
                say!(
                    "This device serves {} in term {}; the lost device stands by if it comes back online while this one runs.",
                    me.address,
                    lost.term
                );
                if !*address {
                    say!("The lost device still holds the onion key of this address; if it may be used against you, revoke the address too (`postern revoke {} --address`).", me.address);
                }
            }
        }
        DeviceCommand::Status => {
            let p = open(cli)?;
            let services = p.services()?;
            if out.json() {
                print_json(&serde_json::json!({
                    "device": p.device_id()?.short(),
                    "services": services,
                }));
            } else {
                say!("This device: {}", p.device_id()?.short());
                for s in services {
                    let where_ = match (&s.device, s.here) {
                        (None, _) => "served here (on no other device)".to_owned(),
                        (Some(_), true) => format!("served here (term {})", s.term),
                        (Some(d), false) => format!("served by your device {d} (term {})", s.term),
                    };
                    say!("  {}  {where_}", s.address);
                }
            }
        }
        DeviceCommand::TakeOver {
            identity,
            patience,
            net,
        } => {
            let p = open(cli)?;
            let chosen: Vec<String> = if identity.is_empty() {
                p.services()?
                    .into_iter()
                    .filter(|s| !s.here)
                    .map(|s| s.address)
                    .collect()
            } else {
                identity.clone()
            };
            let network = network(net)?;
            let state = TorState::new(p.data_dir())?;
            let rt = runtime()?;
            let results = rt.block_on(async {
                let transport = network.transport(&state.0)?;
                let mut results = Vec::new();
                for id in &chosen {
                    let r = p
                        .take_over(transport.clone(), id, Duration::from_secs(*patience))
                        .await?;
                    results.push((id.clone(), r));
                }
                Ok::<_, CliError>(results)
            });
            std::mem::forget(rt);
            drop(state);
            let results = results?;
            if out.json() {
                let list: Vec<_> = results
                    .iter()
                    .map(|(id, r)| {
                        let (how, from) = match r {
                            TakeOver::AlreadyHere => ("already_here", None),
                            TakeOver::HandedOver { from } => ("handed_over", Some(from)),
                            TakeOver::NobodyAnswered => ("nobody_answered", None),
                        };
                        serde_json::json!({ "identity": id, "result": how, "from": from })
                    })
                    .collect();
                print_json(&serde_json::json!({ "taken_over": list }));
            } else if results.is_empty() {
                say!("Every identity is served here already.");
            } else {
                for (id, r) in &results {
                    match r {
                        TakeOver::AlreadyHere => say!("{id}: served here already."),
                        TakeOver::HandedOver { from } => {
                            say!("{id}: your device {from} stopped serving it; start the node here to serve it.")
                        }
                        TakeOver::NobodyAnswered => say!(
                            "{id}: no device answered; this one serves it from now on (start the node). Your other device will stand by when it next starts."
                        ),
                    }
                }
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
                say!("This device stands by for them while your other device serves them; `postern device take-over` moves their service here.");
            }
        }
    }
    Ok(())
}
