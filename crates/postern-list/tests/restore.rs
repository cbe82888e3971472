//! A member's state rebuilt from what it kept (what the node does when its store changed), and
//! the frames list mail carries.

mod common;

use common::{id, key, Net};
use postern_list::{Body, Config, DecodeError, Frame, ListNode, Post, Wire};

fn kept(node: &ListNode) -> Vec<Post> {
    let mut posts: Vec<Post> = node
        .posts()
        .filter(|(_, p)| !matches!(p.body, Body::Charter { .. }))
        .map(|(_, p)| p.clone())
        .collect();
    // Newest first: a restore must put the chains in order itself.
    posts.sort_by_key(|p| std::cmp::Reverse((p.time, p.seq)));
    posts
}

#[test]
fn a_restored_member_holds_what_it_held_and_goes_on_posting() {
    let mut net = Net::new(3, &[(0, 1), (1, 2)], Config::default());
    for i in 0..3 {
        let now = net.now;
        net.nodes[i]
            .post(now, format!("post {i}").into_bytes(), vec![])
            .expect("post");
    }
    net.pump();
    let charter = net.nodes[1].charter().expect("charter");
    let restored = ListNode::restore(
        Config::default(),
        key(1),
        charter.clone(),
        kept(&net.nodes[1]),
        &[id(0), id(2)],
        net.now,
    )
    .expect("restored");
    let mut want: Vec<_> = net.nodes[1].posts().map(|(id, _)| id).collect();
    let mut got: Vec<_> = restored.posts().map(|(id, _)| id).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "every post held again");
    assert_eq!(restored.members().len(), 3);
    assert_eq!(
        restored.neighbours(),
        vec![id(0), id(2)].into_iter().collect::<Vec<_>>()
    );
    // It continues its own chain where it left off, and the others take the post.
    net.nodes[1] = restored;
    let now = net.now;
    let next = net.nodes[1]
        .post(now, b"after the restore".to_vec(), vec![])
        .expect("post");
    net.pump();
    assert!(net.nodes[0].holds(&next) && net.nodes[2].holds(&next));

    // A charter that is not the list's is refused.
    let mut bad = charter;
    bad.body = Body::Charter {
        name: "other".into(),
        nonce: [9; 16],
        moderators: vec![],
    };
    assert!(ListNode::restore(Config::default(), key(1), bad, vec![], &[], 0).is_err());
}

/// A node that starts again asks its neighbours for the posts since a little before the newest
/// it held (a few bytes each), not with its heads (one entry per author), and gets what came
/// while it was down.
#[test]
fn a_restored_member_asks_since_the_newest_post_it_held() {
    let config = Config::default();
    let mut net = Net::new(3, &[(0, 1), (1, 2)], config.clone());
    net.now = 10_000_000;
    for i in 0..3 {
        let now = net.now;
        net.nodes[i]
            .post(now, format!("post {i}").into_bytes(), vec![])
            .expect("post");
        net.pump();
    }
    let charter = net.nodes[1].charter().expect("charter");
    let snapshot = kept(&net.nodes[1]);
    let newest = snapshot.iter().map(|p| p.time).max().expect("posts");
    // Member 1 goes down; 0 posts meanwhile (2 takes it from 1 before it went).
    net.now += 600_000;
    let now = net.now;
    let missed = net.nodes[0]
        .post(now, b"while 1 was down".to_vec(), vec![])
        .expect("post");
    net.pump();
    net.now += 600_000;
    let mut restored = ListNode::restore(
        config.clone(),
        key(1),
        charter,
        snapshot,
        &[id(0), id(2)],
        net.now,
    )
    .expect("restored");
    assert!(!restored.holds(&missed));
    restored.sync_all(net.now);
    net.nodes[1] = restored;
    net.log.clear();
    net.pump();
    let after = newest - config.max_skew - config.settle;
    let asks: Vec<(usize, &Wire)> = net
        .log
        .iter()
        .filter(|(from, _, w)| *from == 1 && matches!(w, Wire::Since { .. } | Wire::Heads { .. }))
        .map(|(_, to, w)| (*to, w))
        .collect();
    assert_eq!(
        asks,
        vec![(0, &Wire::Since { after }), (2, &Wire::Since { after })],
        "every neighbour asked since the newest post held, less the skew and settle"
    );
    assert!(net.nodes[1].holds(&missed), "what came meanwhile arrived");
}

#[test]
fn a_new_member_restored_before_it_learnt_its_sponsor_is_still_a_member() {
    // Member 3 joins through 2 and is rebuilt from its charter and its own join alone (the
    // list's history has not reached it yet): it is a member and may post.
    let net = Net::new(3, &[(0, 1), (1, 2)], Config::default());
    let charter = net.nodes[2].charter().expect("charter");
    let mut joined = ListNode::join(
        Config::default(),
        key(3),
        charter.clone(),
        id(2),
        net.nodes[2].sponsor(&id(3)),
        net.now,
    )
    .expect("joined");
    let early = joined
        .post(net.now, b"before hearing from anyone".to_vec(), vec![])
        .expect("post");
    // Kept newest first: its post comes before its own join, which comes last.
    let mut restored = ListNode::restore(
        Config::default(),
        key(3),
        charter,
        kept(&joined),
        &[id(2)],
        net.now,
    )
    .expect("restored");
    assert!(restored.is_active());
    assert!(
        restored.holds(&early),
        "the post that waited for the join is held"
    );
    restored
        .post(net.now, b"hello".to_vec(), vec![])
        .expect("a new member posts");
}

#[test]
fn frames_round_trip_and_bad_bytes_are_refused() {
    let net = Net::new(2, &[(0, 1)], Config::default());
    let charter = net.nodes[0].charter().expect("charter");
    let list = charter.list;
    let frames = vec![
        Frame::Invite {
            charter,
            sponsor: id(0),
        },
        Frame::Accept {
            list,
            member: id(5),
        },
        Frame::Welcome {
            list,
            sponsor: id(0),
            sponsorship: net.nodes[0].sponsor(&id(5)),
        },
        Frame::Wire {
            list,
            wire: Wire::Prune,
        },
    ];
    for f in &frames {
        let bytes = f.encode();
        assert_eq!(Frame::decode(&bytes).as_ref(), Ok(f));
        assert_eq!(f.list(), list);
        // Every truncation is refused.
        for cut in 0..bytes.len() {
            assert!(Frame::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
    let mut trailing = frames[1].encode();
    trailing.push(0);
    assert_eq!(Frame::decode(&trailing), Err(DecodeError::Trailing(1)));
    assert!(matches!(
        Frame::decode(&[9]),
        Err(DecodeError::UnknownTag {
            what: "frame",
            tag: 9
        })
    ));
    let huge = vec![4u8; postern_list::frame::MAX_FRAME + 1];
    assert!(matches!(
        Frame::decode(&huge),
        Err(DecodeError::TooLong { what: "frame", .. })
    ));
}
