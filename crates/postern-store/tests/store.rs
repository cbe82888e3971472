//! Opening, refusing and migrating stores.

use std::path::{Path, PathBuf};

use postern_crypto::KdfParams;
use postern_store::{NewContact, NewIdentity, Store, StoreError, LATEST_VERSION, MIGRATIONS};

fn fast() -> KdfParams {
    KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    }
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("postern.db")
}

fn sample_identity(onion: &str) -> NewIdentity<'_> {
    NewIdentity {
        local_part: "alice",
        onion,
        display_name: "Alice",
        fingerprint: &[7; 20],
        binding_sig: &[9; 64],
        public_key: b"public key bytes",
        onion_secret: b"ONION-SECRET-0123456789abcdefXYZ",
        openpgp_secret: b"OPENPGP-SECRET-KEY-MATERIAL-0123456789",
        created_at: 1_700_000_000,
        host_id: None,
    }
}

fn file_bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("read db")
}

#[test]
fn create_then_open_with_the_right_passphrase() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = db(&dir);
    {
        let mut s = Store::create(&path, b"pass", fast()).expect("create");
        s.insert_identity(&sample_identity("a.onion"))
            .expect("insert");
    }
    let s = Store::open(&path, b"pass").expect("open");
    assert_eq!(s.schema_version().expect("v"), LATEST_VERSION);
    let ids = s.identities().expect("list");
    assert_eq!(ids.len(), 1);
    let secrets = s.identity_secrets(ids[0].id).expect("secrets");
    assert_eq!(
        secrets.onion_secret.as_slice(),
        b"ONION-SECRET-0123456789abcdefXYZ"
    );
    let mode: String = s
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
    let fk: i64 = s
        .connection()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .expect("fk");
    assert_eq!(fk, 1);
}

#[test]
fn create_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = db(&dir);
    drop(Store::create(&path, b"pass", fast()).expect("create"));
    let before = file_bytes(&path);
    assert!(matches!(
        Store::create(&path, b"other", fast()),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(file_bytes(&path), before);
}

#[test]
fn missing_store_is_not_initialized() {
    let dir = tempfile::tempdir().expect("tmp");
    assert!(matches!(
        Store::open(&db(&dir), b"pass"),
        Err(StoreError::NotInitialized(_))
    ));
    assert!(!db(&dir).exists(), "open must not create a file");
}

#[test]
fn wrong_passphrase_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = db(&dir);
    {
        let mut s = Store::create(&path, b"right", fast()).expect("create");
        s.insert_identity(&sample_identity("a.onion"))
            .expect("insert");
    }
    let before = file_bytes(&path);
    assert!(matches!(
        Store::open(&path, b"wrong"),
        Err(StoreError::WrongPassphrase)
    ));
    assert!(matches!(
        Store::open(&path, b""),
        Err(StoreError::WrongPassphrase)
    ));
    assert_eq!(file_bytes(&path), before);
    Store::open(&path, b"right").expect("still opens with the right one");
}

#[test]
fn damaged_files_are_corrupt_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = db(&dir);
    {
        let mut s = Store::create(&path, b"pass", fast()).expect("create");
        for i in 0..50 {
            let onion = format!("{i}.onion");
            s.insert_identity(&sample_identity(&onion)).expect("insert");
        }
    }
    let good = file_bytes(&path);
    assert!(good.len() > 8192, "test needs a multi-page database");

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "garbage",
            b"this is not a database at all, just text".repeat(100),
        ),
        ("truncated to half", good[..good.len() / 2].to_vec()),
        ("truncated to a page and a bit", good[..4096 + 100].to_vec()),
        ("header zeroed", {
            let mut b = good.clone();
            b[..100].fill(0);
            b
        }),
        ("second page header smashed", {
            let mut b = good.clone();
            b[4096..4096 + 16].fill(0xFF);
            b
        }),
        ("empty", Vec::new()),
    ];
    let keys = file_bytes(&path.with_extension("keys"));
    for (name, bytes) in cases {
        // Alone (as a store from before encryption would be), and beside the good key file.
        for with_keys in [false, true] {
            let sub = dir
                .path()
                .join(format!("{}-{with_keys}", name.replace(' ', "_")));
            std::fs::create_dir(&sub).expect("dir");
            let p = sub.join("postern.db");
            std::fs::write(&p, &bytes).expect("write");
            if with_keys {
                std::fs::write(p.with_extension("keys"), &keys).expect("keys");
            }
            let res = Store::open(&p, b"pass");
            assert!(
                matches!(res, Err(StoreError::Corrupt { .. })),
                "{name} (key file: {with_keys}): {res:?}"
            );
            assert_eq!(file_bytes(&p), bytes, "{name}: file was modified");
            assert_eq!(
                std::fs::read_dir(&sub).expect("ls").count(),
                1 + usize::from(with_keys),
                "{name}: files were left behind"
            );
        }
    }
    // A damaged key file, beside a good database.
    for (name, k) in [
        ("key file truncated", keys[..keys.len() / 2].to_vec()),
        ("key file empty", Vec::new()),
        ("key file magic", {
            let mut k = keys.clone();
            k[0] ^= 1;
            k
        }),
        ("key file version", {
            let mut k = keys.clone();
            k[8] = 0;
            k
        }),
    ] {
        let sub = dir.path().join(name.replace(' ', "_"));
        std::fs::create_dir(&sub).expect("dir");
        let p = sub.join("postern.db");
        std::fs::write(&p, &good).expect("write");
        std::fs::write(p.with_extension("keys"), &k).expect("keys");
        let res = Store::open(&p, b"pass");
        assert!(
            matches!(res, Err(StoreError::Corrupt { .. })),
            "{name}: {res:?}"
        );
        assert_eq!(file_bytes(&p), good, "{name}: database was modified");
        assert_eq!(
            file_bytes(&p.with_extension("keys")),
            k,
            "{name}: key file was modified"
        );
    }
}

