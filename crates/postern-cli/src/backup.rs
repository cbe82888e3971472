//! `postern backup export|import`.

use postern_core::{BackupSummary, Postern};

use crate::args::{BackupCommand, Cli};
use crate::output::{print_json, progress, Output};
use crate::{open, passphrase, CliError};

fn show(out: &Output, s: &BackupSummary, headline: &str) {
    if out.json() {
        return print_json(&serde_json::json!({
            "format": s.format,
            "schema": s.schema,
            "created_at": s.created_at,
            "mail": s.mail,
            "messages": s.messages,
            "attachments": s.blobs,
            "bytes": s.bytes,
            "identities": s.identities,
            "missing_attachments": s.missing,
        }));
    }
    say!("{headline}");
    say!("Identities:  {}", s.identities.len());
    for i in &s.identities {
        say!("  {i}");
    }
    if s.mail {
        say!("Messages:    {} (attachments: {})", s.messages, s.blobs);
    } else {
        say!("Messages:    not included");
    }
    if !s.missing.is_empty() {
        say!(
            "Note: {} attachment(s) were already missing from the store and are not in the backup.",
            s.missing.len()
        );
    }
}

pub(crate) fn run(cli: &Cli, cmd: &BackupCommand, out: &Output) -> Result<(), CliError> {
    match cmd {
        BackupCommand::Export {
            file,
            identity,
            without_mail,
        } => {
            let p = open(cli)?;
            let pass = passphrase::new_backup()?;
            let mut step = progress("Writing the backup");
            let s = p.export_backup(file, pass.as_bytes(), identity, !without_mail, &mut step)?;
            show(out, &s, &format!("Backup written to {}.", file.display()));
        }
        BackupCommand::Import { file } => {
            let dir = cli.data_dir()?;
            if Postern::exists(&dir) {
                return Err(CliError::Core(postern_core::CoreError::Store(
                    postern_core::StoreError::AlreadyExists(dir),
                )));
            }
            let pass = passphrase::backup()?;
            if std::env::var_os(passphrase::ENV).is_none() {
                eprintln!("Now a passphrase for this device's store.");
            }
            let new = passphrase::new()?;
            let mut step = progress("Restoring");
            let (_, s) =
                Postern::import_backup(&dir, file, pass.as_bytes(), new.as_bytes(), &mut step)?;
            show(out, &s, &format!("Restored into {}.", dir.display()));
            if !out.json() {
                say!("This device stands by for identities another of your devices serves; `postern device take-over` moves their service here.");
            }
        }
    }
    Ok(())
}
