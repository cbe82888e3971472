//! One member's side of one list: a state machine with no sockets and no clock. The caller
//! passes in what arrived from which neighbour and the time, and takes out what to send to whom
//! (`poll_transmit`), what happened (`poll_event`) and when to call back (`poll_timeout`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use ed25519_dalek::SigningKey;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::post::{
    self, BlobHash, BlobRef, Body, Envelope, ListId, MemberId, Post, PostId, MAX_BLOB, MAX_BLOBS,
    MAX_CONTENT,
};
use crate::wire::{Announce, Route, Wire, NO_DEPTH, THROUGH_YOU};

/// The deepest a member counts itself from the creator (see `ListNode::depth`).
const MAX_DEPTH: u32 = 64;

pub use crate::config::{Config, Mode};
pub use crate::events::{Counters, DropReason, Event, ListError};

/// Post ids whose author signature has been checked, shared by the lists of one device (and by
/// every member of a simulation): a post's id is the hash of its signed bytes, so a post seen
/// valid once is valid everywhere.
#[derive(Debug, Default)]
pub struct VerifiedPosts(Mutex<HashSet<PostId>>);

impl VerifiedPosts {
    pub(crate) fn check(&self, id: &PostId, post: &Post) -> bool {
        if let Ok(set) = self.0.lock() {
            if set.contains(id) {
                return true;
            }
        }
        let ok = post.verify();
        if ok {
            if let Ok(mut set) = self.0.lock() {
                set.insert(*id);
            }
        }
        ok
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    Active,
    Removed,
    Left,
}

#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) eager: bool,
    /// The neighbour's depth as it last said (`NO_DEPTH` until it has).
    pub(crate) depth: u32,
    /// Until when this member's own last graft or prune on the link may still be on its way
    /// (what the neighbour says meanwhile may predate it).
    pub(crate) settles: u64,
    window_start: u64,
    window_count: u32,
}

#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) post: Arc<Post>,
    pub(crate) hops: u32,
    /// The neighbour this member took the post from (itself for its own posts).
    pub(crate) from: MemberId,
}

#[derive(Debug, Default)]
pub(crate) struct Chain {
    pub(crate) posts: Vec<PostId>,
    pub(crate) last_time: u64,
    /// Theoretical arrival time of the author's next post (GCRA on the author's clock).
    pub(crate) tat: u64,
}

#[derive(Debug)]
pub(crate) struct Missing {
    /// Who announced it, with the hops of their copies.
    pub(crate) announcers: Vec<(MemberId, u32)>,
    pub(crate) deadline: u64,
    pub(crate) sync: bool,
    /// Whether a fetch or graft for it is on its way.
    pub(crate) asked: bool,
    /// Whether this member's parent was asked for it.
    pub(crate) parent_asked: bool,
}

#[derive(Debug)]
pub(crate) struct Parked {
    pub(crate) post: Arc<Post>,
    pub(crate) id: PostId,
    pub(crate) hops: u32,
    pub(crate) from: MemberId,
    pub(crate) route: Route,
}

#[derive(Debug)]
pub(crate) struct BlobWanted {
    pub(crate) len: u64,
    pub(crate) deadline: u64,
    pub(crate) tried: Vec<MemberId>,
    pub(crate) waiters: Vec<MemberId>,
    /// Times every neighbour was asked in vain: each doubles the wait before the next round.
    pub(crate) rounds: u32,
}

