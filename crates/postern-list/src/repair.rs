//! Getting what was missed: announced posts that did not arrive (graft or fetch), chains with
//! gaps (want), blobs fetched once per link, and the timers (catching up is in `catch_up.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::node::{BlobWanted, DropReason, Event, ListNode, Missing, Mode, Standing};
use crate::post::{BlobHash, Body, MemberId, Post, PostId};
use crate::wire::{Announce, Route, Wire, MAX_ITEMS};

/// Grafts in a row for posts this member's way to the creator did not bring before it stops
/// counting on that way.
const PARENT_MISSES: u32 = 2;

impl ListNode {
    pub(crate) fn on_ihave(
        &mut self,
        now: u64,
        from: MemberId,
        announces: Vec<Announce>,
        sync: bool,
    ) {
        let mut fetch = Vec::new();
        for a in announces {
            if let Some(h) = self.held.get(&a.id) {
                let shortcut = self.config.shortcut;
                let (parent, hops) = (h.from, h.hops);
                if !sync
                    && shortcut > 0
                    && a.hops + 1 + shortcut <= hops
                    && parent != from
                    && parent != self.me
                {
                    // The tree brought this post the long way: take the announcer's path instead.
                    if let Some(h) = self.held.get_mut(&a.id) {
                        h.hops = a.hops + 1;
                    }
                    if let Some(link) = self.links.get_mut(&from) {
                        link.eager = true;
                        self.send(from, Wire::Graft(Vec::new()));
                    }
                    if let Some(link) = self.links.get_mut(&parent) {
                        link.eager = false;
                        self.send(parent, Wire::Prune);
                    }
                }
                continue;
            }
            if self.rejected.contains(&a.id) || self.parked.iter().any(|p| p.id == a.id) {
                continue;
            }
            if matches!(
                self.members.get(&a.author),
                Some(Standing::Removed | Standing::Left)
            ) {
                continue;
            }
            let retry = self.config.retry_timeout;
            let deadline = if sync {
                now + retry
            } else {
                self.graft_deadline(now)
            };
            let entry = self.missing.entry(a.id).or_insert_with(|| Missing {
                announcers: Vec::new(),
                deadline,
                sync,
                asked: false,
                parent_asked: false,
            });
            if sync && !entry.asked {
                // Asked at once: no eager copy is on its way.
                entry.sync = true;
                entry.asked = true;
                entry.deadline = now + retry;
                fetch.push(a.id);
            } else if !entry.announcers.iter().any(|(m, _)| *m == from) {
                entry.announcers.push((from, a.hops));
            }
        }
        if !fetch.is_empty() {
            self.send(from, Wire::Fetch(fetch));
        }
    }

    /// This member's way to the creator did not bring a post (a graft asks for it, or it came
    /// first over a link off the tree); twice running, it is not counted on until it says its
    /// depth again (it may be offline).
    pub(crate) fn parent_missed(&mut self) {
        self.parent_misses += 1;
        if self.parent_misses >= PARENT_MISSES {
            self.parent_misses = 0;
            if let Some(parent) = self.parent() {
                if let Some(link) = self.links.get_mut(&parent) {
                    link.depth = crate::wire::NO_DEPTH;
                }
            }
        }
    }

    pub(crate) fn on_graft(&mut self, from: MemberId, ids: Vec<PostId>) {
        if let Some(link) = self.links.get_mut(&from) {
            link.eager = true;
            // It takes pushes from this member now: its way to the creator is through this one
            // (it says so with its next message), not what it said before.
            link.depth = crate::wire::THROUGH_YOU;
        }
        self.send_held(from, ids, Route::Graft);
    }

    pub(crate) fn on_fetch(&mut self, from: MemberId, ids: Vec<PostId>) {
        self.send_held(from, ids, Route::Repair);
    }

    fn send_held(&mut self, to: MemberId, ids: Vec<PostId>, route: Route) {
        for id in ids.into_iter().take(self.config.repair_batch) {
            if let Some(h) = self.held.get(&id) {
                let (post, hops) = (h.post.clone(), h.hops);
                self.gossip(to, &post, &id, hops + 1, route);
            }
        }
    }

