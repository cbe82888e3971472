//! Backups as a person uses them: a file written atomically (never a half one under the
//! chosen name), identities named as elsewhere, and a restore into an empty data directory.

use std::io::{BufReader, BufWriter};
use std::path::Path;

use postern_crypto::KdfParams;
use postern_store::{BackupChoice, BackupProgress, BackupSummary, DB_FILE_NAME};

use crate::postern::DEFAULT_KDF;
use crate::{CoreError, Postern};

impl Postern {
    /// Write a backup to `file` (which must not exist yet), sealed under `passphrase`: the
    /// identities named (all of them if none), with their mail if `mail`.
    pub fn export_backup(
        &self,
        file: &Path,
        passphrase: &[u8],
        identities: &[String],
        mail: bool,
        progress: BackupProgress<'_>,
    ) -> Result<BackupSummary, CoreError> {
        self.export_backup_with(file, passphrase, identities, mail, DEFAULT_KDF, progress)
    }

    /// `export_backup` with the key derivation's cost given (a transfer's secret needs none).
    pub(crate) fn export_backup_with(
        &self,
        file: &Path,
        passphrase: &[u8],
        identities: &[String],
        mail: bool,
        kdf: KdfParams,
        progress: BackupProgress<'_>,
    ) -> Result<BackupSummary, CoreError> {
        if passphrase.is_empty() {
            return Err(CoreError::EmptyPassphrase);
        }
        // The copy must know that this device serves its identities (`leases`).
        self.lease_before_copy(crate::config::DeviceLeases::default().lease)?;
        let chosen = if identities.is_empty() {
            None
        } else {
            Some(
                identities
                    .iter()
                    .map(|s| self.find_identity(s).map(|r| r.id))
                    .collect::<Result<Vec<_>, _>>()?,
            )
        };
        let io = |source| {
            CoreError::Store(postern_store::StoreError::Io {
                path: file.to_owned(),
                source,
            })
        };
        // Written beside under another name and renamed when whole: a crash or a full disk
        // never leaves something that looks like a backup.
        let partial = file.with_extension("partial");
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => {
                    CoreError::Store(postern_store::StoreError::AlreadyExists(partial.clone()))
                }
                _ => io(e),
            })?;
        if file.exists() {
            let _ = std::fs::remove_file(&partial);
            return Err(postern_store::StoreError::AlreadyExists(file.to_owned()).into());
        }
        let written = (|| {
            let choice = BackupChoice {
                identities: chosen,
                mail,
            };
            let mut w = BufWriter::new(&out);
            let summary = self.store.export_backup(
                &mut w,
                passphrase,
                kdf,
                &choice,
                self.clock.now_unix(),
                progress,
            )?;
            drop(w);
            out.sync_all().map_err(io)?;
            std::fs::rename(&partial, file).map_err(io)?;
            Ok::<_, CoreError>(summary)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written
    }

    /// Restore the backup in `file` into `data_dir`, which must hold no store yet, protected
    /// by `new_passphrase` (this device's). Nothing is put in place unless the whole backup
    /// reads and checks.
    pub fn import_backup(
        data_dir: &Path,
        file: &Path,
        passphrase: &[u8],
        new_passphrase: &[u8],
        progress: BackupProgress<'_>,
    ) -> Result<(Postern, BackupSummary), CoreError> {
        if new_passphrase.is_empty() {
            return Err(CoreError::EmptyPassphrase);
        }
        let f = std::fs::File::open(file)
            .map_err(|source| CoreError::Backup(postern_store::BackupError::Read { source }))?;
        let (store, summary) = postern_store::import_backup(
            &data_dir.join(DB_FILE_NAME),
            BufReader::with_capacity(128 * 1024, f),
            passphrase,
            new_passphrase,
            DEFAULT_KDF,
            progress,
        )?;
        drop(store);
        Ok((Postern::open(data_dir, new_passphrase)?, summary))
    }
}
