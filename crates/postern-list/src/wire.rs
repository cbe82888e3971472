//! What neighbours send each other. Every message travels as mail over an authenticated link
//! (the neighbour's onion service and OpenPGP key), so the sender of a wire message is known;
//! posts inside carry their own author signature and the forwarder's countersignature.

use std::sync::Arc;

use crate::codec::{DecodeError, Reader, Writer};
use crate::post::{BlobHash, Envelope, MemberId, Post, PostId, MAX_BLOB};

/// Most announcements, grafts or heads in one message.
pub const MAX_ITEMS: usize = 4096;
/// The depth of a member that does not know its way to the creator.
pub const NO_DEPTH: u32 = u32::MAX;
/// The depth a member says to the neighbour it counts its own from: "my way to the creator is
/// through you" (so that the neighbour never counts its way through this member).
pub const THROUGH_YOU: u32 = u32::MAX - 1;

/// Most heads in one message: one per author, so a list's size is bounded by it (2.6 MB).
pub const MAX_HEADS: usize = 65_536;

/// One post announced without its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announce {
    pub id: PostId,
    pub author: MemberId,
    pub seq: u64,
    /// Hops the announcer's copy had crossed.
    pub hops: u32,
}

/// Why a post's payload was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Eager push along the tree: a duplicate prunes the link.
    Push,
    /// The answer to a graft: the receiver passes it on down the tree as if pushed, and a
    /// duplicate does not prune (the graft was a guess).
    Graft,
    /// The answer to a fetch or a want (catching up): the receiver only announces it on, since
    /// its neighbours most likely hold it already.
    Repair,
}

/// How far a member holds one author's chain: every post below `next`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub author: MemberId,
    pub next: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    /// A post with its payload, and why it was sent; `depth` is the sender's (see `IHave`).
    Gossip {
        envelope: Envelope,
        route: Route,
        depth: u32,
    },
    /// Posts the sender holds: the lazy push on links off the tree, or (`sync`) the answer to
    /// `Heads`, which the receiver fetches at once instead of waiting for an eager copy.
    /// `depth` is the sender's distance to the list's creator along the tree (`NO_DEPTH`:
    /// unknown; `THROUGH_YOU`), which draws the tree towards the shortest paths to one fixed
    /// member.
    IHave {
        announces: Vec<Announce>,
        sync: bool,
        depth: u32,
    },
    /// "Send me these, and push to me from now on": the link joins the tree.
    Graft(Vec<PostId>),
    /// "Send me these" without changing the tree (repair after being offline).
    Fetch(Vec<PostId>),
    /// "I had this already from someone else": the link leaves the tree.
    Prune,
    /// How far the sender holds each chain (after coming back online, and now and then);
    /// with `reply`, the receiver answers with its own heads if it lacks something.
    Heads { heads: Vec<Head>, reply: bool },
    /// A digest of the sender's heads counting only posts timed (by their authors) at or before
    /// `cutoff`, old enough to have reached every member: the periodic check between
    /// neighbours. Equal on both sides, nothing more is said; different, the receiver answers
    /// with its heads.
    Digest { cutoff: u64, digest: [u8; 32] },
    /// "Announce to me every post you hold timed from `after` on": a member back from an
    /// absence asks for what came meanwhile without listing every chain. More than one batch,
    /// the receiver answers with its heads instead.
    Since { after: u64 },
    /// A gap in a chain: "send me `author`'s posts from `from` on".
    Want { author: MemberId, from: u64 },
    /// "Send me this blob" (once per link: the receiver asks one neighbour at a time).
    BlobWant(BlobHash),
    /// A blob's bytes; the receiver takes it only if it asked for it and the hash matches.
    Blob(Arc<[u8]>),
}

