//! `postern backup export|import` through the real binary: a round trip to a new data
//! directory, clear refusals with their exit codes, and a `kill -9` during an import that leaves
//! no store behind (the next import succeeds).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{json, ok, postern};
use rand::{RngCore, SeedableRng};

fn with_backup_pass<'a>(c: &'a mut Command, pass: &str) -> &'a mut Command {
    c.env("POSTERN_BACKUP_PASSPHRASE", pass)
}

fn exit_code(c: &mut Command) -> (i32, String) {
    let o = c.output().expect("run");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Two identities, a contact, and mail with attachments of `mib` MiB in all (seeded bytes).
fn a_device(dir: &Path, mib: usize) {
    ok(postern(dir).arg("init"));
    ok(postern(dir).args(["identity", "new", "alice", "--display-name", "Alice"]));
    ok(postern(dir).args(["identity", "new", "work", "--display-name", "Alice at work"]));
    let work_card = json(postern(dir).args(["--json", "identity", "export-card", "work"]))["card"]
        .as_str()
        .expect("card")
        .to_owned();
    let work = json(postern(dir).args(["--json", "identity", "show", "work"]))["address"]
        .as_str()
        .expect("address")
        .to_owned();
    let alice = json(postern(dir).args(["--json", "identity", "show", "alice"]))["address"]
        .as_str()
        .expect("address")
        .to_owned();
    ok(postern(dir).args(["contact", "add", "-i", "alice", &work_card]));
    let mut rng = rand::rngs::StdRng::seed_from_u64(18);
    for n in 0..mib.div_ceil(4).max(1) {
        let file = dir.join(format!("attachment-{n}.bin"));
        let mut data = vec![0u8; (4 * 1024 * 1024).min(mib * 1024 * 1024)];
        rng.fill_bytes(&mut data);
        std::fs::write(&file, &data).expect("write");
        ok(postern(dir)
            .args([
                "send",
                "--from",
                &alice,
                "--to",
                &work,
                "--subject",
                &format!("Report {n}"),
                "--body",
                "See attached.",
                "--attach",
            ])
            .arg(&file));
        std::fs::remove_file(&file).expect("rm");
    }
}

fn identities(dir: &Path) -> Vec<String> {
    let v = json(postern(dir).args(["--json", "identity", "list"]));
    let mut names: Vec<String> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["address"].as_str().expect("address").to_owned())
        .collect();
    names.sort();
    names
}

fn sent(dir: &Path) -> usize {
    json(postern(dir).args(["--json", "list", "-i", "alice", "-m", "sent"]))
        .as_array()
        .expect("array")
        .len()
}

