//! A deterministic simulator: many members of one list on a random trust graph, links with
//! latency and loss, members going offline and coming back, driving the real [`ListNode`]
//! (real signatures, real wire messages) in simulated time. Same seed, same run.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::node::{Config, Event, ListNode, VerifiedPosts};
use crate::post::{MemberId, Post, PostId};
use crate::wire::Wire;

/// When the measured run starts (ms): members joined at 0, an hour before, as a list that has
/// been running a while rather than one whose whole roster is seconds old.
const FORMED: u64 = 3_600_000;

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub members: usize,
    /// Each member is linked to between `min_degree` and `max_degree` others.
    pub min_degree: usize,
    pub max_degree: usize,
    pub posts: usize,
    pub post_interval: u64,
    /// Chance that any one message is lost.
    pub loss: f64,
    /// Share of members offline at any time while posts are made.
    pub offline: f64,
    /// Every `churn_interval`, this share of members goes offline and as many come back.
    pub churn_interval: u64,
    pub churn: f64,
    /// One-way latency of a message, uniform in this range (ms).
    pub latency: (u64, u64),
    /// Posts that form the tree, left out of the steady-state figures.
    pub warmup: usize,
    /// After the last post, everyone comes back online and the simulation runs this long more.
    pub settle: u64,
    /// An attachment of this many bytes on the first post after the warm-up.
    pub blob: Option<usize>,
    pub seed: u64,
    pub node: Config,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            members: 200,
            min_degree: 3,
            max_degree: 8,
            posts: 60,
            post_interval: 1_000,
            loss: 0.01,
            offline: 0.2,
            churn_interval: 5_000,
            churn: 0.02,
            latency: (50, 250),
            warmup: 10,
            settle: 240_000,
            blob: None,
            seed: 1,
            node: Config::default(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub members: usize,
    pub posts: usize,
    /// Share of (member, post) pairs held at the end, every member online again.
    pub delivery: f64,
    /// Share of (member, post) pairs held by members online when the post was made, before the
    /// settling phase.
    pub delivery_online: f64,
    /// Steady-state relative message redundancy: payload messages received per member reached,
    /// minus one.
    pub rmr: f64,
    /// Last-delivery hop: the hops of the last member reached, averaged over posts, and the most.
    pub ldh_mean: f64,
    pub ldh_max: u32,
    pub payload_messages: u64,
    pub control_messages: u64,
    pub lost_messages: u64,
    /// Bytes received per member, all messages.
    pub bytes_per_member: f64,
    /// Blob bytes received per member.
    pub blob_bytes_per_member: f64,
    /// Members holding the attachment at the end (when there is one).
    pub blob_holders: usize,
    pub dropped: u64,
    /// Payload that arrived at a member already holding the post.
    pub duplicates: u64,
    pub duplicate_routes: [u64; 3],
    pub edges: usize,
    /// Times members moved to a neighbour nearer the creator.
    pub moved_nearer: u64,
    /// Bytes received, by kind of message (`Wire::kind`).
    pub bytes_by_kind: BTreeMap<&'static str, u64>,
}

enum Action {
    Deliver { from: usize, to: usize, wire: Wire },
    Wake(usize),
    Post(usize),
    Churn,
    Settle,
}

struct Sim {
    cfg: SimConfig,
    rng: ChaCha20Rng,
    nodes: Vec<ListNode>,
    ids: Vec<MemberId>,
    index: HashMap<MemberId, usize>,
    online: Vec<bool>,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    /// What is due, by the sequence number its queue entry carries (removed when done).
    actions: HashMap<u64, Action>,
    link_clock: HashMap<(usize, usize), u64>,
    wake_at: Vec<u64>,
    seq: u64,
    now: u64,
    posts: Vec<PostId>,
    post_index: HashMap<PostId, usize>,
    online_at_post: Vec<Vec<bool>>,
    payload_received: Vec<u64>,
    ldh: Vec<u32>,
    report: Report,
    blob_bytes: u64,
    blob: Option<crate::post::BlobHash>,
    bytes: u64,
    settling: bool,
}

