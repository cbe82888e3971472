//! Mailing lists carried by the node (`docs/protocol.md` §15): a list's state machine
//! (`postern_list::ListNode`) rebuilt from the store, driven by list mail, and what it sends
//! queued in the outbox as mail to the neighbour — encrypted and signed like any message,
//! carried by carriers when the neighbour is offline.
//!
//! List mail is an ordinary message with `Postern-Kind: list` and one attachment, the frame
//! (`postern_list::Frame`). The receiving writer only queues the frame (`list_inbox`) with the
//! message; the node's list loop (`live.rs`) takes it later, in one transaction with everything
//! it causes.

mod api;
mod content;
mod live;

pub(crate) use live::list_loop;

pub use api::{ListMemberView, ListPostView, ListView, MAX_LIST_ATTACHMENT};
pub use content::ListAttachmentView;

use postern_list::{
    BlobHash, Body, Config, Event, Frame, ListNode, MemberId, Post, SigningKey, Wire,
};
use postern_mime::{random_message_id, Attachment};
use postern_store::{ListRecord, NewListPost, Store, StoreError};

use crate::mail::draft::QueuedDraft;
use crate::{CoreError, ListTimers};

/// `Postern-Kind` of list mail.
pub(crate) const KIND_LIST: &str = "list";
/// Content type of the frame attachment.
pub(crate) const FRAME_TYPE: &str = "application/x-postern-list";

pub(crate) const INVITED: &str = "invited";
pub(crate) const JOINING: &str = "joining";
pub(crate) const MEMBER: &str = "member";
pub(crate) const LEFT: &str = "left";
pub(crate) const REMOVED: &str = "removed";

/// The state machine's configuration with the node's timers.
pub(crate) fn config(timers: &ListTimers) -> Config {
    let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    Config {
        graft_timeout: ms(timers.graft),
        retry_timeout: ms(timers.retry),
        sync_interval: ms(timers.sync),
        // Posts cross each link as mail over Tor, with the outbox's retries: digests count
        // only posts ten graft timeouts old, so in-step neighbours agree.
        settle: ms(timers.graft).saturating_mul(10),
        blob_timeout: ms(timers.retry) * 5,
        // What one list mail carries; a larger blob is neither posted nor asked for.
        max_blob: MAX_LIST_ATTACHMENT as u64,
        ..Config::default()
    }
}

pub(crate) fn ms(now_unix: i64) -> u64 {
    u64::try_from(now_unix).unwrap_or(0).saturating_mul(1000)
}

pub(crate) fn member_id(bytes: &[u8]) -> Option<MemberId> {
    Some(MemberId(bytes.try_into().ok()?))
}

pub(crate) fn corrupt(what: &str) -> CoreError {
    CoreError::Corrupt(format!("list: {what}"))
}

pub(crate) fn kind_of(post: &Post) -> &'static str {
    match post.body {
        Body::Charter { .. } => "charter",
        Body::Join { .. } => "join",
        Body::Text { .. } => "text",
        Body::Remove { .. } => "remove",
        Body::Leave => "leave",
    }
}

/// The list's state machine as this member left it: the charter, every post kept, the links.
pub(crate) fn restore(
    store: &Store,
    rec: &ListRecord,
    timers: &ListTimers,
    now: i64,
) -> Result<ListNode, CoreError> {
    let key = store.list_key(rec.id)?;
    let key: [u8; 32] = key.as_slice().try_into().map_err(|_| corrupt("list key"))?;
    let key = SigningKey::from_bytes(&key);
    let charter = Post::decode(&rec.charter).map_err(|_| corrupt("charter"))?;
    let mut posts = Vec::new();
    for bytes in store.list_posts(rec.id)? {
        posts.push(Post::decode(&bytes).map_err(|_| corrupt("kept post"))?);
    }
    let links: Vec<MemberId> = store
        .list_links(rec.id)?
        .iter()
        .filter_map(|(m, _)| member_id(m))
        .collect();
    let mut node = ListNode::restore(config(timers), key, charter, posts, &links, ms(now))
        .map_err(|e| CoreError::List(e.to_string()))?;
    let kept = store
        .list_blobs(rec.id)?
        .into_iter()
        .filter_map(|h| Some(BlobHash(h.try_into().ok()?)));
    node.keep_blobs(kept, ms(now));
    Ok(node)
}