#[test]
fn export_then_import_on_a_new_device_and_refusals() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    a_device(&a, 1);
    let file = tmp.path().join("alice.backup");
    let summary = json(with_backup_pass(
        postern(&a).args(["--json", "backup", "export"]).arg(&file),
        "backup words",
    ));
    assert_eq!(summary["identities"].as_array().expect("ids").len(), 2);
    assert_eq!(summary["messages"], 1);
    assert!(file.is_file() && !file.with_extension("partial").exists());
    // Never over an existing file.
    let (code, err) = exit_code(with_backup_pass(
        postern(&a).args(["backup", "export"]).arg(&file),
        "backup words",
    ));
    assert_eq!(code, 5, "{err}");

    // The new device: its own passphrase, the same identities, contacts and mail.
    let restored = json(
        with_backup_pass(
            postern(&b).args(["--json", "backup", "import"]).arg(&file),
            "backup words",
        )
        .env("POSTERN_PASSPHRASE", "new device"),
    );
    assert_eq!(restored["messages"], 1);
    assert_eq!(identities(&a), {
        let mut c = postern(&b);
        c.env("POSTERN_PASSPHRASE", "new device");
        let v = json(c.args(["--json", "identity", "list"]));
        let mut n: Vec<String> = v
            .as_array()
            .expect("array")
            .iter()
            .map(|i| i["address"].as_str().expect("address").to_owned())
            .collect();
        n.sort();
        n
    });
    let (code, _) = exit_code(postern(&b).arg("status"));
    assert_eq!(
        code, 3,
        "the old passphrase does not open the new device's store"
    );

    // Refusals, each with its exit code, none leaving a store behind.
    let c = tmp.path().join("c");
    let (code, err) = exit_code(with_backup_pass(
        postern(&c).args(["backup", "import"]).arg(&file),
        "wrong",
    ));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("wrong passphrase for this backup"), "{err}");
    let bytes = std::fs::read(&file).expect("read");
    let cut = tmp.path().join("cut.backup");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).expect("write");
    let (code, err) = exit_code(with_backup_pass(
        postern(&c).args(["backup", "import"]).arg(&cut),
        "backup words",
    ));
    assert_eq!(code, 7, "{err}");
    assert!(
        err.contains("damaged") && err.contains("nothing was written"),
        "{err}"
    );
    let not = tmp.path().join("not.backup");
    std::fs::write(&not, b"just some text\n").expect("write");
    let (code, err) = exit_code(with_backup_pass(
        postern(&c).args(["backup", "import"]).arg(&not),
        "backup words",
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a Postern backup"), "{err}");
    assert!(!c.join("postern.db").exists() && !c.join("postern.keys").exists());
    let (code, err) = exit_code(with_backup_pass(
        postern(&a).args(["backup", "import"]).arg(&file),
        "backup words",
    ));
    assert_eq!(code, 5, "a store in the way: {err}");

    // One identity, no mail.
    let d = tmp.path().join("d");
    let only = tmp.path().join("work.backup");
    ok(with_backup_pass(
        postern(&a)
            .args(["backup", "export", "-i", "work", "--without-mail"])
            .arg(&only),
        "w",
    ));
    ok(with_backup_pass(
        postern(&d).args(["backup", "import"]).arg(&only),
        "w",
    ));
    let ids = identities(&d);
    assert_eq!(ids.len(), 1);
    assert!(ids[0].starts_with("work@"), "{ids:?}");
}

#[test]
fn kill_9_during_an_import_leaves_no_store_and_the_next_import_succeeds() {
    let tmp = tempfile::tempdir().expect("tmp");
    let a = tmp.path().join("a");
    a_device(&a, 24);
    let file = tmp.path().join("big.backup");
    ok(with_backup_pass(
        postern(&a).args(["backup", "export"]).arg(&file),
        "p",
    ));
    let b = tmp.path().join("b");
    let mut killed_mid_way = 0;
    for delay_ms in [0u64, 150, 300, 450, 600, 900] {
        let mut child = with_backup_pass(postern(&b).args(["backup", "import"]).arg(&file), "p")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // Wait until it is staging, then a little more.
        let start = Instant::now();
        let staging = || {
            std::fs::read_dir(&b)
                .map(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().starts_with(".import-"))
                })
                .unwrap_or(false)
        };
        while !staging() && start.elapsed() < Duration::from_secs(20) {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let status = child.wait().expect("wait");
        if b.join("postern.db").exists() {
            // It finished before the kill: a whole store, which opens.
            assert!(
                status.success(),
                "a store in place, yet the import failed: {status}"
            );
            ok(postern(&b).arg("status"));
            std::fs::remove_dir_all(&b).expect("rm");
            continue;
        }
        killed_mid_way += 1;
        // No store: `status` says there is none (exit 4).
        let (code, err) = exit_code(postern(&b).arg("status"));
        assert_eq!(code, 4, "after a kill at {delay_ms} ms: {err}");
    }
    assert!(
        killed_mid_way >= 2,
        "only {killed_mid_way} kills landed during an import"
    );
    ok(with_backup_pass(
        postern(&b).args(["backup", "import"]).arg(&file),
        "p",
    ));
    assert_eq!(identities(&a), identities(&b));
    assert_eq!(sent(&a), sent(&b));
    let leftovers: Vec<String> = std::fs::read_dir(&b)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
