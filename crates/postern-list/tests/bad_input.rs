//! Hostile input from a neighbour: forged signatures, replays, forks, floods, posts by removed
//! members. Each is dropped, counted, and nothing of it is passed on.

mod common;

use std::sync::Arc;

use common::{id, key, Net};
use postern_list::{Body, Config, DropReason, Envelope, ListError, Post, PostId, Route, Wire};

/// Members 0–1–2–3 on a line; the attacks arrive at 2 from 1, and 3 must see nothing of them.
fn line() -> Net {
    Net::new(4, &[(0, 1), (1, 2), (2, 3)], Config::default())
}

fn passed_on(net: &Net, post: &PostId) -> bool {
    net.log.iter().any(|(from, _, w)| {
        *from == 2
            && match w {
                Wire::Gossip { envelope, .. } => envelope.post.id() == *post,
                Wire::IHave { announces, .. } => announces.iter().any(|a| a.id == *post),
                _ => false,
            }
    })
}

fn dropped(net: &Net, at: usize, reason: DropReason) -> u64 {
    net.nodes[at].counters().dropped(reason)
}

#[test]
fn an_honest_post_travels_the_whole_line() {
    let mut net = line();
    let post = net.nodes[0]
        .post(net.now, b"hello".to_vec(), vec![])
        .expect("posted");
    net.pump();
    assert!(net.nodes.iter().all(|n| n.holds(&post)));
    assert!(
        passed_on(&net, &post),
        "the control case: 2 passes an honest post on"
    );
    assert_eq!(net.nodes[2].counters().dropped_total(), 0);
}

#[test]
fn forged_author_signature() {
    let mut net = line();
    let (seq, prev) = net.head(2, 1);
    let mut post = net.forge_text(1, seq + 1, Some(prev), net.now, "forged");
    post.signature[0] ^= 1;
    let pid = post.id();
    let wire = net.envelope(1, 2, post);
    net.inject(1, 2, wire);
    assert_eq!(dropped(&net, 2, DropReason::BadSignature), 1);
    assert!(!net.nodes[2].holds(&pid));
    assert!(!passed_on(&net, &pid));
}

#[test]
fn forged_countersignature_and_an_envelope_meant_for_someone_else() {
    let mut net = line();
    let post = net.forge_text(
        0,
        1,
        Some(net.head(2, 0).1),
        net.now,
        "countersigned by the wrong key",
    );
    let pid = post.id();
    // Countersigned by 3's key but arriving from 1.
    let post = Arc::new(post);
    let envelope = Envelope::countersign(&key(3), post.clone(), &pid, 1, id(2));
    net.inject(
        1,
        2,
        Wire::Gossip {
            envelope,
            route: Route::Push,
            depth: postern_list::wire::NO_DEPTH,
        },
    );
    // Honestly countersigned by 1, but for 0: replayed to 2.
    let envelope = Envelope::countersign(&key(1), post.clone(), &pid, 1, id(0));
    net.inject(
        1,
        2,
        Wire::Gossip {
            envelope,
            route: Route::Push,
            depth: postern_list::wire::NO_DEPTH,
        },
    );
    // A right envelope with a broken countersignature.
    let mut envelope = Envelope::countersign(&key(1), post, &pid, 1, id(2));
    envelope.countersignature[5] ^= 0x40;
    net.inject(
        1,
        2,
        Wire::Gossip {
            envelope,
            route: Route::Push,
            depth: postern_list::wire::NO_DEPTH,
        },
    );
    assert_eq!(dropped(&net, 2, DropReason::BadCountersignature), 3);
    assert!(!net.nodes[2].holds(&pid));
    assert!(!passed_on(&net, &pid));
}

#[test]
fn replay_of_a_post_already_taken() {
    let mut net = line();
    let post = net.nodes[1]
        .post(net.now, b"once".to_vec(), vec![])
        .expect("posted");
    net.pump();
    let before = net.nodes[2].counters().delivered;
    let copy = net.nodes[2].held(&post).expect("held").clone();
    net.log.clear();
    let wire = net.envelope(1, 2, copy);
    net.inject(1, 2, wire.clone());
    net.inject(1, 2, wire);
    assert_eq!(net.nodes[2].counters().delivered, before, "taken once only");
    assert!(net.nodes[2].counters().duplicates >= 2);
    assert!(!passed_on(&net, &post));
}

#[test]
fn chain_fork_two_posts_claiming_the_same_predecessor() {
    let mut net = line();
    let (seq, prev) = net.head(2, 1);
    let first = net.forge_text(1, seq + 1, Some(prev), net.now, "first");
    let second = net.forge_text(1, seq + 1, Some(prev), net.now, "second, same place");
    let (a, b) = (first.id(), second.id());
    let wire = net.envelope(1, 2, first);
    net.inject(1, 2, wire);
    net.log.clear();
    let wire = net.envelope(1, 2, second);
    net.inject(1, 2, wire);
    assert!(net.nodes[2].holds(&a));
    assert!(net.nodes[3].holds(&a));
    assert_eq!(dropped(&net, 2, DropReason::ChainFork), 1);
    assert!(!net.nodes[2].holds(&b));
    assert!(!passed_on(&net, &b));
    // A post whose predecessor is not the chain's last: a fork too.
    let stale = net.forge_text(1, seq + 2, Some(prev), net.now, "skips back");
    let c = stale.id();
    let wire = net.envelope(1, 2, stale);
    net.inject(1, 2, wire);
    assert_eq!(dropped(&net, 2, DropReason::ChainFork), 2);
    assert!(!passed_on(&net, &c));
}

