//! The list protocol on a handful of members: joining, the tree forming and healing, gaps
//! repaired from the hash chain, blobs once per link, and the wire encoding.

mod common;

use std::sync::Arc;

use common::{id, key, Net};
use postern_list::{Body, Config, ListError, ListNode, Post, Wire};

/// A ring of five: every member has two neighbours, so flooding sends each post twice.
fn ring() -> Net {
    Net::new(
        5,
        &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)],
        Config::default(),
    )
}

#[test]
fn a_new_member_joins_through_its_sponsor_and_everyone_learns_it() {
    let mut net = Net::new(3, &[(0, 1), (1, 2)], Config::default());
    let before = net.nodes[1]
        .post(net.now, b"before the join".to_vec(), vec![])
        .expect("posted");
    net.pump();
    // Member 3 is invited by 2 (not the creator) and linked to 2 only.
    let charter = net.nodes[2].charter().expect("charter");
    let sponsorship = net.nodes[2].sponsor(&id(3));
    let newcomer = ListNode::join(
        Config::default(),
        key(3),
        charter.clone(),
        id(2),
        sponsorship,
        net.now,
    );
    net.nodes.push(newcomer.expect("joined"));
    let now = net.now;
    net.nodes[3].link(id(2), now);
    net.nodes[2].link(id(3), now);
    net.pump();
    assert!(
        net.nodes[3].holds(&before),
        "the newcomer caught up on the list's history"
    );
    for node in &net.nodes {
        assert!(node.members().contains(&id(3)), "everyone learned the join");
    }
    // A sponsorship for someone else's key, or a charter that is not one, is refused.
    let wrong = net.nodes[2].sponsor(&id(4));
    let err = ListNode::join(
        Config::default(),
        key(5),
        charter.clone(),
        id(2),
        wrong,
        net.now,
    )
    .err();
    assert_eq!(err, Some(ListError::BadSponsorship));
    let mut bad = charter;
    bad.body = Body::Charter {
        name: "renamed".into(),
        nonce: [7; 16],
        moderators: vec![],
    };
    let err = ListNode::join(
        Config::default(),
        key(5),
        bad,
        id(2),
        net.nodes[2].sponsor(&id(5)),
        net.now,
    )
    .err();
    assert_eq!(err, Some(ListError::BadCharter));
}

#[test]
fn the_tree_forms_so_later_posts_travel_each_link_once() {
    let mut net = ring();
    let first = net.nodes[0]
        .post(net.now, b"first".to_vec(), vec![])
        .expect("posted");
    net.pump();
    let flooded = net.carried(&first).len();
    net.log.clear();
    let second = net.nodes[2]
        .post(net.now, b"second".to_vec(), vec![])
        .expect("posted");
    net.pump();
    assert!(net
        .nodes
        .iter()
        .all(|n| n.holds(&first) && n.holds(&second)));
    // Five members, four of them to reach: a tree carries the post exactly four times.
    assert_eq!(
        net.carried(&second).len(),
        4,
        "after the first post, one payload per member"
    );
    assert!(
        flooded > 4,
        "the first post found the cycle ({flooded} payloads)"
    );
}

#[test]
fn a_failed_link_heals_through_an_announcement() {
    let mut net = ring();
    net.nodes[0]
        .post(net.now, b"form the tree".to_vec(), vec![])
        .expect("posted");
    net.pump();
    // Every eager push into member 3 is lost from now on; it hears of posts only lazily.
    let post = net.nodes[1]
        .post(net.now, b"over a broken link".to_vec(), vec![])
        .expect("posted");
    let mut lost = 0;
    for _ in 0..100 {
        let mut moved = false;
        for i in 0..net.nodes.len() {
            while let Some((to, wire)) = net.nodes[i].poll_transmit() {
                moved = true;
                let j = net.index(&to).expect("a member");
                if j == 3
                    && matches!(
                        wire,
                        Wire::Gossip {
                            route: postern_list::Route::Push,
                            ..
                        }
                    )
                {
                    lost += 1;
                    continue;
                }
                net.now += 1;
                let from = net.nodes[i].me();
                net.nodes[j].handle(net.now, from, wire);
            }
        }
        if !moved {
            break;
        }
    }
    assert!(lost >= 1);
    assert!(!net.nodes[3].holds(&post));
    net.wait(2 * Config::default().graft_timeout + 1_000);
    assert!(
        net.nodes[3].holds(&post),
        "member 3 grafted an announcer and got the post"
    );
}

