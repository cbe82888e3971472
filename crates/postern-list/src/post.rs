//! Posts (what an author signs) and envelopes (a post countersigned by the neighbour that passes
//! it on, for one next member).

use std::fmt;
use std::sync::Arc;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::codec::{DecodeError, Reader, Writer};

/// Largest content of one post (the MIME message); larger files travel as blobs.
pub const MAX_CONTENT: usize = 256 * 1024;
/// Most blobs one post may reference.
pub const MAX_BLOBS: usize = 16;
/// Largest blob.
pub const MAX_BLOB: u64 = 64 * 1024 * 1024;
/// Longest list name, in bytes.
pub const MAX_NAME: usize = 200;
/// Most moderators a charter may name besides the creator.
pub const MAX_MODERATORS: usize = 16;

const POST_TAG: &[u8] = b"postern-list post v1\0";
const FORWARD_TAG: &[u8] = b"postern-list forward v1\0";
const SPONSOR_TAG: &[u8] = b"postern-list sponsor v1\0";
const CHARTER_TAG: &[u8] = b"postern-list charter v1\0";

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; 32]);

        impl fmt::Debug for $name {
            // Only a prefix: logs never carry whole keys.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:02x}{:02x}{:02x}{:02x}…)"),
                    self.0[0], self.0[1], self.0[2], self.0[3])
            }
        }
    };
}

id_type!(
    /// A list: the hash of its charter (creator's list key, name, nonce).
    ListId
);
id_type!(
    /// A member of one list: the public half of the member's key for that list only, so that a
    /// member's lists cannot be linked by key, and leaving revokes it.
    MemberId
);
id_type!(
    /// A post: the SHA-256 of its signed encoding.
    PostId
);
id_type!(
    /// A blob (a large attachment): the SHA-256 of its bytes.
    BlobHash
);

impl MemberId {
    pub fn of(key: &SigningKey) -> MemberId {
        MemberId(key.verifying_key().to_bytes())
    }
    fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        match VerifyingKey::from_bytes(&self.0) {
            Ok(key) => key
                .verify_strict(message, &Signature::from_bytes(signature))
                .is_ok(),
            Err(_) => false,
        }
    }
}

impl BlobHash {
    pub fn of(bytes: &[u8]) -> BlobHash {
        BlobHash(Sha256::digest(bytes).into())
    }
}

impl ListId {
    /// The id a charter with these fields must have.
    pub fn for_charter(creator: &MemberId, name: &str, nonce: &[u8; 16]) -> ListId {
        let mut h = Sha256::new();
        h.update(CHARTER_TAG);
        h.update(creator.0);
        h.update((name.len() as u32).to_be_bytes());
        h.update(name.as_bytes());
        h.update(nonce);
        ListId(h.finalize().into())
    }
}

/// A large attachment, referenced by content hash; its bytes travel once per link on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRef {
    pub hash: BlobHash,
    pub len: u64,
}

/// What a post says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The creator's first post: the list's name and moderators; its fields hash to the list id.
    Charter {
        name: String,
        nonce: [u8; 16],
        moderators: Vec<MemberId>,
    },
    /// A member's first post: the member key, sponsored (signed) by the member who invited it.
    Join {
        sponsor: MemberId,
        sponsorship: [u8; 64],
    },
    /// A message to the list (a MIME message) with the blobs it references.
    Text {
        content: Vec<u8>,
        blobs: Vec<BlobRef>,
    },
    /// A moderator removes a member: nobody accepts the member's later posts or keeps a link.
    Remove { member: MemberId },
    /// The author leaves: the author's list key is revoked, nothing signed by it is accepted
    /// after this post, and nobody sends to it.
    Leave,
}

/// A signed post: one link of its author's hash chain (`seq`, `prev`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub list: ListId,
    pub author: MemberId,
    pub seq: u64,
    /// The id of the author's previous post; `None` only at `seq` 0.
    pub prev: Option<PostId>,
    /// The author's clock (ms), non-decreasing along the chain; rate limits are counted on it.
    pub time: u64,
    pub body: Body,
    pub signature: [u8; 64],
}

impl Post {
    pub fn sign(
        key: &SigningKey,
        list: ListId,
        seq: u64,
        prev: Option<PostId>,
        time: u64,
        body: Body,
    ) -> Post {
        let mut post = Post {
            list,
            author: MemberId::of(key),
            seq,
            prev,
            time,
            body,
            signature: [0; 64],
        };
        post.signature = key.sign(&post.signed_bytes()).to_bytes();
        post
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.fixed(POST_TAG);
        self.encode_fields(&mut w);
        w.0
    }

