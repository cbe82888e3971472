//! One tor daemon of the network: its keys, torrc, process.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{io_err, TestnetError, TestnetOptions};

/// What a node does in the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// Directory authority (also a relay).
    Authority,
    /// Middle relay.
    Relay,
    /// Exit relay.
    Exit,
}

/// A node's identity and ports.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// Nickname.
    pub name: String,
    /// Role.
    pub role: NodeRole,
    /// Data directory.
    pub data_dir: PathBuf,
    /// OR port on 127.0.0.1.
    pub or_port: u16,
    /// Dir port on 127.0.0.1.
    pub dir_port: u16,
    /// RSA identity fingerprint (hex).
    pub rsa_fingerprint: String,
    /// Ed25519 identity (base64).
    pub ed_identity: String,
    /// v3 authority identity (authorities only).
    pub v3ident: Option<String>,
}

pub(crate) fn which(cmd: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(cmd))
        .find(|p| p.is_file())
}

/// Ports this process has handed out.
static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// The kernel's range of ephemeral ports (what outgoing connections are given).
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| {
            let mut it = t.split_whitespace().map(|x| x.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999))
}

/// A port free now, for a relay to bind later. Not an ephemeral one: between this choice and
/// tor's bind, the relays already running open connections, and an outgoing connection given
/// the same port made the relay fail ("Address already in use"). A random start keeps testnets
/// started at once (parallel tests) apart.
fn free_port() -> Result<u16, TestnetError> {
    use std::hash::{BuildHasher, Hasher};
    let (low, high) = ephemeral_range();
    // The widest stretch of unprivileged ports outside the ephemeral range.
    let (from, to) = if low.saturating_sub(10_000) >= 65_535 - high {
        (10_000, low.saturating_sub(1))
    } else {
        (high.saturating_add(1), 65_535)
    };
    if to > from {
        let span = u64::from(to - from) + 1;
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let start = h.finish() % span;
        for i in 0..span.min(2_000) {
            let port = from + u16::try_from((start + i * 7_919) % span).unwrap_or(0);
            // Never twice in one process: chosen ports stay unbound until tor starts.
            let mut given = GIVEN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                given.insert(port);
                return Ok(port);
            }
        }
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io_err(Path::new("127.0.0.1:0")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(io_err(Path::new("127.0.0.1:0")))
}

fn run(cmd: &mut Command, what: &str, stdin: &[u8]) -> Result<(), TestnetError> {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| TestnetError::Command {
            what: what.into(),
            detail: e.to_string(),
        })?;
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| TestnetError::Command {
            what: what.into(),
            detail: e.to_string(),
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(TestnetError::Command {
            what: what.into(),
            detail: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        })
    }
}

fn read_field(path: &Path, index: usize) -> Result<String, TestnetError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    text.split_whitespace()
        .nth(index)
        .map(str::to_owned)
        .ok_or_else(|| TestnetError::BadDescription(path.to_owned()))
}

