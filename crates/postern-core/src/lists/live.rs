//! The node's side of lists: the state machines of the lists its identities belong to, kept
//! live (their links and timers with them) and checked against the store before each use —
//! the CLI or the app may have changed a list meanwhile, and then it is rebuilt from the store.
//! List mail is taken here, each in one transaction with everything it causes.

use std::collections::HashMap;
use std::sync::Arc;

use postern_list::{Body, Frame, ListNode, Post, SigningKey};
use postern_store::{ListMail, ListRecord, Store};

use super::{config, corrupt, member_id, ms, persist, queue_frame, restore};
use super::{INVITED, JOINING, MEMBER};
use crate::context::NodeShared;
use crate::{CoreError, ListTimers};

/// Most invitations from one contact that wait to be accepted: a contact cannot fill the list
/// of lists.
const OPEN_INVITATIONS_PER_CONTACT: usize = 16;
/// How long list mail for a list still being joined may wait for the sponsor's welcome.
const WAIT_FOR_WELCOME_SECS: i64 = 7 * 24 * 3600;
/// How often waiting list mail is looked at without being woken.
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// What a kept list looked like in the store when its state machine was last in step with it.
type Version = (i64, i64, String);

fn version(store: &Store, row: i64) -> Result<Version, CoreError> {
    Ok(store.list_version(row)?)
}

#[derive(Default)]
pub(crate) struct Live {
    timers: ListTimers,
    nodes: HashMap<i64, (ListNode, Version)>,
}

impl Live {
    fn new(timers: ListTimers) -> Live {
        Live {
            timers,
            nodes: HashMap::new(),
        }
    }

    /// The list's state machine, rebuilt if the store changed under it.
    fn node(
        &mut self,
        store: &Store,
        rec: &ListRecord,
        now: i64,
    ) -> Result<&mut ListNode, CoreError> {
        let v = version(store, rec.id)?;
        let stale = self.nodes.get(&rec.id).is_none_or(|(_, seen)| *seen != v);
        if stale {
            let node = restore(store, rec, &self.timers, now)?;
            self.nodes.insert(rec.id, (node, v));
        }
        self.nodes
            .get_mut(&rec.id)
            .map(|(n, _)| n)
            .ok_or_else(|| corrupt("kept list"))
    }

    /// After `persist`: the state machine and the store agree again.
    fn settle(&mut self, store: &Store, row: i64) -> Result<(), CoreError> {
        let v = version(store, row)?;
        if let Some((_, seen)) = self.nodes.get_mut(&row) {
            *seen = v;
        }
        Ok(())
    }

    /// When a kept list next wants its timers run (ms).
    fn next_timeout(&self) -> Option<u64> {
        self.nodes.values().map(|(n, _)| n.poll_timeout()).min()
    }

    /// Runs the timers that are due, each list in one transaction.
    fn run_timers(&mut self, store: &mut Store, now: i64) -> Result<(), CoreError> {
        let due: Vec<i64> = self
            .nodes
            .iter()
            .filter(|(_, (n, _))| n.poll_timeout() <= ms(now))
            .map(|(row, _)| *row)
            .collect();
        for row in due {
            let r = store.in_transaction(|s| -> Result<(), CoreError> {
                let rec = s.list(row)?;
                let node = self.node(s, &rec, now)?;
                node.handle_timeout(ms(now));
                persist(s, &rec, node, now)?;
                self.settle(s, row)
            });
            if r.is_err() {
                self.nodes.remove(&row);
                r?;
            }
        }
        Ok(())
    }

    /// Every list asks every neighbour for what it missed while the node was down: the posts
    /// since a little before the newest it holds (`ListNode::sync_all`).
    fn sync_all(&mut self, store: &mut Store, now: i64) -> Result<(), CoreError> {
        for identity in store.identities()? {
            for rec in store.lists(identity.id)? {
                if rec.state != MEMBER {
                    continue;
                }
                let r = store.in_transaction(|s| -> Result<(), CoreError> {
                    let node = self.node(s, &rec, now)?;
                    node.sync_all(ms(now));
                    persist(s, &rec, node, now)?;
                    self.settle(s, rec.id)
                });
                if r.is_err() {
                    self.nodes.remove(&rec.id);
                    r?;
                }
            }
        }
        Ok(())
    }

