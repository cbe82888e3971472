//! A post arriving: countersignature, duplicate, author signature, membership, the author's
//! chain and rate, then its effects, and passing it on. Nothing is passed on before all of
//! these hold.

use std::sync::Arc;

use crate::node::{DropReason, Event, Held, ListNode, Mode, Parked, Standing};
use crate::post::{Body, Envelope, MemberId, Post, PostId};
use crate::wire::{Announce, Route, Wire, NO_DEPTH};

/// Refused posts remembered by id before the memory starts over.
const MAX_REJECTED: usize = 65_536;

/// What became of a post that was considered.
enum Verdict {
    Accepted,
    Parked,
    Dropped,
}

impl ListNode {
    pub(crate) fn on_gossip(&mut self, now: u64, from: MemberId, envelope: Envelope, route: Route) {
        if envelope.to != self.me || envelope.forwarder != from {
            return self.drop_from(from, DropReason::BadCountersignature);
        }
        if envelope.post.list != self.list {
            return self.drop_from(from, DropReason::WrongList);
        }
        let id = envelope.post.id();
        if !envelope.countersignature_holds(&id) {
            return self.drop_from(from, DropReason::BadCountersignature);
        }
        if self.held.contains_key(&id) || self.parked.iter().any(|p| p.id == id) {
            self.counters.duplicates += 1;
            self.counters.duplicate_routes[route as usize] += 1;
            if route == Route::Push && self.config.mode == Mode::Plumtree {
                // A child that had the post from elsewhere first prunes that other link
                // itself; a copy from this member's way to the creator prunes the link the
                // first copy came over if that one is off the tree; otherwise the link the
                // duplicate came over leaves the tree.
                let first = self.held.get(&id).map(|h| h.from);
                let leaves = match first {
                    _ if self.is_child(&from) => return,
                    Some(f)
                        if f != self.me
                            && f != from
                            && self.is_parent(&from)
                            && !self.is_child(&f) =>
                    {
                        f
                    }
                    _ => from,
                };
                // Pruned again even if this side had pruned already: the first prune was lost.
                if let Some(link) = self.links.get_mut(&leaves) {
                    link.eager = false;
                    self.send(leaves, Wire::Prune);
                }
            }
            return;
        }
        if self.rejected.contains(&id) {
            return self.drop_from(from, DropReason::Replay);
        }
        if !self.verified.check(&id, &envelope.post) {
            return self.drop_from(from, DropReason::BadSignature);
        }
        let parked = Parked {
            post: envelope.post,
            id,
            hops: envelope.hops,
            from,
            route,
        };
        if let Verdict::Accepted = self.consider(now, parked) {
            self.unpark(now);
        }
    }

