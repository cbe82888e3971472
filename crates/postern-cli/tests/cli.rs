//! End-to-end through the real `postern` binary.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_postern");

fn postern(dir: &Path, pass: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(dir).args(args).stdin(Stdio::null());
    c.env_remove("POSTERN_PASSPHRASE")
        .env_remove("POSTERN_DATA_DIR");
    if let Some(p) = pass {
        c.env("POSTERN_PASSPHRASE", p);
    }
    c.output().expect("run postern")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf8")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(o)).expect("json output")
}

fn fails_with(o: &Output, code: i32, needle: &str) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
}

#[test]
fn init_two_identities_exchange_cards() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let pass = Some("correct horse battery staple");

    ok(&postern(&dir, pass, &["init"]));
    let alice = json(&postern(
        &dir,
        pass,
        &[
            "--json",
            "identity",
            "new",
            "alice",
            "--display-name",
            "Alice",
        ],
    ));
    let bob = json(&postern(&dir, pass, &["--json", "identity", "new", "bob"]));
    let alice_addr = alice["address"].as_str().expect("address");
    let bob_addr = bob["address"].as_str().expect("address");
    assert!(alice_addr.starts_with("alice@") && alice_addr.ends_with(".onion"));
    assert_eq!(alice_addr.len(), "alice@".len() + 56 + ".onion".len());

    let list = json(&postern(&dir, pass, &["--json", "identity", "list"]));
    assert_eq!(list.as_array().expect("array").len(), 2);

    // Export Alice's card to a file, add it to Bob's address book.
    let card_file = tmp.path().join("alice.card");
    ok(&postern(
        &dir,
        pass,
        &[
            "identity",
            "export-card",
            "alice",
            "--out",
            card_file.to_str().expect("path"),
        ],
    ));
    let added = json(&postern(
        &dir,
        pass,
        &[
            "--json",
            "contact",
            "add",
            "-i",
            "bob",
            "--file",
            card_file.to_str().expect("p"),
        ],
    ));
    assert_eq!(added["address"], alice_addr);
    assert_eq!(added["display_name"], "Alice");
    assert_eq!(added["fingerprint"], alice["fingerprint"]);
    assert_eq!(added["has_key"], true);

    // And Bob's card, passed as an argument, to Alice.
    let card = json(&postern(
        &dir,
        pass,
        &["--json", "identity", "export-card", bob_addr],
    ));
    let card = card["card"].as_str().expect("card");
    assert!(card.starts_with("POSTERN-CARD:"));
    ok(&postern(
        &dir,
        pass,
        &["contact", "add", "-i", "alice", card],
    ));

    let contacts = json(&postern(
        &dir,
        pass,
        &["--json", "contact", "list", "-i", "bob"],
    ));
    assert_eq!(contacts.as_array().expect("array").len(), 1);
    let shown = ok(&postern(
        &dir,
        pass,
        &["contact", "show", "-i", "alice", bob_addr],
    ));
    assert!(shown.contains(bob_addr));

    let status = json(&postern(&dir, pass, &["--json", "status"]));
    assert_eq!(status["identities"], 2);
    assert_eq!(status["contacts"], 2);

    // Human-readable output names the address.
    let show = ok(&postern(&dir, pass, &["identity", "show", "alice"]));
    assert!(show.contains(alice_addr) && show.contains("Alice"));
}