impl NodeInfo {
    pub(crate) fn generate(dir: &Path, index: usize, role: NodeRole) -> Result<Self, TestnetError> {
        let prefix = match role {
            NodeRole::Authority => "auth",
            NodeRole::Relay => "relay",
            NodeRole::Exit => "exit",
        };
        let name = format!("{prefix}{index}");
        let data_dir = dir.join(&name);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir.join("keys"))
            .map_err(io_err(&data_dir))?;
        let or_port = free_port()?;
        let dir_port = free_port()?;
        let mut v3ident = None;
        if role == NodeRole::Authority {
            let keys = data_dir.join("keys");
            run(
                Command::new("tor-gencert")
                    .args([
                        "--create-identity-key",
                        "--passphrase-fd",
                        "0",
                        "-m",
                        "12",
                        "-a",
                    ])
                    .arg(format!("127.0.0.1:{dir_port}"))
                    .arg("-i")
                    .arg(keys.join("authority_identity_key"))
                    .arg("-s")
                    .arg(keys.join("authority_signing_key"))
                    .arg("-c")
                    .arg(keys.join("authority_certificate")),
                "tor-gencert",
                b"\n",
            )?;
            let cert = keys.join("authority_certificate");
            let text = std::fs::read_to_string(&cert).map_err(io_err(&cert))?;
            v3ident = text
                .lines()
                .find_map(|l| l.strip_prefix("fingerprint "))
                .map(|s| s.trim().to_owned());
            if v3ident.is_none() {
                return Err(TestnetError::BadDescription(cert));
            }
        }
        run(
            Command::new("tor")
                .args([
                    "--ignore-missing-torrc",
                    "-f",
                    "/nonexistent",
                    "--orport",
                    "1",
                ])
                .arg("--datadirectory")
                .arg(&data_dir)
                .args(["--Nickname", &name, "--list-fingerprint", "--quiet"]),
            "tor --list-fingerprint",
            b"",
        )?;
        let rsa_fingerprint = read_field(&data_dir.join("fingerprint"), 1)?;
        let ed_identity = read_field(&data_dir.join("fingerprint-ed25519"), 1)?;
        Ok(NodeInfo {
            name,
            role,
            data_dir,
            or_port,
            dir_port,
            rsa_fingerprint,
            ed_identity,
            v3ident,
        })
    }

    pub(crate) fn dir_authority_line(&self) -> String {
        format!(
            "DirAuthority {} orport={} v3ident={} 127.0.0.1:{} {}",
            self.name,
            self.or_port,
            self.v3ident.as_deref().unwrap_or_default(),
            self.dir_port,
            self.rsa_fingerprint
        )
    }

    fn pid_file(&self) -> PathBuf {
        self.data_dir.join("tor.pid")
    }

    pub(crate) fn write_torrc(
        &self,
        authorities: &[String],
        options: &TestnetOptions,
        owner_pid: u32,
    ) -> Result<(), TestnetError> {
        let d = self.data_dir.display();
        let mut t = format!(
            "TestingTorNetwork 1\nDataDirectory {d}\nRunAsDaemon 1\nPidFile {pid}\n\
             Nickname {name}\nContactInfo postern-testnet\nLog notice file {d}/notice.log\n\
             AssumeReachable 1\nPathsNeededToBuildCircuits 0.67\nV3AuthNIntervalsValid 2\n\
             TestingDirAuthVoteExit *\nTestingDirAuthVoteGuard *\nTestingDirAuthVoteHSDir *\n\
             TestingMinExitFlagThreshold 0\nSandbox 0\nShutdownWaitLength 0\n\
             __OwningControllerProcess {owner_pid}\n\
             Address 127.0.0.1\nORPort 127.0.0.1:{or}\nDirPort 127.0.0.1:{dir}\nSocksPort 0\n",
            pid = self.pid_file().display(),
            name = self.name,
            or = self.or_port,
            dir = self.dir_port,
        );
        for a in authorities {
            t.push_str(a);
            t.push('\n');
        }
        match self.role {
            NodeRole::Exit => {
                t.push_str("ExitRelay 1\nExitPolicyRejectPrivate 0\nExitPolicy accept *:*\n")
            }
            _ => t.push_str("ExitPolicy reject *:*\n"),
        }
        if self.role == NodeRole::Authority {
            t.push_str(
                "AuthoritativeDirectory 1\nV3AuthoritativeDirectory 1\n\
                 V3AuthVotingInterval 20\nV3AuthVoteDelay 4\nV3AuthDistDelay 4\n\
                 TestingV3AuthInitialVotingInterval 20\nTestingV3AuthInitialVoteDelay 4\n\
                 TestingV3AuthInitialDistDelay 4\nAuthDirVoteStableGuaranteeMinUptime 0\n\
                 AuthDirVoteStableGuaranteeMTBF 0\nAuthDirMaxServersPerAddr 0\n",
            );
            if options.c_tor_compat {
                t.push_str("ConsensusParams hsdir_interval=8\nAuthDirSharedRandomness 0\n");
            }
        }
        let path = self.data_dir.join("torrc");
        std::fs::write(&path, t).map_err(io_err(&path))
    }

    pub(crate) fn launch(&self) -> Result<(), TestnetError> {
        run(
            Command::new("tor")
                .arg("-f")
                .arg(self.data_dir.join("torrc")),
            &format!("starting {}", self.name),
            b"",
        )
        .map_err(|e| match e {
            TestnetError::Command { what, detail } => {
                let log =
                    std::fs::read_to_string(self.data_dir.join("notice.log")).unwrap_or_default();
                TestnetError::Command {
                    what,
                    detail: format!("{detail}\n{log}"),
                }
            }
            other => other,
        })
    }

    fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.pid_file())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub(crate) fn is_running(&self) -> bool {
        self.pid()
            .is_some_and(|p| Path::new(&format!("/proc/{p}")).exists())
    }

    pub(crate) fn stop(&self) {
        let Some(pid) = self.pid() else { return };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && Path::new(&format!("/proc/{pid}")).exists() {
            std::thread::sleep(Duration::from_millis(50));
        }
        if Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
    }

    pub(crate) fn to_line(&self) -> String {
        format!(
            "{} {:?} {} {} {} {} {}",
            self.name,
            self.role,
            self.or_port,
            self.dir_port,
            self.rsa_fingerprint,
            self.ed_identity,
            self.v3ident.as_deref().unwrap_or("-")
        )
    }

    pub(crate) fn from_line(dir: &Path, line: &str) -> Option<Self> {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [name, role, or, dirp, rsa, ed, v3] = f.as_slice() else {
            return None;
        };
        let role = match *role {
            "Authority" => NodeRole::Authority,
            "Relay" => NodeRole::Relay,
            "Exit" => NodeRole::Exit,
            _ => return None,
        };
        Some(NodeInfo {
            name: (*name).to_owned(),
            role,
            data_dir: dir.join(name),
            or_port: or.parse().ok()?,
            dir_port: dirp.parse().ok()?,
            rsa_fingerprint: (*rsa).to_owned(),
            ed_identity: (*ed).to_owned(),
            v3ident: (*v3 != "-").then(|| (*v3).to_owned()),
        })
    }
}
