//! The list protocol on 200 simulated members (CI size; the benchmark runs 1,000 and 5,000):
//! a random trust graph of degree 3–8, 1% of messages lost, 20% of members offline at any
//! time and coming back. Same seed, same run.

use postern_list::sim::{run, Report, SimConfig};
use postern_list::Mode;

fn config(mode: Mode) -> SimConfig {
    let mut cfg = SimConfig {
        members: 200,
        posts: 60,
        seed: 7,
        ..SimConfig::default()
    };
    cfg.node.mode = mode;
    cfg
}

fn show(name: &str, r: &Report) {
    eprintln!(
        "{name}: delivery {:.4} (online at post {:.4}), RMR {:.3}, LDH mean {:.2} max {}, payload {}, control {}, lost {}, dropped {}, dup {}",
        r.delivery, r.delivery_online, r.rmr, r.ldh_mean, r.ldh_max, r.payload_messages, r.control_messages, r.lost_messages, r.dropped, r.duplicates
    );
}

#[test]
fn plumtree_delivers_everything_with_little_redundancy() {
    let tree = run(config(Mode::Plumtree));
    let flood = run(config(Mode::Flood));
    show("plumtree", &tree);
    show("flood", &flood);
    assert_eq!(tree.posts, 60);
    assert_eq!(
        tree.delivery, 1.0,
        "every member, once back online, holds every post"
    );
    assert_eq!(flood.delivery, 1.0);
    assert!(tree.rmr <= 0.1, "steady-state RMR {} above 0.1", tree.rmr);
    assert!(
        flood.rmr > 1.0,
        "flooding on a degree 3-8 graph is redundant ({})",
        flood.rmr
    );
    // The goal is flooding's + 2; the shared tree does not reach it under churn (see
    // docs/benchmarks.md, P6). This bound catches a tree that degenerates further.
    assert!(
        tree.ldh_mean <= 2.0 * flood.ldh_mean + 2.0,
        "LDH {} vs flooding {}",
        tree.ldh_mean,
        flood.ldh_mean
    );
    // Catching up costs little: members coming back ask `Since` they left, neighbours compare
    // digests; whole heads (40 bytes per member) go only where those cannot do.
    let kind = |r: &Report, k: &str| r.bytes_by_kind.get(k).copied().unwrap_or(0) as f64;
    let total: f64 = tree.bytes_by_kind.values().sum::<u64>() as f64;
    eprintln!("plumtree bytes by kind: {:?}", tree.bytes_by_kind);
    assert!(
        kind(&tree, "heads") <= 0.05 * total,
        "heads {} of {total} bytes",
        kind(&tree, "heads")
    );
    assert!(kind(&tree, "digest") > 0.0 && kind(&tree, "since") > 0.0);
    assert!(
        tree.bytes_per_member < 0.75 * flood.bytes_per_member,
        "tree {} vs flooding {} bytes per member",
        tree.bytes_per_member,
        flood.bytes_per_member
    );
}

/// Nothing lost, nobody offline: the tree's shape alone. Drawn towards shortest paths from the
/// creator, its last delivery is within two hops of flooding's (first arrivals alone made it
/// half again as deep at 1,000 members).
#[test]
fn the_tree_is_nearly_as_shallow_as_flooding_when_nothing_fails() {
    let stable = |mode| SimConfig {
        loss: 0.0,
        offline: 0.0,
        churn: 0.0,
        ..config(mode)
    };
    let tree = run(stable(Mode::Plumtree));
    let flood = run(stable(Mode::Flood));
    show("plumtree", &tree);
    show("flood", &flood);
    assert_eq!(tree.delivery, 1.0);
    assert!(tree.rmr <= 0.01, "RMR {}", tree.rmr);
    assert!(
        tree.ldh_mean <= flood.ldh_mean + 2.0,
        "LDH {} vs flooding {}",
        tree.ldh_mean,
        flood.ldh_mean
    );
    assert!(tree.moved_nearer > 0, "members moved nearer the creator");
}

#[test]
fn same_seed_same_run() {
    let a = run(SimConfig {
        members: 60,
        posts: 20,
        ..config(Mode::Plumtree)
    });
    let b = run(SimConfig {
        members: 60,
        posts: 20,
        ..config(Mode::Plumtree)
    });
    assert_eq!(
        (
            a.payload_messages,
            a.control_messages,
            a.lost_messages,
            a.ldh_max
        ),
        (
            b.payload_messages,
            b.control_messages,
            b.lost_messages,
            b.ldh_max
        )
    );
    assert!(a.payload_messages > 0);
}