/// A random connected graph: a random spanning tree (each member linked to one earlier member,
/// who sponsors it), then random links until every member has its drawn degree.
pub fn trust_graph(
    rng: &mut ChaCha20Rng,
    n: usize,
    min: usize,
    max: usize,
) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut adj = vec![Vec::new(); n];
    let mut parent = vec![0; n];
    for i in 1..n {
        let j = rng.gen_range(0..i);
        parent[i] = j;
        adj[i].push(j);
        adj[j].push(i);
    }
    let target: Vec<usize> = (0..n).map(|_| rng.gen_range(min..=max)).collect();
    for i in 0..n {
        let mut tries = 0;
        while adj[i].len() < target[i] && tries < 50 {
            tries += 1;
            let j = rng.gen_range(0..n);
            if j != i && !adj[i].contains(&j) && adj[j].len() < max {
                adj[i].push(j);
                adj[j].push(i);
            }
        }
    }
    (parent, adj)
}

impl Sim {
    fn new(cfg: SimConfig) -> Sim {
        let mut rng = ChaCha20Rng::seed_from_u64(cfg.seed);
        let n = cfg.members;
        let (parent, adj) = trust_graph(&mut rng, n, cfg.min_degree, cfg.max_degree);
        let keys: Vec<SigningKey> = (0..n).map(|_| SigningKey::from_bytes(&rng.gen())).collect();
        let ids: Vec<MemberId> = keys.iter().map(MemberId::of).collect();
        let verified = Arc::new(VerifiedPosts::default());
        let mut creator = ListNode::create(
            cfg.node.clone(),
            keys[0].clone(),
            "simulated list",
            rng.gen(),
            vec![],
            0,
        );
        creator.share_verified(verified.clone());
        let charter = creator.charter().map(Arc::new);
        let mut nodes = vec![creator];
        let mut joins: Vec<(Arc<Post>, PostId)> = Vec::new();
        for i in 1..n {
            let sponsorship = nodes[parent[i]].sponsor(&ids[i]);
            let charter = charter
                .as_deref()
                .cloned()
                .unwrap_or_else(|| unreachable!("the creator holds its charter"));
            let node = ListNode::join(
                cfg.node.clone(),
                keys[i].clone(),
                charter,
                ids[parent[i]],
                sponsorship,
                0,
            );
            let Ok(mut node) = node else {
                unreachable!("a sponsorship made here holds")
            };
            node.share_verified(verified.clone());
            let join = node
                .held_chain(&ids[i])
                .into_iter()
                .next()
                .unwrap_or_else(|| unreachable!("a joined member holds its join"));
            joins.push(join);
            nodes.push(node);
        }
        // Members hold the roster as a sponsor hands it over at join.
        for node in nodes.iter_mut() {
            for (post, id) in &joins {
                node.admit_known(0, post.clone(), *id);
            }
            while node.poll_event().is_some() {}
        }
        let mut online = vec![true; n];
        let offline = (n as f64 * cfg.offline).round() as usize;
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        for &i in order.iter().take(offline) {
            online[i] = false;
        }
        // Members offline at the start left at some time in the hour since the list formed;
        // their state machines saw that time last (it is where they ask to start on return).
        for (i, node) in nodes.iter_mut().enumerate() {
            let left = if online[i] {
                FORMED
            } else {
                rng.gen_range(0..FORMED)
            };
            node.handle_timeout(left);
            while node.poll_transmit().is_some() {}
        }
        let index = ids.iter().enumerate().map(|(i, m)| (*m, i)).collect();
        let mut sim = Sim {
            rng,
            nodes,
            ids,
            index,
            online,
            queue: BinaryHeap::new(),
            actions: HashMap::new(),
            link_clock: HashMap::new(),
            wake_at: vec![u64::MAX; n],
            seq: 0,
            now: FORMED,
            posts: Vec::new(),
            post_index: HashMap::new(),
            online_at_post: Vec::new(),
            payload_received: Vec::new(),
            ldh: Vec::new(),
            report: Report {
                members: n,
                posts: cfg.posts,
                edges: adj.iter().map(Vec::len).sum::<usize>() / 2,
                ..Report::default()
            },
            blob_bytes: 0,
            blob: None,
            bytes: 0,
            settling: false,
            cfg,
        };
        for (i, neighbours) in adj.iter().enumerate() {
            for &j in neighbours {
                let m = sim.ids[j];
                sim.nodes[i].link(m, 0);
            }
            // The links' first exchange of heads is part of forming the list, not measured.
            while sim.nodes[i].poll_transmit().is_some() {}
        }
        for i in 0..n {
            sim.schedule_wake(i);
        }
        for k in 0..sim.cfg.posts {
            let at = FORMED + 1_000 + k as u64 * sim.cfg.post_interval;
            sim.at(at, Action::Post(k));
        }
        let end = FORMED + 1_000 + sim.cfg.posts as u64 * sim.cfg.post_interval;
        let mut t = FORMED + sim.cfg.churn_interval;
        while t < end {
            sim.at(t, Action::Churn);
            t += sim.cfg.churn_interval;
        }
        sim.at(end + 10_000, Action::Settle);
        sim
    }

