//! This device's id and the service leases it knows, in `store_meta`. The device id is never
//! copied: a backup leaves it out, so every data directory makes its own. Leases are copied:
//! a device restored from a backup knows which device served each identity.

use rusqlite::{params, OptionalExtension};

use crate::{Store, StoreError};

/// The `store_meta` key of this device's id.
pub(crate) const DEVICE_ID_KEY: &str = "device/id";

fn lease_key(onion: &str) -> String {
    format!("lease/{onion}")
}

impl Store {
    /// This device's id: 16 random bytes, made by `generate` the first time it is asked for.
    pub fn device_id(&self, generate: impl FnOnce() -> [u8; 16]) -> Result<[u8; 16], StoreError> {
        let get = |s: &Store| -> Result<Option<Vec<u8>>, StoreError> {
            Ok(s.conn
                .query_row(
                    "SELECT value FROM store_meta WHERE key = ?1",
                    [DEVICE_ID_KEY],
                    |r| r.get(0),
                )
                .optional()?)
        };
        if let Some(id) = get(self)?.and_then(|v| <[u8; 16]>::try_from(v).ok()) {
            return Ok(id);
        }
        // Two connections may ask at once: the first id written is the one kept.
        self.conn.execute(
            "INSERT INTO store_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value
             WHERE length(store_meta.value) != 16",
            params![DEVICE_ID_KEY, generate().to_vec()],
        )?;
        get(self)?
            .and_then(|v| <[u8; 16]>::try_from(v).ok())
            .ok_or_else(|| crate::open::corrupt(self.path(), "the device id is not 16 bytes"))
    }

    /// The lease last known for the identity at `onion` (its text form), if any.
    pub fn service_lease(&self, onion: &str) -> Result<Option<String>, StoreError> {
        let v: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT value FROM store_meta WHERE key = ?1",
                [lease_key(onion)],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.and_then(|v| String::from_utf8(v).ok()))
    }

    /// Keep `lease` (its text form) as the one known for the identity at `onion`.
    pub fn set_service_lease(&self, onion: &str, lease: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO store_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![lease_key(onion), lease.as_bytes()],
        )?;
        Ok(())
    }
}
