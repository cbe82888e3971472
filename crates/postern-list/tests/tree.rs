//! Keeping the tree true: a link's two ends come to agree on whether it is on the tree, and a
//! member whose way to the creator went silent stops counting its depth through it.

mod common;

use common::{id, Net};
use postern_list::{Config, Wire};

/// Five members in a ring, the creator (0) posting until the tree has formed.
fn ring() -> Net {
    let mut net = Net::new(
        5,
        &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)],
        Config::default(),
    );
    for k in 0..3 {
        net.nodes[0]
            .post(net.now, format!("form {k}").into_bytes(), vec![])
            .expect("posted");
        net.pump();
        net.wait(Config::default().retry_timeout + 500);
    }
    net
}

/// The tree `ring` forms: 0-1-2 and 0-4-3 pushed, 2-3 only announced.
fn assert_formed(net: &Net) {
    let way = |i: usize| {
        net.nodes[i]
            .way_to_creator()
            .map(|(m, d)| (net.index(&m), d))
    };
    assert_eq!(way(2), Some((Some(1), 2)));
    assert_eq!(way(3), Some((Some(4), 2)));
    assert!(!net.nodes[2].eager().contains(&id(3)));
    assert!(!net.nodes[3].eager().contains(&id(2)));
}

#[test]
fn a_link_pushed_at_one_end_only_is_mended_when_the_other_end_announces_over_it() {
    let mut net = ring();
    assert_formed(&net);
    // Member 1 holds the link to 2 as lazy (a prune reached it that 2 does not know of);
    // 2 still counts its way to the creator through 1.
    net.inject(2, 1, Wire::Prune);
    assert!(net.nodes[2].eager().contains(&id(1)));
    net.log.clear();
    let post = net.nodes[0]
        .post(net.now, b"announced to 2".to_vec(), vec![])
        .expect("posted");
    net.pump();
    // The announcement shows 2 that the link is lazy at 1's end: 2 takes it as lazy too, and
    // grafts 1 as its nearest way to the creator, so both ends hold it eager again.
    assert!(net.nodes[1].eager().contains(&id(2)), "2 grafted 1 at once");
    assert!(net.nodes[2].eager().contains(&id(1)));
    net.wait(2 * Config::default().graft_timeout + 1_000);
    assert!(net.nodes[2].holds(&post));
}

#[test]
fn a_link_announced_at_one_end_only_is_mended_when_the_other_end_pushes_over_it() {
    let mut net = ring();
    // Member 2 holds the link to 1 as lazy; 1 still pushes to 2. The push shows 2 a way to
    // the creator nearer than none: 2 takes pushes from 1 again.
    net.inject(1, 2, Wire::Prune);
    assert!(!net.nodes[2].eager().contains(&id(1)));
    assert!(net.nodes[1].eager().contains(&id(2)));
    let post = net.nodes[0]
        .post(net.now, b"pushed to 2".to_vec(), vec![])
        .expect("posted");
    net.pump();
    assert!(net.nodes[2].holds(&post));
    assert!(
        net.nodes[2].eager().contains(&id(1)),
        "2 takes pushes from 1"
    );
    let way = net.nodes[2]
        .way_to_creator()
        .map(|(m, d)| (net.index(&m), d));
    assert_eq!(way, Some((Some(1), 2)));
}

#[test]
fn a_member_whose_way_to_the_creator_went_silent_counts_its_depth_the_way_posts_come() {
    let mut net = ring();
    assert_formed(&net);
    // Member 1 goes away without a word. The creator's next post reaches 2 only as an
    // announcement from 3; 2 grafts 3 and gets it.
    let away = Some(1);
    let first = net.nodes[0]
        .post(net.now, b"while 1 is away".to_vec(), vec![])
        .expect("posted");
    net.pump_without(away);
    assert!(!net.nodes[2].holds(&first));
    net.wait_without(2 * Config::default().graft_timeout + 1_000, away);
    assert!(net.nodes[2].holds(&first), "2 grafted 3");
    // The next post is pushed to 2 by 3, first: 1 brought neither. 2 stops counting its
    // depth through 1 (whose last word was depth 1) and counts it through 3 (depth 2).
    let second = net.nodes[0]
        .post(net.now, b"still away".to_vec(), vec![])
        .expect("posted");
    net.pump_without(away);
    assert!(net.nodes[2].holds(&second));
    let way = net.nodes[2]
        .way_to_creator()
        .map(|(m, d)| (net.index(&m), d));
    assert_eq!(way, Some((Some(3), 3)));
}

#[test]
fn a_member_whose_push_was_lost_asks_its_parent_before_an_announcer_elsewhere_in_the_tree() {
    // Two ways from the creator to 3 and to 6, three hops each (0-1-2-3, 0-4-5-6), and a link
    // 3-6 between them that the tree leaves lazy.
    let mut net = Net::new(
        7,
        &[(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (6, 3)],
        Config::default(),
    );
    for k in 0..3 {
        net.nodes[0]
            .post(net.now, format!("form {k}").into_bytes(), vec![])
            .expect("posted");
        net.pump();
        net.wait(Config::default().retry_timeout + 500);
    }
    let way = |net: &Net, i: usize| {
        net.nodes[i]
            .way_to_creator()
            .map(|(m, d)| (net.index(&m), d))
    };
    assert_eq!(way(&net, 3), Some((Some(2), 3)));
    assert_eq!(way(&net, 6), Some((Some(5), 3)));
    assert!(!net.nodes[6].eager().contains(&id(3)));
    // The push from 2 to 3 is lost; 6 announces the post to 3.
    net.log.clear();
    let post = net.nodes[0]
        .post(net.now, b"lost on the way to 3".to_vec(), vec![])
        .expect("posted");
    net.pump_losing(2, 3);
    assert!(!net.nodes[3].holds(&post));
    let c = Config::default();
    net.wait(2 * c.graft_timeout + c.retry_timeout + 1_000);
    assert!(net.nodes[3].holds(&post));
    // 3 asked its parent, not 6 (which would have brought it a hop further, over a link the
    // tree would then take): 2 carried it, 6 did not, and 3 still counts its way through 2.
    let carried = net.carried(&post);
    assert!(carried.contains(&(2, 3)), "{carried:?}");
    assert!(!carried.contains(&(6, 3)), "{carried:?}");
    assert!(
        !net.nodes[6].eager().contains(&id(3)),
        "6 does not push to 3"
    );
    assert_eq!(way(&net, 3), Some((Some(2), 3)));
}