#[test]
fn newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = db(&dir);
    {
        let s = Store::create(&path, b"pass", fast()).expect("create");
        s.connection()
            .pragma_update(None, "user_version", LATEST_VERSION + 1)
            .expect("bump");
    }
    let before = file_bytes(&path);
    let res = Store::open(&path, b"pass");
    assert!(
        matches!(res, Err(StoreError::TooNew { found, supported }) if found == LATEST_VERSION + 1 && supported == LATEST_VERSION),
        "{res:?}"
    );
    assert_eq!(file_bytes(&path), before);
}

fn schema(s: &Store) -> Vec<(String, String)> {
    let mut st = s
        .connection()
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .expect("prepare");
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// SHA-256 of every shipped migration, in order. A shipped migration is never edited: a store
/// made by an earlier Postern has run the old text, and editing it would make that store differ
/// from a new one. A new migration appends its file and its checksum here (and a fixture).
const SHIPPED_MIGRATIONS: &[&str] = &[
    "061b668b11c0cdd7002c2582b44636bca7ff33a02369a61ead7c98eced11a607",
    "0e6ec0a52e92cb77deb8f341d40392c2a2c19a43995f1416bbf40649b11f571f",
    "5229c7e4af703044604e840c03877d2ae0f5fd1f28fee5780561267bb3966710",
    "3eb8410025bff1ee8f31fc4929547070d838cbf92a76aca12951744c957e1858",
    "e5ee38cb37f65154dd0c5aaf638e52070779367e41adacefaff91bc7a4eaf1e3",
    "95d7ddccccdcd16b7e98c496b2f243770eef1f1906b016bbc7137327b588e72f",
    "a6b76aae36421c7fd8d6d7c1b80ac32e26d53f51d25d2537482fc4eda2447933",
    "ede813f2ee90c3bf6d203afe09f763a9e51d07f28f918fd20bd1f9a743e38f58",
    "8acd2ccd421b02b8d57d23ef9c6937a170c3a57e7db025a13352c7da1f54a782",
    "a6372f8310ec7ced7cd90aea81c809bdf34f52fad250b43293c34ead2cc92353",
    "264d21515acf44d2d9ecf928331f16501154b689abe30d179d9a2f10db52d753",
    "8c34fbe70e506ba0069303fdae0fa137870df570bee332660d36858faf2b3427",
    "7e421aee977f41e01bb5b51600346940471b5e84b0bea0436f2ceaab397a78c5",
    "8edd25df9dab078a0edc323376e5e8fd8b80689e079124333834b499e6db48a6",
];

#[test]
fn shipped_migrations_are_never_edited() {
    use sha2::{Digest, Sha256};
    assert_eq!(
        MIGRATIONS.len(),
        SHIPPED_MIGRATIONS.len(),
        "a new migration must add its checksum to SHIPPED_MIGRATIONS (and a fixture database)"
    );
    for (i, (sql, want)) in MIGRATIONS.iter().zip(SHIPPED_MIGRATIONS).enumerate() {
        let got: String = Sha256::digest(sql.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            &got,
            want,
            "migration {} was edited after it shipped; append a new migration instead",
            i + 1
        );
    }
}

/// A copy of the checked-in store made by the code of schema version `v` (see
/// `tests/fixtures/README.md`).
fn fixture(dir: &tempfile::TempDir, v: i64) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/v{v}.db"));
    let to = dir.path().join(format!("v{v}.db"));
    std::fs::copy(&from, &to).unwrap_or_else(|e| {
        panic!(
            "{}: {e} — every schema version needs a fixture made by the code of that version",
            from.display()
        )
    });
    // From version 5 on, a store is encrypted and has its key file beside it.
    let keys = from.with_extension("keys");
    if keys.is_file() {
        std::fs::copy(&keys, to.with_extension("keys")).expect("copy key file");
    }
    to
}

