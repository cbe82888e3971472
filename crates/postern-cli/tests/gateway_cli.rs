//! `postern gateway` and `postern send --via-gateway` through the real binary: the DKIM record
//! to publish, the warning that mail leaves the gateway in clear, and refusals with their exit
//! codes. (Delivery itself: `postern-core/tests/gateway.rs`, with Postfix.)

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_postern");
const PASS: &str = "correct horse battery staple";
const KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../postern-gateway/src/testing/fixtures/dkim-test-key.pem"
);
const PUBLIC: &str =
    include_str!("../../postern-gateway/src/testing/fixtures/dkim-test-key.pub.b64");

fn postern(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .env_remove("POSTERN_DATA_DIR")
        .env("POSTERN_PASSPHRASE", PASS)
        .output()
        .expect("run postern")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fails(o: &Output, needle: &str) -> i32 {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "should fail: {needle}");
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
    o.status.code().unwrap_or(-1)
}

#[test]
fn a_gateway_is_enabled_shown_and_used() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    ok(&postern(&dir, &["init"]));
    ok(&postern(&dir, &["identity", "new", "gw"]));
    ok(&postern(&dir, &["identity", "new", "alice"]));

    assert_eq!(
        fails(
            &postern(&dir, &["gateway", "show", "gw"]),
            "is not a gateway"
        ),
        2
    );
    let junk = tmp.path().join("junk.pem");
    std::fs::write(&junk, "not a key").expect("write");
    fails(
        &postern(
            &dir,
            &[
                "gateway",
                "enable",
                "gw",
                "--domain",
                "gw.example.net",
                "--dkim-key",
            ],
        ),
        "--dkim-key",
    );
    fails(
        &postern(
            &dir,
            &[
                "gateway",
                "enable",
                "gw",
                "--domain",
                "gw.example.net",
                "--dkim-key",
                junk.to_str().expect("p"),
            ],
        ),
        "DKIM key unreadable",
    );
    fails(
        &postern(
            &dir,
            &[
                "gateway",
                "enable",
                "gw",
                "--domain",
                "not a domain",
                "--dkim-key",
                KEY,
            ],
        ),
        "not a mail domain",
    );
    let shown = ok(&postern(
        &dir,
        &[
            "gateway",
            "enable",
            "gw",
            "--domain",
            "GW.example.net.",
            "--dkim-key",
            KEY,
        ],
    ));
    assert!(
        shown.contains("postern._domainkey.gw.example.net"),
        "{shown}"
    );
    assert!(
        shown.contains(PUBLIC.trim()),
        "the record carries the key: {shown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&postern(&dir, &["--json", "gateway", "show", "gw"])))
            .expect("json");
    assert_eq!(json["domain"], "gw.example.net");
    assert_eq!(json["waiting"], 0);

    // Alice knows the gateway.
    let card = tmp.path().join("gw.card");
    ok(&postern(
        &dir,
        &[
            "identity",
            "export-card",
            "gw",
            "--out",
            card.to_str().expect("p"),
        ],
    ));
    ok(&postern(
        &dir,
        &[
            "contact",
            "add",
            "-i",
            "alice",
            "--file",
            card.to_str().expect("p"),
        ],
    ));
    let gw_address: String = serde_json::from_str::<serde_json::Value>(&ok(&postern(
        &dir,
        &["--json", "identity", "show", "gw"],
    )))
    .expect("json")["address"]
        .as_str()
        .expect("address")
        .to_owned();

    let sent = postern(
        &dir,
        &[
            "send",
            "--from",
            "alice",
            "--to",
            "bob@example.org",
            "--via-gateway",
            &gw_address,
            "-s",
            "Hi",
            "--body",
            "Hello Bob",
        ],
    );
    let out = ok(&sent);
    assert!(out.contains("Queued message"), "{out}");
    let note = String::from_utf8_lossy(&sent.stderr);
    assert!(note.contains("not end-to-end encrypted"), "{note}");

    // Refusals: a Postern address through a gateway, a gateway that is not a contact.
    fails(
        &postern(
            &dir,
            &[
                "send",
                "--from",
                "alice",
                "--to",
                &gw_address,
                "--via-gateway",
                &gw_address,
                "--body",
                "x",
            ],
        ),
        "not an ordinary email address",
    );
    fails(
        &postern(
            &dir,
            &[
                "send",
                "--from",
                "alice",
                "--to",
                "bob@example.org",
                "--via-gateway",
                "nobody@example.onion",
                "--body",
                "x",
            ],
        ),
        "nobody@example.onion",
    );

    // With the recipient's key: taken and said so; a file that is not a usable key is refused
    // (exit 2) and nothing more is queued.
    let carol = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../postern-core/tests/fixtures/gnupg/carol.sec.asc"
    );
    let keyed = postern(
        &dir,
        &[
            "send",
            "--from",
            "alice",
            "--to",
            "carol@example.org",
            "--via-gateway",
            &gw_address,
            "--to-key",
            carol,
            "--body",
            "Hi Carol",
        ],
    );
    ok(&keyed);
    let note = String::from_utf8_lossy(&keyed.stderr);
    assert!(
        note.contains("encrypts it to carol@example.org's key"),
        "{note}"
    );
    let junk = tmp.path().join("junk.asc");
    std::fs::write(&junk, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n").expect("write");
    assert_eq!(
        fails(
            &postern(
                &dir,
                &[
                    "send",
                    "--from",
                    "alice",
                    "--to",
                    "carol@example.org",
                    "--via-gateway",
                    &gw_address,
                    "--to-key",
                    junk.to_str().expect("p"),
                    "--body",
                    "x",
                ],
            ),
            "carol@example.org's key",
        ),
        2
    );
    let outbox = ok(&postern(&dir, &["--json", "outbox"]));
    let outbox: serde_json::Value = serde_json::from_str(&outbox).expect("json");
    assert_eq!(outbox.as_array().map(Vec::len), Some(2), "{outbox}");

    // The policy: only named contacts, a daily allowance; shown; a non-contact is refused.
    let alice_address: String = serde_json::from_str::<serde_json::Value>(&ok(&postern(
        &dir,
        &["--json", "identity", "show", "alice"],
    )))
    .expect("json")["address"]
        .as_str()
        .expect("address")
        .to_owned();
    let card = tmp.path().join("alice.card");
    ok(&postern(
        &dir,
        &[
            "identity",
            "export-card",
            "alice",
            "--out",
            card.to_str().expect("p"),
        ],
    ));
    ok(&postern(
        &dir,
        &[
            "contact",
            "add",
            "-i",
            "gw",
            "--file",
            card.to_str().expect("p"),
        ],
    ));
    let shown = ok(&postern(
        &dir,
        &[
            "gateway",
            "policy",
            "gw",
            "--allow",
            &alice_address,
            "--max-messages-per-day",
            "20",
            "--max-mib-per-day",
            "5",
        ],
    ));
    assert!(
        shown.contains(&format!("Carries:  mail of {alice_address}")),
        "{shown}"
    );
    assert!(shown.contains("20 message(s), 5 MiB"), "{shown}");
    assert_eq!(
        fails(
            &postern(
                &dir,
                &[
                    "gateway",
                    "policy",
                    "gw",
                    "--allow",
                    "stranger@nowhere.onion"
                ]
            ),
            "stranger@nowhere.onion",
        ),
        6
    );
    assert_eq!(
        fails(
            &postern(
                &dir,
                &["gateway", "policy", "gw", "--max-messages-per-day", "0"]
            ),
            "at least one message",
        ),
        2
    );
    let shown = ok(&postern(&dir, &["gateway", "show", "gw"]));
    assert!(shown.contains("20 message(s), 5 MiB"), "kept: {shown}");
}
