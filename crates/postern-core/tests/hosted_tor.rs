//! A hosted account's holder, with nothing but a mail client and Tor: `curl` under `torsocks`
//! through a C tor client reads the account over IMAP and sends over submission, both on the
//! host's onion service on the project's private Tor network (its own network, made so that
//! C tor and arti agree on onion-service time periods). Postern mail reaches the account over
//! Tor from another node. Skips loudly only where `tor` is not installed; CI runs it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use postern_core::{Network, Transport};
use postern_testnet::{Testnet, TestnetOptions};

fn transport(d: &Device, net: &Testnet) -> Arc<dyn Transport> {
    Network::Tor {
        network_toml: Some(net.arti_network_toml()),
        bootstrap_timeout: Duration::from_secs(90),
    }
    .transport(&d.dir)
    .expect("arti")
}

/// A C tor client with a SOCKS port, stopped on drop.
struct CTor {
    dir: PathBuf,
    socks: u16,
}

impl CTor {
    fn start(net: &Testnet, dir: &Path) -> CTor {
        std::fs::create_dir_all(dir).expect("dir");
        let socks = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let torrc = dir.join("torrc");
        std::fs::write(
            &torrc,
            net.c_tor_client_torrc(dir, socks, std::process::id()),
        )
        .expect("torrc");
        let out = Command::new("tor")
            .arg("-f")
            .arg(&torrc)
            .output()
            .expect("run tor");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        CTor {
            dir: dir.to_owned(),
            socks,
        }
    }

    fn bootstrapped(&self) -> bool {
        std::fs::read_to_string(self.dir.join("notice.log"))
            .unwrap_or_default()
            .contains("Bootstrapped 100%")
    }