/// Keeps what the state machine took and did: new posts, closed links, its own standing, and
/// every message it wants sent, queued as mail to the neighbour.
pub(crate) fn persist(
    store: &mut Store,
    rec: &ListRecord,
    node: &mut ListNode,
    now: i64,
) -> Result<(), CoreError> {
    let mut new: Vec<(postern_list::PostId, Post)> = Vec::new();
    for (id, post) in node.posts() {
        if !store.has_list_post(rec.id, &id.0)? {
            new.push((id, post.clone()));
        }
    }
    // Taken in an order a restore can follow: an author's posts by sequence, joins after
    // their sponsors' (earlier in time); a restore parks what comes early.
    new.sort_by_key(|(_, p)| (p.time, p.seq));
    let encoded: Vec<Vec<u8>> = new.iter().map(|(_, p)| p.encode()).collect();
    let rows: Vec<NewListPost<'_>> = new
        .iter()
        .zip(&encoded)
        .map(|((id, p), bytes)| NewListPost {
            post_id: &id.0,
            author: &p.author.0,
            seq: i64::try_from(p.seq).unwrap_or(i64::MAX),
            kind: kind_of(p),
            post: bytes,
        })
        .collect();
    store.add_list_posts(rec.id, &rows, now)?;
    // Attachments posted here or received: kept at rest, no longer in memory.
    for (_, bytes) in node.take_blobs() {
        store.add_list_blob(rec.id, &bytes)?;
    }
    // The addresses as they were: a removal or leave still reaches the member it closes.
    let links = store.list_links(rec.id)?;
    while let Some(event) = node.poll_event() {
        match event {
            Event::BlobAsked { by, hash } => {
                let Some((_, address)) = links.iter().find(|(m, _)| m.as_slice() == by.0) else {
                    continue;
                };
                match store.read_blob(&hash.0) {
                    Ok(bytes) => {
                        let frame = Frame::Wire {
                            list: node.list(),
                            wire: Wire::Blob(bytes.into()),
                        };
                        queue_frame(store, rec.identity_id, address, &frame, now)?;
                    }
                    // Its file is gone or damaged (a restore without it, a disk fault): not kept
                    // any more, wanted from neighbours again; the rest of the list goes on.
                    Err(e @ (StoreError::Io { .. } | StoreError::Corrupt { .. })) => {
                        tracing::warn!(
                            "list: a kept attachment cannot be read ({e}); asking for it again"
                        );
                        store.remove_list_blob(rec.id, &hash.0)?;
                        node.lose_blob(hash, ms(now));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Event::LinkClosed(m) | Event::MemberRemoved(m) | Event::MemberLeft(m) => {
                store.remove_list_link(rec.id, &m.0)?;
            }
            Event::Dropped { reason, .. } => {
                tracing::info!(?reason, "list: a message from a neighbour was dropped");
            }
            _ => {}
        }
    }
    if !node.is_active() && rec.state == MEMBER {
        let state = if node.was_removed() { REMOVED } else { LEFT };
        store.set_list_state(rec.id, state, None, None)?;
    }
    while let Some((to, wire)) = node.poll_transmit() {
        let Some((_, address)) = links.iter().find(|(m, _)| m.as_slice() == to.0) else {
            continue;
        };
        let frame = Frame::Wire {
            list: node.list(),
            wire,
        };
        queue_frame(store, rec.identity_id, address, &frame, now)?;
    }
    Ok(())
}

/// Queues list mail to `to`.
pub(crate) fn queue_frame(
    store: &mut Store,
    identity_id: i64,
    to: &str,
    frame: &Frame,
    now: i64,
) -> Result<(), StoreError> {
    let draft = QueuedDraft::new(
        "List mail",
        "",
        &[Attachment {
            name: "list.postern".into(),
            content_type: FRAME_TYPE.into(),
            data: frame.encode(),
        }],
    )
    .with_headers(vec![("Postern-Kind".into(), KIND_LIST.into())]);
    let message_id = random_message_id(&mut rand::rngs::OsRng);
    store.enqueue(identity_id, to, &message_id, &draft.to_bytes(), now)?;
    Ok(())
}
