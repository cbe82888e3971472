//! Interoperability with GnuPG (Debian's `gpg`): GnuPG decrypts and verifies what we send, and we
//! decrypt and verify PGP/MIME that GnuPG produced for our key.

use std::path::Path;
use std::process::{Command, Stdio};

use postern_crypto::{IdentityKeys, PublicKeyInfo};
use postern_mime::{compose, open, random_message_id, Draft, Letter, SenderKeys, SignerCheck};
use postern_types::LocalPart;

fn gpg(home: &Path, args: &[&str], stdin: &[u8]) -> (bool, Vec<u8>, String) {
    use std::io::Write;
    let mut child = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args([
            "--batch",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gpg is installed (apt-get install gnupg)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write");
    let out = child.wait_with_output().expect("gpg");
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A GnuPG user with an Ed25519 signing key and a Cv25519 encryption subkey; returns
/// (fingerprint, exported public key).
fn gpg_user(home: &Path, uid: &str) -> (String, Vec<u8>) {
    std::fs::create_dir_all(home).expect("home");
    let mut perms = std::fs::metadata(home).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o700);
    std::fs::set_permissions(home, perms).expect("chmod");
    let (ok, _, err) = gpg(
        home,
        &["--quick-gen-key", uid, "ed25519", "sign", "never"],
        b"",
    );
    assert!(ok, "keygen: {err}");
    let (_, out, _) = gpg(home, &["--with-colons", "--list-keys", uid], b"");
    let listing = String::from_utf8_lossy(&out).into_owned();
    let fpr = listing
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .expect("fingerprint")
        .to_owned();
    let (ok, _, err) = gpg(
        home,
        &["--quick-add-key", &fpr, "cv25519", "encr", "never"],
        b"",
    );
    assert!(ok, "subkey: {err}");
    let (ok, public, err) = gpg(home, &["--export", &fpr], b"");
    assert!(ok, "export: {err}");
    (fpr, public)
}

/// Stops the gpg-agent of a test's GnuPG home when the test ends.
struct AgentGuard<'a>(&'a Path);

impl Drop for AgentGuard<'_> {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.0)
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

fn keys(name: &str) -> IdentityKeys {
    IdentityKeys::generate(LocalPart::new(name).expect("lp"), name).expect("keys")
}

#[test]
fn gnupg_decrypts_and_verifies_what_we_send() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("gnupg");
    let _agent = AgentGuard(&home);
    let alice = keys("alice");
    let dave_addr = keys("dave").address().clone();
    let (dave_fpr, dave_pub) = gpg_user(&home, &dave_addr.to_string());
    let dave_key = PublicKeyInfo::parse(&dave_pub).expect("GnuPG's key is usable");

    let mut rng = rand::thread_rng();
    let msg = compose(
        &Draft {
            from: alice.address().clone(),
            from_name: "Alice".into(),
            to: dave_addr.clone(),
            subject: "Protected subject for GnuPG".into(),
            text: "Hello Dave, this is Postern.\n".into(),
            attachments: vec![],
            headers: Vec::new(),
        },
        SenderKeys::of(&alice),
        dave_key.cert(),
        1_800_000_000,
        &random_message_id(&mut rng),
        &mut rng,
    )
    .expect("compose");
    let text = String::from_utf8(msg).expect("ascii");
    let start = text
        .find("-----BEGIN PGP MESSAGE-----")
        .expect("armor start");
    let end = text.find("-----END PGP MESSAGE-----").expect("armor end") + 25;
    let armored = &text[start..end];

    let (ok, _, err) = gpg(&home, &["--import"], &alice.openpgp_public().expect("pub"));
    assert!(ok, "import: {err}");
    let (ok, plain, status) = gpg(
        &home,
        &["--status-fd", "2", "--trust-model", "always", "--decrypt"],
        armored.as_bytes(),
    );
    assert!(ok, "gpg could not decrypt: {status}");
    assert!(status.contains("DECRYPTION_OKAY"), "{status}");
    assert!(status.contains("GOODSIG"), "{status}");
    let alice_fpr = alice.binding().fingerprint_hex();
    let validsig = status
        .lines()
        .find(|l| l.contains("VALIDSIG"))
        .expect("VALIDSIG");
    assert!(
        validsig.trim_end().ends_with(&alice_fpr),
        "{validsig} vs {alice_fpr}"
    );
    let plain = String::from_utf8_lossy(&plain);
    assert!(
        plain.contains("Subject: Protected subject for GnuPG"),
        "{plain}"
    );
    assert!(plain.contains("Hello Dave, this is Postern."));
    assert!(plain.contains("protected-headers=\"v1\""));
    let _ = dave_fpr;
}

