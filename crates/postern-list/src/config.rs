//! How a member's state machine behaves: how posts spread, its timers and its limits.

use crate::post::MAX_BLOB;

/// How posts spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Eager push along a tree that forms itself (duplicates prune a link), lazy announcements
    /// on every other link, a graft when an announced post does not arrive in time.
    Plumtree,
    /// Every post to every neighbour, blobs inline: the baseline the benchmark compares with.
    Flood,
}

/// Timers (ms) and limits. The defaults suit the simulator's latencies; a node over Tor uses
/// seconds where these use hundreds of milliseconds.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// How long an announced post may take to arrive by eager push before the announcer is grafted.
    pub graft_timeout: u64,
    /// A post announced with this many hops fewer than the copy that came over the tree moves
    /// the tree onto the shorter path (Plumtree's optimisation); 0 turns it off.
    pub shortcut: u32,
    /// How long a graft, fetch or want may take before the next announcer is asked.
    pub retry_timeout: u64,
    /// How often one neighbour (in turn) is sent a digest of this member's heads.
    pub sync_interval: u64,
    /// How long a post normally takes to reach every member: digests count only posts older
    /// than this, and a member back from an absence asks for posts from this long before it
    /// left.
    pub settle: u64,
    pub blob_timeout: u64,
    /// Posts an author may make at once, then one per `author_interval` of the author's clock.
    pub author_burst: u64,
    pub author_interval: u64,
    /// Messages one neighbour may send per `neighbour_window`.
    pub neighbour_budget: u32,
    pub neighbour_window: u64,
    /// Posts held back waiting for a predecessor or a sponsor.
    pub max_parked: usize,
    /// How far ahead of this member's clock an author's clock may be.
    pub max_skew: u64,
    /// Most posts announced or sent in answer to one heads, want or fetch.
    pub repair_batch: usize,
    /// The largest blob this member posts, asks for or takes (at most `MAX_BLOB`): the host's
    /// transport must carry it in one message. A post referencing a larger one is kept, its
    /// blob not wanted (asking could never succeed).
    pub max_blob: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            mode: Mode::Plumtree,
            graft_timeout: 5_000,
            shortcut: 0,
            retry_timeout: 1_500,
            sync_interval: 60_000,
            settle: 30_000,
            blob_timeout: 60_000,
            author_burst: 20,
            author_interval: 2_000,
            neighbour_budget: 5_000,
            neighbour_window: 60_000,
            max_parked: 512,
            max_skew: 300_000,
            repair_batch: 512,
            max_blob: MAX_BLOB,
        }
    }
}
