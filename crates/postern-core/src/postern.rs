//! The handle a front end holds: an unlocked store and the services around it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postern_crypto::KdfParams;
use postern_store::{Store, DB_FILE_NAME};

use crate::views::StatusView;
use crate::{Clock, CoreError, SystemClock};

/// The passphrase key-derivation cost used for new stores.
pub const DEFAULT_KDF: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 1,
};

/// An unlocked Postern data directory.
#[derive(Debug)]
pub struct Postern {
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    data_dir: PathBuf,
}

impl Postern {
    /// Create a new store in `data_dir`, protected by `passphrase`.
    pub fn init(data_dir: &Path, passphrase: &[u8]) -> Result<Self, CoreError> {
        Self::init_with(data_dir, passphrase, DEFAULT_KDF, Arc::new(SystemClock))
    }

    /// `init` with explicit KDF cost and clock.
    pub fn init_with(
        data_dir: &Path,
        passphrase: &[u8],
        kdf: KdfParams,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CoreError> {
        if passphrase.is_empty() {
            return Err(CoreError::EmptyPassphrase);
        }
        let store = Store::create(&data_dir.join(DB_FILE_NAME), passphrase, kdf)?;
        Ok(Postern {
            store,
            clock,
            data_dir: data_dir.to_owned(),
        })
    }

    /// Unlock an existing store in `data_dir`.
    pub fn open(data_dir: &Path, passphrase: &[u8]) -> Result<Self, CoreError> {
        Self::open_with(data_dir, passphrase, Arc::new(SystemClock))
    }

    /// `open` with an explicit clock.
    pub fn open_with(
        data_dir: &Path,
        passphrase: &[u8],
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CoreError> {
        let store = Store::open(&data_dir.join(DB_FILE_NAME), passphrase)?;
        let mut p = Postern {
            store,
            clock,
            data_dir: data_dir.to_owned(),
        };
        // Mail stored before search existed becomes searchable.
        p.index_missing()?;
        Ok(p)
    }

    /// Whether a store exists in `data_dir` (without unlocking it).
    pub fn exists(data_dir: &Path) -> bool {
        data_dir.join(DB_FILE_NAME).is_file()
    }

    /// Change the passphrase (`old` must be the current one). Quick whatever the store holds:
    /// only the small key file beside the database is rewritten, atomically.
    pub fn change_passphrase(&mut self, old: &[u8], new: &[u8]) -> Result<(), CoreError> {
        if new.is_empty() {
            return Err(CoreError::EmptyPassphrase);
        }
        Ok(self.store.change_passphrase(old, new, DEFAULT_KDF)?)
    }

    /// The unlocked store, for tests that inspect or tamper with rows directly.
    #[doc(hidden)]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Another handle on the same store (its own database connection), for a thread of its
    /// own.
    pub fn another_handle(&self) -> Result<Postern, CoreError> {
        Ok(Postern {
            store: self.store.another_connection()?,
            clock: self.clock.clone(),
            data_dir: self.data_dir.clone(),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A summary of the device.
    pub fn status(&self) -> Result<StatusView, CoreError> {
        let identities = self.store.identities()?;
        let mut contacts = 0;
        for i in &identities {
            contacts += self.store.contacts(i.id)?.len();
        }
        Ok(StatusView {
            data_dir: self.data_dir.display().to_string(),
            schema_version: self.store.schema_version()?,
            identities: identities.len(),
            contacts,
        })
    }
}