#[test]
fn flood_above_the_author_rate_limit() {
    let mut net = line();
    let burst = Config::default().author_burst;
    let (mut seq, mut prev) = net.head(2, 1);
    let mut ids = Vec::new();
    for k in 0..(burst + 10) {
        seq += 1;
        let post = net.forge_text(1, seq, Some(prev), net.now, &format!("flood {k}"));
        prev = post.id();
        ids.push(prev);
        let wire = net.envelope(1, 2, post);
        net.inject(1, 2, wire);
    }
    // The burst (minus the join already on the chain) is taken, the rest is not.
    let taken = ids.iter().filter(|i| net.nodes[3].holds(i)).count() as u64;
    assert_eq!(taken, burst - 1);
    assert_eq!(dropped(&net, 2, DropReason::AuthorRateLimited), 1);
    for late in &ids[taken as usize..] {
        assert!(!net.nodes[2].holds(late));
        assert!(!passed_on(&net, late));
    }
    // The author's own node refuses to post that fast in the first place.
    let mut refused = None;
    for _ in 0..(burst + 1) {
        if let Err(e) = net.nodes[0].post(net.now, b"x".to_vec(), vec![]) {
            refused = Some(e);
            break;
        }
    }
    assert!(matches!(refused, Some(ListError::RateLimited { .. })));
}

#[test]
fn flood_above_the_neighbour_budget() {
    let config = Config {
        neighbour_budget: 8,
        neighbour_window: 60_000,
        ..Config::default()
    };
    let mut net = Net::new(
        3,
        &[(0, 1), (1, 2)],
        Config {
            neighbour_budget: 100,
            ..config.clone()
        },
    );
    let mut small = Net::new(3, &[(0, 1), (1, 2)], config);
    // A fresh window: joining took some of the first.
    small.wait(61_000);
    net.wait(61_000);
    for _ in 0..20 {
        small.inject(1, 2, Wire::Prune);
        net.inject(1, 2, Wire::Prune);
    }
    assert!(dropped(&small, 2, DropReason::NeighbourRateLimited) >= 10);
    assert_eq!(dropped(&net, 2, DropReason::NeighbourRateLimited), 0);
}

#[test]
fn post_by_a_removed_member() {
    let mut net = line();
    // Member 3 is removed by the creator; its post later reaches 2 through 1, which countersigns.
    net.nodes[0]
        .remove(net.now, id(3))
        .expect("the creator is a moderator");
    net.pump();
    for i in 0..3 {
        assert!(!net.nodes[i].members().contains(&id(3)));
    }
    assert!(
        !net.nodes[2].neighbours().contains(&id(3)),
        "the link to a removed member is closed"
    );
    let (seq, prev) = net.head(3, 3);
    let post = net.forge_text(3, seq + 1, Some(prev), net.now, "still here");
    let pid = post.id();
    net.log.clear();
    let wire = net.envelope(1, 2, post);
    net.inject(1, 2, wire);
    assert_eq!(dropped(&net, 2, DropReason::RemovedAuthor), 1);
    assert!(!passed_on(&net, &pid));
    // Only a moderator can remove.
    assert_eq!(
        net.nodes[1].remove(net.now, id(2)),
        Err(ListError::NotModerator)
    );
    let (seq, prev) = net.head(2, 1);
    let list = net.nodes[0].list();
    let forged = Post::sign(
        &key(1),
        list,
        seq + 1,
        Some(prev),
        net.now,
        Body::Remove { member: id(0) },
    );
    let fid = forged.id();
    let wire = net.envelope(1, 2, forged);
    net.inject(1, 2, wire);
    assert_eq!(dropped(&net, 2, DropReason::NotModerator), 1);
    assert!(!passed_on(&net, &fid));
    assert!(net.nodes[2].members().contains(&id(0)));
}

#[test]
fn a_member_who_left_is_heard_no_more() {
    let mut net = line();
    net.nodes[3].leave(net.now).expect("left");
    net.pump();
    assert!(!net.nodes[0].members().contains(&id(3)));
    assert!(!net.nodes[2].neighbours().contains(&id(3)));
    assert_eq!(
        net.nodes[3].post(net.now, b"after leaving".to_vec(), vec![]),
        Err(ListError::NotActive)
    );
    let (seq, prev) = net.head(3, 3);
    let post = net.forge_text(3, seq + 1, Some(prev), net.now, "signed with a revoked key");
    let pid = post.id();
    let wire = net.envelope(1, 2, post);
    net.inject(1, 2, wire);
    assert_eq!(dropped(&net, 2, DropReason::RemovedAuthor), 1);
    assert!(!net.nodes[2].holds(&pid));
}

#[test]
fn garbage_and_strangers() {
    let mut net = line();
    let now = net.now;
    net.nodes[2].handle_bytes(now, id(1), b"\x01\x00not a post");
    net.nodes[2].handle_bytes(now, id(1), &[]);
    assert_eq!(dropped(&net, 2, DropReason::Malformed), 2);
    // 0 is a member but not 2's neighbour.
    net.inject(0, 2, Wire::Prune);
    assert_eq!(dropped(&net, 2, DropReason::NotNeighbour), 1);
    // A post from another list.
    let other = Post::sign(
        &key(1),
        postern_list::ListId([9; 32]),
        5,
        None,
        now,
        Body::Leave,
    );
    let wire = net.envelope(1, 2, other);
    net.inject(1, 2, wire);
    assert_eq!(dropped(&net, 2, DropReason::WrongList), 1);
    net.pump();
    assert!(
        net.log.iter().all(|(from, _, _)| *from != 2),
        "2 sent nothing for any of it"
    );
}