    /// `curl ARGS` under torsocks through this client: (exit success, stdout + stderr).
    fn curl(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("torsocks")
            .env("TORSOCKS_TOR_ADDRESS", "127.0.0.1")
            .env("TORSOCKS_TOR_PORT", self.socks.to_string())
            .arg("curl")
            .args(["--silent", "--show-error", "--max-time", "60"])
            .args(args)
            .output()
            .expect("run torsocks curl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

impl Drop for CTor {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("tor.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// Retry `f` (onion-service descriptors take a while, and C tor's time periods turn every 8
/// minutes on a test network) until it gives `Some`, or fail after `limit`.
async fn retry<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) => {
                assert!(
                    start.elapsed() < limit,
                    "{what}: still failing after {limit:?}: {e}"
                );
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(tor_missing, ignore = "needs `tor` (apt-get install tor); CI runs it")]
async fn a_hosted_account_is_read_and_written_through_torsocks() {
    let tmp = tempfile::tempdir().expect("tmp");
    let started = Instant::now();
    let net = Testnet::start(
        &tmp.path().join("net"),
        &TestnetOptions {
            c_tor_compat: true,
            owner_pid: Some(std::process::id()),
        },
    )
    .expect("private Tor network");
    eprintln!("network up in {:?}", started.elapsed());

    let mut alice = Device::new(tmp.path(), "alice");
    let mut carol = Device::new(tmp.path(), "carol");
    let account = alice
        .api
        .add_account("alice", "bob", "Bob", None)
        .expect("account");
    let bob = account.identity.address.clone();
    let password = account.login.password.expect("password");
    let onion = bob.split('@').nth(1).expect("onion").to_owned();
    let bob_card = alice.api.export_card(&bob, true).expect("card");
    carol
        .api
        .add_contact("carol", &bob_card)
        .expect("carol adds bob");
    alice
        .api
        .add_contact(&bob, &carol.card(true))
        .expect("bob adds carol");

    // Dora gave her own GnuPG key: what Carol writes her, only Dora reads.
    let dora_gpg = gnupg::Holder::new(&tmp.path().join("dora-gnupg"), "dora@example.invalid");
    let dora_account = alice
        .api
        .add_account("alice", "dora", "Dora", Some(&dora_gpg.public))
        .expect("dora's account");
    let dora = dora_account.identity.address.clone();
    let dora_password = dora_account.login.password.expect("password");
    let dora_card = alice.api.export_card(&dora, true).expect("card");
    carol
        .api
        .add_contact("carol", &dora_card)
        .expect("carol adds dora");
    alice
        .api
        .add_contact(&dora, &carol.card(true))
        .expect("dora adds carol");

    let t = transport(&alice, &net);
    alice.start(t).await;
    let t = transport(&carol, &net);
    carol.start(t).await;
    let ctor = CTor::start(&net, &tmp.path().join("ctor"));

    // Postern mail for the account, over Tor.
    carol
        .api
        .send("carol", &bob, "Over Tor", "For the hosted account.", &[])
        .expect("send");
    carol.node.as_ref().expect("node").wake_outbox();
    // The first message over a fresh network waits for the account's first descriptor, and a
    // time period may turn meanwhile: a generous bound, and what Carol's outbox last heard.
    let waiting = Instant::now();
    let mut said = Instant::now();
    wait_for(Duration::from_secs(420), "Bob's inbox", || {
        if said.elapsed() > Duration::from_secs(30) {
            said = Instant::now();
            let last = carol.api.outbox(Some("carol")).ok().and_then(|o| {
                o.into_iter()
                    .map(|m| {
                        format!(
                            "{} after {} attempts: {:?}",
                            m.state, m.attempts, m.last_error
                        )
                    })
                    .next()
            });
            eprintln!("{:?}: Carol's outbox: {last:?}", waiting.elapsed());
        }
        alice.api.mailbox(&bob, "inbox").ok()?.first().map(|m| m.id)
    })
    .await;
    wait_for(Duration::from_secs(120), "C tor bootstrapped", || {
        ctor.bootstrapped().then_some(())
    })
    .await;

    // The holder reads it: IMAP on the onion's port 143, through torsocks.
    let user = format!("{bob}:{password}");
    let url = format!("imap://{onion}:143/INBOX/;MAILINDEX=1");
    let t0 = Instant::now();
    let message = retry(
        Duration::from_secs(300),
        "IMAP over torsocks",
        || match ctor.curl(&["--user", &user, &url]) {
            (true, out) => Ok(out),
            (false, out) => Err(out),
        },
    )
    .await;
    eprintln!("IMAP fetch over torsocks in {:?}", t0.elapsed());
    assert!(message.contains("For the hosted account."), "{message}");
    assert!(message.contains("Authentication-Results:"), "{message}");
    // A wrong password is refused there too.
    let (ok, out) = ctor.curl(&["--user", &format!("{bob}:wrong"), &url]);
    assert!(!ok, "{out}");

    // Dora's mail, sealed to her key, fetched the same way and read by her GnuPG.
    carol
        .api
        .send(
            "carol",
            &dora,
            "Sealed over Tor",
            "Only Dora reads this.",
            &[],
        )
        .expect("send");
    carol.node.as_ref().expect("node").wake_outbox();
    wait_for(Duration::from_secs(240), "Dora's inbox", || {
        alice
            .api
            .mailbox(&dora, "inbox")
            .ok()?
            .first()
            .map(|m| m.id)
    })
    .await;
    let sealed = retry(
        Duration::from_secs(300),
        "Dora's IMAP over torsocks",
        || match ctor.curl(&["--user", &format!("{dora}:{dora_password}"), &url]) {
            (true, out) => Ok(out),
            (false, out) => Err(out),
        },
    )
    .await;
    assert!(!sealed.contains("Only Dora reads this."), "{sealed}");
    let carol_key = carol
        .api
        .identity_keys("carol")
        .expect("keys")
        .openpgp_public()
        .expect("public");
    let (ok, plain, status) = dora_gpg.decrypt(&sealed, &carol_key);
    assert!(ok && status.contains("GOODSIG"), "Dora's GnuPG: {status}");
    assert!(plain.contains("Only Dora reads this."), "{plain}");

    // And writes: submission on the onion's port 587.
    let letter = tmp.path().join("reply.eml");
    std::fs::write(
        &letter,
        format!(
            "From: Bob <{bob}>\r\nTo: <{}>\r\nSubject: Re: Over Tor\r\n\r\nSent with curl through Tor.\r\n",
            carol.address
        ),
    )
    .expect("letter");
    let url = format!("smtp://{onion}:587");
    let letter = letter.to_string_lossy().into_owned();
    retry(
        Duration::from_secs(180),
        "submission over torsocks",
        || match ctor.curl(&[
            "--user",
            &user,
            "--mail-from",
            &bob,
            "--mail-rcpt",
            &carol.address,
            "--upload-file",
            &letter,
            &url,
        ]) {
            (true, _) => Ok(()),
            (false, out) => Err(out),
        },
    )
    .await;
    alice.node.as_ref().expect("node").wake_outbox();
    let id = wait_for(Duration::from_secs(240), "Carol's inbox", || {
        carol.api.inbox(None).ok()?.first().map(|m| m.id)
    })
    .await;
    let m = carol.api.read(id).expect("read");
    assert_eq!(m.summary.from, bob);
    assert!(m.text.contains("Sent with curl through Tor."));
}
