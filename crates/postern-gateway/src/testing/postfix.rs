//! Debian's Postfix as the ordinary mail server of the tests: its own configuration, queue and
//! Maildir in a temporary directory, SMTP (with STARTTLS) on a loopback port.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Postfix must run: the test command installs it and sets this to `1`.
pub const ENV_REQUIRE: &str = "POSTERN_REQUIRE_POSTFIX";

/// A running Postfix instance; stopped when dropped.
#[derive(Debug)]
pub struct Postfix {
    dir: tempfile::TempDir,
    /// Its SMTP port on 127.0.0.1.
    pub port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Postfix {
    /// Whether Postfix can run here (installed, and we are root: it drops to its own users).
    /// Without it the test is skipped — unless `POSTERN_REQUIRE_POSTFIX=1`, where it fails.
    pub fn available() -> bool {
        let installed = Path::new("/usr/sbin/postfix").exists();
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0\n"))
            .unwrap_or(false);
        if installed && root {
            return true;
        }
        assert!(
            std::env::var(ENV_REQUIRE).as_deref() != Ok("1"),
            "Postfix is required ({ENV_REQUIRE}=1) but {}",
            if installed {
                "this is not root"
            } else {
                "it is not installed"
            }
        );
        eprintln!("skipped: Postfix needs to be installed and run as root");
        false
    }

    /// Start an instance for mail domain `example.org`. `access` lines become its recipient
    /// access table (e.g. `nobody@example.org 550 5.1.1 No such user`); mail for `relay`'s
    /// domain goes to that port on 127.0.0.1 (the gateway), as its MX would.
    pub fn start(access: &[&str], relay: Option<(&str, u16)>) -> Postfix {
        let dir = tempfile::Builder::new()
            .prefix("postern-postfix-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path();
        for sub in ["etc", "queue", "data", "mail"] {
            std::fs::create_dir_all(root.join(sub)).expect("mkdir");
        }
        // Postfix's own users must reach their directories.
        run(Command::new("chmod").arg("755").arg(root));
        run(Command::new("chown").arg("postfix").arg(root.join("data")));
        run(Command::new("chown")
            .arg("nobody:nogroup")
            .arg(root.join("mail")));
        run(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=mx.example.org",
                "-keyout",
            ])
            .arg(root.join("etc/key.pem"))
            .arg("-out")
            .arg(root.join("etc/cert.pem")));
        let port = free_port();
        let r = root.display();
        let access = if access.is_empty() {
            String::new()
        } else {
            format!(
                "check_recipient_access inline:{{{{ {} }}}},",
                access.join(" }, { ")
            )
        };
        let transport = match relay {
            Some((domain, port)) => {
                format!("transport_maps = inline:{{{domain}=smtp:[127.0.0.1]:{port}}}")
            }
            None => String::new(),
        };
        let main_cf = format!(
            "compatibility_level = 3.6
config_directory = {r}/etc
queue_directory = {r}/queue
data_directory = {r}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.org
mydomain = example.org
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = {access} permit_mynetworks, reject_unauth_destination
{transport}
smtp_tls_security_level = may
smtp_tls_loglevel = 1
virtual_mailbox_domains = example.org
virtual_mailbox_base = {r}/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_tls_security_level = may
smtpd_tls_cert_file = {r}/etc/cert.pem
smtpd_tls_key_file = {r}/etc/key.pem
smtpd_tls_received_header = yes
maillog_file_prefixes = {r}
maillog_file = {r}/maillog
smtputf8_enable = no
biff = no
"
        );
        std::fs::write(root.join("etc/main.cf"), main_cf).expect("main.cf");
        let services = [
            format!("127.0.0.1:{port} inet n - n - - smtpd"),
            "pickup unix n - n 60 1 pickup".into(),
            "cleanup unix n - n - 0 cleanup".into(),
            "qmgr unix n - n 300 1 qmgr".into(),
            "tlsmgr unix - - n 1000? 1 tlsmgr".into(),
            "rewrite unix - - n - - trivial-rewrite".into(),
            "bounce unix - - n - 0 bounce".into(),
            "defer unix - - n - 0 bounce".into(),
            "trace unix - - n - 0 bounce".into(),
            "verify unix - - n - 1 verify".into(),
            "proxymap unix - - n - - proxymap".into(),
            "smtp unix - - n - - smtp".into(),
            "relay unix - - n - - smtp".into(),
            "error unix - - n - - error".into(),
            "retry unix - - n - - error".into(),
            "discard unix - - n - - discard".into(),
            "virtual unix - n n - - virtual".into(),
            "anvil unix - - n - 1 anvil".into(),
            "scache unix - - n - 1 scache".into(),
            "postlog unix-dgram n - n - 1 postlogd".into(),
        ];
        std::fs::write(root.join("etc/master.cf"), services.join("\n") + "\n").expect("master.cf");
        run(Command::new("postfix")
            .arg("-c")
            .arg(root.join("etc"))
            .arg("start"));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "Postfix did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Postfix { dir, port }
    }

    /// The messages delivered so far (Maildir `new/`), oldest first.
    pub fn delivered(&self) -> Vec<Vec<u8>> {
        let new = self.dir.path().join("mail/inbox/new");
        let mut files: Vec<PathBuf> = std::fs::read_dir(new)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read(f).expect("read mail"))
            .collect()
    }

    /// How many messages are delivered so far (without reading them).
    pub fn delivered_count(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("mail/inbox/new"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Wait until `n` messages are delivered.
    pub fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        let started = Instant::now();
        loop {
            let got = self.delivered();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{} of {n} messages delivered; log:\n{}",
                got.len(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Submit a message over SMTP from this machine (Postfix relays for 127.0.0.0/8).
    pub fn submit(&self, from: &str, to: &str, message: &str) {
        let script = format!(
            "import smtplib, sys\n\
             s = smtplib.SMTP('127.0.0.1', {})\n\
             s.sendmail(sys.argv[1], [sys.argv[2]], sys.stdin.read())\n\
             s.quit()\n",
            self.port
        );
        let mut child = Command::new("/usr/bin/python3")
            .args(["-c", &script, from, to])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(message.as_bytes())
            .expect("write");
        assert!(
            child.wait().expect("wait").success(),
            "submitting to Postfix failed; its log:\n{}",
            self.log()
        );
    }

    /// Postfix's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(self.dir.path().join("etc"))
            .arg("stop")
            .output();
    }
}