impl Wire {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            Wire::Gossip {
                envelope,
                route,
                depth,
            } => {
                w.u8(1)
                    .u8(*route as u8)
                    .u32(*depth)
                    .u32(envelope.hops)
                    .fixed(&envelope.forwarder.0);
                w.fixed(&envelope.to.0).fixed(&envelope.countersignature);
                envelope.post.encode_into(&mut w);
            }
            Wire::IHave {
                announces,
                sync,
                depth,
            } => {
                w.u8(2)
                    .u8(u8::from(*sync))
                    .u32(*depth)
                    .u32(announces.len() as u32);
                for a in announces {
                    w.fixed(&a.id.0).fixed(&a.author.0).u64(a.seq).u32(a.hops);
                }
            }
            Wire::Graft(ids) | Wire::Fetch(ids) => {
                w.u8(if matches!(self, Wire::Graft(_)) { 3 } else { 4 })
                    .u32(ids.len() as u32);
                for id in ids {
                    w.fixed(&id.0);
                }
            }
            Wire::Prune => {
                w.u8(5);
            }
            Wire::Heads { heads, reply } => {
                w.u8(6).u8(u8::from(*reply)).u32(heads.len() as u32);
                for h in heads {
                    w.fixed(&h.author.0).u64(h.next);
                }
            }
            Wire::Want { author, from } => {
                w.u8(7).fixed(&author.0).u64(*from);
            }
            Wire::BlobWant(hash) => {
                w.u8(8).fixed(&hash.0);
            }
            Wire::Blob(bytes) => {
                w.u8(9).bytes(bytes);
            }
            Wire::Digest { cutoff, digest } => {
                w.u8(10).u64(*cutoff).fixed(digest);
            }
            Wire::Since { after } => {
                w.u8(11).u64(*after);
            }
        }
        w.0
    }

    /// Bytes on the wire, without building them for a blob.
    pub fn encoded_len(&self) -> usize {
        match self {
            Wire::Blob(bytes) => 5 + bytes.len(),
            other => other.encode().len(),
        }
    }

    /// What kind of message this is, for counting.
    pub fn kind(&self) -> &'static str {
        match self {
            Wire::Gossip { .. } => "gossip",
            Wire::IHave { sync: false, .. } => "ihave",
            Wire::IHave { sync: true, .. } => "ihave-sync",
            Wire::Graft(_) => "graft",
            Wire::Fetch(_) => "fetch",
            Wire::Prune => "prune",
            Wire::Heads { .. } => "heads",
            Wire::Digest { .. } => "digest",
            Wire::Since { .. } => "since",
            Wire::Want { .. } => "want",
            Wire::BlobWant(_) => "blob-want",
            Wire::Blob(_) => "blob",
        }
    }

    /// Whether this message carries a post's payload (what RMR counts).
    pub fn is_payload(&self) -> bool {
        matches!(self, Wire::Gossip { .. })
    }

    pub fn decode(bytes: &[u8]) -> Result<Wire, DecodeError> {
        let mut r = Reader::new(bytes);
        let flag = |r: &mut Reader<'_>, what| -> Result<bool, DecodeError> {
            match r.u8(what)? {
                0 => Ok(false),
                1 => Ok(true),
                tag => Err(DecodeError::UnknownTag { what, tag }),
            }
        };
        let wire = match r.u8("wire")? {
            1 => {
                let route = match r.u8("route")? {
                    0 => Route::Push,
                    1 => Route::Graft,
                    2 => Route::Repair,
                    tag => return Err(DecodeError::UnknownTag { what: "route", tag }),
                };
                let depth = r.u32("depth")?;
                let hops = r.u32("hops")?;
                let forwarder = MemberId(r.array("forwarder")?);
                let to = MemberId(r.array("to")?);
                let countersignature = r.array("countersignature")?;
                let post = Arc::new(Post::decode_from(&mut r)?);
                Wire::Gossip {
                    envelope: Envelope {
                        post,
                        hops,
                        forwarder,
                        to,
                        countersignature,
                    },
                    route,
                    depth,
                }
            }
            2 => {
                let sync = flag(&mut r, "sync")?;
                let depth = r.u32("depth")?;
                let n = r.count(MAX_ITEMS, 76, "announces")?;
                let mut announces = Vec::with_capacity(n);
                for _ in 0..n {
                    announces.push(Announce {
                        id: PostId(r.array("id")?),
                        author: MemberId(r.array("author")?),
                        seq: r.u64("seq")?,
                        hops: r.u32("hops")?,
                    });
                }
                Wire::IHave {
                    announces,
                    sync,
                    depth,
                }
            }
            tag @ (3 | 4) => {
                let n = r.count(MAX_ITEMS, 32, "ids")?;
                let mut ids = Vec::with_capacity(n);
                for _ in 0..n {
                    ids.push(PostId(r.array("id")?));
                }
                if tag == 3 {
                    Wire::Graft(ids)
                } else {
                    Wire::Fetch(ids)
                }
            }
            5 => Wire::Prune,
            6 => {
                let reply = flag(&mut r, "reply")?;
                let n = r.count(MAX_HEADS, 40, "heads")?;
                let mut heads = Vec::with_capacity(n);
                for _ in 0..n {
                    heads.push(Head {
                        author: MemberId(r.array("author")?),
                        next: r.u64("next")?,
                    });
                }
                Wire::Heads { heads, reply }
            }
            7 => Wire::Want {
                author: MemberId(r.array("author")?),
                from: r.u64("from")?,
            },
            8 => Wire::BlobWant(BlobHash(r.array("blob hash")?)),
            9 => Wire::Blob(Arc::from(r.bytes(MAX_BLOB as usize, "blob")?)),
            10 => Wire::Digest {
                cutoff: r.u64("cutoff")?,
                digest: r.array("digest")?,
            },
            11 => Wire::Since {
                after: r.u64("after")?,
            },
            tag => return Err(DecodeError::UnknownTag { what: "wire", tag }),
        };
        r.finish()?;
        Ok(wire)
    }
}