    /// Also used for a member's own history handed over at join (`admit`).
    fn consider(&mut self, now: u64, p: Parked) -> Verdict {
        let post = &p.post;
        let (from, id) = (p.from, p.id);
        match self.members.get(&post.author) {
            Some(Standing::Removed | Standing::Left) => {
                return self.reject(from, id, DropReason::RemovedAuthor)
            }
            None if post.seq > 0 => {
                let want = Wire::Want {
                    author: post.author,
                    from: 0,
                };
                return self.park(now, p, want);
            }
            _ => {}
        }
        let (next, last, last_time, tat) = match self.chains.get(&post.author) {
            Some(c) => (
                c.posts.len() as u64,
                c.posts.last().copied(),
                c.last_time,
                c.tat,
            ),
            None => (0, None, 0, 0),
        };
        if post.seq < next {
            // Another post already holds this place in the author's chain.
            return self.reject(from, id, DropReason::ChainFork);
        }
        if post.seq > next {
            let want = Wire::Want {
                author: post.author,
                from: next,
            };
            return self.park(now, p, want);
        }
        if post.prev != last {
            return self.reject(from, id, DropReason::ChainFork);
        }
        if post.time < last_time {
            return self.reject(from, id, DropReason::TimeWentBack);
        }
        if post.time > now + self.config.max_skew {
            // Not remembered: the same post is taken once this member's clock has caught up.
            self.drop_from(from, DropReason::FromTheFuture);
            return Verdict::Dropped;
        }
        if !self.rate_allows(post.time, tat) {
            return self.reject(from, id, DropReason::AuthorRateLimited);
        }
        match &post.body {
            Body::Charter { .. } => {
                if post.author != self.creator {
                    return self.reject(from, id, DropReason::NotMember);
                }
            }
            Body::Join { sponsor, .. } => {
                if post.seq != 0 {
                    return self.reject(from, id, DropReason::Malformed);
                }
                match self.members.get(sponsor) {
                    Some(Standing::Active) => {}
                    Some(_) => return self.reject(from, id, DropReason::NotMember),
                    None => {
                        let want = Wire::Want {
                            author: *sponsor,
                            from: 0,
                        };
                        return self.park(now, p, want);
                    }
                }
            }
            _ if post.seq == 0 => return self.reject(from, id, DropReason::NotMember),
            Body::Remove { member } => {
                if !self.moderators.contains(&post.author) || *member == self.creator {
                    return self.reject(from, id, DropReason::NotModerator);
                }
            }
            Body::Text { .. } | Body::Leave => {}
        }
        let Parked {
            post,
            id,
            hops,
            from,
            route,
        } = p;
        if route == Route::Push
            && from != self.me
            && !self.is_parent(&from)
            && !self.is_child(&from)
        {
            // Pushed first over a link off the tree: this member's way to the creator did not
            // bring it (it may have gone offline, and the link that brought it is one a graft
            // made). Counted like a graft, so that a member whose parent went away stops
            // counting its depth through it once the posts come another way.
            self.parent_missed();
        }
        self.store(post.clone(), id, hops, from);
        self.counters.delivered += 1;
        self.events.push_back(Event::Delivered {
            id,
            author: post.author,
            seq: post.seq,
            hops,
        });
        self.apply(&post);
        self.forward(&post, id, hops, from, route);
        self.want_blobs(now, &post, from);
        Verdict::Accepted
    }

    fn reject(&mut self, from: MemberId, id: PostId, reason: DropReason) -> Verdict {
        // Bounded: forgetting costs only checking a refused post again, which refuses it again.
        if self.rejected.len() >= MAX_REJECTED {
            self.rejected.clear();
        }
        self.rejected.insert(id);
        self.drop_from(from, reason);
        Verdict::Dropped
    }

    fn park(&mut self, now: u64, p: Parked, want: Wire) -> Verdict {
        if self.parked.len() >= self.config.max_parked {
            self.drop_from(p.from, DropReason::ParkedFull);
            return Verdict::Dropped;
        }
        if let (false, Wire::Want { author, .. }) = (p.from == self.me, &want) {
            // One want per author at a time: the answer brings the whole gap.
            let asked = self
                .wants
                .get(author)
                .is_some_and(|t| now < t + self.config.retry_timeout);
            if !asked {
                self.wants.insert(*author, now);
                self.send(p.from, want);
            }
        }
        self.parked.push(p);
        Verdict::Parked
    }

    /// Takes parked posts whose predecessor or sponsor has arrived, until none is left to take.
    pub(crate) fn unpark(&mut self, now: u64) {
        loop {
            let ready = self.parked.iter().position(|p| {
                let next = self
                    .chains
                    .get(&p.post.author)
                    .map_or(0, |c| c.posts.len() as u64);
                let known = self.members.contains_key(&p.post.author) || p.post.seq == 0;
                let sponsor_known = match &p.post.body {
                    Body::Join { sponsor, .. } => self.members.contains_key(sponsor),
                    _ => true,
                };
                (known && sponsor_known && p.post.seq <= next) || self.held.contains_key(&p.id)
            });
            let Some(i) = ready else { return };
            let p = self.parked.swap_remove(i);
            if self.held.contains_key(&p.id) {
                continue;
            }
            self.consider(now, p);
        }
    }

    pub(crate) fn store(&mut self, post: Arc<Post>, id: PostId, hops: u32, from: MemberId) {
        let interval = self.config.author_interval;
        let chain = self.chains.entry(post.author).or_default();
        chain.posts.push(id);
        chain.last_time = post.time;
        chain.tat = chain.tat.max(post.time) + interval;
        if let Body::Text { blobs, .. } = &post.body {
            self.referenced.extend(blobs.iter().map(|b| b.hash));
        }
        self.missing.remove(&id);
        self.held.insert(id, Held { post, hops, from });
    }