#[test]
fn errors_have_codes_and_sentences() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let pass = Some("pw");

    fails_with(&postern(&dir, pass, &["status"]), 4, "postern init");
    fails_with(&postern(&dir, None, &["init"]), 2, "POSTERN_PASSPHRASE");
    assert!(
        !dir.join("postern.db").exists(),
        "nothing created without a passphrase"
    );
    ok(&postern(&dir, pass, &["init"]));
    fails_with(&postern(&dir, pass, &["init"]), 5, "refusing to overwrite");
    fails_with(
        &postern(&dir, Some("wrong"), &["status"]),
        3,
        "wrong passphrase",
    );
    fails_with(
        &postern(&dir, pass, &["identity", "new", "Not Valid"]),
        2,
        "a-z",
    );
    ok(&postern(&dir, pass, &["identity", "new", "carol"]));
    fails_with(
        &postern(&dir, pass, &["identity", "show", "dave"]),
        6,
        "no identity",
    );
    fails_with(
        &postern(
            &dir,
            pass,
            &["contact", "add", "-i", "carol", "POSTERN-CARD:ABCDEFGH"],
        ),
        2,
        "contact card",
    );
    fails_with(
        &postern(&dir, pass, &["contact", "add", "-i", "carol", "hello"]),
        2,
        "not a Postern invite or card",
    );
    // Delete needs confirmation; without a terminal the answer is no.
    fails_with(
        &postern(&dir, pass, &["identity", "delete", "carol"]),
        2,
        "--yes",
    );
    ok(&postern(
        &dir,
        pass,
        &["identity", "delete", "carol", "--yes"],
    ));
    fails_with(
        &postern(&dir, pass, &["identity", "show", "carol"]),
        6,
        "no identity",
    );

    // JSON errors carry the kind.
    let o = postern(&dir, Some("wrong"), &["--json", "status"]);
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(o.stderr.trim_ascii()).expect("json error");
    assert_eq!(v["error"]["kind"], "wrong_passphrase");
}

#[test]
fn corrupt_store_is_reported_and_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let garbage = b"definitely not sqlite".repeat(300);
    std::fs::write(dir.join("postern.db"), &garbage).expect("write");
    fails_with(&postern(&dir, Some("pw"), &["status"]), 7, "damaged");
    assert_eq!(
        std::fs::read(dir.join("postern.db")).expect("read"),
        garbage
    );
}

#[test]
fn qr_show_and_scan_round_trip() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let pass = Some("pw");
    ok(&postern(&dir, pass, &["init"]));
    let alice = json(&postern(
        &dir,
        pass,
        &[
            "--json",
            "identity",
            "new",
            "alice",
            "--display-name",
            "Alice",
        ],
    ));
    ok(&postern(&dir, pass, &["identity", "new", "bob"]));
    let shown = ok(&postern(&dir, pass, &["qr", "show", "alice"]));
    assert!(
        shown.contains("POSTERN:") && shown.contains('█') && shown.contains("one use"),
        "{shown}"
    );
    let png = tmp.path().join("alice.png");
    ok(&postern(
        &dir,
        pass,
        &["qr", "show", "alice", "--png", png.to_str().expect("p")],
    ));
    let svg = tmp.path().join("alice.svg");
    ok(&postern(
        &dir,
        pass,
        &["qr", "show", "alice", "--svg", svg.to_str().expect("p")],
    ));
    assert!(std::fs::read_to_string(&svg).expect("svg").contains("<svg"));

    // Scanning needs no store and adds nothing.
    let preview = json(&postern(
        &dir,
        None,
        &["--json", "qr", "scan", png.to_str().expect("p")],
    ));
    assert_eq!(preview["address"], alice["address"]);
    assert_eq!(preview["display_name"], "Alice");
    assert_eq!(preview["kind"], "invite");
    let status = json(&postern(&dir, pass, &["--json", "status"]));
    assert_eq!(status["contacts"], 0);
    // With --add it becomes bob's contact, verified by scan, and the handshake is queued.
    let added = ok(&postern(
        &dir,
        pass,
        &["qr", "scan", png.to_str().expect("p"), "--add", "bob"],
    ));
    assert!(added.contains("verified by scan"), "{added}");
    let contacts = json(&postern(
        &dir,
        pass,
        &["--json", "contact", "list", "-i", "bob"],
    ));
    assert_eq!(contacts[0]["address"], alice["address"]);
    assert_eq!(contacts[0]["trust"], "verified");
    let outbox = json(&postern(&dir, pass, &["--json", "outbox"]));
    assert_eq!(outbox[0]["subject"], "Contact exchange");

    // Not a picture; a picture without a code.
    let junk = tmp.path().join("junk.png");
    std::fs::write(&junk, b"junk").expect("write");
    fails_with(
        &postern(&dir, pass, &["qr", "scan", junk.to_str().expect("p")]),
        2,
        "not a readable PNG or JPEG",
    );
    fails_with(
        &postern(&dir, pass, &["qr", "scan", "/nonexistent.png"]),
        11,
        "cannot read",
    );
}