/// One member of one list.
#[derive(Debug)]
pub struct ListNode {
    pub(crate) config: Config,
    pub(crate) key: SigningKey,
    pub(crate) me: MemberId,
    pub(crate) list: ListId,
    pub(crate) creator: MemberId,
    pub(crate) moderators: BTreeSet<MemberId>,
    pub(crate) members: HashMap<MemberId, Standing>,
    pub(crate) links: BTreeMap<MemberId, Link>,
    pub(crate) held: HashMap<PostId, Held>,
    pub(crate) chains: BTreeMap<MemberId, Chain>,
    pub(crate) rejected: HashSet<PostId>,
    pub(crate) parked: Vec<Parked>,
    pub(crate) missing: BTreeMap<PostId, Missing>,
    pub(crate) blobs: HashMap<BlobHash, Arc<[u8]>>,
    /// Blobs the host keeps outside this state machine (`keep_blobs`), not in memory.
    pub(crate) kept_blobs: HashSet<BlobHash>,
    /// When this member last sent (or had its host send) a blob to a neighbour: not again to
    /// the same one within half of `blob_timeout`, however often it asks.
    pub(crate) blobs_sent: HashMap<(MemberId, BlobHash), u64>,
    pub(crate) referenced: HashSet<BlobHash>,
    pub(crate) blob_wants: BTreeMap<BlobHash, BlobWanted>,
    /// Authors whose missing posts were asked for, and when.
    pub(crate) wants: BTreeMap<MemberId, u64>,
    pub(crate) lazy: BTreeMap<MemberId, Vec<Announce>>,
    pub(crate) transmit: VecDeque<(MemberId, Wire)>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) counters: Counters,
    pub(crate) next_sync: u64,
    /// The latest time this member handled anything (0: not since it was built or restored):
    /// where a member coming back asks its neighbours to start (`resume`).
    pub(crate) last_active: u64,
    /// Grafts in a row since this member's way to the creator last pushed a post.
    pub(crate) parent_misses: u32,
    pub(crate) sync_cursor: usize,
    pub(crate) verified: Arc<VerifiedPosts>,
    /// Jitter for timers, so that the members below a lost post do not all graft at once.
    pub(crate) jitter: ChaCha20Rng,
}

impl ListNode {
    /// A new list with this member as its creator (and moderator, with `moderators`).
    pub fn create(
        config: Config,
        key: SigningKey,
        name: &str,
        nonce: [u8; 16],
        moderators: Vec<MemberId>,
        now: u64,
    ) -> ListNode {
        let me = MemberId::of(&key);
        let list = ListId::for_charter(&me, name, &nonce);
        let charter = Post::sign(
            &key,
            list,
            0,
            None,
            now,
            Body::Charter {
                name: name.to_owned(),
                nonce,
                moderators,
            },
        );
        let mut node = ListNode::empty(config, key, list, me, now);
        node.take_charter(&charter);
        node.hold_own(charter);
        node
    }

    /// Joins the list whose `charter` an invitation carried, admitted by `sponsor`'s signature
    /// over this member's list key. The member's first post (its `Join`) reaches the others
    /// once the sponsor is linked.
    pub fn join(
        config: Config,
        key: SigningKey,
        charter: Post,
        sponsor: MemberId,
        sponsorship: [u8; 64],
        now: u64,
    ) -> Result<ListNode, ListError> {
        let me = MemberId::of(&key);
        let Body::Charter { name, nonce, .. } = &charter.body else {
            return Err(ListError::BadCharter);
        };
        if charter.seq != 0 || charter.prev.is_some() || !charter.verify() {
            return Err(ListError::BadCharter);
        }
        if ListId::for_charter(&charter.author, name, nonce) != charter.list {
            return Err(ListError::BadCharter);
        }
        let list = charter.list;
        if !post::sponsorship_holds(&sponsor, &list, &me, &sponsorship) {
            return Err(ListError::BadSponsorship);
        }
        let mut node = ListNode::empty(config, key, list, me, now);
        node.take_charter(&charter);
        let id = charter.id();
        node.verified.check(&id, &charter);
        node.store(Arc::new(charter), id, 0, me);
        let join = Post::sign(
            &node.key,
            list,
            0,
            None,
            now,
            Body::Join {
                sponsor,
                sponsorship,
            },
        );
        node.hold_own(join);
        Ok(node)
    }