fn count(s: &Store, table: &str) -> i64 {
    s.connection()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

#[test]
fn migrates_from_every_released_version() {
    let dir = tempfile::tempdir().expect("tmp");
    let fresh = Store::create(&dir.path().join("fresh.db"), b"p", fast()).expect("fresh");
    let want = schema(&fresh);

    for v in 1..=LATEST_VERSION {
        let path = fixture(&dir, v);
        if !path.with_extension("keys").is_file() {
            // Before version 5 a store is plain SQLite.
            let old = rusqlite::Connection::open(&path).expect("raw open");
            let found: i64 = old
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .expect("version");
            assert_eq!(found, v, "fixture v{v} is at schema {found}");
        }
        assert!(matches!(
            Store::open(&path, b"wrong"),
            Err(StoreError::WrongPassphrase)
        ));
        let s = Store::open(&path, b"fixture").expect("open migrates");
        assert_eq!(s.schema_version().expect("v"), LATEST_VERSION, "from v{v}");
        assert_eq!(schema(&s), want, "schema after migrating from v{v}");
        let ids = s.identities().expect("ids");
        assert_eq!(ids.len(), 1, "identity kept from v{v}");
        assert_eq!(ids[0].display_name, "Alice Fixture");
        assert_eq!(
            s.identity_secrets(ids[0].id)
                .expect("secrets")
                .openpgp_secret
                .as_slice(),
            b"OPENPGP-SECRET-KEY-MATERIAL-0123456789",
            "sealed secrets still open after migrating from v{v}"
        );
        assert_eq!(s.contacts(ids[0].id).expect("contacts").len(), 1);
        // Every row the fixture wrote at its version is still there.
        let tables: &[(&str, i64)] = &[
            ("messages", 2),
            ("outbox", 2),
            ("invites", 3),
            ("introductions", 3),
            ("revocations", 3),
            ("carried", 4),
            ("contact_carriers", 4),
            ("handovers", 4),
            ("blobs", 5),
            ("message_attachments", 5),
            ("message_search", 5),
            ("events", 5),
            ("own_devices", 11),
        ];
        for (table, since) in tables {
            let want = i64::from(v >= *since);
            assert_eq!(count(&s, table), want, "{table} after migrating from v{v}");
        }
        // Every identity has its mailboxes; mail stored before has a UID.
        assert_eq!(
            count(&s, "mailboxes"),
            7,
            "mailboxes after migrating from v{v}"
        );
        if v >= 2 {
            let boxes = s.mailboxes(ids[0].id).expect("mailboxes");
            let inbox = boxes.iter().find(|b| b.name == "inbox").expect("inbox");
            assert_eq!((inbox.total, inbox.uidnext), (1, 2), "from v{v}");
            let m = s.messages(Some(ids[0].id), "inbox").expect("inbox");
            assert_eq!(m[0].uid, 1, "from v{v}");
            let want_thread = if v >= 6 { "m0@fixture" } else { "m1@fixture" };
            assert_eq!(m[0].threading.thread, want_thread, "from v{v}");
        }
    }
}

#[test]
fn secrets_are_not_in_the_file_in_plaintext() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = db(&dir);
    {
        // A passphrase no schema text could contain by chance.
        let mut s = Store::create(&path, b"Zq8-hunter2-Pw", fast()).expect("create");
        s.insert_identity(&sample_identity("a.onion"))
            .expect("insert");
    }
    let mut bytes = file_bytes(&path);
    if let Ok(wal) = std::fs::read(dir.path().join("postern.db-wal")) {
        bytes.extend(wal);
    }
    for secret in [
        &b"ONION-SECRET-0123456789abcdefXYZ"[..],
        b"OPENPGP-SECRET-KEY-MATERIAL",
        b"Zq8-hunter2-Pw",
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "{} found in the database file",
            String::from_utf8_lossy(secret)
        );
    }
    // The whole database is encrypted: public parts, names and addresses too.
    for public in [
        &b"public key bytes"[..],
        b"a.onion",
        b"Alice",
        b"SQLite format 3",
    ] {
        assert!(
            !bytes.windows(public.len()).any(|w| w == public),
            "{} found in the database file",
            String::from_utf8_lossy(public)
        );
    }
}

