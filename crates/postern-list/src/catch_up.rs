//! Catching up without listing every author: heads (how far a member holds each chain), their
//! digest exchanged now and then, and `Since` from a member back from an absence.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::node::{ListNode, Standing};
use crate::post::{MemberId, PostId};
use crate::wire::{Announce, Head, Wire, MAX_HEADS, NO_DEPTH};

const DIGEST_TAG: &[u8] = b"postern-list heads digest v1\0";

impl ListNode {
    /// This member's heads: how far it holds each chain (at most `MAX_HEADS` of them).
    pub(crate) fn heads(&self) -> Vec<Head> {
        self.chains
            .iter()
            .take(MAX_HEADS)
            .map(|(author, c)| Head {
                author: *author,
                next: c.posts.len() as u64,
            })
            .collect()
    }

    /// How many of a chain's posts are timed (by the author's clock, non-decreasing along the
    /// chain) before `time`, or at it with `inclusive`.
    fn timed_before(&self, chain: &[PostId], time: u64, inclusive: bool) -> usize {
        chain.partition_point(|id| {
            self.held
                .get(id)
                .is_some_and(|h| h.post.time < time || (inclusive && h.post.time == time))
        })
    }

    /// A digest of this member's heads counting only posts timed at or before `cutoff`.
    pub(crate) fn digest(&self, cutoff: u64) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(DIGEST_TAG);
        for (author, chain) in self.chains.iter().take(MAX_HEADS) {
            let n = self.timed_before(&chain.posts, cutoff, true);
            if n > 0 {
                h.update(author.0);
                h.update((n as u64).to_be_bytes());
            }
        }
        h.finalize().into()
    }

    /// A neighbour's digest: if this member's differs, it sends its heads, and the neighbour
    /// announces what this member lacks (and answers with its own heads if it lacks something).
    pub(crate) fn on_digest(&mut self, from: MemberId, cutoff: u64, digest: &[u8; 32]) {
        if self.digest(cutoff) != *digest {
            let heads = self.heads();
            self.send(from, Wire::Heads { heads, reply: true });
        }
    }

    /// A neighbour back from an absence: announces every post timed from `after` on, or, if
    /// that is more than one batch, sends this member's heads instead (the exchange of heads
    /// then finds what it lacks, chain by chain).
    pub(crate) fn on_since(&mut self, from: MemberId, after: u64) {
        let mut announces = Vec::new();
        for (author, chain) in &self.chains {
            let start = self.timed_before(&chain.posts, after, false);
            for (seq, id) in chain.posts.iter().enumerate().skip(start) {
                if announces.len() >= self.config.repair_batch {
                    let heads = self.heads();
                    self.send(from, Wire::Heads { heads, reply: true });
                    return;
                }
                let hops = self.held.get(id).map_or(0, |h| h.hops);
                announces.push(Announce {
                    id: *id,
                    author: *author,
                    seq: seq as u64,
                    hops,
                });
            }
        }
        if !announces.is_empty() {
            self.send(
                from,
                Wire::IHave {
                    announces,
                    sync: true,
                    depth: NO_DEPTH,
                },
            );
        }
    }

    /// Heads from a neighbour: announces what it lacks, for it to fetch at once.
    pub(crate) fn on_heads(&mut self, from: MemberId, heads: Vec<Head>, reply: bool) {
        let theirs: BTreeMap<MemberId, u64> = heads.iter().map(|h| (h.author, h.next)).collect();
        let mut announces = Vec::new();
        'chains: for (author, chain) in &self.chains {
            let start = theirs.get(author).copied().unwrap_or(0) as usize;
            for (seq, id) in chain.posts.iter().enumerate().skip(start) {
                if announces.len() >= self.config.repair_batch {
                    break 'chains;
                }
                let hops = self.held.get(id).map_or(0, |h| h.hops);
                announces.push(Announce {
                    id: *id,
                    author: *author,
                    seq: seq as u64,
                    hops,
                });
            }
        }
        if !announces.is_empty() {
            self.send(
                from,
                Wire::IHave {
                    announces,
                    sync: true,
                    depth: NO_DEPTH,
                },
            );
        }
        let they_have_more = theirs.iter().any(|(author, next)| {
            *next > self.chains.get(author).map_or(0, |c| c.posts.len() as u64)
                && !matches!(
                    self.members.get(author),
                    Some(Standing::Removed | Standing::Left)
                )
        });
        if reply && they_have_more {
            let heads = self.heads();
            self.send(
                from,
                Wire::Heads {
                    heads,
                    reply: false,
                },
            );
        }
    }
}