    /// What an accepted post changes in the membership.
    pub(crate) fn apply(&mut self, post: &Post) {
        match &post.body {
            Body::Charter { .. } => {}
            Body::Join { .. } => {
                self.members.insert(post.author, Standing::Active);
                self.events.push_back(Event::MemberJoined(post.author));
            }
            Body::Remove { member } => {
                self.members.insert(*member, Standing::Removed);
                self.events.push_back(Event::MemberRemoved(*member));
                self.close(member);
            }
            Body::Leave => {
                self.members.insert(post.author, Standing::Left);
                self.events.push_back(Event::MemberLeft(post.author));
                self.close(&post.author);
            }
            Body::Text { .. } => {}
        }
    }

    fn close(&mut self, member: &MemberId) {
        if *member == self.me {
            // This member's key is dead: it forgets its links (its last post has been queued).
            self.links.clear();
            self.missing.clear();
            self.parked.clear();
        } else if self.links.remove(member).is_some() {
            self.lazy.remove(member);
            self.events.push_back(Event::LinkClosed(*member));
        }
    }

    /// Passes an accepted post on: eagerly along the tree, announced on the other links; a post
    /// that came by repair is only announced (its neighbours most likely have it).
    pub(crate) fn forward(
        &mut self,
        post: &Arc<Post>,
        id: PostId,
        hops: u32,
        from: MemberId,
        route: Route,
    ) {
        let repair = route == Route::Repair;
        let targets: Vec<(MemberId, bool)> = self
            .links
            .iter()
            .filter(|(n, _)| **n != from && **n != post.author)
            .map(|(n, l)| (*n, l.eager))
            .collect();
        let blobs: Vec<_> = match (&post.body, self.config.mode) {
            (Body::Text { blobs, .. }, Mode::Flood) => blobs
                .iter()
                .filter_map(|b| self.blobs.get(&b.hash).cloned())
                .collect(),
            _ => Vec::new(),
        };
        for (to, eager) in targets {
            match self.config.mode {
                Mode::Flood => {
                    self.gossip(to, post, &id, hops + 1, Route::Push);
                    for b in &blobs {
                        self.send(to, Wire::Blob(b.clone()));
                    }
                }
                Mode::Plumtree if eager && !repair => {
                    self.gossip(to, post, &id, hops + 1, Route::Push)
                }
                Mode::Plumtree if repair => {
                    let a = Announce {
                        id,
                        author: post.author,
                        seq: post.seq,
                        hops,
                    };
                    self.send(
                        to,
                        Wire::IHave {
                            announces: vec![a],
                            sync: true,
                            depth: NO_DEPTH,
                        },
                    );
                }
                Mode::Plumtree => {
                    let a = Announce {
                        id,
                        author: post.author,
                        seq: post.seq,
                        hops,
                    };
                    self.lazy.entry(to).or_default().push(a);
                }
            }
        }
    }

    /// History handed over by a sponsor at join (already countersigned by the link it came
    /// over): checked like any post, not passed on.
    pub fn admit(&mut self, now: u64, post: Arc<Post>) -> bool {
        let id = post.id();
        self.admit_known(now, post, id)
    }

    /// `admit` of a post whose id (`post.id()`) the caller has computed already.
    pub(crate) fn admit_known(&mut self, now: u64, post: Arc<Post>, id: PostId) -> bool {
        if self.held.contains_key(&id) {
            return true;
        }
        if !self.verified.check(&id, &post) {
            self.drop_from(self.me, DropReason::BadSignature);
            return false;
        }
        let links = std::mem::take(&mut self.links);
        let verdict = self.consider(
            now,
            Parked {
                post,
                id,
                hops: 0,
                from: self.me,
                route: Route::Repair,
            },
        );
        self.links = links;
        self.transmit.retain(|(to, _)| *to != self.me);
        if let Verdict::Accepted = verdict {
            self.unpark(now);
            true
        } else {
            matches!(verdict, Verdict::Parked)
        }
    }
}
