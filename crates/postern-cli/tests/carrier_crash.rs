//! Crash safety of carrying: the carrier (the real `postern` binary) holds mail for a recipient
//! who is online, and is killed with SIGKILL at random moments while it takes hand-overs and
//! forwards them. After restarts, every hand-over it acknowledged must reach the recipient, and
//! the recipient must show each message once.
//!
//! Trials: `POSTERN_CARRIER_CRASH_TRIALS` (default 100).

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use data_encoding::BASE64URL_NOPAD;
use postern_crypto::{sign_statement, IdentityKeys, PublicKeyInfo};
use postern_mime::{compose, random_message_id, Draft, SenderKeys};
use postern_smtp::data_block;
use postern_types::LocalPart;
use rand::Rng;
use sha2::{Digest, Sha256};

use common::{json, ok, postern, smtp_code, start_node};

fn start(dir: &Path, reg: &Path) -> Child {
    start_node(dir, reg, &["--retry-first", "1", "--retry-max", "1"])
}

fn identity(dir: &Path, name: &str) -> String {
    ok(postern(dir).arg("init"));
    let v = json(postern(dir).args(["--json", "identity", "new", name]));
    v["address"].as_str().expect("address").to_owned()
}

fn kill(mut c: Child) {
    let _ = c.kill();
    let _ = c.wait();
}

