//! A second device by QR: the device that has the identities shows a one-time link (an onion
//! service of its own, made for this transfer, and a secret); the new device scans it, connects
//! over Tor, proves it holds the secret, and pulls a backup sealed under a key derived from the
//! same secret. Nothing transits any server; the link is useless once used, after five wrong
//! proofs, or when the offering device stops.
//!
//! ```text
//! new device  → "PSTRNDEV1" | SHA-256("postern-device-client-v1\0" | secret)
//! offering    → "OK" | length u64 BE | the backup (length bytes)      (or "NO", and closes)
//! new device  → "OK"                                                   (all bytes received)
//! ```
//!
//! The offering device is authenticated by its onion address (in the link) and by the backup's
//! sealed header, which opens only under the secret.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use postern_crypto::{IdentityKeys, KdfParams};
use postern_store::{BackupSummary, DB_FILE_NAME};
use postern_transport::{ServiceOptions, Stream, Transport};
use postern_types::{LocalPart, OnionAddress};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zeroize::Zeroizing;

use crate::{CoreError, Postern};

/// The onion service's virtual port for a transfer.
pub const DEVICE_PORT: u16 = 4466;
const LINK_PREFIX: &str = "POSTERN-DEVICE:";
const HELLO: &[u8; 9] = b"PSTRNDEV1";
/// Wrong proofs an offer takes before it stops.
const MAX_ATTEMPTS: usize = 5;
/// The secret already carries 256 bits: the backup's key derivation needs no cost of its own.
const TRANSFER_KDF: KdfParams = KdfParams {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

/// What the new device scans: where the offering device listens, and the one-time secret.
pub struct DeviceLink {
    onion: OnionAddress,
    secret: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for DeviceLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceLink")
            .field("onion", &self.onion.redacted())
            .finish_non_exhaustive()
    }
}

impl DeviceLink {
    fn new(onion: OnionAddress) -> Self {
        let mut secret = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(secret.as_mut());
        DeviceLink { onion, secret }
    }

    /// `POSTERN-DEVICE:<onion label>:<secret, base32>`: a QR code's text, or pasted.
    pub fn text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{LINK_PREFIX}{}:{}",
            self.onion.label(),
            data_encoding::BASE32_NOPAD
                .encode(&self.secret[..])
                .to_ascii_lowercase()
        ))
    }

    /// Read a link (surrounding space ignored; the prefix in any case).
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let t = text.trim();
        let bad = |why: &str| CoreError::BadDeviceLink(why.into());
        if t.len() > 200 {
            return Err(bad("too long"));
        }
        let rest = t
            .get(..LINK_PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(LINK_PREFIX))
            .map(|_| &t[LINK_PREFIX.len()..])
            .ok_or_else(|| bad("it does not start with POSTERN-DEVICE:"))?;
        let (onion, secret) = rest
            .split_once(':')
            .ok_or_else(|| bad("no secret after the address"))?;
        let onion: OnionAddress = onion
            .to_ascii_lowercase()
            .parse()
            .map_err(|_| bad("the address is not an onion address"))?;
        let raw = data_encoding::BASE32_NOPAD
            .decode(secret.to_ascii_uppercase().as_bytes())
            .map_err(|_| bad("the secret is not base32"))?;
        let secret: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| bad("the secret has the wrong length"))?;
        Ok(DeviceLink {
            onion,
            secret: Zeroizing::new(secret),
        })
    }

    fn proof(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"postern-device-client-v1\0");
        h.update(&self.secret[..]);
        h.finalize().into()
    }

    fn backup_passphrase(&self) -> Zeroizing<Vec<u8>> {
        let mut h = Sha256::new();
        h.update(b"postern-device-backup-v1\0");
        h.update(&self.secret[..]);
        Zeroizing::new(h.finalize().to_vec())
    }
}

fn broke(what: &str) -> CoreError {
    CoreError::DeviceTransfer(what.into())
}

/// A file removed when dropped.
struct TempFile(std::path::PathBuf);
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_name(dir: &Path, what: &str) -> TempFile {
    let mut r = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut r);
    let n: String = r.iter().map(|b| format!("{b:02x}")).collect();
    TempFile(dir.join(format!(".{what}-{n}.backup")))
}

/// An offer made and not yet taken: its one-time service's key, its link, and the backup it
/// will send (a file in the data directory, removed with the offer).
pub struct DeviceOfferReady {
    service: IdentityKeys,
    link: DeviceLink,
    file: TempFile,
    summary: BackupSummary,
}

