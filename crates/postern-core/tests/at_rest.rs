//! What a seized laptop shows: after mail is sent and received (with an attachment, ten times,
//! from one node to another over loopback), no file in either data directory — database,
//! write-ahead log, key file, attachment files — holds any of the subject, body, addresses,
//! names or attachment bytes. Search finds the mail; events tell of it; the attachment is stored
//! once and freed with the last message that holds it.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use postern_core::Attachment;

const WAIT: Duration = Duration::from_secs(40);

/// Every file under `dir`, with its path.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("ls").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out
}

fn blob_files(dir: &Path) -> usize {
    files(&dir.join("blobs")).len()
}

fn assert_nowhere(dir: &Path, secrets: &[&[u8]]) {
    let all = files(dir);
    assert!(
        all.iter()
            .any(|(p, _)| p.file_name().is_some_and(|n| n == "postern.db")),
        "the database is there"
    );
    for (path, bytes) in &all {
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == *s),
                "{} holds {:?}",
                path.display(),
                String::from_utf8_lossy(s)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_readable_at_rest_and_attachments_stored_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    alice.add_contact(&bob, true);
    bob.add_contact(&alice, true);
    alice.start(loopback(&reg)).await;
    bob.start(loopback(&reg)).await;
    let first_event = bob.api.last_event().expect("events");

    // A binary file (sent base64-encoded) with a recognisable run of text in it.
    let mut file: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    file[5000..5000 + 27].copy_from_slice(b"QUARTERLY-FIGURES-PLAINTEXT");
    for i in 0..10 {
        alice
            .api
            .send(
                "alice",
                &bob.address,
                &format!("Marmalade recipe {i}"),
                "Seville oranges, slowly simmered.",
                &[Attachment {
                    name: "figures.bin".into(),
                    content_type: "application/octet-stream".into(),
                    data: file.clone(),
                }],
            )
            .expect("send");
    }
    alice.node.as_ref().expect("node").wake_outbox();
    wait_for(WAIT, "Bob's ten messages", || {
        (bob.api.inbox(None).ok()?.len() == 10).then_some(())
    })
    .await;
    wait_for(WAIT, "Alice's outbox to say delivered", || {
        let o = alice.api.outbox(None).ok()?;
        o.iter().all(|m| m.state == "delivered").then_some(())
    })
    .await;

    // Stored once, and whole.
    assert_eq!(
        blob_files(&bob.dir),
        1,
        "ten copies of one attachment, one file"
    );
    let inbox = bob.api.inbox(None).expect("inbox");
    for m in &inbox {
        assert_eq!(bob.api.attachments(m.id).expect("att")[0].data, file);
    }

    // Search finds it, per identity; events told of each arrival.
    let hits = bob
        .api
        .search(Some("bob"), "marmalade", 50)
        .expect("search");
    assert_eq!(hits.len(), 10);
    assert!(bob
        .api
        .search(Some("bob"), "seville oranges", 50)
        .expect("search")
        .iter()
        .all(|h| h.snippet.iter().any(|p| p.hit)));
    assert_eq!(
        bob.api
            .search(Some("bob"), "from:alice", 50)
            .expect("s")
            .len(),
        10
    );
    assert!(bob
        .api
        .search(Some("bob"), "from:carol", 50)
        .expect("s")
        .is_empty());
    let events = bob.api.events_after(first_event, 100).expect("events");
    let arrivals = events
        .iter()
        .filter(|e| e.kind == "message" && e.detail == "inbox")
        .count();
    assert_eq!(arrivals, 10, "{events:?}");
    assert!(alice
        .api
        .events_after(0, 1000)
        .expect("events")
        .iter()
        .any(|e| e.kind == "delivery" && e.detail == "delivered"));

    alice.stop();
    bob.stop();
    let (alice_dir, bob_dir) = (alice.dir.clone(), bob.dir.clone());
    let (alice_addr, bob_addr) = (alice.address.clone(), bob.address.clone());
    let onion = |a: &str| a.split('@').nth(1).unwrap_or_default().to_owned();
    let secrets: Vec<Vec<u8>> = vec![
        b"Marmalade recipe".to_vec(),
        b"Seville oranges".to_vec(),
        b"QUARTERLY-FIGURES".to_vec(),
        b"figures.bin".to_vec(),
        b"alice (test)".to_vec(),
        b"bob (test)".to_vec(),
        onion(&alice_addr).into_bytes(),
        onion(&bob_addr).into_bytes(),
        // Without the `.onion` (as stored in keys or cards).
        onion(&alice_addr).trim_end_matches(".onion").as_bytes()[..20].to_vec(),
    ];
    let secrets: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    drop(alice);
    drop(bob);
    assert_nowhere(&bob_dir, &secrets);
    assert_nowhere(&alice_dir, &secrets);

    // Deleting all but the last keeps the file; deleting the last frees it.
    let mut bob = postern_core::Postern::open(&bob_dir, b"pw").expect("reopen");
    let ids: Vec<i64> = bob
        .inbox(None)
        .expect("inbox")
        .iter()
        .map(|m| m.id)
        .collect();
    for (n, id) in ids.iter().enumerate() {
        bob.delete_message(*id).expect("delete");
        let left = usize::from(n + 1 < ids.len());
        assert_eq!(blob_files(&bob_dir), left, "after deleting {} of 10", n + 1);
    }
    assert!(bob
        .search(Some("bob"), "marmalade", 50)
        .expect("s")
        .is_empty());
}