#[test]
fn deleting_an_identity_removes_its_contacts() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut s = Store::create(&db(&dir), b"pass", fast()).expect("create");
    let id = s
        .insert_identity(&sample_identity("a.onion"))
        .expect("insert")
        .id;
    s.insert_contact(&NewContact {
        identity_id: id,
        address: "bob@y.onion",
        display_name: "Bob",
        fingerprint: &[1; 20],
        binding_sig: &[2; 64],
        public_key: None,
        verification: "card",
        added_at: 1,
    })
    .expect("contact");
    assert!(matches!(
        s.insert_contact(&NewContact {
            identity_id: id,
            address: "bob@y.onion",
            display_name: "Bob again",
            fingerprint: &[1; 20],
            binding_sig: &[2; 64],
            public_key: None,
            verification: "card",
            added_at: 2,
        }),
        Err(StoreError::Duplicate("contact"))
    ));
    s.delete_identity(id).expect("delete");
    let n: i64 = s
        .connection()
        .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 0);
    assert!(matches!(
        s.delete_identity(id),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn the_store_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let path = data.join("postern.db");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    {
        let mut s = Store::create(&path, b"pass", fast()).expect("create");
        s.insert_identity(&sample_identity("a.onion"))
            .expect("insert");
        assert_eq!(mode(&data), 0o700, "data directory");
        assert_eq!(mode(&path), 0o600, "database");
        assert_eq!(mode(&data.join("postern.db-wal")), 0o600, "write-ahead log");
    }
    // A store left readable by an older version is tightened when opened.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    drop(Store::open(&path, b"pass").expect("open"));
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&data), 0o700);
}

#[test]
fn unreasonable_key_derivation_parameters_are_refused_before_any_work() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = db(&dir);
    drop(Store::create(&path, b"pass", fast()).expect("create"));
    // The Argon2id cost is in the key file, after the magic and version (see keyfile.rs).
    let keys = dir.path().join("postern.keys");
    let set = |memory: u32, passes: u32, lanes: u32| {
        let mut k = file_bytes(&keys);
        k[9..13].copy_from_slice(&memory.to_be_bytes());
        k[13..17].copy_from_slice(&passes.to_be_bytes());
        k[17..21].copy_from_slice(&lanes.to_be_bytes());
        std::fs::write(&keys, k).expect("write key file");
    };
    for (memory, passes, lanes) in [
        (u32::MAX, 1, 1),
        (4 * 1024 * 1024, 3, 1),
        (65536, 1_000_000, 1),
        (65536, 3, 255),
        (65536, 0, 1),
        (4, 1, 1),
    ] {
        set(memory, passes, lanes);
        let before = (file_bytes(&path), file_bytes(&keys));
        let started = std::time::Instant::now();
        let r = Store::open(&path, b"pass");
        assert!(
            matches!(r, Err(StoreError::Corrupt { .. })),
            "{memory} KiB, {passes} passes, {lanes} lanes: {r:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!((file_bytes(&path), file_bytes(&keys)), before);
    }
}