    /// A member's state rebuilt from what it kept: the charter, every post it held (in the
    /// order it took them; each is checked again) and its neighbours. Nothing is sent and no
    /// event is reported for the history.
    pub fn restore(
        config: Config,
        key: SigningKey,
        charter: Post,
        posts: impl IntoIterator<Item = Post>,
        neighbours: &[MemberId],
        now: u64,
    ) -> Result<ListNode, ListError> {
        let Body::Charter { name, nonce, .. } = &charter.body else {
            return Err(ListError::BadCharter);
        };
        if charter.seq != 0
            || !charter.verify()
            || ListId::for_charter(&charter.author, name, nonce) != charter.list
        {
            return Err(ListError::BadCharter);
        }
        let me = MemberId::of(&key);
        let mut node = ListNode::empty(config, key, charter.list, me, now);
        node.take_charter(&charter);
        let id = charter.id();
        node.verified.check(&id, &charter);
        node.store(Arc::new(charter), id, 0, me);
        for post in posts {
            if post.list != node.list {
                continue;
            }
            if post.author == me && post.seq == 0 && matches!(post.body, Body::Join { .. }) {
                // This member's own join, taken as `join` took it: its sponsor's standing is
                // learnt from the others, maybe later.
                let id = post.id();
                if node.verified.check(&id, &post) && !node.held.contains_key(&id) {
                    let post = Arc::new(post);
                    node.store(post.clone(), id, 0, me);
                    node.apply(&post);
                    // What waited for it (a join it sponsored, its own later posts) follows.
                    node.unpark(now);
                }
                continue;
            }
            node.admit(now, Arc::new(post));
        }
        for member in neighbours {
            if *member != me
                && !matches!(
                    node.members.get(member),
                    Some(Standing::Removed | Standing::Left)
                )
            {
                node.links.insert(
                    *member,
                    Link {
                        eager: true,
                        depth: NO_DEPTH,
                        settles: 0,
                        window_start: now,
                        window_count: 0,
                    },
                );
            }
        }
        // The newest post it held bounds when it was last active from below (its author's
        // clock may have run up to `max_skew` ahead): catching up asks from there.
        let newest = node.held.values().map(|h| h.post.time).max().unwrap_or(0);
        node.last_active = newest.min(now).saturating_sub(node.config.max_skew);
        node.transmit.clear();
        node.events.clear();
        node.counters = Counters::default();
        Ok(node)
    }

