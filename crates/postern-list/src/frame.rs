//! What one list mail between two members carries: an invitation, the invitee's answer, the
//! inviter's welcome, or a wire message of a list both are members of. The node puts the
//! encoding in an attachment of an ordinary (encrypted, signed) message between the two
//! identities; the pairing of a member key with an identity is known only to the two ends of
//! a link.

use crate::codec::{Reader, Writer};
use crate::post::{ListId, MemberId, Post};
use crate::wire::Wire;
use crate::DecodeError;

/// Largest frame: a wire message's bound (a blob of 64 MiB) and a little.
pub const MAX_FRAME: usize = crate::post::MAX_BLOB as usize + 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// "Join my list": its charter and the inviter's member key, which will sponsor the
    /// invitee and be its first link.
    Invite { charter: Post, sponsor: MemberId },
    /// "Yes": the invitee's new member key for that list, to be sponsored.
    Accept { list: ListId, member: MemberId },
    /// The sponsor's signature over the invitee's key; the two are now linked.
    Welcome {
        list: ListId,
        sponsor: MemberId,
        sponsorship: [u8; 64],
    },
    /// A wire message of `list` between two linked members.
    Wire { list: ListId, wire: Wire },
}

impl Frame {
    /// The list the frame concerns.
    pub fn list(&self) -> ListId {
        match self {
            Frame::Invite { charter, .. } => charter.list,
            Frame::Accept { list, .. } | Frame::Welcome { list, .. } | Frame::Wire { list, .. } => {
                *list
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            Frame::Invite { charter, sponsor } => {
                w.u8(1).fixed(&sponsor.0).bytes(&charter.encode());
            }
            Frame::Accept { list, member } => {
                w.u8(2).fixed(&list.0).fixed(&member.0);
            }
            Frame::Welcome {
                list,
                sponsor,
                sponsorship,
            } => {
                w.u8(3).fixed(&list.0).fixed(&sponsor.0).fixed(sponsorship);
            }
            Frame::Wire { list, wire } => {
                w.u8(4).fixed(&list.0).fixed(&wire.encode());
            }
        }
        w.0
    }

    pub fn decode(bytes: &[u8]) -> Result<Frame, DecodeError> {
        if bytes.len() > MAX_FRAME {
            return Err(DecodeError::TooLong {
                what: "frame",
                len: bytes.len(),
                max: MAX_FRAME,
            });
        }
        let mut r = Reader::new(bytes);
        let frame = match r.u8("frame")? {
            1 => {
                let sponsor = MemberId(r.array("sponsor")?);
                let charter = Post::decode(r.bytes(64 * 1024, "charter")?)?;
                Frame::Invite { charter, sponsor }
            }
            2 => Frame::Accept {
                list: ListId(r.array("list")?),
                member: MemberId(r.array("member")?),
            },
            3 => Frame::Welcome {
                list: ListId(r.array("list")?),
                sponsor: MemberId(r.array("sponsor")?),
                sponsorship: r.array("sponsorship")?,
            },
            4 => {
                let list = ListId(r.array("list")?);
                let wire = Wire::decode(r.take(r.remaining(), "wire")?)?;
                return Ok(Frame::Wire { list, wire });
            }
            tag => return Err(DecodeError::UnknownTag { what: "frame", tag }),
        };
        r.finish()?;
        Ok(frame)
    }
}