    fn at(&mut self, time: u64, action: Action) {
        self.seq += 1;
        self.actions.insert(self.seq, action);
        self.queue.push(Reverse((time, self.seq)));
    }

    fn schedule_wake(&mut self, i: usize) {
        let t = self.nodes[i].poll_timeout().max(self.now);
        if t < self.wake_at[i] {
            self.wake_at[i] = t;
            self.at(t, Action::Wake(i));
        }
    }

    fn drain(&mut self, i: usize) {
        while let Some((to, wire)) = self.nodes[i].poll_transmit() {
            let Some(&j) = self.index.get(&to) else {
                continue;
            };
            if self.rng.gen_bool(self.cfg.loss) {
                self.report.lost_messages += 1;
                continue;
            }
            let latency = self.rng.gen_range(self.cfg.latency.0..=self.cfg.latency.1);
            let clock = self.link_clock.entry((i, j)).or_insert(0);
            let arrival = (self.now + latency).max(*clock + 1);
            *clock = arrival;
            self.at(
                arrival,
                Action::Deliver {
                    from: i,
                    to: j,
                    wire,
                },
            );
        }
        while let Some(event) = self.nodes[i].poll_event() {
            if let Event::Delivered { id, hops, .. } = event {
                // Hops of the broadcast itself: deliveries while posts are made, not the
                // catching up of members brought back at the end.
                if let (Some(&k), false) = (self.post_index.get(&id), self.settling) {
                    self.ldh[k] = self.ldh[k].max(hops);
                }
            }
        }
        self.schedule_wake(i);
    }

    fn run(mut self) -> Report {
        let end_time = FORMED
            + 1_000
            + self.cfg.posts as u64 * self.cfg.post_interval
            + 10_000
            + self.cfg.settle;
        while let Some(Reverse((time, seq))) = self.queue.pop() {
            if time > end_time {
                break;
            }
            self.now = time;
            let Some(action) = self.actions.remove(&seq) else {
                continue;
            };
            match action {
                Action::Deliver { from, to, wire } => {
                    if !self.online[to] {
                        self.report.lost_messages += 1;
                        continue;
                    }
                    let len = wire.encoded_len() as u64;
                    self.bytes += len;
                    *self.report.bytes_by_kind.entry(wire.kind()).or_default() += len;
                    match &wire {
                        Wire::Gossip { envelope, .. } => {
                            self.report.payload_messages += 1;
                            let id = envelope.post.id();
                            if let Some(&k) = self.post_index.get(&id) {
                                self.payload_received[k] += 1;
                            }
                        }
                        Wire::Blob(_) => self.blob_bytes += len,
                        _ => self.report.control_messages += 1,
                    }
                    let m = self.ids[from];
                    self.nodes[to].handle(self.now, m, wire);
                    self.drain(to);
                }
                Action::Wake(i) => {
                    if self.wake_at[i] == time {
                        self.wake_at[i] = u64::MAX;
                    }
                    if self.online[i] {
                        self.nodes[i].handle_timeout(self.now);
                        self.drain(i);
                    }
                }
                Action::Post(k) => self.post(k),
                Action::Churn => self.churn(),
                Action::Settle => {
                    self.settling = true;
                    self.measure_online_delivery();
                    for i in 0..self.nodes.len() {
                        if !self.online[i] {
                            self.bring_online(i);
                        }
                    }
                }
            }
        }
        self.finish()
    }

