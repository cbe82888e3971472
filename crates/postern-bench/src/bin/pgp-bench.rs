//! P3: OpenPGP, 4 KB messages — encrypt+sign and decrypt+verify, Postern in-process (the whole
//! PGP/MIME compose and open) vs the `gpg` command line, in operations per CPU-second.
//! Usage: `pgp-bench [N]` (default 3,000 in-process operations, N/6 gpg runs each way: long
//! enough that the CPU clock's resolution does not show in the figures). Beside them, the floor
//! the primitives set on this machine: `openssl speed` for X25519, Ed25519 and AES-256-OCB.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use postern_bench::{children_cpu_time, cpu_time, thread_cpu_time};
use postern_crypto::{IdentityKeys, PublicKeyInfo};
use postern_mime::{
    compose, decrypt_and_verify, open, random_message_id, sign_and_encrypt, Draft, SenderKeys,
    SignerCheck,
};
use postern_types::LocalPart;

fn gpg(home: &Path, args: &[&str], input: &[u8]) -> Result<Vec<u8>> {
    let mut child = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args([
            "--batch",
            "--no-tty",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ])
        .args(["--trust-model", "always"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("gpg")?;
    child.stdin.take().context("stdin")?.write_all(input)?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}

fn gpg_user(home: &Path, uid: &str) -> Result<String> {
    gpg(
        home,
        &["--quick-gen-key", uid, "ed25519", "sign", "never"],
        b"",
    )?;
    let listing = String::from_utf8(gpg(home, &["--with-colons", "--list-keys", uid], b"")?)?;
    let fpr = listing
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .context("fingerprint")?
        .to_owned();
    gpg(
        home,
        &["--quick-add-key", &fpr, "cv25519", "encr", "never"],
        b"",
    )?;
    Ok(fpr)
}

/// CPU time of the gpg-agent serving `home` (secret-key operations happen there).
fn agent_cpu(home: &Path) -> Duration {
    let home = home.display().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().into_owned();
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            (cmd.contains("gpg-agent") && cmd.contains(&home))
                .then(|| cpu_time(&pid))
                .flatten()
        })
        .sum()
}

fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3000);
    let ng = (n / 6).max(10);
    let body: String =
        "Postern benchmark text, 4 KB of it. ".repeat(4096 / 36 + 1)[..4096].to_owned();

    // --- Postern, in-process.
    let alice = IdentityKeys::generate(LocalPart::new("alice")?, "Alice")?;
    let bob = IdentityKeys::generate(LocalPart::new("bob")?, "Bob")?;
    let bob_pub = PublicKeyInfo::parse(&bob.openpgp_public()?)?;
    let alice_pub = PublicKeyInfo::parse(&alice.openpgp_public()?)?;
    let draft = Draft {
        from: alice.address().clone(),
        from_name: "Alice".into(),
        to: bob.address().clone(),
        subject: "benchmark".into(),
        text: body.clone(),
        attachments: vec![],
        headers: Vec::new(),
    };
    let mut rng = rand::thread_rng();
    let t0 = thread_cpu_time().context("cpu")?;
    let mut sealed = Vec::with_capacity(n);
    for _ in 0..n {
        let id = random_message_id(&mut rng);
        sealed.push(compose(
            &draft,
            SenderKeys::of(&alice),
            bob_pub.cert(),
            1_800_000_000,
            &id,
            &mut rng,
        )?);
    }
    let t1 = thread_cpu_time().context("cpu")?;
    for m in &sealed {
        let o = open(m, bob.openpgp_cert(), Some(alice_pub.cert()))?;
        if !matches!(o.signer, SignerCheck::Good { .. }) {
            bail!("signature did not verify");
        }
    }
    let t2 = thread_cpu_time().context("cpu")?;
    let ours_enc = n as f64 / (t1 - t0).as_secs_f64().max(0.01);
    let ours_dec = n as f64 / (t2 - t1).as_secs_f64().max(0.01);

    // The OpenPGP layer alone: what the gpg CLI does.
    let t0 = thread_cpu_time().context("cpu")?;
    let mut raw = Vec::with_capacity(n);
    for _ in 0..n {
        raw.push(sign_and_encrypt(
            body.as_bytes(),
            alice.message_signer(),
            bob_pub.cert(),
        )?);
    }
    let t1 = thread_cpu_time().context("cpu")?;
    for m in &raw {
        let o = decrypt_and_verify(m, bob.openpgp_cert(), Some(alice_pub.cert()))?;
        if !matches!(o.signer, SignerCheck::Good { .. }) || o.inner.len() != body.len() {
            bail!("OpenPGP round trip failed");
        }
    }
    let t2 = thread_cpu_time().context("cpu")?;
    let pgp_enc = n as f64 / (t1 - t0).as_secs_f64().max(0.01);
    let pgp_dec = n as f64 / (t2 - t1).as_secs_f64().max(0.01);

    // --- gpg, one process per operation (how a mail client drives it).
    let tmp = tempfile::tempdir()?;
    let home = tmp.path().join("gnupg");
    std::fs::create_dir_all(&home)?;
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&home)?.permissions(),
        0o700,
    );
    Command::new("chmod").arg("700").arg(&home).status()?;
    let sender = gpg_user(&home, "sender@bench.invalid")?;
    let recipient = gpg_user(&home, "recipient@bench.invalid")?;
    let c0 = children_cpu_time().context("cpu")? + agent_cpu(&home);
    let mut armored = Vec::new();
    for _ in 0..ng {
        armored.push(gpg(
            &home,
            &[
                "--armor",
                "--sign",
                "--encrypt",
                "-u",
                &sender,
                "-r",
                &recipient,
            ],
            body.as_bytes(),
        )?);
    }
    let c1 = children_cpu_time().context("cpu")? + agent_cpu(&home);
    for a in &armored {
        let out = gpg(&home, &["--decrypt"], a)?;
        if out.len() != body.len() {
            bail!("gpg decrypt gave {} bytes", out.len());
        }
    }
    let c2 = children_cpu_time().context("cpu")? + agent_cpu(&home);
    let _ = Command::new("gpgconf")
        .arg("--homedir")
        .arg(&home)
        .args(["--kill", "gpg-agent"])
        .status();
    let gpg_enc = ng as f64 / (c1 - c0).as_secs_f64().max(0.01);
    let gpg_dec = ng as f64 / (c2 - c1).as_secs_f64().max(0.01);

    println!("P3 OpenPGP, 4 KB messages, Ed25519 + Cv25519, operations per CPU-second");
    println!(
        "                  gpg CLI     Postern OpenPGP (ratio)   Postern whole PGP/MIME (ratio)"
    );
    println!(
        "  encrypt+sign    {gpg_enc:>7.1}/s  {pgp_enc:>9.0}/s ({:>3.0}x)       {ours_enc:>9.0}/s ({:>3.0}x)",
        pgp_enc / gpg_enc,
        ours_enc / gpg_enc
    );
    println!(
        "  decrypt+verify  {gpg_dec:>7.1}/s  {pgp_dec:>9.0}/s ({:>3.0}x)       {ours_dec:>9.0}/s ({:>3.0}x)",
        pgp_dec / gpg_dec,
        ours_dec / gpg_dec
    );
    println!("  (Postern: {n} operations each way in-process; gpg: {ng} runs each way, CPU of gpg and gpg-agent)");
    match primitive_floor() {
        Ok(f) => {
            println!(
                "  primitive floor (openssl speed: X25519 {:.0}/s, Ed25519 sign {:.0}/s, verify {:.0}/s, AES-256-OCB {:.0} MB/s):",
                f.x25519, f.sign, f.verify, f.aes / 1e6
            );
            let (enc, dec) = f.per_message(body.len());
            println!(
                "    encrypt+sign (2 X25519 + sign + AES) {enc:.0}/s = {:.0}x gpg; whole PGP/MIME reaches {:.0}% of it",
                enc / gpg_enc,
                100.0 * ours_enc / enc
            );
            println!(
                "    decrypt+verify (X25519 + verify + AES) {dec:.0}/s = {:.0}x gpg; whole PGP/MIME reaches {:.0}% of it",
                dec / gpg_dec,
                100.0 * ours_dec / dec
            );
        }
        Err(e) => println!("  primitive floor: not measured ({e:#})"),
    }
    Ok(())
}

/// The primitives' speed on this machine, from `openssl speed` (OpenSSL's own assembly).
struct Floor {
    x25519: f64,
    sign: f64,
    verify: f64,
    /// AES-256-OCB, bytes per second on 4 KiB blocks.
    aes: f64,
}

impl Floor {
    /// Messages per second if a message cost only its public-key operations and its bulk
    /// encryption: (encrypt+sign, decrypt+verify).
    fn per_message(&self, len: usize) -> (f64, f64) {
        let aes = len as f64 / self.aes;
        let enc = 2.0 / self.x25519 + 1.0 / self.sign + aes;
        let dec = 1.0 / self.x25519 + 1.0 / self.verify + aes;
        (1.0 / enc, 1.0 / dec)
    }
}

fn primitive_floor() -> Result<Floor> {
    let speed = |args: &[&str]| -> Result<String> {
        let o = Command::new("openssl")
            .args(["speed", "-seconds", "2", "-mr"])
            .args(args)
            .output()
            .context("openssl")?;
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    };
    // Machine-readable lines: `+F5:i:bits:ops/s:s/op` (ECDH), `+F6:i:bits:name:sign/s:verify/s`
    // (EdDSA), `+F:i:name:bytes/s` (a cipher at the one block size asked for).
    let pk = speed(&["ed25519", "ecdhx25519"])?;
    let field = |prefix: &str, i: usize| -> Result<f64> {
        pk.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split(':').nth(i))
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {prefix} line in openssl speed's output"))
    };
    let (x25519, sign, verify) = (field("+F5:", 3)?, field("+F6:", 4)?, field("+F6:", 5)?);
    let bulk = speed(&["-evp", "aes-256-ocb", "-bytes", "4096"])?;
    let aes = bulk
        .lines()
        .find(|l| l.starts_with("+F:"))
        .and_then(|l| l.rsplit(':').next())
        .and_then(|v| v.parse().ok())
        .context("no AES-256-OCB figure")?;
    Ok(Floor {
        x25519,
        sign,
        verify,
        aes,
    })
}
