//! `postern device link|linked|unlink`: devices of one person, each with an identity of its
//! own, that carry for each other and keep mail and flags in step.

use crate::args::{Cli, DeviceCommand};
use crate::output::{print_json, qr_text, when, Output};
use crate::{open, CliError};

pub(crate) fn run(cli: &Cli, cmd: &DeviceCommand, out: &Output) -> Result<(), CliError> {
    let mut p = open(cli)?;
    match cmd {
        DeviceCommand::Link {
            identity,
            link: None,
            no_qr,
        } => {
            let invite = p.offer_device_link(identity)?;
            if out.json() {
                print_json(&invite);
                return Ok(());
            }
            if !no_qr {
                if let Some(code) = qr_text(&invite.link) {
                    say!("{code}");
                }
            }
            say!(
                "Device invite (one use, valid until {} UTC):",
                when(invite.expires_at)
            );
            say!("{}", invite.link);
            say!("On your other device: postern device link -i ITS_IDENTITY '<this link>'");
            say!("Show it to nobody else: whoever redeems it gets copies of this identity's mail.");
        }
        DeviceCommand::Link {
            identity,
            link: Some(link),
            ..
        } => {
            let h = p.accept_device_link(identity, link)?;
            if out.json() {
                print_json(&h);
            } else {
                say!(
                    "Linked with your device {} ({}). It carries for this one and this one for it; \
                     mail and flags stay in step once the other device has the handshake.",
                    h.contact.address,
                    h.contact.display_name
                );
            }
        }
        DeviceCommand::Linked { identity } => {
            let devices = p.own_devices(identity)?;
            if out.json() {
                print_json(&devices);
            } else if devices.is_empty() {
                say!("No devices linked (postern device link -i ID).");
            } else {
                for d in devices {
                    say!("  {}  {}", d.address, d.display_name);
                }
            }
        }
        DeviceCommand::Unlink { identity, device } => {
            p.unlink_own_device(identity, device)?;
            out.done(&format!(
                "{device} is no longer linked: it stays a contact, but no longer carries, \
                 gets copies or flags."
            ));
        }
        _ => return Err(CliError::Usage("not a device link command".into())),
    }
    Ok(())
}
