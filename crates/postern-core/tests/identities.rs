//! The core API over a real store: identities, cards, contacts, secrets at rest.

use std::sync::Arc;

use postern_core::{Clock, CoreError, ErrorKind, HasKind, KdfParams, Postern};

#[derive(Debug)]
struct FixedClock(i64);
impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        self.0
    }
}

fn fast() -> KdfParams {
    KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    }
}

fn init(dir: &std::path::Path) -> Postern {
    Postern::init_with(dir, b"pass", fast(), Arc::new(FixedClock(1_800_000_000))).expect("init")
}

#[test]
fn two_identities_exchange_cards() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut p = init(dir.path());
    let alice = p.create_identity("alice", "Alice").expect("alice");
    let bob = p.create_identity("bob", "Bob B.").expect("bob");
    assert_ne!(alice.address, bob.address);
    assert_eq!(alice.created_at, 1_800_000_000);

    let card = p.export_card("bob", true).expect("card");
    let c = p.add_contact("alice", &card).expect("add");
    assert_eq!(c.address, bob.address);
    assert_eq!(c.display_name, "Bob B.");
    assert_eq!(c.fingerprint, bob.fingerprint);
    assert!(c.has_key);
    assert_eq!(c.verification, "card");

    // Same card again: no duplicate.
    p.add_contact("alice", &card).expect("again");
    assert_eq!(p.contacts("alice").expect("list").len(), 1);
    assert_eq!(p.contacts("bob").expect("list").len(), 0);
    assert_eq!(p.identity("alice").expect("a").contacts, 1);
    assert_eq!(
        p.contact("alice", &bob.address).expect("show").address,
        bob.address
    );

    // Own card refused.
    let own = p.export_card("alice", false).expect("own");
    assert!(matches!(
        p.add_contact("alice", &own),
        Err(CoreError::OwnCard)
    ));

    // Survives reopening.
    drop(p);
    let p = Postern::open(dir.path(), b"pass").expect("reopen");
    assert_eq!(p.identities().expect("ids").len(), 2);
    assert_eq!(p.status().expect("status").contacts, 1);
    // Keys reload and still match the stored binding.
    let keys = p.identity_keys("bob").expect("keys");
    assert_eq!(keys.address().to_string(), bob.address);
}

#[test]
fn selecting_identities() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut p = init(dir.path());
    let a1 = p.create_identity("alice", "").expect("a1");
    let a2 = p.create_identity("alice", "").expect("a2");
    assert_eq!(p.identity(&a1.id.to_string()).expect("by id"), a1);
    assert_eq!(p.identity(&a2.address).expect("by address"), a2);
    let e = p.identity("alice").expect_err("ambiguous");
    assert!(matches!(e, CoreError::AmbiguousIdentity(_)));
    assert_eq!(e.kind(), ErrorKind::BadInput);
    let e = p.identity("nobody").expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    p.delete_identity(&a1.address).expect("delete");
    assert_eq!(p.identity("alice").expect("now unique"), a2);
}

#[test]
fn bad_input_is_refused_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut p = init(dir.path());
    p.create_identity("alice", "Alice").expect("alice");
    for (local, name) in [
        ("Alice", "x"),
        ("a b", "x"),
        ("", "x"),
        ("ok", "Evil\u{202E}"),
    ] {
        let e = p.create_identity(local, name).expect_err("accepted");
        assert_eq!(e.kind(), ErrorKind::BadInput, "{local:?} {name:?}");
    }
    assert_eq!(p.identities().expect("ids").len(), 1);
    for card in ["", "POSTERN-CARD:AAAA", "hello", "POSTERN-CARD:%%%"] {
        let e = p.add_contact("alice", card).expect_err("accepted");
        assert_eq!(e.kind(), ErrorKind::BadInput, "{card:?}");
    }
    assert!(p.contacts("alice").expect("list").is_empty());
}

