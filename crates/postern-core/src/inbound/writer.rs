//! The mail writer: one thread owning a store connection, committing received messages in
//! groups. A message and everything it does (the contact a handshake adds, an introduction, a
//! key replacement, a carrier list, a contact request's quota) are written in the same
//! transaction, and only if the message is new: a replayed message changes nothing. Every
//! message in a group is acknowledged only after the group's commit (fsync'd, WAL with
//! `synchronous=FULL`), so nothing acknowledged can be lost, and concurrent deliveries share one
//! fsync.

use std::sync::mpsc;

use postern_smtp::Reply;
use postern_store::{Inserted, NewMessage, Store, StoreError};
use tokio::sync::oneshot;

/// Most messages committed together.
const MAX_GROUP: usize = 64;

/// What a message does besides being stored, run inside its transaction just before it is
/// inserted. Returns the folder to store it in, if that changes; a refusal undoes everything
/// the message did.
pub(super) type Effects = Box<dyn FnOnce(&mut Store) -> Result<Option<&'static str>, Reply> + Send>;

/// What is filed with a new message once it has its row: its attachments (stored once by
/// content) and its search index entry.
pub(super) type Filing = Box<dyn FnOnce(&mut Store, i64) -> Result<(), StoreError> + Send>;

/// How storing one message ended.
#[derive(Debug)]
pub(super) enum Stored {
    /// Stored, and its effects applied.
    New,
    /// Already stored before (same sender and Message-ID): nothing applied again.
    Duplicate,
    /// Its effects refused it: nothing of it was written.
    Refused(Reply),
    /// The store could not commit it.
    Failed(String),
}

enum JobError {
    Refused(Reply),
    Store(StoreError),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Store(e)
    }
}

struct Job {
    message: NewMessage,
    effects: Effects,
    filing: Filing,
    done: oneshot::Sender<Stored>,
}

/// Handle to the writer thread. Cloning shares the thread.
#[derive(Clone, Debug)]
pub(crate) struct MailWriter {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// Store one message with its effects, inside the group's transaction.
fn store_one(
    s: &mut Store,
    message: &mut NewMessage,
    effects: Effects,
    filing: Filing,
) -> Result<Inserted, JobError> {
    if let Some(id) = s.stored_message(message.identity_id, &message.sender, &message.message_id)? {
        return Ok(Inserted::Duplicate(id));
    }
    if let Some(folder) = effects(s).map_err(JobError::Refused)? {
        folder.clone_into(&mut message.folder);
    }
    let inserted = s.insert_message(message)?;
    if let Inserted::New(id) = inserted {
        filing(s, id)?;
    }
    Ok(inserted)
}

/// Store a group of messages in one transaction and tell each sender how it went. Returns
/// whether anything was rolled back (which may have left attachment files behind).
fn commit_group(store: &mut Store, jobs: Vec<Job>) -> bool {
    let mut rolled_back = false;
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut waiting = Vec::with_capacity(jobs.len());
    let committed = store.in_transaction(|s| {
        for job in jobs {
            let Job {
                mut message,
                effects,
                filing,
                done,
            } = job;
            let r = s.in_savepoint(|s| store_one(s, &mut message, effects, filing));
            outcomes.push(match r {
                Ok(Inserted::New(_)) => Stored::New,
                Ok(Inserted::Duplicate(_)) => Stored::Duplicate,
                Err(JobError::Refused(reply)) => Stored::Refused(reply),
                Err(JobError::Store(e)) => {
                    rolled_back = true;
                    Stored::Failed(e.to_string())
                }
            });
            waiting.push(done);
        }
        Ok::<_, StoreError>(())
    });
    match committed {
        Ok(()) => {
            for (done, outcome) in waiting.into_iter().zip(outcomes) {
                let _ = done.send(outcome);
            }
            rolled_back
        }
        Err(e) => {
            let why = e.to_string();
            for done in waiting {
                let _ = done.send(Stored::Failed(why.clone()));
            }
            true
        }
    }
}

impl MailWriter {
    /// Start the writer thread on its own connection.
    pub(crate) fn start(mut store: Store) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("postern-mail-writer".into())
            .spawn(move || {
                // Files a crash left between writing an attachment and committing its row.
                if let Err(e) = store.collect_garbage_and_orphans() {
                    tracing::warn!("attachment files: {e}");
                }
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    // Evicted requests may have released attachments; a message refused
                    // after its attachments were written leaves their files.
                    let gc = if commit_group(&mut store, jobs) {
                        store.collect_garbage_and_orphans()
                    } else {
                        store.collect_garbage()
                    };
                    if let Err(e) = gc {
                        tracing::warn!("attachment files: {e}");
                    }
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start the mail writer: {e}"));
        MailWriter { tx }
    }

    /// Store a message with its effects; resolves once it is durable (or refused).
    pub(super) async fn store(
        &self,
        message: NewMessage,
        effects: Effects,
        filing: Filing,
    ) -> Stored {
        let (done, wait) = oneshot::channel();
        if self
            .tx
            .send(Job {
                message,
                effects,
                filing,
                done,
            })
            .is_err()
        {
            return Stored::Failed("the mail writer has stopped".into());
        }
        wait.await
            .unwrap_or_else(|_| Stored::Failed("the mail writer has stopped".into()))
    }
}
