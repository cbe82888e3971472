//! Anti-entropy without listing every author: in-step neighbours exchange a digest and nothing
//! more, a digest that differs leads to the heads and the missing posts, and a member back from
//! an absence asks only for what came since it left.

mod common;

use std::sync::Arc;

use common::{id, Net};
use postern_list::{Config, Wire};

/// Delivers everything queued except what goes to or comes from `away`.
fn pump_without(net: &mut Net, away: usize) {
    loop {
        let mut moved = false;
        for i in 0..net.nodes.len() {
            while let Some((to, wire)) = net.nodes[i].poll_transmit() {
                moved = true;
                let j = net.index(&to).expect("a member");
                if i == away || j == away {
                    continue;
                }
                net.now += 1;
                net.log.push((i, j, wire.clone()));
                let from = net.nodes[i].me();
                net.nodes[j].handle(net.now, from, wire);
            }
        }
        if !moved {
            return;
        }
    }
}

fn count(net: &Net, kind: &str) -> usize {
    net.log.iter().filter(|(_, _, w)| w.kind() == kind).count()
}

#[test]
fn in_step_neighbours_exchange_only_a_digest() {
    let config = Config::default();
    let mut net = Net::new(3, &[(0, 1), (1, 2)], config.clone());
    net.nodes[1]
        .post(net.now, b"everyone has this".to_vec(), vec![])
        .expect("posted");
    net.pump();
    net.log.clear();
    net.wait(config.sync_interval + 1_000);
    assert!(count(&net, "digest") >= 3, "every member sent a digest");
    for kind in ["heads", "ihave-sync", "fetch", "gossip"] {
        assert_eq!(count(&net, kind), 0, "nothing else followed: {kind}");
    }
    let digest_bytes: usize = net.log.iter().map(|(_, _, w)| w.encoded_len()).sum();
    assert!(digest_bytes <= 3 * 41 + 10, "{digest_bytes} bytes");
}

#[test]
fn a_digest_that_differs_brings_the_missing_post() {
    let config = Config::default();
    let mut net = Net::new(3, &[(0, 1), (1, 2)], config.clone());
    // Member 1 holds a post of its own that never went out (as if every copy was lost).
    let (seq, prev) = net.head(1, 1);
    let lost = net.forge_text(1, seq + 1, Some(prev), net.now, "lost on the way");
    let lost_id = lost.id();
    assert!(net.nodes[1].admit(net.now, Arc::new(lost)));
    net.log.clear();
    net.wait(2 * config.sync_interval + 1_000);
    assert!(net.nodes[0].holds(&lost_id) && net.nodes[2].holds(&lost_id));
    let first_digest = net
        .log
        .iter()
        .position(|(_, _, w)| w.kind() == "digest")
        .expect("a digest");
    let first_heads = net
        .log
        .iter()
        .position(|(_, _, w)| w.kind() == "heads")
        .expect("heads, once the digests differed");
    assert!(first_digest < first_heads);
    assert!(
        net.log
            .iter()
            .all(|(_, _, w)| !matches!(w, Wire::Gossip { route, .. } if *route == postern_list::Route::Push)),
        "repaired, not pushed"
    );
}

#[test]
fn a_member_back_from_an_absence_asks_since_it_left_and_gets_what_it_missed() {
    let config = Config::default();
    let mut net = Net::new(3, &[(0, 1), (1, 2)], config.clone());
    net.wait(config.settle + 10_000);
    let left = net.now + 10;
    net.nodes[2].handle_timeout(left);
    net.now = left + 1;
    // Member 2 is away: three posts go by without it.
    let mut missed = Vec::new();
    for text in ["one", "two", "three"] {
        net.now += 1_000;
        let id = net.nodes[0]
            .post(net.now, text.as_bytes().to_vec(), vec![])
            .expect("posted");
        missed.push(id);
        pump_without(&mut net, 2);
    }
    assert!(missed.iter().all(|p| !net.nodes[2].holds(p)));
    net.log.clear();
    net.now += 100_000;
    net.nodes[2].resume(net.now);
    net.pump();
    let asked: Vec<u64> = net
        .log
        .iter()
        .filter_map(|(f, _, w)| match w {
            Wire::Since { after } if *f == 2 => Some(*after),
            _ => None,
        })
        .collect();
    assert_eq!(
        asked,
        vec![left - config.settle],
        "asked from a little before it left"
    );
    assert_eq!(count(&net, "heads"), 0, "no heads were needed");
    for p in &missed {
        assert!(net.nodes[2].holds(p), "caught up");
    }
    // What was announced is what came since then, not every author's chain.
    let announced: usize = net
        .log
        .iter()
        .map(|(_, _, w)| match w {
            Wire::IHave {
                announces,
                sync: true,
                ..
            } => announces.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(
        announced,
        missed.len(),
        "only the posts made while it was away"
    );
}

#[test]
fn more_than_one_batch_since_is_answered_with_heads() {
    let config = Config {
        repair_batch: 3,
        ..Config::default()
    };
    let mut net = Net::new(2, &[(0, 1)], config);
    let start = net.now;
    for text in ["one", "two", "three"] {
        net.now += 1_000;
        net.nodes[0]
            .post(net.now, text.as_bytes().to_vec(), vec![])
            .expect("posted");
        net.pump();
    }
    // From the start: the charter, the join and three posts, more than a batch of three.
    net.log.clear();
    net.inject(1, 0, Wire::Since { after: 0 });
    assert!(matches!(
        net.log.first(),
        Some((0, 1, Wire::Heads { reply: true, .. }))
    ));
    // From the second post on: two announcements.
    net.log.clear();
    net.inject(
        1,
        0,
        Wire::Since {
            after: start + 2_000,
        },
    );
    match net.log.first() {
        Some((
            0,
            1,
            Wire::IHave {
                announces,
                sync: true,
                ..
            },
        )) => {
            assert_eq!(announces.len(), 2);
            assert!(announces.iter().all(|a| a.author == id(0)));
        }
        other => panic!("expected announcements, got {other:?}"),
    }
}
