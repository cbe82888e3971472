//! Mailing lists carried by real nodes over loopback: invitations, joins, posts passed member
//! to member as mail, a member offline during a post catching up when it comes back, leaving.

mod common;

use std::time::Duration;

use std::sync::Arc;

use common::*;
use postern_core::{HasKind, Network, Transport};
use postern_testnet::Testnet;

const WAIT: Duration = Duration::from_secs(120);
const TOR_WAIT: Duration = Duration::from_secs(180);

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
async fn list_of(
    root: &std::path::Path,
    n: usize,
    transport: impl Fn(&Device) -> Arc<dyn Transport>,
) -> Vec<Device> {
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
        let t = transport(d);
        d.start(t).await;
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
    let mut d = list_of(tmp.path(), 5, |_| loopback(&reg)).await;

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
    let mut d = list_of(tmp.path(), 20, |_| loopback(&reg)).await;
    let name = d[19].name();
    let posted = std::time::Instant::now();
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
    eprintln!(
        "a post reached all 20 members (up to 8 hops) over loopback in {:?}",
        posted.elapsed()
    );
    // Joins travel as repairs (announced, then fetched): every member learns of every other.
    for m in &d {
        wait_for(WAIT, "every member known everywhere", || {
            (m.api.list_members(&m.name(), "friends").ok()?.len() == 20).then_some(())
        })
        .await;
    }
}

/// Outbox entries of `d` queued after `after` that are larger than `size`, by recipient.
fn big_mail_to(d: &Device, after: i64, size: i64) -> Vec<String> {
    let conn = d.api.store().connection();
    let mut st = conn
        .prepare(
            "SELECT recipient FROM outbox WHERE id > ?1 AND length(draft_sealed) > ?2 ORDER BY id",
        )
        .expect("query");
    let rows = st
        .query_map([after, size], |r| r.get::<_, String>(0))
        .expect("rows");
    rows.map(|r| r.expect("row")).collect()
}