#[test]
fn kill_9_while_carrying_loses_nothing_acknowledged_and_shows_nothing_twice() {
    let trials: usize = std::env::var("POSTERN_CARRIER_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    const PER_TRIAL: usize = 3;
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let (bob_dir, carol_dir) = (tmp.path().join("bob"), tmp.path().join("carol"));
    let bob = identity(&bob_dir, "bob");
    let carol = identity(&carol_dir, "carol");
    let card = json(postern(&bob_dir).args(["--json", "identity", "export-card", "bob"]));
    let card = card["card"].as_str().expect("card").to_owned();
    ok(postern(&carol_dir).args(["contact", "add", "-i", "carol", &card]));
    ok(postern(&carol_dir).args(["carrier", "on", "-i", "carol"]));
    ok(postern(&carol_dir).args(["carrier", "policy", "-i", "carol", "--allow", &bob]));
    ok(postern(&bob_dir).args(["carriers", "-i", "bob", "--add", &carol]));

    // Alice is the test; Bob's pass lets her hand mail for him to Carol.
    let bob_keys = postern_core::Postern::open(&bob_dir, b"pw")
        .expect("open")
        .identity_keys("bob")
        .expect("keys");
    let bob_key = PublicKeyInfo::parse(&bob_keys.openpgp_public().expect("pub")).expect("key");
    let alice = IdentityKeys::generate(LocalPart::new("alice").expect("lp"), "").expect("alice");
    let alice_addr = alice.address().to_string();
    // Bob knows Alice: her mail goes to his inbox (a stranger's would need stamps and could
    // wait only a few at a time as contact requests).
    let alice_card = postern_card::ContactCard::for_identity(&alice, true)
        .expect("card")
        .to_text();
    ok(postern(&bob_dir).args(["contact", "add", "-i", "bob", &alice_card]));
    let expires: i64 = 4_000_000_000;
    let pass = sign_statement(
        &bob_keys,
        "postern-carrier-pass-v1",
        &[
            bob.as_bytes(),
            carol.as_bytes(),
            alice_addr.as_bytes(),
            &expires.to_be_bytes(),
        ],
    );
    let carol_label = carol
        .split('@')
        .nth(1)
        .and_then(|h| h.strip_suffix(".onion"))
        .expect("onion")
        .to_owned();

    let bob_node = start(&bob_dir, &reg);
    let mut rng = rand::thread_rng();
    let mut acked = Vec::new();
    let mut killed_holding = 0;
    let mut killed_forwarding = 0;
    let started = Instant::now();
    for trial in 0..trials {
        let node = start(&carol_dir, &reg);
        let addr =
            std::fs::read_to_string(reg.join(format!("{carol_label}.25"))).expect("registry");
        let mut s = TcpStream::connect(addr.trim()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut buf = Vec::new();
        assert_eq!(smtp_code(&mut s, &mut buf), Some(220));
        s.write_all(b"EHLO t\r\n").expect("write");
        assert_eq!(smtp_code(&mut s, &mut buf), Some(250));
        for j in 0..PER_TRIAL {
            let subject = format!("trial {trial} message {j}");
            let msg = compose(
                &Draft {
                    from: alice.address().clone(),
                    from_name: String::new(),
                    to: bob.parse().expect("addr"),
                    subject: subject.clone(),
                    text: subject.clone(),
                    attachments: vec![],
                    headers: vec![],
                },
                SenderKeys::of(&alice),
                bob_key.cert(),
                1_800_000_000,
                &random_message_id(&mut rng),
                &mut rng,
            )
            .expect("compose");
            let hash = Sha256::digest(&msg).to_vec();
            let proof = sign_statement(
                &alice,
                "postern-handover-v1",
                &[carol.as_bytes(), bob.as_bytes(), &hash],
            );
            write!(
                s,
                "XCARRY {bob} {expires} {} {}\r\nMAIL FROM:<{alice_addr}>\r\nRCPT TO:<{bob}>\r\nDATA\r\n",
                BASE64URL_NOPAD.encode(&pass),
                BASE64URL_NOPAD.encode(&proof)
            )
            .expect("write");
            for want in [250, 250, 250, 354] {
                assert_eq!(smtp_code(&mut s, &mut buf), Some(want), "{subject}");
            }
            s.write_all(&data_block(&msg)).expect("data");
            if smtp_code(&mut s, &mut buf) == Some(250) {
                acked.push(subject);
            }
        }
        // Die at a random moment of forwarding (or just before it starts, or just after).
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..60)));
        kill(node);
        let v = json(postern(&carol_dir).args(["--json", "carriers", "-i", "carol"]));
        let holding = v["held"]
            .as_array()
            .map(|h| {
                h.iter()
                    .filter(|m| m["state"] == "held" || m["state"] == "forwarding")
                    .count()
            })
            .unwrap_or(0);
        if holding > 0 {
            killed_holding += 1;
        }
        let in_flight = v["held"]
            .as_array()
            .map(|h| h.iter().any(|m| m["state"] == "forwarding"))
            .unwrap_or(false);
        if in_flight {
            killed_forwarding += 1;
        }
    }

    // Carol comes back once more and finishes; everything acknowledged reaches Bob, once.
    let node = start(&carol_dir, &reg);
    let deadline = Instant::now() + Duration::from_secs(120);
    let stored = loop {
        let inbox = json(postern(&bob_dir).args(["--json", "inbox"]));
        let subjects: Vec<String> = inbox
            .as_array()
            .expect("array")
            .iter()
            .map(|m| m["subject"].as_str().expect("subject").to_owned())
            .collect();
        if acked.iter().all(|a| subjects.contains(a)) || Instant::now() > deadline {
            break subjects;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    kill(node);
    kill(bob_node);
    for a in &acked {
        assert!(
            stored.contains(a),
            "acknowledged hand-over {a:?} never reached Bob"
        );
    }
    let mut seen = std::collections::HashSet::new();
    for s in &stored {
        assert!(seen.insert(s.clone()), "{s:?} shown twice");
    }
    eprintln!(
        "{trials} carrier kill -9 trials in {:.1}s: {} hand-overs acknowledged, {killed_holding} kills with mail still held ({killed_forwarding} in the middle of forwarding), {} delivered once each, 0 lost, 0 twice",
        started.elapsed().as_secs_f64(),
        acked.len(),
        stored.len()
    );
    assert_eq!(
        acked.len(),
        trials * PER_TRIAL,
        "every hand-over was acknowledged"
    );
    assert!(
        killed_holding > 0,
        "no kill hit a carrier with mail held; the test proves nothing"
    );
}
