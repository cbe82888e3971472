#![doc = include_str!("../README.md")]

mod consensus;
mod node;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use node::{NodeInfo, NodeRole};

/// Environment variable naming the directory of an already running network to attach to.
pub const ENV_DIR: &str = "POSTERN_TESTNET_DIR";
/// When set to `1`, tests that need `tor` fail instead of skipping if it is missing (CI sets it).
pub const ENV_REQUIRE: &str = "POSTERN_REQUIRE_TOR";

const AUTHORITIES: usize = 4;
const RELAYS: usize = 4;
const EXITS: usize = 2;
const DESCRIPTION: &str = "network.txt";

/// Errors building or running the network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestnetError {
    /// `tor` or `tor-gencert` is not installed.
    #[error("`{0}` is not installed (apt-get install tor)")]
    Missing(&'static str),
    /// A tor command failed.
    #[error("{what} failed: {detail}")]
    Command {
        /// What was run.
        what: String,
        /// Its output.
        detail: String,
    },
    /// The network did not produce a usable consensus in time.
    #[error("the private Tor network was not ready after {0:?}: {1}")]
    NotReady(Duration, String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A network description on disk is unreadable.
    #[error("cannot read the network description in {0}")]
    BadDescription(PathBuf),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TestnetError + '_ {
    move |source| TestnetError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Options for a new network.
#[derive(Debug, Clone, Default)]
pub struct TestnetOptions {
    /// Make C tor clients and arti agree on onion-service time periods (C tor uses 8-minute
    /// periods on test networks): authorities publish `hsdir_interval=8` and turn shared
    /// randomness off. Only needed when C tor clients are used.
    pub c_tor_compat: bool,
    /// The process whose exit stops the daemons (default: this process).
    pub owner_pid: Option<u32>,
}

/// A running private Tor network.
#[derive(Debug)]
pub struct Testnet {
    dir: PathBuf,
    nodes: Vec<NodeInfo>,
    owned: bool,
    _tmp: Option<tempfile::TempDir>,
}

/// Whether `tor` and `tor-gencert` can be run here.
pub fn tor_available() -> bool {
    node::which("tor").is_some() && node::which("tor-gencert").is_some()
}

/// For the build scripts of crates with real-Tor tests: declares the `tor_missing` cfg, set when
/// `tor` is not installed and `POSTERN_REQUIRE_TOR` is not `1`. Tests that need `tor` carry
/// `#[cfg_attr(tor_missing, ignore = "…")]`, so that where `tor` cannot be present they show as
/// ignored, with the reason, in the test summary — never as passed. With `POSTERN_REQUIRE_TOR=1`
/// (CI) they always run, and fail if `tor` is missing.
pub fn declare_tor_cfg() {
    println!("cargo::rustc-check-cfg=cfg(tor_missing)");
    println!("cargo::rerun-if-env-changed={ENV_REQUIRE}");
    println!("cargo::rerun-if-env-changed=PATH");
    // Installing `tor` changes the directory it lands in.
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path).filter(|d| d.is_dir()) {
            println!("cargo::rerun-if-changed={}", dir.display());
        }
    }
    let required = std::env::var(ENV_REQUIRE).as_deref() == Ok("1");
    if !required && !tor_available() {
        println!("cargo::rustc-cfg=tor_missing");
        println!("cargo::warning=`tor` is not installed: the real-Tor tests are ignored (apt-get install tor)");
    }
}

impl Testnet {
    /// Build and start a network in `dir` (created if missing) and wait until it is usable.
    pub fn start(dir: &Path, options: &TestnetOptions) -> Result<Testnet, TestnetError> {
        if !tor_available() {
            return Err(TestnetError::Missing("tor"));
        }
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let owner = options.owner_pid.unwrap_or_else(std::process::id);
        let mut nodes = Vec::new();
        let roles = std::iter::repeat_n(NodeRole::Authority, AUTHORITIES)
            .chain(std::iter::repeat_n(NodeRole::Relay, RELAYS))
            .chain(std::iter::repeat_n(NodeRole::Exit, EXITS));
        for (i, role) in roles.enumerate() {
            nodes.push(NodeInfo::generate(dir, i, role)?);
        }
        let net = Testnet {
            dir: dir.to_owned(),
            nodes,
            owned: true,
            _tmp: None,
        };
        net.write_description()?;
        for n in &net.nodes {
            n.write_torrc(&net.dir_authority_lines(), options, owner)?;
        }
        for n in &net.nodes {
            n.launch()?;
        }
        net.wait_ready(Duration::from_secs(120))?;
        Ok(net)
    }

