//! Mailing lists without a list server (seed 001 §4.4, PRODUCT F12, F15, F16).
//!
//! A list is a set of members linked pairwise. Each post is signed by its author with the
//! author's key *for this list only* and carries the hash of the author's previous post; each
//! hop is countersigned by the neighbour that passes it on, for exactly the next member.
//! Posts spread Plumtree-style: eagerly along a tree that forms itself from the first posts
//! (a duplicate prunes the link it came over), announced lazily on every other link, and an
//! announced post that does not arrive in time grafts its announcer back onto the tree.
//! Gaps in a chain are asked for; a member back from an absence asks for what came since it
//! left, and neighbours compare digests of their heads now and then.
//! Large attachments are blobs fetched by content hash, once per link.
//!
//! This crate has no sockets and no clock: [`ListNode`] is a state machine the caller drives,
//! and [`sim`] drives a thousand of them deterministically.

mod accept;
mod catch_up;
pub mod codec;
mod config;
mod events;
pub mod frame;
mod node;
pub mod post;
mod repair;
pub mod sim;
pub mod wire;

pub use codec::DecodeError;
pub use ed25519_dalek::SigningKey;
pub use frame::Frame;
pub use node::{Config, Counters, DropReason, Event, ListError, ListNode, Mode, VerifiedPosts};
pub use post::{BlobHash, BlobRef, Body, Envelope, ListId, MemberId, Post, PostId};
pub use wire::{Announce, Head, Route, Wire};
