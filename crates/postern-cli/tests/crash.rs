//! Crash safety of the receive path: the receiving node (the real `postern` binary) is killed
//! with SIGKILL at random points of DATA and just after it. Every message that got `250` must be
//! present and whole after restart; no message may be partial or stored twice.
//!
//! Trials: `POSTERN_CRASH_TRIALS` (default 100; the benchmark run uses 1000).

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use postern_card::ContactCard;
use postern_crypto::{IdentityKeys, PublicKeyInfo};
use postern_mime::{compose, random_message_id, Attachment, Draft, SenderKeys};
use postern_smtp::data_block;
use postern_types::LocalPart;
use rand::Rng;

use common::{json, postern, smtp_code, start_node};

fn start_bob(dir: &Path, reg: &Path) -> Child {
    start_node(dir, reg, &[])
}

#[test]
fn kill_9_during_data_loses_nothing_acknowledged() {
    let trials: usize = std::env::var("POSTERN_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let tmp = tempfile::tempdir().expect("tmp");
    let bob_dir = tmp.path().join("bob");
    let reg = tmp.path().join("registry");
    assert!(postern(&bob_dir)
        .arg("init")
        .status()
        .expect("init")
        .success());
    let bob = json(postern(&bob_dir).args(["--json", "identity", "new", "bob"]));
    let bob_addr = bob["address"].as_str().expect("address").to_owned();
    let card = json(postern(&bob_dir).args(["--json", "identity", "export-card", "bob"]));
    let card = ContactCard::from_text(card["card"].as_str().expect("card")).expect("card");
    let bob_key = PublicKeyInfo::parse(card.public_key().expect("key")).expect("key");
    let alice =
        IdentityKeys::generate(LocalPart::new("alice").expect("lp"), "Alice").expect("alice");
    let label = card.address().onion().label();
    // Bob knows Alice (a stranger's first message would be small, stamped, and few).
    let alice_card = ContactCard::for_identity(&alice, true)
        .expect("card")
        .to_text();
    assert!(postern(&bob_dir)
        .args(["contact", "add", "-i", "bob", &alice_card])
        .status()
        .expect("contact add")
        .success());

    let mut rng = rand::thread_rng();
    let mut acked = Vec::new();
    let mut killed_mid_data = 0;
    let started = Instant::now();
    for trial in 0..trials {
        let subject = format!("trial {trial}");
        let attachment: Vec<u8> = (0..30_000).map(|_| rng.gen()).collect();
        let msg = compose(
            &Draft {
                from: alice.address().clone(),
                from_name: String::new(),
                to: bob_addr.parse().expect("addr"),
                subject: subject.clone(),
                text: format!("body of trial {trial}"),
                attachments: vec![Attachment {
                    name: "noise.bin".into(),
                    content_type: "application/octet-stream".into(),
                    data: attachment,
                }],
                headers: Vec::new(),
            },
            SenderKeys::of(&alice),
            bob_key.cert(),
            1_800_000_000,
            &random_message_id(&mut rng),
            &mut rng,
        )
        .expect("compose");
        let block = data_block(&msg);

        let mut node = start_bob(&bob_dir, &reg);
        let addr = std::fs::read_to_string(reg.join(format!("{label}.25"))).expect("registry");
        let mut s = TcpStream::connect(addr.trim()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut buf = Vec::new();
        assert_eq!(smtp_code(&mut s, &mut buf), Some(220));
        write!(
            s,
            "EHLO t\r\nMAIL FROM:<{}>\r\nRCPT TO:<{bob_addr}>\r\nDATA\r\n",
            alice.address()
        )
        .expect("write");
        for want in [250, 250, 250, 354] {
            assert_eq!(smtp_code(&mut s, &mut buf), Some(want));
        }
        // Half the trials die somewhere inside DATA, half in the moments after the final dot
        // (while the message is being verified and committed, or just after the reply).
        let during = rng.gen_bool(0.5);
        let kill_at = if during {
            rng.gen_range(0..block.len())
        } else {
            block.len()
        };
        let mut sent = 0;
        while sent < kill_at {
            let n = rng.gen_range(1..=8192).min(kill_at - sent);
            if s.write_all(&block[sent..sent + n]).is_err() {
                break;
            }
            sent += n;
        }
        let mut got_250 = false;
        if during {
            killed_mid_data += 1;
        } else {
            let _ = s.write_all(&block[sent..]);
            let wait = Duration::from_millis(rng.gen_range(0..150));
            s.set_read_timeout(Some(wait.max(Duration::from_millis(1))))
                .expect("timeout");
            got_250 = smtp_code(&mut s, &mut buf) == Some(250);
        }
        node.kill().expect("kill -9");
        let _ = node.wait();
        if got_250 {
            acked.push(subject);
        }
    }

    // Restart once more to prove the store opens, then look at everything.
    let node = start_bob(&bob_dir, &reg);
    let _ = node_kill(node);
    let inbox = json(postern(&bob_dir).args(["--json", "inbox"]));
    let stored: Vec<(i64, String)> = inbox
        .as_array()
        .expect("array")
        .iter()
        .map(|m| {
            (
                m["id"].as_i64().expect("id"),
                m["subject"].as_str().expect("s").to_owned(),
            )
        })
        .collect();
    for subject in &acked {
        assert!(
            stored.iter().any(|(_, s)| s == subject),
            "acknowledged message {subject:?} was lost"
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (id, subject) in &stored {
        assert!(seen.insert(subject.clone()), "{subject:?} stored twice");
        let m = json(postern(&bob_dir).args(["--json", "read", &id.to_string()]));
        let n = subject.trim_start_matches("trial ");
        assert_eq!(
            m["text"].as_str().map(str::trim_end),
            Some(format!("body of trial {n}").as_str()),
            "partial message {subject:?}"
        );
        assert_eq!(
            m["attachments"][0]["size"].as_u64(),
            Some(30_000),
            "partial attachment in {subject:?}"
        );
    }
    eprintln!(
        "{trials} kill -9 trials in {:.1}s: {killed_mid_data} killed inside DATA, {} acknowledged, {} stored (all whole), 0 lost",
        started.elapsed().as_secs_f64(),
        acked.len(),
        stored.len()
    );
    assert!(
        !acked.is_empty(),
        "no trial got as far as 250; the test proves nothing"
    );
}

fn node_kill(mut c: Child) -> std::process::ExitStatus {
    let _ = c.kill();
    c.wait().expect("wait")
}
