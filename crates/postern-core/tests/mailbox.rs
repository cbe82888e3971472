//! The mailbox model: mailboxes with UIDs and UIDVALIDITY, flags, sent mail kept, replies
//! threaded by References, drafts that survive a restart, archive/delete/undo, and the check
//! before an identity writes to someone it never wrote to.

mod common;

use std::time::Duration;

use common::*;
use postern_core::{Attachment, CoreError, DraftInput, FlagChange, Postern};

const WAIT: Duration = Duration::from_secs(15);

fn count(p: &Postern, identity: &str, mailbox: &str) -> (i64, i64) {
    let b = p
        .mailboxes(identity)
        .expect("mailboxes")
        .into_iter()
        .find(|b| b.name == mailbox)
        .expect("mailbox");
    (b.total, b.unread)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_threads_with_the_message_it_answers_on_both_sides() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    alice.start(loopback(&reg)).await;
    bob.start(loopback(&reg)).await;

    // Every identity has the standard mailboxes, in order, each with its UIDVALIDITY.
    let boxes = alice.api.mailboxes("alice").expect("boxes");
    let names: Vec<&str> = boxes.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        ["inbox", "requests", "drafts", "sent", "archive", "trash"]
    );
    let mut validities: Vec<i64> = boxes.iter().map(|b| b.uidvalidity).collect();
    validities.dedup();
    assert_eq!(validities.len(), 6, "one UIDVALIDITY per mailbox");

    let sent = alice
        .api
        .send(
            "alice",
            &bob.address,
            "Lunch?",
            "Friday at one?\nAt the usual place.",
            &[],
        )
        .expect("send");
    alice.node.as_ref().expect("node").wake_outbox();
    // Sent mail is kept, readable, and seen.
    let mine = alice.api.mailbox("alice", "sent").expect("sent");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].to, bob.address);
    assert_eq!(mine[0].uid, 1);
    assert!(mine[0].read);
    assert_eq!(
        alice.api.read(mine[0].id).expect("read sent").text,
        "Friday at one?\nAt the usual place."
    );
    assert_eq!(sent.subject, "Lunch?");

    let id = wait_for(WAIT, "Bob's inbox", || {
        bob.api.mailbox("bob", "inbox").ok()?.first().map(|m| m.id)
    })
    .await;
    assert_eq!(count(&bob.api, "bob", "inbox"), (1, 1));
    let original = bob.api.read(id).expect("read");
    assert_eq!(
        count(&bob.api, "bob", "inbox"),
        (1, 0),
        "reading drops the unread count"
    );
    assert_eq!(original.summary.message_id, mine[0].message_id);

    // Reply: quoted, "Re:" once, and the thread's References.
    let draft = bob.api.reply(id, false).expect("reply");
    assert_eq!(draft.to, alice.address);
    assert_eq!(draft.subject, "Re: Lunch?");
    assert!(
        draft
            .text
            .contains("> Friday at one?\n> At the usual place."),
        "{}",
        draft.text
    );
    assert_eq!(
        draft.in_reply_to.as_deref(),
        Some(original.summary.message_id.as_str())
    );
    assert_eq!(draft.references, vec![original.summary.message_id.clone()]);
    let mut input = DraftInput {
        id: Some(draft.id),
        identity: "bob".into(),
        to: draft.to.clone(),
        subject: draft.subject.clone(),
        text: format!("Yes, see you there.{}", draft.text),
        ..Default::default()
    };
    let saved = bob.api.save_draft(&input, &[]).expect("save");
    assert_eq!(
        saved.in_reply_to, draft.in_reply_to,
        "threading kept across saves"
    );
    input.id = Some(saved.id);
    bob.api.send_draft(saved.id).expect("send reply");
    bob.node.as_ref().expect("node").wake_outbox();
    assert!(bob.api.mailbox("bob", "drafts").expect("drafts").is_empty());
    let answered = bob.api.mailbox("bob", "inbox").expect("inbox");
    assert!(answered[0].answered, "the original is marked answered");
    // Bob's own thread: the original, then his reply.
    let thread = bob.api.thread(id).expect("thread");
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[0].id, id);
    assert_eq!(thread[1].folder, "sent");

    // Alice's side: the reply lands in her thread, after her message, with the References.
    let reply_id = wait_for(WAIT, "the reply", || {
        alice
            .api
            .mailbox("alice", "inbox")
            .ok()?
            .first()
            .map(|m| m.id)
    })
    .await;
    let reply = alice.api.read(reply_id).expect("read reply");
    assert_eq!(reply.summary.subject, "Re: Lunch?");
    assert_eq!(
        reply.in_reply_to.as_deref(),
        Some(mine[0].message_id.as_str())
    );
    assert_eq!(reply.references, vec![mine[0].message_id.clone()]);
    let thread = alice.api.thread(reply_id).expect("thread");
    let order: Vec<(&str, &str)> = thread
        .iter()
        .map(|m| (m.folder.as_str(), m.subject.as_str()))
        .collect();
    assert_eq!(order, [("sent", "Lunch?"), ("inbox", "Re: Lunch?")]);
    assert_eq!(thread[0].thread, thread[1].thread);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_moves_and_undo_keep_uids_growing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    alice.start(loopback(&reg)).await;
    bob.start(loopback(&reg)).await;
    for n in 1..=3 {
        alice
            .api
            .send("alice", &bob.address, &format!("note {n}"), "text", &[])
            .expect("send");
    }
    alice.node.as_ref().expect("node").wake_outbox();
    let inbox = wait_for(WAIT, "three messages", || {
        let m = bob.api.mailbox("bob", "inbox").ok()?;
        (m.len() == 3).then_some(m)
    })
    .await;
    let mut uids: Vec<i64> = inbox.iter().map(|m| m.uid).collect();
    uids.sort();
    assert_eq!(uids, [1, 2, 3]);
    let validity = bob.api.mailboxes("bob").expect("boxes")[0].uidvalidity;

    let first = inbox.iter().find(|m| m.uid == 1).expect("uid 1").id;
    let f = bob
        .api
        .set_flags(
            first,
            FlagChange {
                flagged: Some(true),
                seen: Some(true),
                ..Default::default()
            },
        )
        .expect("flag");
    assert!(f.flagged && f.read);

    // A message whose UID in the Archive is taken in the Inbox moves there all the same.
    let third = inbox.iter().find(|m| m.uid == 3).expect("uid 3").id;
    let second = inbox.iter().find(|m| m.uid == 2).expect("uid 2").id;
    bob.api.archive(third).expect("archive uid 3");
    bob.api.archive(second).expect("archive uid 2");
    bob.api
        .move_message(second, "inbox")
        .expect("back while its archive UID 2 is taken");
    bob.api.move_message(third, "inbox").expect("and the other");
    let inbox = bob.api.mailbox("bob", "inbox").expect("inbox");
    let mut uids: Vec<i64> = inbox.iter().map(|m| m.uid).collect();
    uids.sort();
    assert_eq!(uids, [1, 4, 5]);

    // Archive, then undo: back in the Inbox with a new, higher UID (UIDs are never reused).
    let moved = bob.api.archive(first).expect("archive");
    assert_eq!(
        (moved.from.as_str(), moved.to.as_str()),
        ("inbox", "archive")
    );
    assert_eq!(
        bob.api.mailbox("bob", "archive").expect("archive")[0].uid,
        3
    );
    bob.api.move_message(first, &moved.from).expect("undo");
    let back = bob.api.mailbox("bob", "inbox").expect("inbox");
    assert_eq!(back.len(), 3);
    let again = back.iter().find(|m| m.id == first).expect("back");
    assert_eq!(again.uid, 6);
    assert!(again.flagged, "flags travel with the message");

    // Delete: to the Trash; deleted there: gone for good. Undo from the Trash works.
    let t = bob.api.trash(first).expect("trash");
    assert_eq!(t.to, "trash");
    bob.api.move_message(first, &t.from).expect("undo delete");
    assert_eq!(bob.api.mailbox("bob", "inbox").expect("inbox").len(), 3);
    bob.api.trash(first).expect("trash again");
    let gone = bob.api.trash(first).expect("delete for good");
    assert_eq!(gone.to, "deleted");
    assert!(matches!(
        bob.api.read(first),
        Err(CoreError::MessageNotFound(_))
    ));
    assert_eq!(
        bob.api.mailboxes("bob").expect("boxes")[0].uidvalidity,
        validity
    );
    assert_eq!(
        bob.api.mailboxes("bob").expect("boxes")[0].uidnext,
        8,
        "the Inbox's next UID only grows (6 and 7 were given on the way back)"
    );

    // Moves the model does not allow are refused with a sentence.
    let other = back.iter().find(|m| m.id != first).expect("other").id;
    for (to, why) in [
        ("sent", "received mail"),
        ("requests", "Requests"),
        ("nowhere", "no mailbox"),
    ] {
        let e = bob.api.move_message(other, to).expect_err(to);
        assert!(e.to_string().contains(why), "{to}: {e}");
    }
}