    /// Takes the waiting list mail, each in its own transaction with its effects. Returns how
    /// many were taken.
    fn take_waiting(&mut self, store: &mut Store, now: i64) -> Result<usize, CoreError> {
        let mut taken = 0;
        // Mail left waiting (for a welcome) is passed over, not read again in this round.
        let mut after = 0;
        loop {
            let batch = store.list_mail(after, 256)?;
            let Some(last) = batch.last() else {
                return Ok(taken);
            };
            after = last.id;
            taken += self.take_batch(store, batch, now)?;
        }
    }

    fn take_batch(
        &mut self,
        store: &mut Store,
        batch: Vec<ListMail>,
        now: i64,
    ) -> Result<usize, CoreError> {
        let mut taken = 0;
        for mail in batch {
            let outcome = store.in_transaction(|s| -> Result<Taken, CoreError> {
                let outcome = match self.take(s, &mail, now) {
                    Ok(t) => t,
                    Err(CoreError::Store(e)) => return Err(CoreError::Store(e)),
                    Err(e) => {
                        tracing::info!("list mail refused: {e}");
                        Taken::Done
                    }
                };
                if outcome == Taken::Done || now - mail.received_at > WAIT_FOR_WELCOME_SECS {
                    s.drop_list_mail(mail.id)?;
                    // The message that carried it, kept in `system` until now, is not needed.
                    if let Some(id) =
                        s.stored_message(mail.identity_id, &mail.sender, &mail.message_id)?
                    {
                        s.delete_message(id)?;
                    }
                }
                Ok(outcome)
            });
            match outcome {
                Ok(Taken::Done) => taken += 1,
                Ok(Taken::Waiting) => {}
                Err(e) => {
                    // Rolled back: what the kept state machines did is not in the store.
                    self.nodes.clear();
                    return Err(e);
                }
            }
        }
        Ok(taken)
    }