#[test]
fn a_gap_in_a_chain_is_asked_for_and_filled_in_order() {
    let mut net = Net::new(3, &[(0, 1), (1, 2)], Config::default());
    let (seq, prev) = net.head(2, 1);
    let a = net.forge_text(1, seq + 1, Some(prev), net.now, "one");
    let b = net.forge_text(1, seq + 2, Some(a.id()), net.now, "two");
    let (ida, idb) = (a.id(), b.id());
    // Member 1 holds both (as if it had posted them); 2 gets only the second.
    net.nodes[1].admit(net.now, Arc::new(a));
    net.nodes[1].admit(net.now, Arc::new(b.clone()));
    net.log.clear();
    let wire = net.envelope(1, 2, b);
    net.inject(1, 2, wire);
    assert!(net
        .log
        .iter()
        .any(|(f, t, w)| (*f, *t) == (2, 1) && matches!(w, Wire::Want { .. })));
    assert!(net.nodes[2].holds(&ida) && net.nodes[2].holds(&idb));
    let chain: Vec<u64> = net.nodes[2]
        .held_chain(&id(1))
        .iter()
        .map(|(p, _)| p.seq)
        .collect();
    assert_eq!(chain, (0..=seq + 2).collect::<Vec<_>>());
}

#[test]
fn a_blob_crosses_each_link_once() {
    let mut net = ring();
    net.nodes[0]
        .post(net.now, b"form the tree".to_vec(), vec![])
        .expect("posted");
    net.pump();
    net.log.clear();
    let blob: Arc<[u8]> = Arc::from(vec![42u8; 200_000]);
    let post = net.nodes[1]
        .post(net.now, b"with a file".to_vec(), vec![blob.clone()])
        .expect("posted");
    net.pump();
    let hash = postern_list::BlobHash::of(&blob);
    for node in &net.nodes {
        assert!(node.holds(&post));
        assert_eq!(node.blob(&hash).map(|b| b.len()), Some(200_000));
    }
    let mut into = [0usize; 5];
    for (_, to, w) in &net.log {
        if matches!(w, Wire::Blob(_)) {
            into[*to] += 1;
        }
    }
    assert_eq!(
        into,
        [1, 0, 1, 1, 1],
        "each member but the author received the blob once"
    );
}

#[test]
fn blobs_kept_by_the_host_are_served_through_it_and_missing_ones_are_wanted_after_a_restore() {
    let mut net = Net::new(3, &[(0, 1), (1, 2)], Config::default());
    let blob: Arc<[u8]> = Arc::from(vec![7u8; 50_000]);
    let hash = postern_list::BlobHash::of(&blob);
    let post = net.nodes[0]
        .post(net.now, b"with a file".to_vec(), vec![blob.clone()])
        .expect("posted");
    net.pump();
    assert!(net.nodes[2].holds(&post) && net.nodes[2].has_blob(&hash));

    // Member 1's host stores the blob; it leaves memory but is still had.
    let taken = net.nodes[1].take_blobs();
    assert_eq!(taken.len(), 1);
    assert_eq!((taken[0].0, taken[0].1.len()), (hash, 50_000));
    assert!(net.nodes[1].blob(&hash).is_none() && net.nodes[1].has_blob(&hash));
    assert!(net.nodes[1].take_blobs().is_empty(), "handed over once");

    // A neighbour asking for it (well after member 1 passed it on to that neighbour): the host
    // is asked to send it, nothing is sent from memory.
    net.now += Config::default().blob_timeout;
    net.clear_events();
    net.log.clear();
    net.inject(2, 1, Wire::BlobWant(hash));
    assert!(!net.log.iter().any(|(_, _, w)| matches!(w, Wire::Blob(_))));
    let mut asked = Vec::new();
    while let Some(e) = net.nodes[1].poll_event() {
        if let postern_list::Event::BlobAsked { by, hash } = e {
            asked.push((by, hash));
        }
    }
    assert_eq!(asked, vec![(common::id(2), hash)]);
    // Asked again at once (a retry while the answer is on its way): nothing more is sent.
    net.inject(2, 1, Wire::BlobWant(hash));
    let again = std::iter::from_fn(|| net.nodes[1].poll_event())
        .filter(|e| matches!(e, postern_list::Event::BlobAsked { .. }))
        .count();
    assert_eq!(again, 0, "one blob per neighbour within the timeout");
    // The host's copy is lost: member 1 wants it from a neighbour again.
    net.log.clear();
    let now = net.now;
    net.nodes[1].lose_blob(hash, now);
    assert!(!net.nodes[1].has_blob(&hash));
    net.wait(2 * Config::default().blob_timeout);
    assert!(
        net.log
            .iter()
            .any(|(f, _, w)| *f == 1 && *w == Wire::BlobWant(hash)),
        "{:?}",
        net.log
    );
    assert!(net.nodes[1].has_blob(&hash), "and gets it back");

    // Member 2 restored without the blob (its host lost it): it asks a neighbour for it at
    // the next timeout; restored with it kept, it asks nobody.
    let charter = net.nodes[2].charter().expect("charter");
    let posts: Vec<Post> = net.nodes[2]
        .posts()
        .filter(|(_, p)| !matches!(p.body, Body::Charter { .. }))
        .map(|(_, p)| p.clone())
        .collect();
    let restore = |kept: Vec<postern_list::BlobHash>| {
        let mut node = ListNode::restore(
            Config::default(),
            key(2),
            charter.clone(),
            posts.clone(),
            &[common::id(1)],
            net.now,
        )
        .expect("restored");
        node.keep_blobs(kept, net.now);
        node.handle_timeout(net.now);
        std::iter::from_fn(|| node.poll_transmit()).collect::<Vec<_>>()
    };
    let sent = restore(Vec::new());
    assert!(
        sent.iter()
            .any(|(to, w)| *to == common::id(1) && *w == Wire::BlobWant(hash)),
        "{sent:?}"
    );
    let sent = restore(vec![hash]);
    assert!(
        !sent.iter().any(|(_, w)| matches!(w, Wire::BlobWant(_))),
        "{sent:?}"
    );
}