    fn post(&mut self, k: usize) {
        let online: Vec<usize> = (0..self.nodes.len()).filter(|&i| self.online[i]).collect();
        let Some(&author) = online.choose(&mut self.rng) else {
            return;
        };
        let blobs = match self.cfg.blob {
            Some(len) if k == self.cfg.warmup => {
                let mut bytes = vec![0u8; len];
                self.rng.fill(&mut bytes[..]);
                self.blob = Some(crate::post::BlobHash::of(&bytes));
                vec![Arc::from(bytes)]
            }
            _ => Vec::new(),
        };
        let content = format!("post {k}").into_bytes();
        let Ok(id) = self.nodes[author].post(self.now, content, blobs) else {
            return;
        };
        self.post_index.insert(id, self.posts.len());
        self.posts.push(id);
        self.online_at_post.push(self.online.clone());
        self.payload_received.push(0);
        self.ldh.push(0);
        self.drain(author);
    }

    fn churn(&mut self) {
        let k = ((self.nodes.len() as f64) * self.cfg.churn).round() as usize;
        let mut on: Vec<usize> = (0..self.nodes.len()).filter(|&i| self.online[i]).collect();
        let mut off: Vec<usize> = (0..self.nodes.len()).filter(|&i| !self.online[i]).collect();
        on.shuffle(&mut self.rng);
        off.shuffle(&mut self.rng);
        for &i in on.iter().take(k) {
            self.online[i] = false;
        }
        for &i in off.iter().take(k) {
            self.bring_online(i);
        }
    }

    fn bring_online(&mut self, i: usize) {
        self.online[i] = true;
        self.nodes[i].resume(self.now);
        self.drain(i);
    }

    fn measure_online_delivery(&mut self) {
        let (mut held, mut total) = (0u64, 0u64);
        for (k, id) in self.posts.iter().enumerate() {
            for (i, node) in self.nodes.iter().enumerate() {
                if self.online_at_post[k][i] {
                    total += 1;
                    held += u64::from(node.holds(id));
                }
            }
        }
        self.report.delivery_online = held as f64 / total.max(1) as f64;
    }

    fn finish(mut self) -> Report {
        let n = self.nodes.len();
        let mut held = 0u64;
        for id in &self.posts {
            held += self.nodes.iter().filter(|node| node.holds(id)).count() as u64;
        }
        let total = (self.posts.len() * n) as u64;
        self.report.delivery = held as f64 / total.max(1) as f64;
        self.report.posts = self.posts.len();
        let measured = self.cfg.warmup.min(self.posts.len())..self.posts.len();
        let received: u64 = self.payload_received[measured.clone()].iter().sum();
        let reached = (measured.len() * (n - 1)) as u64;
        self.report.rmr = received as f64 / reached.max(1) as f64 - 1.0;
        let ldh = &self.ldh[measured];
        self.report.ldh_mean =
            ldh.iter().map(|&h| f64::from(h)).sum::<f64>() / ldh.len().max(1) as f64;
        self.report.ldh_max = ldh.iter().copied().max().unwrap_or(0);
        self.report.bytes_per_member = self.bytes as f64 / n as f64;
        if let Some(hash) = self.blob {
            self.report.blob_holders = self
                .nodes
                .iter()
                .filter(|node| node.blob(&hash).is_some())
                .count();
        }
        self.report.blob_bytes_per_member = self.blob_bytes as f64 / n as f64;
        self.report.dropped = self
            .nodes
            .iter()
            .map(|node| node.counters().dropped_total())
            .sum();
        self.report.moved_nearer = self.nodes.iter().map(|n| n.counters().moved_nearer).sum();
        self.report.duplicates = self
            .nodes
            .iter()
            .map(|node| node.counters().duplicates)
            .sum();
        for node in &self.nodes {
            for (sum, n) in self
                .report
                .duplicate_routes
                .iter_mut()
                .zip(node.counters().duplicate_routes)
            {
                *sum += n;
            }
        }
        self.report
    }
}

/// Runs one simulation.
pub fn run(cfg: SimConfig) -> Report {
    Sim::new(cfg).run()
}

impl ListNode {
    /// The posts of one author's chain that this member holds, in order.
    pub fn held_chain(&self, author: &MemberId) -> Vec<(Arc<Post>, PostId)> {
        let Some(chain) = self.chains.get(author) else {
            return Vec::new();
        };
        chain
            .posts
            .iter()
            .filter_map(|id| self.held.get(id).map(|h| (h.post.clone(), *id)))
            .collect()
    }
}