#[test]
fn we_decrypt_and_verify_what_gnupg_sends() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("gnupg");
    let _agent = AgentGuard(&home);
    let alice = keys("alice");
    let dave_addr = keys("dave").address().clone();
    let (dave_fpr, dave_pub) = gpg_user(&home, &dave_addr.to_string());
    let dave_key = PublicKeyInfo::parse(&dave_pub).expect("key");
    let (ok, _, err) = gpg(&home, &["--import"], &alice.openpgp_public().expect("pub"));
    assert!(ok, "import: {err}");

    let inner = format!(
        "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\n\
         From: Dave <{dave_addr}>\r\nTo: {}\r\nSubject: Written by GnuPG\r\n\
         Message-ID: <gnupg-interop@test>\r\n\r\nHello Alice, from GnuPG.\r\n",
        alice.address()
    );
    let (ok, armored, err) = gpg(
        &home,
        &[
            "--trust-model",
            "always",
            "--armor",
            "--sign",
            "--encrypt",
            "--local-user",
            &dave_fpr,
            "--recipient",
            &alice.binding().fingerprint_hex(),
        ],
        inner.as_bytes(),
    );
    assert!(ok, "gpg could not encrypt: {err}");
    let outer = format!(
        "From: {dave_addr}\r\nTo: {}\r\nSubject: ...\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n\
         --b1\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\r\n{}\r\n--b1--\r\n",
        alice.address(),
        String::from_utf8_lossy(&armored)
    );
    let opened = open(
        outer.as_bytes(),
        alice.openpgp_cert(),
        Some(dave_key.cert()),
    )
    .expect("open");
    assert_eq!(
        opened.signer,
        SignerCheck::Good {
            fingerprint: dave_key.fingerprint()
        }
    );
    let letter = Letter::parse(&opened.inner).expect("parse");
    assert_eq!(letter.subject, "Written by GnuPG");
    assert_eq!(letter.from, dave_addr.to_string());
    assert!(letter.text.contains("Hello Alice, from GnuPG."));
}

/// A hosted account whose holder gave their own (GnuPG) key: the host opens the letter and
/// authenticates its sender, but finds only the holder's ciphertext; the holder's GnuPG reads
/// the content, with its real subject, signed by the sender.
#[test]
fn a_hosted_accounts_holder_alone_reads_what_we_send_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("gnupg");
    let _agent = AgentGuard(&home);
    let alice = keys("alice");
    let host = keys("host");
    let account =
        IdentityKeys::hosted(&host, LocalPart::new("bob").expect("lp"), "Bob").expect("hosted");
    let (_, bob_pub) = gpg_user(&home, &account.address().to_string());
    let fingerprint = account.binding().fingerprint().to_vec();
    let account = account.with_holder_key(&bob_pub).expect("holder key");
    assert_eq!(
        account.binding().fingerprint(),
        fingerprint,
        "the account's key (so its binding and card) stay the same"
    );
    assert!(postern_crypto::has_holder_key(account.openpgp_cert()));
    assert!(!postern_crypto::has_holder_key(host.openpgp_cert()));
    // A secret key is refused: the host must never hold the holder's.
    let (ok, bob_secret, err) = gpg(&home, &["--export-secret-keys"], b"");
    assert!(ok, "export: {err}");
    assert!(
        IdentityKeys::hosted(&host, LocalPart::new("eve").expect("lp"), "Eve")
            .expect("hosted")
            .with_holder_key(&bob_secret)
            .is_err()
    );
    // It survives being stored and reloaded.
    let secret = account.openpgp_secret().expect("secret");
    let reloaded = IdentityKeys::from_secrets(
        account.address().local().clone(),
        "Bob",
        account.onion_seed(),
        &secret,
    )
    .expect("reload");
    assert!(postern_crypto::has_holder_key(reloaded.openpgp_cert()));
    let card_key = PublicKeyInfo::parse(&account.openpgp_public().expect("public"))
        .expect("the card's key is still a valid key");

    let mut rng = rand::thread_rng();
    let msg = compose(
        &Draft {
            from: alice.address().clone(),
            from_name: "Alice".into(),
            to: account.address().clone(),
            subject: "Only for Bob's eyes".into(),
            text: "The host cannot read this line.\n".into(),
            attachments: vec![],
            headers: vec![("In-Reply-To".into(), "<earlier@x>".into())],
        },
        SenderKeys::of(&alice),
        card_key.cert(),
        1_800_000_000,
        &random_message_id(&mut rng),
        &mut rng,
    )
    .expect("compose");

    // The host opens the outer layer with the account's key and authenticates Alice.
    let d = postern_mime::decrypt(&msg, reloaded.openpgp_cert(), 1 << 20).expect("host opens");
    assert!(matches!(
        d.verify(alice.openpgp_cert(), std::time::SystemTime::now()),
        SignerCheck::Good { .. }
    ));
    let letter = Letter::parse(&d.inner).expect("letter");
    assert!(letter.for_holder);
    assert_eq!(letter.from, alice.address().to_string());
    assert_eq!(letter.subject, "...");
    assert_eq!(letter.text, "");
    assert!(letter.attachments.is_empty());
    assert!(letter.sender_binding.is_some() && letter.sender_key.is_some());
    assert_eq!(letter.in_reply_to.as_deref(), Some("earlier@x"));
    let seen_by_host = String::from_utf8_lossy(&d.inner).into_owned();
    assert!(!seen_by_host.contains("cannot read"), "{seen_by_host}");
    assert!(!seen_by_host.contains("Only for Bob"), "{seen_by_host}");

    // Bob's GnuPG reads it and sees Alice's signature.
    let start = seen_by_host
        .find("-----BEGIN PGP MESSAGE-----")
        .expect("armor");
    let end = seen_by_host.find("-----END PGP MESSAGE-----").expect("end") + 25;
    let (ok, _, err) = gpg(&home, &["--import"], &alice.openpgp_public().expect("pub"));
    assert!(ok, "import: {err}");
    let (ok, plain, status) = gpg(
        &home,
        &["--status-fd", "2", "--trust-model", "always", "--decrypt"],
        &seen_by_host.as_bytes()[start..end],
    );
    assert!(ok, "the holder could not decrypt: {status}");
    assert!(status.contains("GOODSIG"), "{status}");
    let plain = String::from_utf8_lossy(&plain);
    assert!(plain.contains("Subject: Only for Bob's eyes"), "{plain}");
    assert!(plain.contains("The host cannot read this line."), "{plain}");
}