    fn encode_fields(&self, w: &mut Writer) {
        w.fixed(&self.list.0).fixed(&self.author.0).u64(self.seq);
        match &self.prev {
            None => w.u8(0),
            Some(p) => w.u8(1).fixed(&p.0),
        };
        w.u64(self.time);
        match &self.body {
            Body::Charter {
                name,
                nonce,
                moderators,
            } => {
                w.u8(1)
                    .bytes(name.as_bytes())
                    .fixed(nonce)
                    .u32(moderators.len() as u32);
                for m in moderators {
                    w.fixed(&m.0);
                }
            }
            Body::Join {
                sponsor,
                sponsorship,
            } => {
                w.u8(2).fixed(&sponsor.0).fixed(sponsorship);
            }
            Body::Text { content, blobs } => {
                w.u8(3).bytes(content).u32(blobs.len() as u32);
                for b in blobs {
                    w.fixed(&b.hash.0).u64(b.len);
                }
            }
            Body::Remove { member } => {
                w.u8(4).fixed(&member.0);
            }
            Body::Leave => {
                w.u8(5);
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        self.encode_into(&mut w);
        w.0
    }

    pub(crate) fn encode_into(&self, w: &mut Writer) {
        self.encode_fields(w);
        w.fixed(&self.signature);
    }

    pub fn encoded_len(&self) -> usize {
        self.encode().len()
    }

    pub fn id(&self) -> PostId {
        PostId(Sha256::digest(self.encode()).into())
    }

    /// Whether the author's signature holds, and for a `Join` the sponsor's signature over
    /// the author's key too (whether the sponsor is a member is the list's state, checked there).
    pub fn verify(&self) -> bool {
        if !self.author.verify(&self.signed_bytes(), &self.signature) {
            return false;
        }
        match &self.body {
            Body::Join {
                sponsor,
                sponsorship,
            } => sponsorship_holds(sponsor, &self.list, &self.author, sponsorship),
            _ => true,
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Post, DecodeError> {
        let mut r = Reader::new(bytes);
        let post = Post::decode_from(&mut r)?;
        r.finish()?;
        Ok(post)
    }

    pub(crate) fn decode_from(r: &mut Reader<'_>) -> Result<Post, DecodeError> {
        let list = ListId(r.array("list")?);
        let author = MemberId(r.array("author")?);
        let seq = r.u64("seq")?;
        let prev = match r.u8("prev")? {
            0 => None,
            1 => Some(PostId(r.array("prev")?)),
            tag => return Err(DecodeError::UnknownTag { what: "prev", tag }),
        };
        let time = r.u64("time")?;
        let body = match r.u8("body")? {
            1 => {
                let name = r.bytes(MAX_NAME, "name")?;
                let name =
                    String::from_utf8(name.to_vec()).map_err(|_| DecodeError::NotUtf8("name"))?;
                let nonce = r.array("nonce")?;
                let n = r.count(MAX_MODERATORS, 32, "moderators")?;
                let mut moderators = Vec::with_capacity(n);
                for _ in 0..n {
                    moderators.push(MemberId(r.array("moderator")?));
                }
                Body::Charter {
                    name,
                    nonce,
                    moderators,
                }
            }
            2 => Body::Join {
                sponsor: MemberId(r.array("sponsor")?),
                sponsorship: r.array("sponsorship")?,
            },
            3 => {
                let content = r.bytes(MAX_CONTENT, "content")?.to_vec();
                let n = r.count(MAX_BLOBS, 40, "blobs")?;
                let mut blobs = Vec::with_capacity(n);
                for _ in 0..n {
                    let hash = BlobHash(r.array("blob hash")?);
                    let len = r.u64("blob length")?;
                    if len > MAX_BLOB {
                        return Err(DecodeError::TooLong {
                            what: "blob",
                            len: len as usize,
                            max: MAX_BLOB as usize,
                        });
                    }
                    blobs.push(BlobRef { hash, len });
                }
                Body::Text { content, blobs }
            }
            4 => Body::Remove {
                member: MemberId(r.array("member")?),
            },
            5 => Body::Leave,
            tag => return Err(DecodeError::UnknownTag { what: "body", tag }),
        };
        let signature = r.array("signature")?;
        Ok(Post {
            list,
            author,
            seq,
            prev,
            time,
            body,
            signature,
        })
    }
}

/// The sponsor's signature admitting `member` to `list` (carried in the member's `Join`).
pub fn sponsor(key: &SigningKey, list: &ListId, member: &MemberId) -> [u8; 64] {
    key.sign(&sponsorship_bytes(list, member)).to_bytes()
}

pub(crate) fn sponsorship_holds(
    sponsor: &MemberId,
    list: &ListId,
    member: &MemberId,
    sig: &[u8; 64],
) -> bool {
    sponsor.verify(&sponsorship_bytes(list, member), sig)
}

fn sponsorship_bytes(list: &ListId, member: &MemberId) -> Vec<u8> {
    [SPONSOR_TAG, &list.0, &member.0].concat()
}

/// A post as one neighbour passes it to the next: countersigned by the forwarder for exactly
/// that recipient and hop count, so that an envelope cannot be replayed to anyone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub post: Arc<Post>,
    /// Links the post has crossed when it arrives (1 from its author).
    pub hops: u32,
    pub forwarder: MemberId,
    pub to: MemberId,
    pub countersignature: [u8; 64],
}

impl Envelope {
    pub fn countersign(
        key: &SigningKey,
        post: Arc<Post>,
        id: &PostId,
        hops: u32,
        to: MemberId,
    ) -> Envelope {
        let forwarder = MemberId::of(key);
        let countersignature = key
            .sign(&forward_bytes(id, hops, &forwarder, &to))
            .to_bytes();
        Envelope {
            post,
            hops,
            forwarder,
            to,
            countersignature,
        }
    }

    /// Whether the countersignature holds for a post whose id is `id`.
    pub fn countersignature_holds(&self, id: &PostId) -> bool {
        self.forwarder.verify(
            &forward_bytes(id, self.hops, &self.forwarder, &self.to),
            &self.countersignature,
        )
    }
}

fn forward_bytes(id: &PostId, hops: u32, forwarder: &MemberId, to: &MemberId) -> Vec<u8> {
    let mut w = Writer::default();
    w.fixed(FORWARD_TAG)
        .fixed(&id.0)
        .u32(hops)
        .fixed(&forwarder.0)
        .fixed(&to.0);
    w.0
}