fn last_outbox_id(d: &Device) -> i64 {
    d.api
        .store()
        .connection()
        .query_row("SELECT COALESCE(max(id), 0) FROM outbox", [], |r| r.get(0))
        .expect("max id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_reaches_every_member_once_per_link_and_is_saved() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    // 0 is the root; 1 and 2 its children; 3 and 4 children of 1.
    let mut d = list_of(tmp.path(), 5, |_| loopback(&reg)).await;
    for m in &d {
        wait_for(WAIT, "all five members", || {
            (m.api.list_members(&m.name(), "friends").ok()?.len() == 5).then_some(())
        })
        .await;
    }
    let before: Vec<i64> = d.iter().map(last_outbox_id).collect();
    // A file of 100 KiB that does not compress (seeded, the same every run); the test nodes
    // take mail of up to 256 KiB.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(16);
    let mut data = vec![0u8; 100 * 1024];
    rand::RngCore::fill_bytes(&mut rng, &mut data);
    let file = postern_core::Attachment {
        name: "minutes.pdf".into(),
        content_type: "application/pdf".into(),
        data: data.clone(),
    };
    let name = d[3].name();
    d[3].api
        .list_post_with(&name, "friends", "The minutes", "Attached.", &[file])
        .expect("post");
    wake(&d[3]);
    for m in &d {
        wait_for(WAIT, "the post and its attachment everywhere", || {
            let posts = m.api.list_posts(&m.name(), "friends").ok()?;
            let a = posts.first()?.attachments.first()?.clone();
            a.held.then_some(())
        })
        .await;
    }
    let p = &d[2].api.list_posts(&d[2].name(), "friends").expect("posts")[0];
    assert_eq!(p.attachments.len(), 1);
    let a = &p.attachments[0];
    assert_eq!(
        (a.name.as_str(), a.content_type.as_str(), a.size),
        ("minutes.pdf", "application/pdf", 100 * 1024)
    );
    let dir = tmp.path().join("saved");
    let saved = d[2]
        .api
        .save_list_attachments(&d[2].name(), "friends", &dir)
        .expect("save");
    assert_eq!(saved, vec![dir.join("minutes.pdf")]);
    assert!(std::fs::read(&saved[0]).expect("saved file") == data);

    // Once per link: the file went 3 -> 1 -> {0, 4}, 0 -> 2; nobody sent it twice, nobody
    // received it twice, and nobody sent it back towards where it came from.
    let mut received: Vec<String> = Vec::new();
    for (i, m) in d.iter().enumerate() {
        let to = big_mail_to(m, before[i], 100 * 1024);
        let mut unique = to.clone();
        unique.dedup();
        assert_eq!(
            to, unique,
            "member {i} sent the file twice to one neighbour"
        );
        received.extend(to);
    }
    received.sort();
    let mut want: Vec<String> = [0, 1, 2, 4].iter().map(|i| d[*i].address.clone()).collect();
    want.sort();
    assert_eq!(
        received, want,
        "each member but the author received it once"
    );

    // A member restarted holds it at rest and gives it to a newcomer who joins later — even
    // when its copy is gone (a restore without attachments, a disk fault): it asks its own
    // neighbour for it again, and its list goes on.
    d[4].stop();
    std::fs::remove_dir_all(d[4].dir.join("blobs")).expect("the blob files are there");
    d[4].start(loopback(&reg)).await;
    let mut newcomer = Device::new(tmp.path(), "m05");
    newcomer.add_contact(&d[4], true);
    d[4].add_contact(&newcomer, true);
    newcomer.start(loopback(&reg)).await;
    let (four, to) = (d[4].name(), newcomer.address.clone());
    d[4].api.list_invite(&four, "friends", &to).expect("invite");
    wake(&d[4]);
    wait_for(WAIT, "the invitation", || {
        (state(&newcomer, "friends")? == "invited").then_some(())
    })
    .await;
    let me = newcomer.name();
    newcomer.api.list_join(&me, "friends").expect("join");
    wake(&newcomer);
    wait_for(WAIT, "the newcomer holds the old post's attachment", || {
        let posts = newcomer.api.list_posts(&me, "friends").ok()?;
        posts.first()?.attachments.first()?.held.then_some(())
    })
    .await;
    let dir = tmp.path().join("newcomer");
    let saved = newcomer
        .api
        .save_list_attachments(&me, "friends", &dir)
        .expect("save");
    assert!(std::fs::read(&saved[0]).expect("saved file") == data);
}

#[test]
fn attachments_over_the_limits_are_refused_before_anything_is_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut a = Device::new(tmp.path(), "ann");
    a.api.list_create("ann", "club").expect("create");
    let file = |n: usize| postern_core::Attachment {
        name: "big.bin".into(),
        content_type: "application/octet-stream".into(),
        data: vec![1; n],
    };
    let err = a
        .api
        .list_post_with(
            "ann",
            "club",
            "s",
            "t",
            &[file(postern_core::MAX_LIST_ATTACHMENT + 1)],
        )
        .expect_err("too large");
    assert!(err.to_string().contains("at most 10 MiB"), "{err}");
    let many: Vec<_> = (0..17).map(|_| file(1)).collect();
    let err = a
        .api
        .list_post_with("ann", "club", "s", "t", &many)
        .expect_err("too many");
    assert!(err.to_string().contains("at most 16"), "{err}");
    assert!(a.api.list_posts("ann", "club").expect("posts").is_empty());
    assert_eq!(
        a.api.store().blob_usage().expect("usage").0,
        0,
        "no blob kept"
    );
    // The largest allowed is taken.
    a.api
        .list_post_with(
            "ann",
            "club",
            "s",
            "t",
            &[file(postern_core::MAX_LIST_ATTACHMENT)],
        )
        .expect("at the limit");
    assert_eq!(a.api.store().blob_usage().expect("usage").0, 1);
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

fn tor(d: &Device) -> Arc<dyn Transport> {
    let net = Testnet::shared().expect("private Tor network");
    Network::Tor {
        network_toml: Some(net.arti_network_toml()),
        bootstrap_timeout: Duration::from_secs(60),
    }
    .transport(&d.dir)
    .expect("arti")
}

/// Five members over the private Tor network; two are offline while another posts twice, come
/// back, and catch up (their heads go to their neighbour, which answers with the two posts of
/// the author's chain, taken in order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(tor_missing, ignore = "needs `tor` (apt-get install tor); CI runs it")]
async fn five_members_over_tor_two_offline_catch_up() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut d = list_of(tmp.path(), 5, tor).await;
    for m in &d {
        wait_for(TOR_WAIT, "all five members over Tor", || {
            (m.api.list_members(&m.name(), "friends").ok()?.len() == 5).then_some(())
        })
        .await;
    }
    // Members 3 and 4 (both invited by 1) go offline; member 2 posts twice.
    d[3].stop();
    d[4].stop();
    let name = d[2].name();
    for (subject, text) in [("One", "First of two."), ("Two", "Second of two.")] {
        d[2].api
            .list_post(&name, "friends", subject, text)
            .expect("post");
    }
    wake(&d[2]);
    let posted = std::time::Instant::now();
    for m in &d[..3] {
        wait_for(TOR_WAIT, "both posts at the online members", || {
            (posts(m, "friends") == 2).then_some(())
        })
        .await;
    }
    eprintln!(
        "two posts reached the three online members over Tor in {:?}",
        posted.elapsed()
    );
    assert_eq!(posts(&d[3], "friends"), 0);
    assert_eq!(posts(&d[4], "friends"), 0);
    let back = std::time::Instant::now();
    for i in [3, 4] {
        let t = tor(&d[i]);
        d[i].start(t).await;
    }
    for m in &d[3..] {
        wait_for(TOR_WAIT, "both posts after coming back", || {
            (posts(m, "friends") == 2).then_some(())
        })
        .await;
        let p = m.api.list_posts(&m.name(), "friends").expect("posts");
        assert_eq!(
            p.iter().map(|p| p.subject.as_str()).collect::<Vec<_>>(),
            ["One", "Two"],
            "in the author's order"
        );
    }
    eprintln!(
        "two members back online had both posts over Tor within {:?} of starting their nodes",
        back.elapsed()
    );
}

