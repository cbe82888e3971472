//! A few members on fixed links, driven by hand: every message delivered at once, in order,
//! unless a test takes it out. Keys are fixed, so runs repeat exactly.
#![allow(dead_code)]

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use postern_list::{Body, Config, Envelope, ListNode, MemberId, Post, PostId, Route, Wire};

pub struct Net {
    pub nodes: Vec<ListNode>,
    pub now: u64,
    /// Every message delivered, in order: (from, to, message).
    pub log: Vec<(usize, usize, Wire)>,
}

pub fn key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[i as u8 + 1; 32])
}

pub fn id(i: usize) -> MemberId {
    MemberId::of(&key(i))
}

impl Net {
    /// Member 0 creates the list and sponsors members 1..n; then the links are made and the
    /// members exchange heads until every one knows every join.
    pub fn new(n: usize, links: &[(usize, usize)], config: Config) -> Net {
        let creator = ListNode::create(config.clone(), key(0), "test list", [7; 16], vec![], 1_000);
        let charter = creator.charter().expect("the creator holds its charter");
        let mut nodes = vec![creator];
        for i in 1..n {
            let sponsorship = nodes[0].sponsor(&id(i));
            let node = ListNode::join(
                config.clone(),
                key(i),
                charter.clone(),
                id(0),
                sponsorship,
                1_000,
            );
            nodes.push(node.expect("sponsored by the creator"));
        }
        let mut net = Net {
            nodes,
            now: 1_000,
            log: Vec::new(),
        };
        for &(a, b) in links {
            net.nodes[a].link(id(b), 1_000);
            net.nodes[b].link(id(a), 1_000);
        }
        net.pump();
        for node in &net.nodes {
            assert_eq!(node.members().len(), n, "every member knows every join");
        }
        net.log.clear();
        net.clear_events();
        net
    }

    pub fn index(&self, m: &MemberId) -> Option<usize> {
        self.nodes.iter().position(|n| n.me() == *m)
    }

    /// Delivers everything queued, and what that causes, until nothing is left.
    pub fn pump(&mut self) {
        self.pump_without(None);
    }

    /// `pump`, except that the first post pushed from member `from` to member `to` is lost on
    /// the way.
    pub fn pump_losing(&mut self, from: usize, to: usize) {
        let mut lost = false;
        for _ in 0..10_000 {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                while let Some((dest, wire)) = self.nodes[i].poll_transmit() {
                    moved = true;
                    let Some(j) = self.index(&dest) else { continue };
                    if !lost && (i, j) == (from, to) && wire.is_payload() {
                        lost = true;
                        continue;
                    }
                    self.now += 1;
                    self.log.push((i, j, wire.clone()));
                    let m = self.nodes[i].me();
                    self.nodes[j].handle(self.now, m, wire);
                }
            }
            if !moved {
                assert!(lost, "nothing was pushed from {from} to {to}");
                return;
            }
        }
        panic!("messages never stopped");
    }

    /// `pump`, member `offline` (if any) neither sending nor receiving: what it would have
    /// sent is not, and what is sent to it is lost.
    pub fn pump_without(&mut self, offline: Option<usize>) {
        for _ in 0..10_000 {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                if Some(i) == offline {
                    continue;
                }
                while let Some((to, wire)) = self.nodes[i].poll_transmit() {
                    moved = true;
                    let Some(j) = self.index(&to) else { continue };
                    if Some(j) == offline {
                        continue;
                    }
                    self.now += 1;
                    self.log.push((i, j, wire.clone()));
                    let from = self.nodes[i].me();
                    self.nodes[j].handle(self.now, from, wire);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("messages never stopped");
    }

    /// Lets `ms` pass, with every member's timers.
    pub fn wait(&mut self, ms: u64) {
        self.wait_without(ms, None);
    }

    /// `wait`, member `offline` (if any) away: its timers do not run and `pump_without` holds.
    pub fn wait_without(&mut self, ms: u64, offline: Option<usize>) {
        let end = self.now + ms;
        while self.now < end {
            self.now = (self.now + 500).min(end);
            for (i, node) in self.nodes.iter_mut().enumerate() {
                if Some(i) != offline {
                    node.handle_timeout(self.now);
                }
            }
            self.pump_without(offline);
        }
    }

    pub fn inject(&mut self, from: usize, to: usize, wire: Wire) {
        self.now += 1;
        let m = self.nodes[from].me();
        self.nodes[to].handle(self.now, m, wire);
        self.pump();
    }

    pub fn clear_events(&mut self) {
        for node in &mut self.nodes {
            while node.poll_event().is_some() {}
        }
    }

    /// Posts this member's copy of a post carries to `to`, countersigned by `from`.
    pub fn envelope(&self, from: usize, to: usize, post: Post) -> Wire {
        let post = Arc::new(post);
        let id = post.id();
        Wire::Gossip {
            envelope: Envelope::countersign(&key(from), post, &id, 1, id_of(&self.nodes[to])),
            route: Route::Push,
            depth: postern_list::wire::NO_DEPTH,
        }
    }

    /// Payload messages that carried `post` after the log was last cleared.
    pub fn carried(&self, post: &PostId) -> Vec<(usize, usize)> {
        self.log
            .iter()
            .filter_map(|(a, b, w)| match w {
                Wire::Gossip { envelope, .. } if envelope.post.id() == *post => Some((*a, *b)),
                _ => None,
            })
            .collect()
    }

    /// The last post of `author`'s chain as member `at` holds it: (seq, id).
    pub fn head(&self, at: usize, author: usize) -> (u64, PostId) {
        let chain = self.nodes[at].held_chain(&id(author));
        let (post, pid) = chain.last().expect("a chain");
        (post.seq, *pid)
    }

    /// A text post of `author`, signed by hand (bypassing the author's own node and its limits).
    pub fn forge_text(
        &self,
        author: usize,
        seq: u64,
        prev: Option<PostId>,
        time: u64,
        text: &str,
    ) -> Post {
        let list = self.nodes[0].list();
        Post::sign(
            &key(author),
            list,
            seq,
            prev,
            time,
            Body::Text {
                content: text.as_bytes().to_vec(),
                blobs: vec![],
            },
        )
    }
}

fn id_of(node: &ListNode) -> MemberId {
    node.me()
}
