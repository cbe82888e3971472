//! Mailing lists carried by real nodes over loopback: invitations, joins, posts passed member
//! to member as mail, a member offline during a post catching up when it comes back, leaving.

mod common;

use std::time::Duration;

use common::*;
use postern_core::HasKind;

const WAIT: Duration = Duration::from_secs(60);

fn state(d: &Device, list: &str) -> Option<String> {
    let lists = d.api.lists(&d.name()).ok()?;
    lists
        .iter()
        .find(|l| l.name == list)
        .map(|l| l.state.clone())
}

fn posts(d: &Device, list: &str) -> usize {
    d.api.list_posts(&d.name(), list).map_or(0, |p| p.len())
}

fn wake(d: &Device) {
    if let Some(n) = &d.node {
        n.wake_outbox();
    }
}

/// `n` devices on one list, invited along a binary tree (device i by device (i-1)/2), each
/// pair of inviter and invitee contacts of each other. Returns the devices, started.
async fn list_of(root: &std::path::Path, reg: &std::path::Path, n: usize) -> Vec<Device> {
    let mut devices: Vec<Device> = (0..n)
        .map(|i| Device::new(root, &format!("m{i:02}")))
        .collect();
    for i in 1..n {
        let parent = (i - 1) / 2;
        let (a, b) = devices.split_at_mut(i);
        a[parent].add_contact(&b[0], true);
        b[0].add_contact(&a[parent], true);
    }
    for d in devices.iter_mut() {
        d.start(loopback(reg)).await;
    }
    let creator = devices[0].name();
    devices[0]
        .api
        .list_create(&creator, "friends")
        .expect("create");
    // Level by level: everyone of a level invites its children at once.
    let mut level = vec![0usize];
    while !level.is_empty() {
        let children: Vec<usize> = level
            .iter()
            .flat_map(|p| [2 * p + 1, 2 * p + 2])
            .filter(|c| *c < n)
            .collect();
        for c in &children {
            let parent = (c - 1) / 2;
            let (name, to) = (devices[parent].name(), devices[*c].address.clone());
            devices[parent]
                .api
                .list_invite(&name, "friends", &to)
                .expect("invite");
            wake(&devices[parent]);
        }
        for c in &children {
            wait_for(WAIT, "an invitation", || {
                (state(&devices[*c], "friends")? == "invited").then_some(())
            })
            .await;
            let name = devices[*c].name();
            devices[*c].api.list_join(&name, "friends").expect("join");
            wake(&devices[*c]);
        }
        for c in &children {
            wait_for(WAIT, "the welcome", || {
                (state(&devices[*c], "friends")? == "member").then_some(())
            })
            .await;
        }
        level = children;
    }
    devices
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_members_post_and_one_offline_catches_up() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut d = list_of(tmp.path(), &reg, 5).await;

    // Every member learns of every other's join.
    for m in &d {
        wait_for(WAIT, "all five members", || {
            (m.api.list_members(&m.name(), "friends").ok()?.len() == 5).then_some(())
        })
        .await;
    }

    // A leaf posts; the post goes leaf -> parent -> root -> the other branch.
    let (leaf, other_leaf) = (3, 4);
    let name = d[leaf].name();
    d[leaf]
        .api
        .list_post(&name, "friends", "Hello list", "First post.\nTwo lines.")
        .expect("post");
    wake(&d[leaf]);
    for m in &d {
        wait_for(WAIT, "the first post everywhere", || {
            (posts(m, "friends") == 1).then_some(())
        })
        .await;
    }
    let p = &d[2].api.list_posts(&d[2].name(), "friends").expect("posts")[0];
    assert_eq!(p.subject, "Hello list");
    assert_eq!(p.text.replace("\r\n", "\n"), "First post.\nTwo lines.");

    // A member offline during a post gets it when it comes back (its heads go to its
    // neighbours at start, and they answer with what it lacks).
    d[other_leaf].stop();
    let name = d[0].name();
    d[0].api
        .list_post(&name, "friends", "While you were out", "Second post.")
        .expect("post");
    wake(&d[0]);
    for (i, m) in d.iter().enumerate() {
        if i != other_leaf {
            wait_for(WAIT, "the second post", || {
                (posts(m, "friends") == 2).then_some(())
            })
            .await;
        }
    }
    assert_eq!(posts(&d[other_leaf], "friends"), 1);
    d[other_leaf].start(loopback(&reg)).await;
    wait_for(WAIT, "the missed post after coming back", || {
        (posts(&d[other_leaf], "friends") == 2).then_some(())
    })
    .await;

    // Leaving: the others stop counting the member; its later posts are impossible.
    let name = d[other_leaf].name();
    let left = d[other_leaf]
        .api
        .list_leave(&name, "friends")
        .expect("leave");
    assert_eq!(left.state, "left");
    wake(&d[other_leaf]);
    for (i, m) in d.iter().enumerate() {
        if i != other_leaf {
            wait_for(WAIT, "the leave everywhere", || {
                (m.api.list_members(&m.name(), "friends").ok()?.len() == 4).then_some(())
            })
            .await;
        }
    }
    let err = d[other_leaf]
        .api
        .list_post(&name, "friends", "x", "y")
        .expect_err("a member who left cannot post");
    assert!(err.to_string().contains("not a member"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_members_all_receive_a_post() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut d = list_of(tmp.path(), &reg, 20).await;
    let name = d[19].name();
    d[19]
        .api
        .list_post(&name, "friends", "To all twenty", "Hello.")
        .expect("post");
    wake(&d[19]);
    for m in &d {
        wait_for(WAIT, "the post at every member", || {
            (posts(m, "friends") == 1).then_some(())
        })
        .await;
    }
    // Joins travel as repairs (announced, then fetched): every member learns of every other.
    for m in &d {
        wait_for(WAIT, "every member known everywhere", || {
            (m.api.list_members(&m.name(), "friends").ok()?.len() == 20).then_some(())
        })
        .await;
    }
}

#[test]
fn list_commands_refuse_what_they_cannot_do() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut a = Device::new(tmp.path(), "ann");
    let b = Device::new(tmp.path(), "ben");
    let err = a
        .api
        .list_post("ann", "nothing", "s", "t")
        .expect_err("no list");
    assert_eq!(err.kind(), postern_core::ErrorKind::NotFound);
    a.api.list_create("ann", "club").expect("create");
    let err = a.api.list_create("ann", "club").expect_err("same name");
    assert!(err.to_string().contains("exists"), "{err}");
    let err = a.api.list_create("ann", "  ").expect_err("empty name");
    assert_eq!(err.kind(), postern_core::ErrorKind::BadInput);
    let err = a
        .api
        .list_invite("ann", "club", &b.address)
        .expect_err("only contacts are invited");
    assert_eq!(err.kind(), postern_core::ErrorKind::NotFound);
    let err = a.api.list_join("ann", "club").expect_err("no invitation");
    assert!(err.to_string().contains("no invitation"), "{err}");
    let lists = a.api.lists("ann").expect("lists");
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].members, 1);
    assert_eq!(lists[0].state, "member");
}