    /// One list mail: what the frame asks, if the sender may ask it.
    fn take(&mut self, store: &mut Store, mail: &ListMail, now: i64) -> Result<Taken, CoreError> {
        let frame = Frame::decode(&mail.frame).map_err(|e| CoreError::List(e.to_string()))?;
        let list = frame.list();
        let existing = store.list_by_id(mail.identity_id, &list.0)?;
        match frame {
            Frame::Invite { charter, sponsor } => {
                if existing.is_some() {
                    return Ok(Taken::Done);
                }
                let Body::Charter { name, .. } = &charter.body else {
                    return Err(CoreError::List("an invitation without a charter".into()));
                };
                if !charter.verify() {
                    return Err(CoreError::List("a charter that does not verify".into()));
                }
                let open = store
                    .lists(mail.identity_id)?
                    .iter()
                    .filter(|l| l.state == INVITED && l.inviter == mail.sender)
                    .count();
                if open >= OPEN_INVITATIONS_PER_CONTACT {
                    return Err(CoreError::List(
                        "too many invitations from this contact wait already".into(),
                    ));
                }
                store.insert_list(
                    mail.identity_id,
                    &list.0,
                    name,
                    &charter.encode(),
                    INVITED,
                    &mail.sender,
                    Some(&sponsor.0),
                    now,
                )?;
            }
            Frame::Accept { member, .. } => {
                let rec =
                    existing.ok_or_else(|| CoreError::List("accept for an unknown list".into()))?;
                if rec.state != MEMBER || !store.take_list_invite(rec.id, &mail.sender)? {
                    return Err(CoreError::List("accept without an invitation".into()));
                }
                let node = self.node(store, &rec, now)?;
                let welcome = Frame::Welcome {
                    list,
                    sponsor: node.me(),
                    sponsorship: node.sponsor(&member),
                };
                queue_frame(store, rec.identity_id, &mail.sender, &welcome, now)?;
                store.add_list_link(rec.id, &member.0, &mail.sender)?;
                node.link(member, ms(now));
                persist(store, &rec, node, now)?;
                self.settle(store, rec.id)?;
            }
            Frame::Welcome {
                sponsor,
                sponsorship,
                ..
            } => {
                let rec =
                    existing.ok_or_else(|| CoreError::List("welcome to an unknown list".into()))?;
                if rec.state != JOINING
                    || rec.inviter != mail.sender
                    || rec.sponsor.as_deref() != Some(&sponsor.0[..])
                {
                    return Err(CoreError::List("an unexpected welcome".into()));
                }
                let key = store.list_key(rec.id)?;
                let key: [u8; 32] = key.as_slice().try_into().map_err(|_| corrupt("list key"))?;
                let charter = Post::decode(&rec.charter).map_err(|_| corrupt("charter"))?;
                let mut node = ListNode::join(
                    config(&self.timers),
                    SigningKey::from_bytes(&key),
                    charter,
                    sponsor,
                    sponsorship,
                    ms(now),
                )
                .map_err(|e| CoreError::List(e.to_string()))?;
                store.set_list_state(rec.id, MEMBER, None, None)?;
                store.add_list_link(rec.id, &sponsor.0, &mail.sender)?;
                node.link(sponsor, ms(now));
                let rec = store.list(rec.id)?;
                persist(store, &rec, &mut node, now)?;
                self.nodes.insert(rec.id, (node, version(store, rec.id)?));
            }
            Frame::Wire { wire, .. } => {
                let Some(rec) = existing else {
                    return Err(CoreError::List("list mail for an unknown list".into()));
                };
                if rec.state == JOINING {
                    return Ok(Taken::Waiting);
                }
                if rec.state != MEMBER {
                    return Ok(Taken::Done);
                }
                let links = store.list_links(rec.id)?;
                let Some(from) = links
                    .iter()
                    .find(|(_, a)| *a == mail.sender)
                    .and_then(|(m, _)| member_id(m))
                else {
                    return Err(CoreError::List("list mail from someone not linked".into()));
                };
                let node = self.node(store, &rec, now)?;
                node.handle(ms(now), from, wire);
                persist(store, &rec, node, now)?;
                self.settle(store, rec.id)?;
            }
        }
        Ok(Taken::Done)
    }
}

/// What became of one waiting list mail.
#[derive(Debug, PartialEq, Eq)]
enum Taken {
    Done,
    /// Kept for later: it is for a list whose welcome has not come yet.
    Waiting,
}

/// The node's list loop: on start, every list asks its neighbours for what it missed; then list
/// mail is taken as it arrives, and the lists' timers run when due.
pub(crate) async fn list_loop(shared: Arc<NodeShared>) {
    let mut live = Live::new(shared.config.lists);
    let now = shared.clock.now_unix();
    if let Err(e) = shared.with_store(|s| live.sync_all(s, now)) {
        tracing::warn!("list sync: {e}");
    }
    shared.wake.notify_one();
    loop {
        let now = shared.clock.now_unix();
        let taken = shared.with_store(|s| {
            let taken = live.take_waiting(s, now)?;
            live.run_timers(s, now)?;
            Ok::<_, CoreError>(taken)
        });
        match taken {
            Ok(_) => shared.wake.notify_one(),
            Err(e) => tracing::warn!("lists: {e}"),
        }
        let wait = live.next_timeout().map_or(LOOK_EVERY, |t| {
            std::time::Duration::from_millis(t.saturating_sub(ms(now)))
                .clamp(std::time::Duration::from_millis(200), LOOK_EVERY)
        });
        tokio::select! {
            _ = shared.list_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
