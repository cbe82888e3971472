//! One store, three views: what the CLI writes the app sees, and the other way round — the
//! same mailboxes, UIDVALIDITY, UIDs and flags. (IMAP will be the fourth view of the same model.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use postern_api::{Session, SessionConfig};
use postern_core::Network;
use serde_json::{json, Value};

/// The workspace's `postern` binary, beside this test's own directory.
fn postern_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("postern"))
        .expect("target directory");
    assert!(
        bin.is_file(),
        "{} is missing: `cargo test --workspace` builds it (or `cargo build -p postern-cli`)",
        bin.display()
    );
    bin
}

fn cli(dir: &Path, args: &[&str]) -> Value {
    let o = Command::new(postern_bin())
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .args(args)
        .env("POSTERN_PASSPHRASE", "pw")
        .env_remove("POSTERN_DATA_DIR")
        .env_remove("POSTERN_NETWORK_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run postern");
    assert!(
        o.status.success(),
        "postern {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(&out).unwrap_or(Value::Null)
}

async fn app(s: &Session, command: &str, args: Value) -> Value {
    s.call(command, args)
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_app_show_the_same_mailboxes_uids_and_flags() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("store");
    cli(&dir, &["init"]);
    cli(&dir, &["identity", "new", "ann", "--display-name", "Ann"]);
    // Someone to write to: another identity of a second store.
    let other = tmp.path().join("other");
    cli(&other, &["init"]);
    let zoe = cli(&other, &["identity", "new", "zoe", "--display-name", "Zoe"]);
    let to = zoe["address"].as_str().expect("address").to_owned();
    let to = to.as_str();
    // Written with the CLI (no node runs: it waits in the outbox, and is kept in Sent).
    cli(
        &dir,
        &[
            "send",
            "--from",
            "ann",
            "--to",
            to,
            "--subject",
            "From the CLI",
            "--body",
            "hi",
        ],
    );

    let app_session = Session::new(Ok(SessionConfig {
        data_dir: dir.clone(),
        network: Network::Loopback {
            registry: tmp.path().join("registry"),
        },
    }));
    app(&app_session, "unlock", json!({ "passphrase": "pw" })).await;
    let ann = app(&app_session, "identities", json!({})).await[0]["address"].clone();

    // The same mailboxes, with the same UIDVALIDITY and next UID.
    let from_app = app(&app_session, "mailboxes", json!({ "identity": ann })).await;
    let from_cli = cli(&dir, &["mailboxes", "-i", "ann"]);
    assert_eq!(from_app, from_cli);
    let sent = from_app
        .as_array()
        .expect("mailboxes")
        .iter()
        .find(|b| b["name"] == "sent")
        .expect("sent")
        .clone();
    assert_eq!(
        (sent["total"].clone(), sent["uidnext"].clone()),
        (json!(1), json!(2))
    );

    // Starred in the app: starred in the CLI, same UID.
    let list = app(
        &app_session,
        "mailbox",
        json!({ "identity": ann, "mailbox": "sent" }),
    )
    .await;
    let id = list[0]["id"].as_i64().expect("id");
    app(
        &app_session,
        "set_flags",
        json!({ "id": id, "flagged": true }),
    )
    .await;
    let cli_list = cli(&dir, &["list", "-i", "ann", "-m", "sent"]);
    assert_eq!(cli_list[0]["flagged"], true);
    assert_eq!(cli_list[0]["uid"], list[0]["uid"]);

    // Moved with the CLI: the app finds it in the Trash under its new UID, still starred.
    cli(&dir, &["move", &id.to_string(), "trash"]);
    let trash = app(
        &app_session,
        "mailbox",
        json!({ "identity": ann, "mailbox": "trash" }),
    )
    .await;
    assert_eq!(trash[0]["id"], id);
    assert_eq!(trash[0]["uid"], 1);
    assert_eq!(trash[0]["flagged"], true);
    // And a draft saved in the app is in the CLI's Drafts.
    app(
        &app_session,
        "save_draft",
        json!({ "identity": ann, "to": to, "subject": "Later", "text": "…" }),
    )
    .await;
    let drafts = cli(&dir, &["list", "-i", "ann", "-m", "drafts"]);
    assert_eq!(drafts[0]["subject"], "Later");
    assert_eq!(
        app(&app_session, "mailboxes", json!({ "identity": ann })).await,
        cli(&dir, &["mailboxes", "-i", "ann"])
    );
}
