//! Meeting and parting: invites as QR codes and links, scanning, introductions, revocation.

use std::path::Path;
use std::time::Duration;

use postern_core::{Clock, Postern, RevocationScope, SystemClock};

use crate::args::{CarrierCommand, Cli, QrCommand};
use crate::output::Output;
use crate::{open, passphrase, CliError};

fn valid_for(hours: u64) -> Result<Duration, CliError> {
    if hours == 0 || hours > 24 * 30 {
        return Err(CliError::Usage(
            "--valid-for must be between 1 and 720 hours".into(),
        ));
    }
    Ok(Duration::from_secs(hours * 3600))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))
}

pub(crate) fn qr(cli: &Cli, cmd: &QrCommand, out: &Output) -> Result<(), CliError> {
    match cmd {
        QrCommand::Show {
            identity,
            png,
            svg,
            valid_for: hours,
        } => {
            let mut p = open(cli)?;
            let invite = p.create_invite(identity, valid_for(*hours)?)?;
            match (png, svg) {
                (Some(path), _) => {
                    write(path, &Postern::qr_png(&invite.link, 8)?)?;
                    out.invite(&invite, Some(path), false);
                }
                (None, Some(path)) => {
                    write(path, Postern::qr_svg(&invite.link)?.as_bytes())?;
                    out.invite(&invite, Some(path), false);
                }
                (None, None) => out.invite(&invite, None, true),
            }
        }
        QrCommand::Scan { file, add } => {
            let bytes = std::fs::read(file)
                .map_err(|e| CliError::Io(format!("cannot read {}: {e}", file.display())))?;
            // Looking needs no store; adding does.
            let preview = Postern::scan_image_at(&bytes, SystemClock.now_unix())?;
            match add {
                Some(identity) if preview.kind == "invite" => {
                    let h = open(cli)?.accept_invite(identity, &preview.text)?;
                    out.handshake(&h);
                }
                Some(identity) => {
                    let c = open(cli)?.add_contact(identity, &preview.text)?;
                    out.contact(&c, "Added contact");
                }
                None => out.preview(&preview),
            }
        }
    }
    Ok(())
}

pub(crate) fn link(cli: &Cli, identity: &str, hours: u64, out: &Output) -> Result<(), CliError> {
    let mut p = open(cli)?;
    let invite = p.create_invite(identity, valid_for(hours)?)?;
    out.invite(&invite, None, false);
    Ok(())
}

pub(crate) fn introduce(
    cli: &Cli,
    identity: &str,
    contact: &str,
    to: &str,
    both: bool,
    out: &Output,
) -> Result<(), CliError> {
    let mut p = open(cli)?;
    let queued = p.introduce(identity, contact, to, both)?;
    out.introductions(&queued);
    Ok(())
}

pub(crate) fn revoke(
    cli: &Cli,
    identity: &str,
    address: bool,
    reason: &str,
    yes: bool,
    out: &Output,
) -> Result<(), CliError> {
    let mut p = open(cli)?;
    let me = p.identity(identity)?;
    let scope = if address {
        RevocationScope::Address
    } else {
        RevocationScope::Key
    };
    let question = match scope {
        RevocationScope::Address => format!(
            "Revoke the address {} for good? It will never send or receive again.",
            me.address
        ),
        RevocationScope::Key => format!(
            "Revoke the OpenPGP key of {} and replace it with a new one?",
            me.address
        ),
    };
    if !yes && !passphrase::confirm(&question)? {
        return Err(CliError::Usage(
            "nothing revoked (pass --yes to revoke without asking)".into(),
        ));
    }
    let r = p.revoke(&me.id.to_string(), scope, reason)?;
    out.revocation(&r);
    Ok(())
}

pub(crate) fn carrier(cli: &Cli, cmd: &CarrierCommand, out: &Output) -> Result<(), CliError> {
    let mut p = open(cli)?;
    let view = match cmd {
        CarrierCommand::On { identity } => p.set_carrier_mode(identity, true)?,
        CarrierCommand::Off { identity } => p.set_carrier_mode(identity, false)?,
        CarrierCommand::Status { identity } => p.carrier_mode(identity)?,
        CarrierCommand::Policy {
            identity,
            allow,
            disallow,
            quota_mb,
            max_hold_hours,
        } => {
            if quota_mb.is_some_and(|q| !(1..=1_000_000).contains(&q))
                || max_hold_hours.is_some_and(|h| !(1..=24 * 365).contains(&h))
            {
                return Err(CliError::Usage(
                    "--quota-mb must be 1..1000000 and --max-hold-hours 1..8760".into(),
                ));
            }
            p.set_carrier_policy(
                identity,
                allow,
                disallow,
                quota_mb.map(|q| q * 1024 * 1024),
                max_hold_hours.map(|h| h * 3600),
            )?
        }
    };
    out.carrier_mode(&view);
    Ok(())
}

pub(crate) fn carriers(
    cli: &Cli,
    identity: &str,
    add: Option<&str>,
    remove: Option<&str>,
    target: f64,
    out: &Output,
) -> Result<(), CliError> {
    if !(target > 0.0 && target < 1.0) {
        return Err(CliError::Usage("--target must be between 0 and 1".into()));
    }
    let mut p = open(cli)?;
    if let Some(c) = add {
        let q = p.designate_carrier(identity, c, true)?;
        say_err!("Designated {c}; queued a note to {} contact(s).", q.len());
    }
    if let Some(c) = remove {
        let q = p.designate_carrier(identity, c, false)?;
        say_err!(
            "Stopped using {c}; queued a note to {} contact(s).",
            q.len()
        );
    }
    out.carriers(&p.carriers(identity, target)?);
    Ok(())
}