#[test]
fn wire_messages_round_trip_and_bad_bytes_are_refused() {
    let mut net = ring();
    let post = net.nodes[0]
        .post(net.now, b"hello".to_vec(), vec![])
        .expect("posted");
    net.pump();
    net.nodes[0].remove(net.now, id(4)).expect("removed");
    net.nodes[2].leave(net.now).expect("left");
    net.wait(70_000);
    net.pump();
    let mut kinds = std::collections::BTreeSet::new();
    let mut wires: Vec<Wire> = net.log.iter().map(|(_, _, w)| w.clone()).collect();
    wires.extend([
        Wire::Graft(vec![post]),
        Wire::Fetch(vec![post, post]),
        Wire::Want {
            author: id(1),
            from: 3,
        },
        Wire::BlobWant(postern_list::BlobHash([3; 32])),
        Wire::Blob(Arc::from(&b"blob bytes"[..])),
        Wire::Heads {
            heads: vec![],
            reply: true,
        },
        Wire::Digest {
            cutoff: 9,
            digest: [4; 32],
        },
        Wire::Since { after: 12 },
        Wire::IHave {
            announces: vec![postern_list::Announce {
                id: post,
                author: id(0),
                seq: 1,
                hops: 2,
            }],
            sync: false,
            depth: 3,
        },
    ]);
    for wire in &wires {
        let bytes = wire.encode();
        assert_eq!(Wire::decode(&bytes).as_ref(), Ok(wire));
        assert_eq!(wire.encoded_len(), bytes.len());
        kinds.insert(bytes[0]);
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            if cut < bytes.len() {
                assert!(
                    Wire::decode(&bytes[..cut]).is_err(),
                    "a truncated message is refused"
                );
            }
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Wire::decode(&longer).is_err(), "trailing bytes are refused");
    }
    assert_eq!(kinds.len(), 11, "every kind of message went by: {kinds:?}");
    let p: &Post = net.nodes[1].held(&post).expect("held");
    assert_eq!(Post::decode(&p.encode()).as_ref(), Ok(p));
    // Heads name every author: a list larger than one message of announcements still fits.
    let heads: Vec<postern_list::Head> = (0..5_000u64)
        .map(|n| postern_list::Head {
            author: id(n as usize % 200),
            next: n,
        })
        .collect();
    let big = Wire::Heads { heads, reply: true };
    assert_eq!(Wire::decode(&big.encode()).as_ref(), Ok(&big));
    let too_many: Vec<postern_list::Head> = (0..postern_list::wire::MAX_HEADS as u64 + 1)
        .map(|n| postern_list::Head {
            author: id(1),
            next: n,
        })
        .collect();
    assert!(Wire::decode(
        &Wire::Heads {
            heads: too_many,
            reply: false
        }
        .encode()
    )
    .is_err());
    // A count that the bytes cannot hold is refused before anything is allocated.
    let mut huge = vec![2u8, 0];
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(Wire::decode(&huge).is_err());
}

#[test]
fn a_blob_larger_than_members_take_is_neither_posted_nor_asked_for() {
    let config = Config {
        max_blob: 100_000,
        ..Config::default()
    };
    let blob_timeout = config.blob_timeout;
    let mut net = Net::new(3, &[(0, 1), (1, 2)], config);
    let big: Arc<[u8]> = Arc::from(vec![1u8; 100_001]);
    let now = net.now;
    let refused = net.nodes[0].post(now, b"too big".to_vec(), vec![big.clone()]);
    assert!(
        matches!(
            refused,
            Err(ListError::BlobTooLarge {
                len: 100_001,
                max: 100_000
            })
        ),
        "{refused:?}"
    );
    // Another client (other limits, or hostile) posts one anyway: the post travels, but its blob
    // is never asked for — no neighbour could send it in one message.
    let (seq, prev) = net.head(1, 0);
    let post = Post::sign(
        &key(0),
        net.nodes[0].list(),
        seq + 1,
        Some(prev),
        net.now,
        Body::Text {
            content: b"a huge file".to_vec(),
            blobs: vec![postern_list::BlobRef {
                hash: postern_list::BlobHash::of(&big),
                len: 100_001,
            }],
        },
    );
    let pid = post.id();
    let wire = net.envelope(0, 1, post);
    net.inject(0, 1, wire);
    net.pump();
    net.wait(3 * blob_timeout);
    assert!(net.nodes[1].holds(&pid) && net.nodes[2].holds(&pid));
    assert!(
        !net.log
            .iter()
            .any(|(_, _, w)| matches!(w, Wire::BlobWant(_))),
        "a blob nobody can carry was asked for"
    );
}