/// List mail as another node would send it: `Postern-Kind: list` and the given attachments,
/// signed by `from`, encrypted to `to`.
fn list_mail(from: &Device, to: &Device, attachments: Vec<postern_core::Attachment>) -> Vec<u8> {
    let keys = from.api.identity_keys(&from.name()).expect("keys");
    let to_key = to
        .api
        .identity_keys(&to.name())
        .expect("keys")
        .openpgp_public()
        .expect("public");
    let recipient = postern_crypto::PublicKeyInfo::parse(&to_key).expect("key");
    let mut rng = rand::thread_rng();
    let id = postern_mime::random_message_id(&mut rng);
    postern_mime::compose(
        &postern_mime::Draft {
            from: from.address.parse().expect("addr"),
            from_name: String::new(),
            to: to.address.parse().expect("addr"),
            subject: "List mail".into(),
            text: String::new(),
            attachments,
            headers: vec![("Postern-Kind".into(), "list".into())],
        },
        postern_mime::SenderKeys::of(&keys),
        recipient.cert(),
        1_800_000_000,
        &id,
        &mut rng,
    )
    .expect("compose")
}

fn frame(f: &postern_list::Frame) -> Vec<postern_core::Attachment> {
    vec![postern_core::Attachment {
        name: "list.postern".into(),
        content_type: "application/x-postern-list".into(),
        data: f.encode(),
    }]
}

