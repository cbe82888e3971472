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
        SenderKeys {
            cert: alice.openpgp_cert(),
            binding: alice.binding(),
        },
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