    pub(crate) fn on_want(&mut self, from: MemberId, author: MemberId, start: u64) {
        let Some(chain) = self.chains.get(&author) else {
            return;
        };
        let ids: Vec<PostId> = chain
            .posts
            .iter()
            .skip(start as usize)
            .take(self.config.repair_batch)
            .copied()
            .collect();
        for id in ids {
            if let Some(h) = self.held.get(&id) {
                let (post, hops) = (h.post.clone(), h.hops);
                self.gossip(from, &post, &id, hops + 1, Route::Repair);
            }
        }
    }

    /// Asks the neighbour a post came from for the blobs it references that this member lacks;
    /// one neighbour at a time, so each blob crosses a link into this member once.
    pub(crate) fn want_blobs(&mut self, now: u64, post: &Post, from: MemberId) {
        let Body::Text { blobs, .. } = &post.body else {
            return;
        };
        if from == self.me {
            return;
        }
        // Flooding pushes blobs with the post; it asks only if they do not come.
        let ask = self.config.mode == Mode::Plumtree;
        for b in blobs {
            if !self.can_carry(b) || self.has_blob(&b.hash) || self.blob_wants.contains_key(&b.hash)
            {
                continue;
            }
            let wanted = BlobWanted {
                len: b.len,
                deadline: now + self.config.blob_timeout,
                tried: if ask { vec![from] } else { Vec::new() },
                waiters: Vec::new(),
                rounds: 0,
            };
            self.blob_wants.insert(b.hash, wanted);
            if ask {
                self.send(from, Wire::BlobWant(b.hash));
            }
        }
    }

    pub(crate) fn on_blob_want(&mut self, now: u64, from: MemberId, hash: BlobHash) {
        if self.has_blob(&hash) {
            // Once per neighbour and blob within half the timeout (its own retries come a whole
            // timeout apart): repeated wants while the first answer is on its way send nothing.
            let recent = self
                .blobs_sent
                .get(&(from, hash))
                .is_some_and(|t| now < t + self.config.blob_timeout / 2);
            if recent {
                return;
            }
            self.blobs_sent.insert((from, hash), now);
        }
        if let Some(bytes) = self.blobs.get(&hash).cloned() {
            self.send(from, Wire::Blob(bytes));
        } else if self.kept_blobs.contains(&hash) {
            self.events.push_back(Event::BlobAsked { by: from, hash });
        } else if let Some(w) = self.blob_wants.get_mut(&hash) {
            if !w.waiters.contains(&from) {
                w.waiters.push(from);
            }
        }
    }

    pub(crate) fn on_blob(&mut self, _now: u64, from: MemberId, bytes: Arc<[u8]>) {
        let hash = BlobHash::of(&bytes);
        if self.has_blob(&hash) {
            self.counters.duplicates += 1;
            return;
        }
        match self.config.mode {
            Mode::Plumtree => {
                let Some(w) = self.blob_wants.get(&hash) else {
                    return self.drop_from(from, DropReason::UnwantedBlob);
                };
                if w.len != bytes.len() as u64 {
                    return self.drop_from(from, DropReason::UnwantedBlob);
                }
                let waiters = self
                    .blob_wants
                    .remove(&hash)
                    .map(|w| w.waiters)
                    .unwrap_or_default();
                for to in waiters {
                    self.send(to, Wire::Blob(bytes.clone()));
                }
            }
            Mode::Flood => {
                if !self.referenced.contains(&hash)
                    || bytes.len() as u64 > self.config.max_blob.min(crate::post::MAX_BLOB)
                {
                    return self.drop_from(from, DropReason::UnwantedBlob);
                }
                let others: Vec<_> = self.links.keys().filter(|n| **n != from).copied().collect();
                let waiters = self
                    .blob_wants
                    .remove(&hash)
                    .map(|w| w.waiters)
                    .unwrap_or_default();
                for to in others.into_iter().chain(waiters) {
                    self.send(to, Wire::Blob(bytes.clone()));
                }
            }
        }
        self.blobs.insert(hash, bytes);
        self.events.push_back(Event::BlobReceived(hash));
    }

