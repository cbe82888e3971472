//! What a member's state machine reports: what happened, why a message was dropped, its
//! counters, and why a call was refused.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::post::{BlobHash, MemberId, PostId, MAX_BLOBS, MAX_CONTENT};

/// Why a message from a neighbour was dropped. Every drop is counted and nothing dropped is
/// passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    NotNeighbour,
    Malformed,
    WrongList,
    BadCountersignature,
    BadSignature,
    NotMember,
    NotModerator,
    RemovedAuthor,
    ChainFork,
    TimeWentBack,
    FromTheFuture,
    AuthorRateLimited,
    NeighbourRateLimited,
    Replay,
    ParkedFull,
    UnwantedBlob,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A post was accepted (its chain complete up to it) and passed on.
    Delivered {
        id: PostId,
        author: MemberId,
        seq: u64,
        hops: u32,
    },
    MemberJoined(MemberId),
    MemberRemoved(MemberId),
    MemberLeft(MemberId),
    /// A link was closed because its member left or was removed.
    LinkClosed(MemberId),
    BlobReceived(BlobHash),
    /// A neighbour asked for a blob this member keeps at rest (`keep_blobs`): the host sends it
    /// (`Wire::Blob`) from where it keeps it.
    BlobAsked {
        by: MemberId,
        hash: BlobHash,
    },
    Dropped {
        from: MemberId,
        reason: DropReason,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub delivered: u64,
    pub duplicates: u64,
    /// Duplicates by how they were sent: pushed, answering a graft, answering a fetch or want.
    pub duplicate_routes: [u64; 3],
    pub dropped: BTreeMap<DropReason, u64>,
    /// Times this member moved to a neighbour nearer the list's creator.
    pub moved_nearer: u64,
}

impl Counters {
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped.get(&reason).copied().unwrap_or(0)
    }
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}

/// Why this member could not join or post.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ListError {
    #[error("the invitation's charter is not a valid charter of this list")]
    BadCharter,
    #[error("the sponsorship does not hold for this member")]
    BadSponsorship,
    #[error("content too large: {0} bytes, at most {MAX_CONTENT}")]
    TooLarge(usize),
    #[error("too many attachments: {0}, at most {MAX_BLOBS}")]
    TooManyBlobs(usize),
    #[error("an attachment of {len} bytes; this list carries at most {max}")]
    BlobTooLarge { len: u64, max: u64 },
    #[error(
        "posting too fast: the list accepts {burst} posts at once, then one every {interval} ms"
    )]
    RateLimited { burst: u64, interval: u64 },
    #[error("this member has left the list or was removed")]
    NotActive,
    #[error("only a moderator can remove a member, and not the list's creator")]
    NotModerator,
}