/// Converting a store from before encryption, killed (SIGKILL) at 100 seeded random points:
/// every time, the store opens afterwards (in the old format or the new) with every row, and
/// once open, no plaintext copy is left beside it.
#[test]
fn encrypting_an_old_store_survives_being_killed_anywhere() {
    if let Ok(p) = std::env::var("POSTERN_TEST_CONVERT_ONLY") {
        // The child: open (which converts) and exit.
        let code = i32::from(Store::open(Path::new(&p), b"fixture").is_err());
        std::process::exit(code);
    }
    let dir = tempfile::tempdir().expect("tmp");
    // The v4 fixture, with enough bulk that the conversion takes a while to kill.
    let original = fixture(&dir, 4);
    const PAD_ROWS: i64 = 64;
    {
        let c = rusqlite::Connection::open(&original).expect("raw");
        c.execute_batch("CREATE TABLE padding (x BLOB NOT NULL)")
            .expect("padding");
        for i in 0..PAD_ROWS {
            c.execute(
                "INSERT INTO padding (x) VALUES (?1)",
                [vec![(i % 251) as u8; 128 * 1024]],
            )
            .expect("pad");
        }
    }
    let child = |path: &Path| {
        std::process::Command::new(std::env::current_exe().expect("exe"))
            .args([
                "encrypting_an_old_store_survives_being_killed_anywhere",
                "--exact",
                "--test-threads=1",
                "--quiet",
            ])
            .env("POSTERN_TEST_CONVERT_ONLY", path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn")
    };
    let trial_dir = |i: usize| {
        let d = dir.path().join(format!("trial-{i}"));
        std::fs::create_dir(&d).expect("dir");
        let p = d.join("postern.db");
        std::fs::copy(&original, &p).expect("copy");
        p
    };
    // How long a whole conversion takes, start of the process included.
    let started = std::time::Instant::now();
    let whole = child(&trial_dir(1000)).wait().expect("wait");
    assert!(whole.success(), "an uninterrupted conversion succeeds");
    let full = started.elapsed();

    let mut seed: u64 = 0x0005_eed0_fa11;
    let (mut before_commit, mut after_commit) = (0, 0);
    for i in 0..100 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at = full.mul_f64((seed % 1000) as f64 / 1000.0 * 1.1);
        let path = trial_dir(i);
        let mut c = child(&path);
        std::thread::sleep(at);
        let _ = c.kill();
        c.wait().expect("reap");
        if path.with_extension("keys").is_file() {
            after_commit += 1;
        } else {
            before_commit += 1;
        }
        let s = Store::open(&path, b"fixture")
            .unwrap_or_else(|e| panic!("trial {i}, killed at {at:?}: {e}"));
        let ids = s.identities().expect("ids");
        assert_eq!(ids.len(), 1, "trial {i}");
        assert_eq!(
            s.identity_secrets(ids[0].id)
                .expect("secrets")
                .openpgp_secret
                .as_slice(),
            b"OPENPGP-SECRET-KEY-MATERIAL-0123456789",
            "trial {i}"
        );
        for (table, want) in [
            ("messages", 1),
            ("outbox", 1),
            ("carried", 1),
            ("padding", PAD_ROWS),
        ] {
            assert_eq!(count(&s, table), want, "trial {i}: {table}");
        }
        drop(s);
        let left: Vec<String> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("encrypting") || n.contains("plaintext"))
            .collect();
        assert!(left.is_empty(), "trial {i}: left behind {left:?}");
        let bytes = file_bytes(&path);
        assert!(
            !bytes.windows(13).any(|w| w == b"Alice Fixture"),
            "trial {i}: the store is not encrypted"
        );
    }
    eprintln!(
        "conversion ({full:?} whole) killed 100 times: {before_commit} before its commit point, \
         {after_commit} after; every store opened with every row"
    );
    assert!(
        before_commit > 0 && after_commit > 0,
        "kills must land on both sides of the commit"
    );
}

#[test]
fn hosted_accounts_share_their_hosts_onion_and_go_with_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut s = Store::create(&db(&dir), b"pass", fast()).expect("create");
    let host = s
        .insert_identity(&sample_identity("h.onion"))
        .expect("host");
    let other = s
        .insert_identity(&sample_identity("o.onion"))
        .expect("other");
    let account = NewIdentity {
        local_part: "bob",
        openpgp_secret: b"BOB-OPENPGP-SECRET",
        host_id: Some(host.id),
        ..sample_identity("h.onion")
    };
    let bob = s.insert_identity(&account).expect("hosted account");
    assert_eq!(s.identity(bob.id).expect("bob").host_id, Some(host.id));
    // Its secrets are its own, sealed to its whole address.
    let secrets = s.identity_secrets(bob.id).expect("secrets");
    assert_eq!(secrets.openpgp_secret.as_slice(), b"BOB-OPENPGP-SECRET");
    assert_eq!(
        s.identity_secrets(host.id)
            .expect("host secrets")
            .openpgp_secret
            .as_slice(),
        b"OPENPGP-SECRET-KEY-MATERIAL-0123456789"
    );
    // The same address twice, a second host of one onion, and a host of another onion: refused.
    assert!(matches!(
        s.insert_identity(&account),
        Err(StoreError::Duplicate(_))
    ));
    let second_host = NewIdentity {
        local_part: "carol",
        ..sample_identity("h.onion")
    };
    assert!(matches!(
        s.insert_identity(&second_host),
        Err(StoreError::Duplicate(_))
    ));
    let wrong_host = NewIdentity {
        local_part: "dave",
        host_id: Some(other.id),
        ..sample_identity("h.onion")
    };
    assert!(s.insert_identity(&wrong_host).is_err());
    assert_eq!(s.identities().expect("all").len(), 3);
    // Deleting the host deletes the accounts it hosts (with their mailboxes).
    s.delete_identity(host.id).expect("delete host");
    let left: Vec<i64> = s.identities().expect("all").iter().map(|i| i.id).collect();
    assert_eq!(left, vec![other.id]);
    assert!(s.mailboxes(bob.id).expect("mailboxes").is_empty());
}
