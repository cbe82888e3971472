//! Messages as served, kept for the next fetch: a client asks for the same message several
//! times (size, headers, then the body), and a sync asks for the whole mailbox again. Shared
//! by the node's IMAP connections; bounded in bytes, oldest out first. Decrypted mail held
//! here is what an unlocked store serves anyway; it is gone when the node stops.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// (identity, message, mailbox, UID). A message whose content changes gets a new UID, and a
/// mailbox never gives a UID twice, so a key never names two contents.
pub(crate) type ServedKey = (i64, i64, &'static str, u32);

/// Bytes kept at most, of whole messages.
pub(crate) const MESSAGES_BUDGET: usize = 32 << 20;
/// Bytes kept at most, of headers (what a client listing a mailbox asks for: 10,000 messages'
/// headers fit).
pub(crate) const HEADERS_BUDGET: usize = 16 << 20;

#[derive(Default)]
struct Kept {
    /// Bytes, and the whole message's size.
    map: HashMap<ServedKey, (Arc<Vec<u8>>, u32)>,
    order: VecDeque<ServedKey>,
    bytes: usize,
}

/// See the module documentation. Whole messages and headers are kept apart (a header with
/// the whole message's size).
pub(crate) struct ServedCache {
    kept: Mutex<Kept>,
    budget: usize,
}

impl ServedCache {
    pub(crate) fn new(budget: usize) -> Self {
        ServedCache {
            kept: Mutex::default(),
            budget,
        }
    }

    pub(crate) fn get(&self, key: &ServedKey) -> Option<(Arc<Vec<u8>>, u32)> {
        self.kept.lock().ok()?.map.get(key).cloned()
    }

    pub(crate) fn put(&self, key: ServedKey, bytes: Arc<Vec<u8>>, size: u32) {
        // One large message would push out many small ones; it is rebuilt when asked again.
        if bytes.len() > self.budget / 16 {
            return;
        }
        let Ok(mut k) = self.kept.lock() else { return };
        k.bytes += bytes.len();
        if let Some(old) = k.map.insert(key, (bytes, size)) {
            k.bytes -= old.0.len();
        } else {
            k.order.push_back(key);
        }
        while k.bytes > self.budget {
            let Some(oldest) = k.order.pop_front() else {
                break;
            };
            if let Some(gone) = k.map.remove(&oldest) {
                k.bytes -= gone.0.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_within_its_budget_oldest_out_first() {
        const BUDGET: usize = 1 << 20;
        let c = ServedCache::new(BUDGET);
        let size = BUDGET / 20;
        for i in 0..30u32 {
            c.put((1, i64::from(i), "inbox", i), Arc::new(vec![0u8; size]), 7);
        }
        let k = c.kept.lock().expect("lock");
        assert!(k.bytes <= BUDGET, "{} bytes kept", k.bytes);
        assert_eq!(k.bytes, k.map.len() * size);
        drop(k);
        assert!(
            c.get(&(1, 0, "inbox", 0)).is_none(),
            "the oldest went first"
        );
        assert_eq!(
            c.get(&(1, 29, "inbox", 29)).map(|v| v.1),
            Some(7),
            "the newest stays"
        );
        c.put((1, 99, "inbox", 99), Arc::new(vec![0u8; BUDGET / 8]), 0);
        assert!(c.get(&(1, 99, "inbox", 99)).is_none(), "too large to keep");
    }
}