impl std::fmt::Debug for DeviceOfferReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceOfferReady").finish_non_exhaustive()
    }
}

impl Postern {
    /// Prepare an offer of this device's identities (with their mail if `mail`) to a new
    /// device: the backup is made now, so the transfer starts as soon as the new device comes.
    pub fn prepare_device_offer(&self, mail: bool) -> Result<DeviceOfferReady, CoreError> {
        let service = IdentityKeys::generate(LocalPart::new("device")?, "")?;
        let link = DeviceLink::new(*service.address().onion());
        let file = temp_name(self.data_dir(), "device-offer");
        let summary = self.export_backup_with(
            &file.0,
            &link.backup_passphrase(),
            &[],
            mail,
            TRANSFER_KDF,
            &mut |_, _| {},
        )?;
        Ok(DeviceOfferReady {
            service,
            link,
            file,
            summary,
        })
    }

    /// `prepare_device_offer`, then `DeviceOfferReady::run`.
    pub async fn offer_device(
        &self,
        transport: Arc<dyn Transport>,
        mail: bool,
        valid_for: Duration,
        shown: &mut (dyn FnMut(&str) + Send),
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<BackupSummary, CoreError> {
        let ready = self.prepare_device_offer(mail)?;
        ready.run(transport, valid_for, shown, progress).await
    }

    /// A new device: pull the identities offered by `link` over `transport` into `data_dir`
    /// (which must hold no store yet), protected by `new_passphrase`. A fresh onion service
    /// takes a while to be reachable: connecting is retried for up to `patience`.
    pub async fn receive_device(
        data_dir: &Path,
        transport: Arc<dyn Transport>,
        link: &DeviceLink,
        new_passphrase: &[u8],
        patience: Duration,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<(Postern, BackupSummary), CoreError> {
        if Postern::exists(data_dir) {
            return Err(
                postern_store::StoreError::AlreadyExists(data_dir.join(DB_FILE_NAME)).into(),
            );
        }
        if new_passphrase.is_empty() {
            return Err(CoreError::EmptyPassphrase);
        }
        std::fs::create_dir_all(data_dir).map_err(|source| postern_store::StoreError::Io {
            path: data_dir.to_owned(),
            source,
        })?;
        transport.start().await?;
        let mut me = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut me);
        let from = OnionAddress::from_public_key(me);
        let deadline = tokio::time::Instant::now() + patience;
        let mut s = loop {
            match transport.connect(&from, &link.onion, DEVICE_PORT).await {
                Ok(s) => break s,
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(e.into()),
                Err(_) => tokio::time::sleep(Duration::from_secs(2)).await,
            }
        };
        let file = temp_name(data_dir, "device-receive");
        receive(&mut s, link, &file.0, progress).await?;
        let pass = link.backup_passphrase();
        let path = file.0.clone();
        Postern::import_backup(data_dir, &path, &pass, new_passphrase, &mut |_, _| {})
    }
}

impl DeviceOfferReady {
    /// Serve the one-time onion service on `transport`, call `shown` with the link to show as
    /// a QR code, and send the backup to the first device that proves it holds the secret.
    /// Returns what was sent, once the new device has received all of it.
    pub async fn run(
        self,
        transport: Arc<dyn Transport>,
        valid_for: Duration,
        shown: &mut (dyn FnMut(&str) + Send),
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<BackupSummary, CoreError> {
        transport.start().await?;
        let mut listener = transport
            .serve(&self.service, &ServiceOptions::for_ports(&[DEVICE_PORT]))
            .await?;
        let link = &self.link;
        shown(&link.text());
        let deadline = tokio::time::Instant::now() + valid_for;
        let mut attempts = 0;
        loop {
            let incoming = tokio::time::timeout_at(deadline, listener.accept())
                .await
                .map_err(|_| broke("nobody used the link in time; it is no longer valid"))?
                .ok_or_else(|| broke("the onion service stopped"))?;
            let mut s = incoming.stream;
            match tokio::time::timeout(Duration::from_secs(60), hello(&mut s, link)).await {
                Ok(Ok(true)) => {
                    send(&mut s, &self.file.0, progress).await?;
                    return Ok(self.summary.clone());
                }
                Ok(Ok(false)) => {
                    let _ = s.write_all(b"NO").await;
                    attempts += 1;
                    if attempts >= MAX_ATTEMPTS {
                        return Err(broke(
                            "too many wrong attempts; the link is no longer valid",
                        ));
                    }
                }
                _ => {}
            }
        }
    }

    /// The link (to show before the transfer starts, e.g. in an app).
    pub fn link(&self) -> Zeroizing<String> {
        self.link.text()
    }
}

/// The offering side: does the new device hold the secret?
async fn hello(s: &mut Stream, link: &DeviceLink) -> std::io::Result<bool> {
    let mut got = [0u8; 9 + 32];
    s.read_exact(&mut got).await?;
    let want = link.proof();
    // Compared in full, whatever differs first.
    let diff = got[9..]
        .iter()
        .zip(want.iter())
        .fold(u8::from(&got[..9] != HELLO), |d, (a, b)| d | (a ^ b));
    Ok(diff == 0)
}

async fn send(
    s: &mut Stream,
    file: &Path,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(), CoreError> {
    let io = |_| broke("the new device went away during the transfer");
    let mut f =
        tokio::fs::File::open(file)
            .await
            .map_err(|source| postern_store::StoreError::Io {
                path: file.to_owned(),
                source,
            })?;
    let total = f.metadata().await.map_err(io)?.len();
    s.write_all(b"OK").await.map_err(io)?;
    s.write_all(&total.to_be_bytes()).await.map_err(io)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = 0u64;
    while done < total {
        let n = f.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            return Err(broke("the backup file shrank"));
        }
        s.write_all(&buf[..n]).await.map_err(io)?;
        done += n as u64;
        progress(done, total);
    }
    s.flush().await.map_err(io)?;
    let mut ack = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(120), s.read_exact(&mut ack))
        .await
        .map_err(|_| broke("the new device did not confirm"))?
        .map_err(io)?;
    if &ack != b"OK" {
        return Err(broke("the new device did not confirm"));
    }
    Ok(())
}

async fn receive(
    s: &mut Stream,
    link: &DeviceLink,
    to: &Path,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(), CoreError> {
    let io = |_| broke("the other device went away during the transfer");
    s.write_all(HELLO).await.map_err(io)?;
    s.write_all(&link.proof()).await.map_err(io)?;
    s.flush().await.map_err(io)?;
    let mut answer = [0u8; 2];
    s.read_exact(&mut answer)
        .await
        .map_err(|_| broke("the other device closed the connection"))?;
    if &answer != b"OK" {
        return Err(broke(
            "the other device refused: the link was used already, or is not its current one",
        ));
    }
    let mut len = [0u8; 8];
    s.read_exact(&mut len).await.map_err(io)?;
    let total = u64::from_be_bytes(len);
    let mut f = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .await
        .map_err(|source| postern_store::StoreError::Io {
            path: to.to_owned(),
            source,
        })?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = 0u64;
    while done < total {
        let want = usize::try_from((total - done).min(buf.len() as u64)).unwrap_or(buf.len());
        let n = s.read(&mut buf[..want]).await.map_err(io)?;
        if n == 0 {
            return Err(broke("the transfer was cut short"));
        }
        f.write_all(&buf[..n])
            .await
            .map_err(|source| postern_store::StoreError::Io {
                path: to.to_owned(),
                source,
            })?;
        done += n as u64;
        progress(done, total);
    }
    f.sync_all()
        .await
        .map_err(|source| postern_store::StoreError::Io {
            path: to.to_owned(),
            source,
        })?;
    s.write_all(b"OK").await.map_err(io)?;
    s.flush().await.map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_reads_back_and_bad_ones_are_named() {
        let onion = OnionAddress::from_public_key([7; 32]);
        let link = DeviceLink::new(onion);
        let back = DeviceLink::parse(&format!("  {}\n", link.text().as_str())).expect("parse");
        assert_eq!(back.onion, onion);
        assert_eq!(back.secret[..], link.secret[..]);
        assert_eq!(back.proof(), link.proof());
        let upper = link.text().to_ascii_uppercase();
        assert_eq!(
            DeviceLink::parse(&upper).expect("any case").proof(),
            link.proof()
        );
        for (bad, why) in [
            ("POSTERN:abc", "does not start"),
            ("POSTERN-DEVICE:nocolon", "no secret"),
            ("POSTERN-DEVICE:abc:aaaa", "not an onion"),
        ] {
            let e = DeviceLink::parse(bad).expect_err(bad).to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let short = format!("{LINK_PREFIX}{}:aaaa", onion.label());
        assert!(DeviceLink::parse(&short)
            .expect_err("short")
            .to_string()
            .contains("length"));
        assert!(DeviceLink::parse(&"x".repeat(300)).is_err());
    }
}