/// List mail the list did not ask for — from a contact who is not a neighbour, an acceptance
/// without an invitation, a frame that does not decode, two frames, a stranger's — is dropped
/// or refused, and changes nothing: no post, no member, no link, nothing sent on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_mail_from_outside_the_list_changes_nothing() {
    use postern_list::{Frame, ListId, MemberId, SigningKey, Wire};
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut d = list_of(tmp.path(), 2, |_| loopback(&reg)).await;
    let mut outsider = Device::new(tmp.path(), "outsider");
    let stranger = Device::new(tmp.path(), "stranger");
    d[0].add_contact(&outsider, true);
    outsider.add_contact(&d[0], true);
    outsider.start(loopback(&reg)).await;
    let owner = d[0].name();
    wait_for(WAIT, "both members", || {
        (d[0].api.list_members(&owner, "friends").ok()?.len() == 2).then_some(())
    })
    .await;
    let list_hex = d[0].api.lists(&owner).expect("lists")[0].id.clone();
    let list = ListId(
        (0..32)
            .map(|i| u8::from_str_radix(&list_hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect::<Vec<_>>()
            .try_into()
            .expect("32 bytes"),
    );
    let members = |d: &Device| d.api.list_members(&d.name(), "friends").expect("members");
    let before = members(&d[0]);

    let stranger_key = MemberId::of(&SigningKey::from_bytes(&[42; 32]));
    let cases: Vec<(&Device, Vec<postern_core::Attachment>, u16)> = vec![
        // A contact who is not linked sends a wire message, and asks to be accepted.
        (
            &outsider,
            frame(&Frame::Wire {
                list,
                wire: Wire::Heads {
                    heads: vec![],
                    reply: true,
                },
            }),
            250,
        ),
        (
            &outsider,
            frame(&Frame::Accept {
                list,
                member: stranger_key,
            }),
            250,
        ),
        // Bytes that are not a frame.
        (
            &outsider,
            vec![postern_core::Attachment {
                name: "list.postern".into(),
                content_type: "application/x-postern-list".into(),
                data: vec![4, 1, 2, 3],
            }],
            250,
        ),
        // Two frames, or none: refused at once.
        (
            &outsider,
            [
                frame(&Frame::Wire {
                    list,
                    wire: Wire::Prune,
                }),
                frame(&Frame::Wire {
                    list,
                    wire: Wire::Prune,
                }),
            ]
            .concat(),
            550,
        ),
        (&outsider, vec![], 550),
    ];
    for (from, attachments, code) in cases {
        let msg = list_mail(from, &d[0], attachments);
        let (got, text) = submit(&reg, &from.address, &d[0], &msg).await;
        assert_eq!(got, code, "{text}");
    }
    // Invitations: at most 16 from one contact wait at once.
    for n in 0..17u8 {
        let charter = postern_list::ListNode::create(
            postern_list::Config::default(),
            SigningKey::from_bytes(&[n + 1; 32]),
            &format!("invitation {n}"),
            [n; 16],
            vec![],
            1_000,
        )
        .charter()
        .expect("charter");
        let msg = list_mail(
            &outsider,
            &d[0],
            frame(&Frame::Invite {
                charter,
                sponsor: stranger_key,
            }),
        );
        let (got, text) = submit(&reg, &outsider.address, &d[0], &msg).await;
        assert_eq!(got, 250, "{text}");
    }
    // A stranger's list mail is never read as list mail (without a stamp it is refused; with
    // one it would be a contact request).
    let msg = list_mail(
        &stranger,
        &d[0],
        frame(&Frame::Wire {
            list,
            wire: Wire::Prune,
        }),
    );
    let (got, text) = submit(&reg, &stranger.address, &d[0], &msg).await;
    assert_eq!(got, 550, "{text}");

    // A member's post, sent after all that, is taken after it (list mail is taken in the order
    // it arrived): once it is there, everything before was taken, and changed nothing.
    let member = d[1].name();
    d[1].api
        .list_post(&member, "friends", "From a member", "Hello.")
        .expect("post");
    wake(&d[1]);
    wait_for(WAIT, "the member's post", || {
        (posts(&d[0], "friends") == 1).then_some(())
    })
    .await;
    assert_eq!(members(&d[0]), before);
    let invited = d[0]
        .api
        .lists(&owner)
        .expect("lists")
        .iter()
        .filter(|l| l.state == "invited" && l.inviter == outsider.address)
        .count();
    assert_eq!(invited, 16, "at most 16 open invitations from one contact");
    let to_outsider = d[0]
        .api
        .outbox(None)
        .expect("outbox")
        .iter()
        .filter(|o| o.to == outsider.address)
        .count();
    assert_eq!(to_outsider, 0, "nothing sent in answer");
    assert!(d[0].api.requests(None).expect("requests").is_empty());
}

/// Moderation: only a moderator removes; the removal travels like a post; the removed member
/// learns it, cannot post, and no longer receives the list's posts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_removes_a_member() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut d = list_of(tmp.path(), 3, |_| loopback(&reg)).await;
    for m in &d {
        wait_for(WAIT, "all three members", || {
            (m.api.list_members(&m.name(), "friends").ok()?.len() == 3).then_some(())
        })
        .await;
    }
    let owner = d[0].name();
    let key_of_2 = d[0]
        .api
        .list_members(&owner, "friends")
        .expect("members")
        .into_iter()
        .find(|m| m.neighbour.as_deref() == Some(d[2].address.as_str()))
        .expect("member 2 is a neighbour of the creator")
        .member;
    let one = d[1].name();
    let err = d[1]
        .api
        .list_remove(&one, "friends", &key_of_2)
        .expect_err("only a moderator removes");
    assert!(err.to_string().contains("only a moderator"), "{err}");
    let err = d[0]
        .api
        .list_remove(&owner, "friends", "00")
        .expect_err("too short a key");
    assert_eq!(err.kind(), postern_core::ErrorKind::BadInput);

    d[0].api
        .list_remove(&owner, "friends", &key_of_2[..12])
        .expect("remove");
    wake(&d[0]);
    wait_for(WAIT, "the removal at member 1", || {
        (d[1].api.list_members(&one, "friends").ok()?.len() == 2).then_some(())
    })
    .await;
    wait_for(WAIT, "member 2 told it was removed", || {
        (state(&d[2], "friends")? == "removed").then_some(())
    })
    .await;
    let two = d[2].name();
    let err = d[2]
        .api
        .list_post(&two, "friends", "Still here?", "x")
        .expect_err("a removed member cannot post");
    assert!(err.to_string().contains("not a member"), "{err}");

    d[1].api
        .list_post(
            &one,
            "friends",
            "After the removal",
            "Only for the members.",
        )
        .expect("post");
    wake(&d[1]);
    wait_for(WAIT, "the post at the creator", || {
        (posts(&d[0], "friends") == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        posts(&d[2], "friends"),
        0,
        "the removed member gets nothing more"
    );
}
