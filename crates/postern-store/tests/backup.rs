//! Backups: a round trip keeps every table of every identity; a choice keeps what was chosen;
//! a wrong passphrase, a cut or altered file, a newer format or a store in the way is refused
//! with its own error and leaves nothing behind.

use std::path::{Path, PathBuf};

use postern_crypto::KdfParams;
use postern_store::{
    import_backup, BackupChoice, BackupError, NewContact, NewIdentity, NewMessage, Store,
    StoreError,
};

fn fast() -> KdfParams {
    KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    }
}

const SECRET_TEXT: &[u8] = b"ATTACHMENT-PLAINTEXT-";

fn identity(s: &mut Store, name: &str, host: Option<(i64, &str)>) -> i64 {
    let onion = match host {
        Some((_, host)) => format!("{host}onion.onion"),
        None => format!("{name}onion.onion"),
    };
    let secret = format!("{name}-ONION-SECRET");
    s.insert_identity(&NewIdentity {
        local_part: name,
        onion: &onion,
        display_name: name,
        fingerprint: &[7; 20],
        binding_sig: &[9; 64],
        public_key: b"public",
        onion_secret: secret.as_bytes(),
        openpgp_secret: b"openpgp secret",
        created_at: 1,
        host_id: host.map(|h| h.0),
    })
    .expect("identity")
    .id
}

fn contact(s: &mut Store, identity_id: i64, address: &str) {
    s.insert_contact(&NewContact {
        identity_id,
        address,
        display_name: "Friend",
        fingerprint: &[1; 20],
        binding_sig: &[2; 64],
        public_key: Some(b"friend key"),
        verification: "scanned",
        added_at: 5,
    })
    .expect("contact");
}

/// A message with an attachment of `size` bytes (distinct per `n`).
fn mail(s: &mut Store, identity_id: i64, n: usize, size: usize) {
    let postern_store::Inserted::New(id) = s
        .insert_message(&NewMessage {
            identity_id,
            message_id: format!("<{n}-{identity_id}@test>"),
            sender: "friend@x.onion".into(),
            sender_name: "Friend".into(),
            subject: format!("SUBJECT-{n}"),
            folder: "inbox".into(),
            verification: "contact".into(),
            received_at: n as i64,
            ..Default::default()
        })
        .expect("insert")
    else {
        panic!("duplicate")
    };
    let mut data: Vec<u8> = SECRET_TEXT.iter().copied().cycle().take(size).collect();
    data.extend_from_slice(format!("{n}-{identity_id}").as_bytes());
    let hash = s.put_blob(&data).expect("blob");
    s.add_message_attachment(id, 0, "file.bin", "application/octet-stream", &hash)
        .expect("attach");
}

/// A store from the v14 fixture (a row in every table), with two more identities, one hosting
/// an account, and mail with attachments (one larger than a chunk).
fn full_store(dir: &Path) -> Store {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v14.db");
    let db = dir.join("postern.db");
    std::fs::copy(&fixture, &db).expect("copy fixture");
    std::fs::copy(fixture.with_extension("keys"), db.with_extension("keys")).expect("keys");
    let mut s = Store::open(&db, b"fixture").expect("open fixture");
    let carol = identity(&mut s, "carol", None);
    let dave = identity(&mut s, "dave", None);
    identity(&mut s, "guest", Some((dave, "dave")));
    contact(&mut s, carol, "friend@x.onion");
    contact(&mut s, dave, "other@y.onion");
    mail(&mut s, carol, 1, 200 * 1024);
    mail(&mut s, carol, 2, 10);
    mail(&mut s, dave, 3, 70 * 1024);
    s
}

fn tables(s: &Store) -> Vec<String> {
    let mut st = s
        .connection()
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'message_search_%' ORDER BY name",
        )
        .expect("tables");
    let rows = st.query_map([], |r| r.get(0)).expect("query");
    rows.collect::<Result<_, _>>().expect("rows")
}

fn rows(s: &Store, table: &str) -> Vec<Vec<String>> {
    let mut st = s
        .connection()
        .prepare(&format!("SELECT * FROM {table}"))
        .expect("select");
    let n = st.column_count();
    let rows = st
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .expect("query");
    let mut all: Vec<Vec<String>> = rows.collect::<Result<_, _>>().expect("rows");
    all.sort();
    all
}

fn export(s: &Store, choice: &BackupChoice) -> Vec<u8> {
    let mut out = Vec::new();
    let mut last = (0, 0);
    s.export_backup(&mut out, b"backup pass", fast(), choice, 42, &mut |d, t| {
        last = (d, t)
    })
    .expect("export");
    assert!(
        last.0 > 0 && last.0 == last.1,
        "progress ends at the total: {last:?}"
    );
    out
}