    /// Every post this member holds (the charter included), in no particular order.
    pub fn posts(&self) -> impl Iterator<Item = (PostId, &Post)> + '_ {
        self.held.iter().map(|(id, h)| (*id, h.post.as_ref()))
    }

    /// Whether a moderator removed this member.
    pub fn was_removed(&self) -> bool {
        self.members.get(&self.me) == Some(&Standing::Removed)
    }

    /// Whether `member` is a member in good standing.
    pub fn is_member(&self, member: &MemberId) -> bool {
        self.members.get(member) == Some(&Standing::Active)
    }

    fn empty(config: Config, key: SigningKey, list: ListId, me: MemberId, now: u64) -> ListNode {
        ListNode {
            next_sync: now + config.sync_interval,
            last_active: 0,
            parent_misses: 0,
            config,
            key,
            me,
            list,
            creator: me,
            moderators: BTreeSet::new(),
            members: HashMap::new(),
            links: BTreeMap::new(),
            held: HashMap::new(),
            chains: BTreeMap::new(),
            rejected: HashSet::new(),
            parked: Vec::new(),
            missing: BTreeMap::new(),
            blobs: HashMap::new(),
            kept_blobs: HashSet::new(),
            blobs_sent: HashMap::new(),
            referenced: HashSet::new(),
            blob_wants: BTreeMap::new(),
            wants: BTreeMap::new(),
            lazy: BTreeMap::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
            sync_cursor: 0,
            verified: Arc::new(VerifiedPosts::default()),
            jitter: ChaCha20Rng::from_seed(
                Sha256::digest([&b"postern-list jitter"[..], &me.0, &list.0].concat()).into(),
            ),
        }
    }

    fn take_charter(&mut self, charter: &Post) {
        self.creator = charter.author;
        self.moderators.insert(charter.author);
        if let Body::Charter { moderators, .. } = &charter.body {
            self.moderators.extend(moderators.iter().copied());
        }
        self.members.insert(charter.author, Standing::Active);
    }

    /// Shares one cache of checked signatures among several lists (or simulated members).
    pub fn share_verified(&mut self, verified: Arc<VerifiedPosts>) {
        self.verified = verified;
    }

    /// Signs this member's sponsorship of a new member's list key (the answer to a join request
    /// that came with an invitation this member gave).
    pub fn sponsor(&self, member: &MemberId) -> [u8; 64] {
        post::sponsor(&self.key, &self.list, member)
    }

    pub fn me(&self) -> MemberId {
        self.me
    }
    pub fn list(&self) -> ListId {
        self.list
    }
    /// The creator's charter, for an invitation.
    pub fn charter(&self) -> Option<Post> {
        let id = self.chains.get(&self.creator)?.posts.first()?;
        Some(self.held.get(id)?.post.as_ref().clone())
    }
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
    pub fn held(&self, id: &PostId) -> Option<&Post> {
        self.held.get(id).map(|h| h.post.as_ref())
    }
    pub fn holds(&self, id: &PostId) -> bool {
        self.held.contains_key(id)
    }
    pub fn blob(&self, hash: &BlobHash) -> Option<&Arc<[u8]>> {
        self.blobs.get(hash)
    }

    /// Whether this member has the blob, in memory or kept by the host.
    pub fn has_blob(&self, hash: &BlobHash) -> bool {
        self.blobs.contains_key(hash) || self.kept_blobs.contains(hash)
    }

    /// The host keeps these blobs (after a restore: the ones it stored): they are not wanted
    /// from neighbours, and a neighbour asking for one raises `Event::BlobAsked`. Blobs the
    /// posts reference that are still missing are asked for at the next timeout.
    pub fn keep_blobs(&mut self, hashes: impl IntoIterator<Item = BlobHash>, now: u64) {
        for hash in hashes {
            self.blob_wants.remove(&hash);
            self.kept_blobs.insert(hash);
        }
        self.want_missing_blobs(now);
    }

    /// The host cannot give this blob after all (its copy is lost or damaged): it is wanted
    /// from neighbours again.
    pub fn lose_blob(&mut self, hash: BlobHash, now: u64) {
        self.kept_blobs.remove(&hash);
        self.blobs.remove(&hash);
        self.want_missing_blobs(now);
    }

    /// Wants, due now, for every blob a held post references that this member lacks and does
    /// not want yet (those it wants keep their schedule).
    fn want_missing_blobs(&mut self, now: u64) {
        let missing: Vec<(BlobHash, u64)> = self
            .held
            .values()
            .filter_map(|h| match &h.post.body {
                Body::Text { blobs, .. } => Some(blobs),
                _ => None,
            })
            .flatten()
            .filter(|b| self.can_carry(b) && !self.has_blob(&b.hash))
            .map(|b| (b.hash, b.len))
            .collect();
        for (hash, len) in missing {
            self.blob_wants.entry(hash).or_insert_with(|| BlobWanted {
                len,
                deadline: now,
                tried: Vec::new(),
                waiters: Vec::new(),
                rounds: 0,
            });
        }
    }

    /// Whether a blob a post references is one this member can take (`Config::max_blob`).
    pub fn can_carry(&self, blob: &BlobRef) -> bool {
        blob.len <= self.config.max_blob.min(MAX_BLOB)
    }

    /// Hands the blobs held in memory (posted here or received) to the host, which stores
    /// them; from then on they are kept at rest (as `keep_blobs`) and leave memory.
    pub fn take_blobs(&mut self) -> Vec<(BlobHash, Arc<[u8]>)> {
        let taken: Vec<(BlobHash, Arc<[u8]>)> = self.blobs.drain().collect();
        self.kept_blobs.extend(taken.iter().map(|(h, _)| *h));
        taken
    }
    /// Members in good standing, this one included.
    pub fn members(&self) -> Vec<MemberId> {
        let mut m: Vec<_> = self
            .members
            .iter()
            .filter(|(_, s)| **s == Standing::Active)
            .map(|(m, _)| *m)
            .collect();
        m.sort();
        m
    }
    pub fn is_active(&self) -> bool {
        self.members.get(&self.me) == Some(&Standing::Active)
    }
    pub fn neighbours(&self) -> Vec<MemberId> {
        self.links.keys().copied().collect()
    }
    /// Neighbours on the eager tree.
    pub fn eager(&self) -> Vec<MemberId> {
        self.links
            .iter()
            .filter(|(_, l)| l.eager)
            .map(|(m, _)| *m)
            .collect()
    }

    /// The neighbour this member counts its way to the creator through, and its depth (hops
    /// from the creator along the tree); `None` for the creator and for a member that does
    /// not know its way.
    pub fn way_to_creator(&self) -> Option<(MemberId, u32)> {
        let parent = self.parent()?;
        let depth = self.depth();
        (depth < MAX_DEPTH).then_some((parent, depth))
    }

    /// Links a neighbour (a member this one agreed to exchange list mail with) and tells it how
    /// far this member holds each chain, so that both catch up.
    pub fn link(&mut self, member: MemberId, now: u64) {
        if member == self.me
            || matches!(
                self.members.get(&member),
                Some(Standing::Removed | Standing::Left)
            )
        {
            return;
        }
        self.links.insert(
            member,
            Link {
                eager: true,
                depth: NO_DEPTH,
                settles: 0,
                window_start: now,
                window_count: 0,
            },
        );
        let heads = self.heads();
        self.send(member, Wire::Heads { heads, reply: true });
    }

    pub fn unlink(&mut self, member: &MemberId) {
        self.links.remove(member);
        self.lazy.remove(member);
    }

    /// After being offline: asks every neighbour for what was missed, and leaves the tree
    /// (prunes every link: the neighbours found other paths meanwhile, and pushes from both
    /// the old and the new paths would arrive twice); the next post it misses grafts it back.
    /// A member that knows when it left asks for the posts from a little before then (`Since`:
    /// a few bytes, answered with what came meanwhile); otherwise it sends its heads (one entry
    /// per author). Every neighbour is asked: asking fewer was measured to cost more in hops
    /// and duplicates than it saves in announcements. A neighbour that pushes to it even so
    /// (its prune crossed the push) is taken as its way back into the tree at once.
    pub fn resume(&mut self, now: u64) {
        let ask = self.catch_up_ask();
        let neighbours: Vec<_> = self.links.keys().copied().collect();
        for n in neighbours {
            if self.config.mode == Mode::Plumtree {
                self.send(n, Wire::Prune);
            }
            self.send(n, ask.clone());
        }
        for link in self.links.values_mut() {
            link.eager = false;
            link.settles = 0;
        }
        self.last_active = now;
        self.next_sync = now + self.config.sync_interval;
    }

    /// Asks every neighbour for what this member lacks, the links keeping their state (a node
    /// that starts again: its neighbours may still push to it). `Since` from a little before
    /// it was last active (after a restore, the newest post it held), heads if it never was.
    pub fn sync_all(&mut self, now: u64) {
        let ask = self.catch_up_ask();
        let neighbours: Vec<_> = self.links.keys().copied().collect();
        for n in neighbours {
            self.send(n, ask.clone());
        }
        self.last_active = self.last_active.max(now);
        self.next_sync = now + self.config.sync_interval;
    }

    fn catch_up_ask(&self) -> Wire {
        match self.last_active {
            0 => Wire::Heads {
                heads: self.heads(),
                reply: true,
            },
            last => Wire::Since {
                after: last.saturating_sub(self.config.settle),
            },
        }
    }

    /// Posts to the list.
    pub fn post(
        &mut self,
        now: u64,
        content: Vec<u8>,
        blobs: Vec<Arc<[u8]>>,
    ) -> Result<PostId, ListError> {
        if content.len() > MAX_CONTENT {
            return Err(ListError::TooLarge(content.len()));
        }
        if blobs.len() > MAX_BLOBS {
            return Err(ListError::TooManyBlobs(blobs.len()));
        }
        let max = self.config.max_blob.min(MAX_BLOB);
        if let Some(big) = blobs.iter().find(|b| b.len() as u64 > max) {
            return Err(ListError::BlobTooLarge {
                len: big.len() as u64,
                max,
            });
        }
        let refs = blobs
            .iter()
            .map(|b| BlobRef {
                hash: BlobHash::of(b),
                len: b.len() as u64,
            })
            .collect::<Vec<_>>();
        for (r, b) in refs.iter().zip(blobs) {
            self.blobs.insert(r.hash, b);
        }
        self.post_body(
            now,
            Body::Text {
                content,
                blobs: refs,
            },
        )
    }

    /// A moderator removes a member; the removal travels like a post.
    pub fn remove(&mut self, now: u64, member: MemberId) -> Result<PostId, ListError> {
        if !self.moderators.contains(&self.me) || member == self.creator {
            return Err(ListError::NotModerator);
        }
        self.post_body(now, Body::Remove { member })
    }

    /// Leaves the list: the last post under this member's list key, which revokes it.
    pub fn leave(&mut self, now: u64) -> Result<PostId, ListError> {
        self.post_body(now, Body::Leave)
    }

    fn post_body(&mut self, now: u64, body: Body) -> Result<PostId, ListError> {
        self.last_active = self.last_active.max(now);
        if !self.is_active() {
            return Err(ListError::NotActive);
        }
        let chain = self.chains.get(&self.me);
        let (seq, prev, tat, last_time) = match chain {
            Some(c) => (
                c.posts.len() as u64,
                c.posts.last().copied(),
                c.tat,
                c.last_time,
            ),
            None => (0, None, 0, 0),
        };
        let time = now.max(last_time);
        if !self.rate_allows(time, tat) {
            return Err(ListError::RateLimited {
                burst: self.config.author_burst,
                interval: self.config.author_interval,
            });
        }
        let post = Post::sign(&self.key, self.list, seq, prev, time, body);
        Ok(self.hold_own(post))
    }

    fn hold_own(&mut self, post: Post) -> PostId {
        let id = post.id();
        self.verified.check(&id, &post);
        let post = Arc::new(post);
        self.store(post.clone(), id, 0, self.me);
        // Sent before it takes effect here: a member's own leave closes its links.
        self.forward(&post, id, 0, self.me, Route::Push);
        self.apply(&post);
        self.flush_lazy();
        id
    }

    /// The next message to send, and to whom.
    pub fn poll_transmit(&mut self) -> Option<(MemberId, Wire)> {
        self.transmit.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` should be called next.
    pub fn poll_timeout(&self) -> u64 {
        let missing = self.missing.values().map(|m| m.deadline).min();
        let blobs = self.blob_wants.values().map(|b| b.deadline).min();
        [Some(self.next_sync), missing, blobs]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.next_sync)
    }

    /// A message that arrived from neighbour `from`, as bytes.
    pub fn handle_bytes(&mut self, now: u64, from: MemberId, bytes: &[u8]) {
        match Wire::decode(bytes) {
            Ok(wire) => self.handle(now, from, wire),
            Err(_) => self.drop_from(from, DropReason::Malformed),
        }
    }

    /// A message that arrived from neighbour `from`.
    pub fn handle(&mut self, now: u64, from: MemberId, wire: Wire) {
        self.last_active = self.last_active.max(now);
        let budget = self.config.neighbour_budget;
        let window = self.config.neighbour_window;
        let Some(link) = self.links.get_mut(&from) else {
            return self.drop_from(from, DropReason::NotNeighbour);
        };
        if now >= link.window_start + window {
            link.window_start = now;
            link.window_count = 0;
        }
        link.window_count += 1;
        if link.window_count > budget {
            return self.drop_from(from, DropReason::NeighbourRateLimited);
        }
        if let (Wire::Gossip { depth, .. } | Wire::IHave { depth, .. }, Some(link)) =
            (&wire, self.links.get_mut(&from))
        {
            link.depth = *depth;
            // An announcement (not an answer to a catch-up) shows the link is lazy at the
            // neighbour's end. This end follows, once its own last graft or prune has had time
            // to arrive: a graft lost on the way, or a prune this end never saw, otherwise
            // leaves the link eager here only, and this member counts its depth through a
            // neighbour that no longer pushes to it. (A push over a link lazy here needs no
            // rule: the duplicate it makes, or moving nearer the creator, mends it.)
            if matches!(wire, Wire::IHave { sync: false, .. }) && now >= link.settles {
                link.eager = false;
            }
        }
        match wire {
            Wire::Gossip {
                envelope,
                route,
                depth,
            } => {
                if route == Route::Push && self.is_parent(&from) {
                    self.parent_misses = 0;
                }
                self.on_gossip(now, from, envelope, route);
                self.draw_nearer(from, depth);
            }
            Wire::IHave {
                announces,
                sync,
                depth,
            } => {
                self.on_ihave(now, from, announces, sync);
                self.draw_nearer(from, depth);
            }
            Wire::Graft(ids) => self.on_graft(from, ids),
            Wire::Fetch(ids) => self.on_fetch(from, ids),
            Wire::Prune => {
                if let Some(l) = self.links.get_mut(&from) {
                    l.eager = false;
                }
            }
            Wire::Heads { heads, reply } => self.on_heads(from, heads, reply),
            Wire::Digest { cutoff, digest } => self.on_digest(from, cutoff, &digest),
            Wire::Since { after } => self.on_since(from, after),
            Wire::Want { author, from: seq } => self.on_want(from, author, seq),
            Wire::BlobWant(hash) => self.on_blob_want(now, from, hash),
            Wire::Blob(bytes) => self.on_blob(now, from, bytes),
        }
        self.flush_lazy();
    }

    /// Whether an author may post at `time` (its clock) given the chain's theoretical arrival
    /// time `tat`: `author_burst` posts at once, then one per `author_interval` (GCRA).
    pub(crate) fn rate_allows(&self, time: u64, tat: u64) -> bool {
        let (burst, interval) = (self.config.author_burst, self.config.author_interval);
        time + burst * interval >= tat + interval
    }

    /// A graft timeout with jitter: between one and two times the configured one.
    pub(crate) fn graft_deadline(&mut self, now: u64) -> u64 {
        let g = self.config.graft_timeout;
        now + g + self.jitter.gen_range(0..=g)
    }

    pub(crate) fn drop_from(&mut self, from: MemberId, reason: DropReason) {
        *self.counters.dropped.entry(reason).or_default() += 1;
        self.events.push_back(Event::Dropped { from, reason });
    }

    pub(crate) fn send(&mut self, to: MemberId, mut wire: Wire) {
        if let Wire::Gossip { depth, .. } | Wire::IHave { depth, .. } = &mut wire {
            // Not to the neighbour this member's depth comes from (poisoned reverse): it must
            // not count its way to the creator through this member.
            *depth = match self.parent() {
                Some(p) if p == to => THROUGH_YOU,
                _ => self.depth(),
            };
        }
        if let (Wire::Graft(_) | Wire::Prune, Some(link)) = (&wire, self.links.get_mut(&to)) {
            link.settles = self.last_active + self.config.retry_timeout;
        }
        self.transmit.push_back((to, wire));
    }

    /// This member's distance to the list's creator along the tree: one more than the
    /// shallowest neighbour it takes pushes from, as they last said (`NO_DEPTH` beyond
    /// `MAX_DEPTH`, so that a tree cut off from the creator does not count up for ever).
    pub(crate) fn depth(&self) -> u32 {
        if self.me == self.creator {
            return 0;
        }
        match self.parent().and_then(|p| self.links.get(&p)) {
            Some(l) if l.depth < MAX_DEPTH => l.depth + 1,
            _ => NO_DEPTH,
        }
    }

    /// Whether `member` is this member's way to the creator.
    pub(crate) fn is_parent(&self, member: &MemberId) -> bool {
        self.parent() == Some(*member)
    }

    /// Whether `member` takes pushes from this member on its way to the creator.
    pub(crate) fn is_child(&self, member: &MemberId) -> bool {
        self.links
            .get(member)
            .is_some_and(|l| l.eager && l.depth == THROUGH_YOU)
    }

    /// The neighbour this member's depth comes from: the shallowest it takes pushes from.
    pub(crate) fn parent(&self) -> Option<MemberId> {
        if self.me == self.creator {
            return None;
        }
        self.links
            .iter()
            .filter(|(_, l)| l.eager && l.depth < MAX_DEPTH)
            .min_by_key(|(_, l)| l.depth)
            .map(|(m, _)| *m)
    }

    /// A neighbour off the tree that is nearer the creator by more than one hop than this
    /// member's way there: this member takes pushes from it instead (a graft with no posts)
    /// and prunes the link it took them from. Every member doing so draws the tree towards the
    /// shortest paths from one fixed member, whoever posts; the tree's depth is then about the
    /// graph's radius, where first arrivals alone (the fastest links) make it about twice that.
    fn draw_nearer(&mut self, from: MemberId, depth: u32) {
        if self.config.mode != Mode::Plumtree || depth >= MAX_DEPTH {
            return;
        }
        if self.links.get(&from).is_none_or(|l| l.eager) {
            return;
        }
        let mine = self.depth();
        if depth.saturating_add(1) >= mine || self.me == self.creator {
            return;
        }
        let parent = self.parent();
        self.counters.moved_nearer += 1;
        if let Some(link) = self.links.get_mut(&from) {
            link.eager = true;
        }
        self.send(from, Wire::Graft(Vec::new()));
        if let Some(parent) = parent {
            if let Some(link) = self.links.get_mut(&parent) {
                link.eager = false;
            }
            self.send(parent, Wire::Prune);
        }
    }

    pub(crate) fn gossip(
        &mut self,
        to: MemberId,
        post: &Arc<Post>,
        id: &PostId,
        hops: u32,
        route: Route,
    ) {
        let envelope = Envelope::countersign(&self.key, post.clone(), id, hops, to);
        self.send(
            to,
            Wire::Gossip {
                envelope,
                route,
                depth: NO_DEPTH,
            },
        );
    }

    pub(crate) fn flush_lazy(&mut self) {
        for (to, announces) in std::mem::take(&mut self.lazy) {
            if self.links.contains_key(&to) {
                self.send(
                    to,
                    Wire::IHave {
                        announces,
                        sync: false,
                        depth: NO_DEPTH,
                    },
                );
            }
        }
    }
}
