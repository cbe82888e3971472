//! The holder of a hosted account with their own key: a GnuPG home with an Ed25519 signing key
//! and a Cv25519 encryption subkey, as `gpg` makes them.

use std::path::{Path, PathBuf};

/// Run GnuPG (the holder's own OpenPGP software) in `home`.
pub fn gpg(home: &Path, args: &[&str], stdin: &[u8]) -> (bool, Vec<u8>, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args(["--batch", "--no-tty", "--pinentry-mode", "loopback"])
        .args(["--passphrase", ""])
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

/// Stops the gpg-agent of the holder's GnuPG home when the test ends.
struct Agent(PathBuf);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .arg("--homedir")
            .arg(&self.0)
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

/// A GnuPG user: their home (the secret stays there) and their exported public key.
pub struct Holder {
    pub home: PathBuf,
    pub public: Vec<u8>,
    _agent: Agent,
}

impl Holder {
    pub fn new(home: &Path, uid: &str) -> Holder {
        std::fs::create_dir_all(home).expect("home");
        std::fs::set_permissions(home, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
        let agent = Agent(home.to_owned());
        let (ok, _, err) = gpg(
            home,
            &["--quick-gen-key", uid, "ed25519", "sign", "never"],
            b"",
        );
        assert!(ok, "keygen: {err}");
        let (_, listing, _) = gpg(home, &["--with-colons", "--list-keys"], b"");
        let listing = String::from_utf8_lossy(&listing).into_owned();
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
        let (ok, public, err) = gpg(home, &["--armor", "--export"], b"");
        assert!(ok, "export: {err}");
        Holder {
            home: home.to_owned(),
            public,
            _agent: agent,
        }
    }

    /// A GnuPG user whose secret key is the committed fixture `name`
    /// (`tests/fixtures/gnupg/<name>.sec.asc`): the same key every run.
    pub fn from_fixture(home: &Path, name: &str) -> Holder {
        std::fs::create_dir_all(home).expect("home");
        std::fs::set_permissions(home, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
        let agent = Agent(home.to_owned());
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/gnupg")
            .join(format!("{name}.sec.asc"));
        let secret = std::fs::read(&fixture).expect("fixture key");
        let (ok, _, err) = gpg(home, &["--import"], &secret);
        assert!(ok, "import: {err}");
        let (ok, public, err) = gpg(home, &["--armor", "--export"], b"");
        assert!(ok, "export: {err}");
        Holder {
            home: home.to_owned(),
            public,
            _agent: agent,
        }
    }

    /// The public key, binary (as an `Autocrypt` header carries it).
    pub fn public_binary(&self) -> Vec<u8> {
        let (ok, public, err) = gpg(&self.home, &["--export"], b"");
        assert!(ok, "export: {err}");
        public
    }

    /// Decrypt the first armored OpenPGP message in `text`, which is not signed: (succeeded,
    /// plaintext, status lines).
    pub fn decrypt_unsigned(&self, text: &str) -> (bool, String, String) {
        let start = text.find("-----BEGIN PGP MESSAGE-----").expect("armor");
        let end = text.find("-----END PGP MESSAGE-----").expect("end") + 25;
        let (ok, plain, status) = gpg(
            &self.home,
            &["--status-fd", "2", "--decrypt"],
            text[start..end].replace("\r\n", "\n").as_bytes(),
        );
        (ok, String::from_utf8_lossy(&plain).into_owned(), status)
    }

    /// Decrypt the first armored OpenPGP message in `text` (after importing `signer`'s key):
    /// (succeeded, plaintext, status lines).
    pub fn decrypt(&self, text: &str, signer: &[u8]) -> (bool, String, String) {
        let (ok, _, err) = gpg(&self.home, &["--import"], signer);
        assert!(ok, "import: {err}");
        let start = text.find("-----BEGIN PGP MESSAGE-----").expect("armor");
        let end = text.find("-----END PGP MESSAGE-----").expect("end") + 25;
        let (ok, plain, status) = gpg(
            &self.home,
            &["--status-fd", "2", "--trust-model", "always", "--decrypt"],
            text[start..end].replace("\r\n", "\n").as_bytes(),
        );
        (ok, String::from_utf8_lossy(&plain).into_owned(), status)
    }
}