fn import(dir: &Path, backup: &[u8], pass: &[u8]) -> Result<Store, BackupError> {
    import_backup(
        &dir.join("postern.db"),
        backup,
        pass,
        b"new device",
        fast(),
        &mut |_, _| {},
    )
    .map(|(s, _)| s)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn import_summary(backup: &[u8]) -> postern_store::BackupSummary {
    let to = tempfile::tempdir().expect("tmp");
    import_backup(
        &to.path().join("postern.db"),
        backup,
        b"backup pass",
        b"n",
        fast(),
        &mut |_, _| {},
    )
    .expect("import")
    .1
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_round_trip_keeps_every_table_of_every_identity() {
    let from = tempfile::tempdir().expect("tmp");
    let s = full_store(from.path());
    let device = s.device_id(|| [7; 16]).expect("device id");
    s.set_service_lease("carolonion", "a lease").expect("lease");
    let all = BackupChoice {
        identities: None,
        mail: true,
    };
    let backup = export(&s, &all);
    for plain in [
        SECRET_TEXT,
        b"SUBJECT-1",
        b"carol-ONION-SECRET",
        b"carolonion",
    ] {
        assert!(
            !contains(&backup, plain),
            "the backup shows {:?}",
            String::from_utf8_lossy(plain)
        );
    }
    let to = tempfile::tempdir().expect("tmp");
    let r = import(to.path(), &backup, b"backup pass").expect("import");
    assert_eq!(tables(&s), tables(&r));
    let mut compared = 0;
    for t in tables(&s) {
        if t == "events" {
            // A restored store starts its own change log.
            assert!(rows(&r, "events").is_empty());
            continue;
        }
        if t == "store_meta" {
            // Leases travel; the device id does not: the restored store is another device.
            let mut without_id = rows(&s, &t);
            without_id.retain(|row| row[0] != r#"Text("device/id")"#);
            assert_eq!(without_id.len() + 1, rows(&s, &t).len());
            assert_eq!(without_id, rows(&r, &t));
            assert_eq!(
                r.service_lease("carolonion").expect("lease").as_deref(),
                Some("a lease")
            );
            assert_ne!(r.device_id(|| [8; 16]).expect("id"), device);
            continue;
        }
        assert_eq!(rows(&s, &t), rows(&r, &t), "table {t}");
        compared += rows(&s, &t).len();
    }
    assert!(compared > 30, "rows compared: {compared}");
    assert_eq!(s.identities().expect("ids").len(), 4);
    for i in s.identities().expect("ids") {
        let a = s.identity_secrets(i.id).expect("secrets");
        let b = r.identity_secrets(i.id).expect("restored secrets");
        assert_eq!(a.onion_secret.as_slice(), b.onion_secret.as_slice());
    }
    // Every attachment's content, back.
    let hashes: Vec<Vec<u8>> = {
        let mut st = s.connection().prepare("SELECT hash FROM blobs").expect("q");
        let rows = st.query_map([], |r| r.get(0)).expect("q");
        rows.collect::<Result<_, _>>().expect("rows")
    };
    assert!(hashes.len() >= 3, "{}", hashes.len());
    let summary = import_summary(&backup);
    // The fixture names an attachment whose file it never had: said so, not fatal.
    assert_eq!(summary.missing.len(), 1, "{summary:?}");
    for h in hashes.iter().filter(|h| !summary.missing.contains(&hex(h))) {
        assert_eq!(s.read_blob(h).expect("a"), r.read_blob(h).expect("b"));
    }
    // The restored store has the new device's passphrase, not the old one.
    drop(r);
    let db = to.path().join("postern.db");
    assert!(matches!(
        Store::open(&db, b"fixture"),
        Err(StoreError::WrongPassphrase)
    ));
    Store::open(&db, b"new device").expect("opens with its own passphrase");
    // Nothing of the work left beside either store.
    for d in [from.path(), to.path()] {
        for e in std::fs::read_dir(d).expect("ls").flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            assert!(!n.starts_with('.'), "left behind: {n}");
        }
    }
}

#[test]
fn a_chosen_identity_without_mail_brings_its_hosted_account_and_nothing_else() {
    let from = tempfile::tempdir().expect("tmp");
    let s = full_store(from.path());
    let dave = s
        .identities()
        .expect("ids")
        .into_iter()
        .find(|i| i.local_part == "dave")
        .expect("dave")
        .id;
    let backup = export(
        &s,
        &BackupChoice {
            identities: Some(vec![dave]),
            mail: false,
        },
    );
    assert!(!contains(&backup, b"carol"));
    let to = tempfile::tempdir().expect("tmp");
    let r = import(to.path(), &backup, b"backup pass").expect("import");
    let mut names: Vec<String> = r
        .identities()
        .expect("ids")
        .into_iter()
        .map(|i| i.local_part)
        .collect();
    names.sort();
    assert_eq!(names, ["dave", "guest"]);
    assert_eq!(r.contacts(dave).expect("contacts").len(), 1);
    assert!(rows(&r, "messages").is_empty());
    assert!(rows(&r, "blobs").is_empty());
    assert!(
        !to.path().join("blobs").exists()
            || std::fs::read_dir(to.path().join("blobs"))
                .expect("ls")
                .count()
                == 0
    );
    // An identity that is not in the store is named.
    let mut out = Vec::new();
    let err = s
        .export_backup(
            &mut out,
            b"p",
            fast(),
            &BackupChoice {
                identities: Some(vec![999]),
                mail: true,
            },
            1,
            &mut |_, _| {},
        )
        .expect_err("unknown identity");
    assert!(matches!(err, BackupError::UnknownIdentity(999)), "{err}");
}

/// Nothing in `dir` but what was there before: no store, no key file, no attachments, no staging.
fn untouched(dir: &Path) {
    let left: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("ls")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn damaged_files_wrong_passphrases_and_newer_formats_are_refused_and_write_nothing() {
    let from = tempfile::tempdir().expect("tmp");
    let s = full_store(from.path());
    let backup = export(
        &s,
        &BackupChoice {
            identities: None,
            mail: true,
        },
    );
    assert!(
        backup.len() > 300 * 1024,
        "several chunks: {}",
        backup.len()
    );
    let try_import = |bytes: &[u8], pass: &[u8]| {
        let to = tempfile::tempdir().expect("tmp");
        let r = import(to.path(), bytes, pass).map(drop);
        if r.is_err() {
            untouched(to.path());
        }
        r
    };
    let header = 8 + 1 + 12 + 16 + 19 + 2;
    let chunk = 64 * 1024 + 16;

    assert!(matches!(
        try_import(&backup, b"not it"),
        Err(BackupError::WrongPassphrase)
    ));
    assert!(matches!(
        try_import(b"hello, world", b"backup pass"),
        Err(BackupError::NotABackup)
    ));
    assert!(matches!(
        try_import(&[], b"backup pass"),
        Err(BackupError::NotABackup)
    ));
    let mut newer = backup.clone();
    newer[8] = 2;
    assert!(matches!(
        try_import(&newer, b"backup pass"),
        Err(BackupError::TooNew {
            found: 2,
            supported: 1
        })
    ));

    // Cut anywhere: in the header, in a chunk, at a chunk boundary, one byte short.
    for cut in [
        10,
        header + 5,
        header + 100,
        header + 200 + chunk,
        header + 200 + 2 * chunk,
        backup.len() - 1,
    ] {
        let r = try_import(&backup[..cut], b"backup pass");
        assert!(
            matches!(r, Err(BackupError::Damaged { .. })),
            "cut at {cut}: {r:?}"
        );
    }
    // Altered anywhere after the magic: a header field (the passphrase check fails), any chunk.
    for at in [
        12,
        30,
        header + 40,
        header + 300,
        header + 70_000,
        header + 140_000,
        backup.len() - 3,
    ] {
        let mut bad = backup.clone();
        bad[at] ^= 0x20;
        let r = try_import(&bad, b"backup pass");
        assert!(
            matches!(
                r,
                Err(BackupError::Damaged { .. }) | Err(BackupError::WrongPassphrase)
            ),
            "altered at {at}: {r:?}"
        );
    }
    // Anything after the last chunk.
    let mut longer = backup.clone();
    longer.push(0);
    assert!(matches!(
        try_import(&longer, b"backup pass"),
        Err(BackupError::Damaged { .. })
    ));

    // A store in the way is never overwritten.
    let occupied = tempfile::tempdir().expect("tmp");
    Store::create(&occupied.path().join("postern.db"), b"x", fast()).expect("create");
    let r = import(occupied.path(), &backup, b"backup pass").map(drop);
    assert!(
        matches!(r, Err(BackupError::Store(StoreError::AlreadyExists(_)))),
        "{r:?}"
    );
    Store::open(&occupied.path().join("postern.db"), b"x").expect("still the old store");

    // What a crashed import left (a staging directory, orphan attachments, a stray key file)
    // goes with the next one, which succeeds.
    let to = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(to.path().join(".import-0011223344556677/blobs")).expect("mkdir");
    std::fs::create_dir_all(to.path().join("blobs/ab")).expect("mkdir");
    std::fs::write(to.path().join("blobs/ab/orphan"), b"x").expect("write");
    std::fs::write(to.path().join("postern.keys"), b"stray").expect("write");
    let r = import(to.path(), &backup, b"backup pass").expect("import after a crash");
    assert_eq!(r.identities().expect("ids").len(), 4);
    assert!(!to.path().join(".import-0011223344556677").exists());
    assert!(!to.path().join("blobs/ab/orphan").exists());
}
