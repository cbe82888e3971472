//! The mail writer: one thread owning a store connection, committing received messages in
//! groups. Every message in a group is acknowledged only after the group's commit (fsync'd, WAL
//! with `synchronous=FULL`), so nothing acknowledged can be lost, and concurrent deliveries share
//! one fsync.

use std::sync::mpsc;

use postern_store::{Inserted, NewMessage, Store, StoreError};
use tokio::sync::oneshot;

/// Most messages committed together.
const MAX_GROUP: usize = 64;

struct Job {
    message: NewMessage,
    done: oneshot::Sender<Result<Inserted, String>>,
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

impl MailWriter {
    /// Start the writer thread on its own connection.
    pub(crate) fn start(mut store: Store) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("postern-mail-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    let batch: Vec<NewMessage> = jobs.iter().map(|j| j.message.clone()).collect();
                    match store.insert_messages(&batch) {
                        Ok(results) => {
                            for (job, r) in jobs.into_iter().zip(results) {
                                let _ = job.done.send(Ok(r));
                            }
                        }
                        Err(e) => {
                            let msg = describe(&e);
                            for job in jobs {
                                let _ = job.done.send(Err(msg.clone()));
                            }
                        }
                    }
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start the mail writer: {e}"));
        MailWriter { tx }
    }

    /// Store a message; resolves once it is durable.
    pub(crate) async fn store(&self, message: NewMessage) -> Result<Inserted, String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { message, done })
            .map_err(|_| "the mail writer has stopped".to_owned())?;
        wait.await
            .map_err(|_| "the mail writer has stopped".to_owned())?
    }
}

fn describe(e: &StoreError) -> String {
    e.to_string()
}
