//! The test DKIM key (a fixture, never drawn anew) and an independent verifier: Python's
//! `dkim` (Debian `python3-dkim`), given the key's DNS record directly.

use std::io::Write;
use std::process::{Command, Stdio};

/// The gateway's test signing key (RSA 2048, PKCS#8 PEM).
pub const KEY_PEM: &str = include_str!("fixtures/dkim-test-key.pem");
/// Its public key, base64 DER (as `openssl pkey -pubout -outform DER` wrote it).
pub const PUBLIC_B64: &str = include_str!("fixtures/dkim-test-key.pub.b64");

/// Whether `message` carries a valid DKIM signature by the test key for `selector._domainkey.domain`.
pub fn verifies(message: &[u8], selector: &str, domain: &str) -> bool {
    let record = format!("v=DKIM1; k=rsa; p={}", PUBLIC_B64.trim());
    let script = format!(
        "import sys, dkim\n\
         def dns(name, timeout=5):\n\
         \x20   assert name == b'{selector}._domainkey.{domain}.', name\n\
         \x20   return b'{record}'\n\
         sys.exit(0 if dkim.verify(sys.stdin.buffer.read(), dnsfunc=dns) else 1)\n"
    );
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 (Debian python3-dkim)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("write");
    child.wait().expect("wait").success()
}