#[test]
fn links_introductions_trust_and_revocation() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let pass = Some("pw");
    ok(&postern(&dir, pass, &["init"]));
    let mut addr = std::collections::HashMap::new();
    for name in ["alice", "bob", "carol"] {
        let v = json(&postern(&dir, pass, &["--json", "identity", "new", name]));
        addr.insert(name, v["address"].as_str().expect("address").to_owned());
    }
    // A link, pasted into `contact add`.
    let invite = json(&postern(&dir, pass, &["--json", "link", "alice"]));
    let link = invite["link"].as_str().expect("link").to_owned();
    assert!(link.starts_with("POSTERN:"), "{link}");
    ok(&postern(
        &dir,
        pass,
        &["contact", "add", "-i", "bob", &link.to_lowercase()],
    ));
    let trust = ok(&postern(
        &dir,
        pass,
        &["contact", "trust", "-i", "bob", &addr["alice"]],
    ));
    assert!(trust.contains("verified — verified by scan"), "{trust}");
    fails_with(
        &postern(&dir, pass, &["contact", "add", "-i", "bob", "postern:ABC!"]),
        2,
        "damaged",
    );
    fails_with(
        &postern(&dir, pass, &["link", "alice", "--valid-for", "0"]),
        2,
        "--valid-for",
    );

    // Bob introduces Carol to Alice; the reverse needs Alice's key, which Bob does not hold yet.
    let card = ok(&postern(&dir, pass, &["identity", "export-card", "carol"]));
    ok(&postern(
        &dir,
        pass,
        &["contact", "add", "-i", "bob", card.trim()],
    ));
    let intro = ok(&postern(
        &dir,
        pass,
        &[
            "introduce",
            "-i",
            "bob",
            &addr["carol"],
            "--to",
            &addr["alice"],
        ],
    ));
    assert!(intro.contains("Queued introduction"), "{intro}");
    fails_with(
        &postern(
            &dir,
            pass,
            &[
                "introduce",
                "-i",
                "bob",
                &addr["carol"],
                "--to",
                &addr["alice"],
                "--both",
            ],
        ),
        2,
        "no key here yet",
    );
    let outbox = json(&postern(&dir, pass, &["--json", "outbox", "-i", "bob"]));
    assert_eq!(
        outbox.as_array().map(Vec::len),
        Some(2),
        "handshake + one introduction"
    );

    let t = ok(&postern(
        &dir,
        pass,
        &["contact", "trust", "-i", "bob", &addr["carol"]],
    ));
    assert!(t.contains("unverified — added from a card"), "{t}");
    let t = ok(&postern(
        &dir,
        pass,
        &["contact", "trust", "-i", "bob", &addr["carol"], "--confirm"],
    ));
    assert!(t.contains("verified — fingerprint confirmed"), "{t}");

    // Carol replaces her key, then closes her address.
    let before = json(&postern(
        &dir,
        pass,
        &["--json", "identity", "show", "carol"],
    ));
    let r = ok(&postern(
        &dir,
        pass,
        &[
            "revoke",
            "carol",
            "--key",
            "--reason",
            "old laptop",
            "--yes",
        ],
    ));
    assert!(r.contains("Revoked the key"), "{r}");
    let after = json(&postern(
        &dir,
        pass,
        &["--json", "identity", "show", "carol"],
    ));
    assert_ne!(before["fingerprint"], after["fingerprint"]);
    ok(&postern(
        &dir,
        pass,
        &["revoke", "carol", "--address", "--yes"],
    ));
    fails_with(
        &postern(
            &dir,
            pass,
            &[
                "send",
                "--from",
                "carol",
                "--to",
                &addr["bob"],
                "-s",
                "x",
                "--body",
                "y",
            ],
        ),
        9,
        "revoked",
    );
    fails_with(
        &postern(&dir, pass, &["revoke", "carol", "--key", "--yes"]),
        9,
        "revoked",
    );
    // Without saying what to revoke, nothing happens.
    let o = postern(&dir, pass, &["revoke", "alice"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn carrier_mode_policy_and_carriers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let pass = Some("pw");
    ok(&postern(&dir, pass, &["init"]));
    let mut addr = std::collections::HashMap::new();
    for name in ["bob", "carol"] {
        let v = json(&postern(&dir, pass, &["--json", "identity", "new", name]));
        addr.insert(name, v["address"].as_str().expect("address").to_owned());
    }
    let off = ok(&postern(&dir, pass, &["carrier", "status", "-i", "carol"]));
    assert!(
        off.contains(": off") && off.contains("cannot read"),
        "{off}"
    );
    ok(&postern(&dir, pass, &["carrier", "on", "-i", "carol"]));
    // Only contacts can be carried for.
    fails_with(
        &postern(
            &dir,
            pass,
            &["carrier", "policy", "-i", "carol", "--allow", &addr["bob"]],
        ),
        6,
        "no contact",
    );
    let card = ok(&postern(&dir, pass, &["identity", "export-card", "bob"]));
    ok(&postern(
        &dir,
        pass,
        &["contact", "add", "-i", "carol", card.trim()],
    ));
    let v = json(&postern(
        &dir,
        pass,
        &[
            "--json",
            "carrier",
            "policy",
            "-i",
            "carol",
            "--allow",
            &addr["bob"],
            "--quota-mb",
            "5",
            "--max-hold-hours",
            "48",
        ],
    ));
    assert_eq!(v["enabled"], true);
    assert_eq!(v["carrying_for"][0], addr["bob"].as_str());
    assert_eq!(v["quota_bytes"], 5 * 1024 * 1024);
    assert_eq!(v["max_hold_secs"], 48 * 3600);
    fails_with(
        &postern(
            &dir,
            pass,
            &["carrier", "policy", "-i", "carol", "--quota-mb", "0"],
        ),
        2,
        "--quota-mb",
    );
    let v = json(&postern(
        &dir,
        pass,
        &["--json", "carriers", "-i", "bob", "--add", &addr["carol"]],
    ));
    assert_eq!(v["my_carriers"][0], addr["carol"].as_str());
    fails_with(
        &postern(&dir, pass, &["carriers", "-i", "bob", "--target", "1.5"]),
        2,
        "--target",
    );
    fails_with(
        &postern(
            &dir,
            pass,
            &["carriers", "-i", "bob", "--add", &addr["bob"]],
        ),
        2,
        "own carrier",
    );
    let off = ok(&postern(&dir, pass, &["carrier", "off", "-i", "carol"]));
    assert!(off.contains(": off"), "{off}");
}

#[test]
fn passphrase_change_and_search_scope() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    ok(&postern(&dir, Some("old one"), &["init"]));
    ok(&postern(
        &dir,
        Some("old one"),
        &["identity", "new", "work"],
    ));
    ok(&postern(
        &dir,
        Some("old one"),
        &["identity", "new", "home"],
    ));
    // Two identities: searching says which, or --all; never mixes them unasked.
    fails_with(
        &postern(&dir, Some("old one"), &["search", "lunch"]),
        2,
        "several identities: say which with -i ID, or search them all with --all",
    );
    assert!(ok(&postern(
        &dir,
        Some("old one"),
        &["search", "lunch", "-i", "work"]
    ))
    .contains("Nothing found"));
    assert!(ok(&postern(
        &dir,
        Some("old one"),
        &["search", "lunch", "--all"]
    ))
    .contains("Nothing found"));
    fails_with(
        &postern(&dir, Some("old one"), &["search", "lunch", "-i", "nobody"]),
        6,
        "",
    );

    // A new passphrase: only the key file changes; the old one stops working at once.
    let db_before = std::fs::read(dir.join("postern.db")).expect("db");
    let keys_before = std::fs::read(dir.join("postern.keys")).expect("keys");
    let mut c = Command::new(BIN);
    c.arg("--data-dir")
        .arg(&dir)
        .arg("passphrase")
        .env("POSTERN_PASSPHRASE", "wrong")
        .env("POSTERN_NEW_PASSPHRASE", "new one")
        .stdin(Stdio::null());
    fails_with(&c.output().expect("run"), 3, "passphrase");
    let mut c = Command::new(BIN);
    c.arg("--data-dir")
        .arg(&dir)
        .arg("passphrase")
        .env("POSTERN_PASSPHRASE", "old one")
        .env("POSTERN_NEW_PASSPHRASE", "new one")
        .stdin(Stdio::null());
    let o = c.output().expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(dir.join("postern.db")).expect("db"),
        db_before
    );
    assert_ne!(
        std::fs::read(dir.join("postern.keys")).expect("keys"),
        keys_before
    );
    fails_with(
        &postern(&dir, Some("old one"), &["status"]),
        3,
        "passphrase",
    );
    ok(&postern(&dir, Some("new one"), &["status"]));
}

