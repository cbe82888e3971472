//! What changed, for whoever shows the store: new mail, delivery states, contacts, carrying.
//! The store's change log is the source (written in the transaction that made the change), so
//! a follower that reads from the last event it saw misses nothing and needs no polling of
//! lists; the running app is woken when something is written.

use serde::Serialize;

use crate::{CoreError, Postern};

/// One change, as a front end shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventView {
    /// Increasing number: follow from the last one seen.
    pub id: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// The identity it concerns (`local@onion`), if one.
    pub identity: Option<String>,
    /// `message`, `delivery`, `contact`, `carrier`.
    pub kind: String,
    /// The row it is about: a message, an outbox entry, a contact, a held message.
    pub reference: Option<i64>,
    /// A word more: the folder, the delivery state, how a contact was verified.
    pub detail: String,
}

/// Most events returned at once.
pub const MAX_EVENTS: usize = 1000;

impl Postern {
    /// Changes after event `last` (0: from the oldest kept), oldest first.
    pub fn events_after(&self, last: i64, limit: usize) -> Result<Vec<EventView>, CoreError> {
        let ids = self.store.identities()?;
        Ok(self
            .store
            .events_after(last, limit.min(MAX_EVENTS))?
            .into_iter()
            .map(|e| EventView {
                id: e.id,
                at: e.at,
                identity: e.identity_id.and_then(|i| {
                    ids.iter()
                        .find(|r| r.id == i)
                        .map(|r| format!("{}@{}", r.local_part, r.onion))
                }),
                kind: e.kind,
                reference: e.reference,
                detail: e.detail,
            })
            .collect())
    }

    /// The newest event's number (0 if none): where a follower starts.
    pub fn last_event(&self) -> Result<i64, CoreError> {
        Ok(self.store.last_event()?)
    }
}