    /// Timers: announced posts that did not come (ask the parent, then graft the next announcer, or fetch), blobs
    /// that did not come (ask another neighbour), and a digest to one neighbour in turn.
    pub fn handle_timeout(&mut self, now: u64) {
        self.last_active = self.last_active.max(now);
        let keep = self.config.blob_timeout / 2;
        self.blobs_sent.retain(|_, t| now < *t + keep);
        let due: Vec<PostId> = self
            .missing
            .iter()
            .filter(|(_, m)| m.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        let mut grafts: BTreeMap<MemberId, Vec<PostId>> = BTreeMap::new();
        let mut fetches: BTreeMap<MemberId, Vec<PostId>> = BTreeMap::new();
        let parent = self.parent();
        let tree = self.config.mode != Mode::Flood;
        for id in due {
            let Some(m) = self.missing.get_mut(&id) else {
                continue;
            };
            // First the parent: a push lost on its way from there is mended at the depth the
            // tree gives, where an announcer elsewhere in the tree may be many hops further from
            // the author, and everything below this member would inherit them.
            if let Some(p) = parent.filter(|_| tree && !m.sync && !m.parent_asked) {
                m.parent_asked = true;
                if !m.announcers.iter().any(|(a, _)| *a == p) {
                    m.asked = true;
                    m.deadline = now + self.config.retry_timeout;
                    fetches.entry(p).or_default().push(id);
                    continue;
                }
            }
            // The announcer nearest the author: the tree grows shallow, not deep.
            let nearest = m
                .announcers
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, hops))| *hops)
                .map(|(i, _)| i);
            let Some((next, _)) = nearest.map(|i| m.announcers.remove(i)) else {
                // Nobody left to ask; the next exchange of heads finds it again.
                self.missing.remove(&id);
                continue;
            };
            m.deadline = now + self.config.retry_timeout;
            m.asked = true;
            if m.sync || self.config.mode == Mode::Flood {
                fetches.entry(next).or_default().push(id);
            } else {
                grafts.entry(next).or_default().push(id);
            }
        }
        if !grafts.is_empty() {
            self.parent_missed();
        }
        for (to, ids) in grafts {
            if let Some(link) = self.links.get_mut(&to) {
                link.eager = true;
                for chunk in ids.chunks(MAX_ITEMS) {
                    self.send(to, Wire::Graft(chunk.to_vec()));
                }
            }
        }
        for (to, ids) in fetches {
            if self.links.contains_key(&to) {
                for chunk in ids.chunks(MAX_ITEMS) {
                    self.send(to, Wire::Fetch(chunk.to_vec()));
                }
            }
        }
        let blob_due: Vec<BlobHash> = self
            .blob_wants
            .iter()
            .filter(|(_, w)| w.deadline <= now)
            .map(|(h, _)| *h)
            .collect();
        for hash in blob_due {
            let neighbours: Vec<MemberId> = self.links.keys().copied().collect();
            let Some(w) = self.blob_wants.get_mut(&hash) else {
                continue;
            };
            let next = neighbours.iter().find(|n| !w.tried.contains(n)).copied();
            let next = next.or_else(|| {
                // Every neighbour was asked: another round, after a longer wait each time.
                w.tried.clear();
                w.rounds = w.rounds.saturating_add(1);
                neighbours.first().copied()
            });
            w.deadline = now + (self.config.blob_timeout << w.rounds.min(6));
            if let Some(to) = next {
                w.tried.push(to);
                self.send(to, Wire::BlobWant(hash));
            }
        }
        if now >= self.next_sync {
            self.next_sync = now + self.config.sync_interval;
            let neighbours: Vec<MemberId> = self.links.keys().copied().collect();
            if !neighbours.is_empty() {
                let to = neighbours[self.sync_cursor % neighbours.len()];
                self.sync_cursor += 1;
                let cutoff = now.saturating_sub(self.config.settle);
                let digest = self.digest(cutoff);
                self.send(to, Wire::Digest { cutoff, digest });
            }
        }
        self.flush_lazy();
    }
}