#[test]
fn conflicting_card_for_known_address_is_refused() {
    // Same address, different key: only possible if the binding were forged, so we forge the
    // stored row instead, as if the contact had rotated keys behind our back.
    let dir = tempfile::tempdir().expect("tmp");
    let mut p = init(dir.path());
    p.create_identity("alice", "Alice").expect("alice");
    let bob = p.create_identity("bob", "Bob").expect("bob");
    let card = p.export_card("bob", false).expect("card");
    p.add_contact("alice", &card).expect("add");
    p.store()
        .connection()
        .execute(
            "UPDATE contacts SET fingerprint = x'00112233445566778899AABBCCDDEEFF00112233'",
            [],
        )
        .expect("tamper");
    drop(p);
    let mut p = Postern::open(dir.path(), b"pass").expect("open");
    let e = p.add_contact("alice", &card).expect_err("merged");
    assert!(matches!(e, CoreError::ConflictingContact(_)));
    assert_eq!(e.kind(), ErrorKind::Untrusted);
    assert_ne!(
        p.contact("alice", &bob.address).expect("kept").fingerprint,
        bob.fingerprint,
        "the stored contact must not have been overwritten"
    );
}

/// Secret key bytes of every secret key in a certificate.
fn openpgp_secret_scalars(cert: &sequoia_openpgp::Cert) -> Vec<Vec<u8>> {
    use sequoia_openpgp::crypto::mpi;
    use sequoia_openpgp::packet::key::SecretKeyMaterial;
    let mut out = Vec::new();
    for ka in cert.keys().secret() {
        if let Some(SecretKeyMaterial::Unencrypted(u)) = ka.key().optional_secret() {
            u.map(|m| match m {
                mpi::SecretKeyMaterial::EdDSA { scalar } => out.push(scalar.value().to_vec()),
                mpi::SecretKeyMaterial::ECDH { scalar } => out.push(scalar.value().to_vec()),
                _ => {}
            });
        }
    }
    out
}

#[test]
fn secret_keys_are_not_in_the_database_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut p = init(dir.path());
    for name in ["alice", "bob"] {
        p.create_identity(name, "").expect("create");
    }
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for name in ["alice", "bob"] {
        let keys = p.identity_keys(name).expect("keys");
        secrets.push(keys.onion_seed().to_vec());
        // The expanded ed25519 secret (what arti would write to a keystore).
        let expanded = tor_llcrypto::pk::ed25519::ExpandedKeypair::from(
            &tor_llcrypto::pk::ed25519::Keypair::from_bytes(keys.onion_seed()),
        );
        secrets.push(expanded.to_secret_key_bytes()[..32].to_vec());
        let scalars = openpgp_secret_scalars(keys.openpgp_cert());
        assert_eq!(scalars.len(), 3, "primary, signing and encryption secrets");
        secrets.extend(scalars);
    }
    drop(p);
    let mut bytes = std::fs::read(dir.path().join("postern.db")).expect("db");
    for extra in ["postern.db-wal", "postern.db-shm"] {
        if let Ok(b) = std::fs::read(dir.path().join(extra)) {
            bytes.extend(b);
        }
    }
    for s in &secrets {
        assert!(s.len() >= 16);
        // A 16-byte prefix of a secret is already far too much to leak.
        let needle = &s[..16];
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "secret bytes found in the database file"
        );
    }
}

#[test]
fn wrong_passphrase_and_missing_store() {
    let dir = tempfile::tempdir().expect("tmp");
    let e = Postern::open(dir.path(), b"pass").expect_err("no store");
    assert_eq!(e.kind(), ErrorKind::NotInitialized);
    drop(init(dir.path()));
    let e = Postern::open(dir.path(), b"nope").expect_err("wrong");
    assert_eq!(e.kind(), ErrorKind::WrongPassphrase);
    let e = Postern::init_with(dir.path(), b"pass", fast(), Arc::new(FixedClock(0)))
        .expect_err("exists");
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    let other = tempfile::tempdir().expect("tmp");
    let e = Postern::init(other.path(), b"").expect_err("empty");
    assert_eq!(e.kind(), ErrorKind::BadInput);
}