#[test]
fn hosted_accounts_from_the_command_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let pass = Some("pw");
    ok(&postern(&dir, pass, &["init"]));
    ok(&postern(&dir, pass, &["identity", "new", "alice"]));
    let text = ok(&postern(
        &dir,
        pass,
        &["account", "add", "--host", "alice", "bob", "--name", "Bob"],
    ));
    assert!(text.contains("the host can read it"), "{text}");
    assert!(text.contains("Password:"), "{text}");
    assert!(text.contains(":143"), "{text}");
    let listed = json(&postern(&dir, pass, &["--json", "account", "list"]));
    let bob = listed[0]["address"].as_str().expect("address").to_owned();
    assert!(bob.starts_with("bob@"));
    assert_eq!(
        listed[0]["hosted_by"]
            .as_str()
            .expect("host")
            .split('@')
            .nth(1),
        bob.split('@').nth(1)
    );
    let all = ok(&postern(&dir, pass, &["identity", "list"]));
    assert!(all.contains("[hosted account]"), "{all}");
    // The same account again; an account as host; removing the host through `account remove`.
    let again = postern(&dir, pass, &["account", "add", "--host", "alice", "bob"]);
    fails_with(&again, 5, "already exists");
    let nested = postern(&dir, pass, &["account", "add", "--host", &bob, "eve"]);
    fails_with(&nested, 2, "cannot host");
    // A holder's key that is missing or is not a key: said, and nothing made.
    let missing = tmp.path().join("no-such-key.asc");
    let junk = tmp.path().join("junk.asc");
    std::fs::write(&junk, "not a key").expect("write");
    for (file, code, says) in [
        (&missing, 11, "cannot read"),
        (&junk, 2, "not a usable OpenPGP key"),
    ] {
        let add = postern(
            &dir,
            pass,
            &[
                "account",
                "add",
                "--host",
                "alice",
                "carl",
                "--holder-key",
                file.to_str().expect("utf-8 path"),
            ],
        );
        fails_with(&add, code, says);
    }
    let listed = json(&postern(&dir, pass, &["--json", "account", "list"]));
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let not_hosted = postern(&dir, pass, &["account", "remove", "alice"]);
    fails_with(&not_hosted, 2, "not a hosted account");
    ok(&postern(&dir, pass, &["account", "remove", &bob]));
    let none = json(&postern(&dir, pass, &["--json", "account", "list"]));
    assert_eq!(none.as_array().map(Vec::len), Some(0));
}