#[test]
fn a_draft_survives_a_restart_with_its_attachment() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut alice = Device::new(tmp.path(), "alice");
    let d = alice
        .api
        .save_draft(
            &DraftInput {
                identity: "alice".into(),
                to: "not yet an addr".into(),
                subject: "Plans".into(),
                text: "first line".into(),
                ..Default::default()
            },
            &[Attachment {
                name: "map.png".into(),
                content_type: "image/png".into(),
                data: vec![7; 3000],
            }],
        )
        .expect("save");
    let uid_before = alice.api.mailbox("alice", "drafts").expect("drafts")[0].uid;
    let d2 = alice
        .api
        .save_draft(
            &DraftInput {
                id: Some(d.id),
                identity: "alice".into(),
                to: "not yet an addr".into(),
                subject: "Plans".into(),
                text: "first line\nsecond line".into(),
                ..Default::default()
            },
            &[],
        )
        .expect("save again");
    assert_eq!(d2.id, d.id, "saving again replaces the draft");
    let drafts = alice.api.mailbox("alice", "drafts").expect("drafts");
    assert_eq!(drafts.len(), 1);
    assert!(drafts[0].uid > uid_before, "changed content gets a new UID");
    // Sending an unfinished draft is refused and keeps it.
    assert!(matches!(
        alice.api.send_draft(d.id),
        Err(CoreError::Address(_))
    ));
    let dir = alice.dir.clone();
    drop(alice);

    let reopened = Postern::open(&dir, b"pw").expect("reopen");
    let drafts = reopened.mailbox("alice", "drafts").expect("drafts");
    assert_eq!(drafts.len(), 1);
    let d = reopened.draft(drafts[0].id).expect("draft");
    assert_eq!(d.text, "first line\nsecond line");
    assert_eq!(d.to, "not yet an addr");
    assert_eq!(d.attachments.len(), 1);
    assert_eq!(
        reopened.attachments(d.id).expect("att")[0].data,
        vec![7; 3000]
    );
}

#[test]
fn writing_from_an_identity_to_another_identitys_contact_asks_first() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut me = Device::new(tmp.path(), "work");
    let bob = Device::new(tmp.path(), "bob");
    me.api
        .create_identity("home", "Home")
        .expect("second identity");
    me.api
        .add_contact("work", &bob.card(true))
        .expect("bob is a contact of work");

    let ok = me.api.check_recipient("work", &bob.address).expect("check");
    assert!(ok.is_contact && !ok.confirm && ok.sentence.is_empty());

    let ask = me.api.check_recipient("home", &bob.address).expect("check");
    assert!(ask.confirm);
    assert!(!ask.is_contact && !ask.written_before);
    assert_eq!(ask.known_to, vec![me.address.clone()]);
    assert!(ask.sentence.contains("is a contact of"), "{}", ask.sentence);

    // Once written to, it is not asked again.
    me.api
        .send("home", &bob.address, "hello", "from home", &[])
        .expect("send");
    assert!(
        !me.api
            .check_recipient("home", &bob.address)
            .expect("check")
            .confirm
    );
    assert!(me.api.check_recipient("home", "not an address").is_err());
}