    /// Attach to a network started by someone else in `dir` (it is not stopped on drop).
    pub fn attach(dir: &Path) -> Result<Testnet, TestnetError> {
        let text = std::fs::read_to_string(dir.join(DESCRIPTION)).map_err(io_err(dir))?;
        let nodes = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| NodeInfo::from_line(dir, l))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| TestnetError::BadDescription(dir.to_owned()))?;
        if nodes.len() != AUTHORITIES + RELAYS + EXITS || !nodes.iter().all(NodeInfo::is_running) {
            return Err(TestnetError::BadDescription(dir.to_owned()));
        }
        Ok(Testnet {
            dir: dir.to_owned(),
            nodes,
            owned: false,
            _tmp: None,
        })
    }

    /// One network per test process: the one in `POSTERN_TESTNET_DIR` if it is running, else a
    /// new one in a temporary directory, stopped when the process exits.
    pub fn shared() -> Result<&'static Testnet, String> {
        static SHARED: OnceLock<Result<Testnet, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                if let Ok(d) = std::env::var(ENV_DIR) {
                    if let Ok(net) = Testnet::attach(Path::new(&d)) {
                        return Ok(net);
                    }
                }
                let tmp = tempfile::Builder::new()
                    .prefix("postern-testnet-")
                    .tempdir()
                    .map_err(|e| e.to_string())?;
                let mut net = Testnet::start(tmp.path(), &TestnetOptions::default())
                    .map_err(|e| e.to_string())?;
                net._tmp = Some(tmp);
                Ok(net)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The network's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The nodes.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    fn authorities(&self) -> impl Iterator<Item = &NodeInfo> {
        self.nodes.iter().filter(|n| n.role == NodeRole::Authority)
    }

    fn dir_authority_lines(&self) -> Vec<String> {
        self.authorities()
            .map(NodeInfo::dir_authority_line)
            .collect()
    }

    fn write_description(&self) -> Result<(), TestnetError> {
        let text: String = self.nodes.iter().map(|n| n.to_line() + "\n").collect();
        let path = self.dir.join(DESCRIPTION);
        std::fs::write(&path, text).map_err(io_err(&path))
    }

    /// Wait until an authority serves a consensus listing every relay as Fast, Stable, Guard and
    /// HSDir.
    pub fn wait_ready(&self, timeout: Duration) -> Result<(), TestnetError> {
        let start = Instant::now();
        let mut last = String::from("no consensus yet");
        while start.elapsed() < timeout {
            for a in self.authorities() {
                match consensus::fetch(a.dir_port) {
                    Ok(text) => {
                        let c = consensus::summarize(&text);
                        if c.usable >= self.nodes.len() {
                            return Ok(());
                        }
                        last = format!("{} of {} relays usable", c.usable, self.nodes.len());
                    }
                    Err(e) => last = e,
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(TestnetError::NotReady(timeout, last))
    }

    /// The arti configuration sections that point arti at this network.
    pub fn arti_network_toml(&self) -> String {
        let mut s = String::from(
            "[path_rules]\nipv4_subnet_family_prefix = 33\nipv6_subnet_family_prefix = 129\n\n\
             [address_filter]\nallow_local_addrs = true\n\n[tor_network]\nfallback_caches = [\n",
        );
        for a in self.authorities() {
            s.push_str(&format!(
                "  {{ rsa_identity = \"{}\", ed_identity = \"{}\", orports = [\"127.0.0.1:{}\"] }},\n",
                a.rsa_fingerprint, a.ed_identity, a.or_port
            ));
        }
        s.push_str("]\n\n[tor_network.authorities]\nv3idents = [\n");
        for a in self.authorities() {
            s.push_str(&format!(
                "  \"{}\",\n",
                a.v3ident.as_deref().unwrap_or_default()
            ));
        }
        s.push_str("]\n");
        s
    }

    /// A torrc for a C tor client on this network, with a SOCKS port.
    pub fn c_tor_client_torrc(&self, data_dir: &Path, socks_port: u16, owner_pid: u32) -> String {
        let mut s = format!(
            "TestingTorNetwork 1\nDataDirectory {}\nPidFile {}/tor.pid\nRunAsDaemon 1\n\
             SocksPort 127.0.0.1:{socks_port}\nLog notice file {}/notice.log\n\
             __OwningControllerProcess {owner_pid}\nClientUseIPv6 0\nSandbox 0\n",
            data_dir.display(),
            data_dir.display(),
            data_dir.display()
        );
        for l in self.dir_authority_lines() {
            s.push_str(&l);
            s.push('\n');
        }
        s
    }

    /// Stop the daemons of a network this handle merely attached to.
    pub fn stop_attached(&mut self) {
        self.owned = true;
        self.stop();
    }

    /// Stop every daemon (by PID file). Safe to call twice.
    pub fn stop(&mut self) {
        if self.owned {
            for n in &self.nodes {
                n.stop();
            }
            self.owned = false;
        }
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        self.stop();
    }
}
