//! The SMTP sessions a node serves at once, in two tiers:
//!
//! - **connections**: every session, up to `connections_per_node` (default 512). A session
//!   costs little before it begins a mail transaction; when all places are taken, a new stream
//!   closes the *oldest* session that has not begun one — idle streams can only keep each other
//!   out, never a correspondent, who sends `MAIL` at once.
//! - **transactions**: a session that had a sender accepted (`MAIL`) holds a transaction place,
//!   up to `transactions_per_node` (64) and per identity (32). When none is free, the session
//!   is told `421` and closed; a transaction that made no progress (sender, recipient, message)
//!   for 30 seconds is closed to make room.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// A transaction without progress this long gives its place up to a newcomer.
const STALE: Duration = Duration::from_secs(30);

/// The node's sessions.
#[derive(Debug)]
pub(crate) struct SessionTable {
    connections: usize,
    transactions: usize,
    transactions_per_identity: usize,
    next: AtomicU64,
    open: Mutex<Vec<Entry>>,
    /// Signalled whenever a session ends.
    freed: Notify,
    /// The node is stopping (see `close`): nothing more is admitted.
    closing: std::sync::atomic::AtomicBool,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    identity: i64,
    admitted: Instant,
    /// In a mail transaction since its sender was accepted: when it last made progress.
    transaction: Option<Instant>,
    evict: Arc<Notify>,
}

/// A session's place; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Ticket {
    table: Arc<SessionTable>,
    id: u64,
    /// Notified when the session is asked to close to make room.
    pub(crate) evict: Arc<Notify>,
}

impl SessionTable {
    pub(crate) fn new(
        connections: usize,
        transactions: usize,
        transactions_per_identity: usize,
    ) -> Arc<Self> {
        Arc::new(SessionTable {
            connections: connections.max(1),
            transactions: transactions.max(1),
            transactions_per_identity: transactions_per_identity.max(1),
            next: AtomicU64::new(1),
            open: Mutex::new(Vec::new()),
            freed: Notify::new(),
            closing: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for a new session of `identity`: at once if there is room; else the oldest
    /// session without a transaction is asked to close, and we wait a moment for its place.
    pub(crate) async fn admit(self: &Arc<Self>, identity: i64) -> Option<Ticket> {
        for _ in 0..3 {
            if self.is_closing() {
                return None;
            }
            // Listen for a place coming free before asking anyone to give theirs up.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let victim = match self.try_admit(identity) {
                Ok(ticket) => return Some(ticket),
                Err(victim) => victim?,
            };
            victim.notify_one();
            let _ = tokio::time::timeout(Duration::from_millis(500), freed).await;
        }
        None
    }

    /// Whether the node is stopping: a session asked to close then says so.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// The node is stopping (the device is going to sleep): admit nobody more, close every
    /// session that is not in a mail transaction now, give those in one until `grace` to
    /// finish (a message being sent is accepted and stored rather than cut off), then close
    /// them too. Returns once every session has ended, or a moment after `grace`.
    pub(crate) async fn close(&self, grace: Duration) {
        self.closing.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + grace;
        let mut last_call = false;
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let open = self.lock();
                if open.is_empty() {
                    return;
                }
                let now = Instant::now();
                for e in open.iter() {
                    if e.transaction.is_none() || now >= deadline {
                        e.evict.notify_one();
                    }
                }
            }
            if last_call {
                // Every session was asked to close; one that does not answer within a second
                // (a peer not reading) is left to its own timeouts.
                let _ = tokio::time::timeout(Duration::from_secs(1), freed).await;
                if self.lock().is_empty() || Instant::now() >= deadline + Duration::from_secs(1) {
                    return;
                }
                continue;
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                last_call = true;
            }
        }
    }

    fn try_admit(self: &Arc<Self>, identity: i64) -> Result<Ticket, Option<Arc<Notify>>> {
        let mut open = self.lock();
        if open.len() < self.connections {
            let id = self.next.fetch_add(1, Ordering::Relaxed);
            let evict = Arc::new(Notify::new());
            open.push(Entry {
                id,
                identity,
                admitted: Instant::now(),
                transaction: None,
                evict: evict.clone(),
            });
            return Ok(Ticket {
                table: self.clone(),
                id,
                evict,
            });
        }
        Err(open
            .iter()
            .filter(|e| e.transaction.is_none())
            .min_by_key(|e| e.admitted)
            .map(|e| e.evict.clone()))
    }
}

impl Ticket {
    /// The session's sender was accepted: take a transaction place, if there is one (or one
    /// whose holder made no progress for a while, which is then asked to close). `false`: the
    /// session must close.
    pub(crate) fn begin_transaction(&self) -> bool {
        let t = &self.table;
        // The node is stopping: no new message is begun (one begun already may finish).
        if t.is_closing() {
            return false;
        }
        let mut open = t.lock();
        let Some(me) = open.iter().position(|e| e.id == self.id) else {
            return false;
        };
        if open[me].transaction.is_some() {
            open[me].transaction = Some(Instant::now());
            return true;
        }
        let identity = open[me].identity;
        let in_tx = |e: &&Entry| e.transaction.is_some();
        let all = open.iter().filter(in_tx).count();
        let mine = open
            .iter()
            .filter(in_tx)
            .filter(|e| e.identity == identity)
            .count();
        if all < t.transactions && mine < t.transactions_per_identity {
            open[me].transaction = Some(Instant::now());
            return true;
        }
        let identity_full = mine >= t.transactions_per_identity;
        let stale = Instant::now() - STALE;
        if let Some(victim) = open
            .iter()
            .filter(|e| e.transaction.is_some_and(|p| p < stale))
            .filter(|e| !identity_full || e.identity == identity)
            .min_by_key(|e| e.transaction)
        {
            victim.evict.notify_one();
        }
        false
    }

    /// Whether the session is asked to close because the node is stopping.
    pub(crate) fn closing(&self) -> bool {
        self.table.is_closing()
    }

    /// The session's message was answered: its transaction place is free again (the next
    /// `MAIL` takes one anew).
    pub(crate) fn end_transaction(&self) {
        if let Some(e) = self.table.lock().iter_mut().find(|e| e.id == self.id) {
            e.transaction = None;
        }
        self.table.freed.notify_waiters();
    }

    /// The session made progress in its transaction.
    pub(crate) fn progress(&self) {
        if let Some(e) = self.table.lock().iter_mut().find(|e| e.id == self.id) {
            if e.transaction.is_some() {
                e.transaction = Some(Instant::now());
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.table.lock().retain(|e| e.id != self.id);
        self.table.freed.notify_waiters();
    }
}
