//! `postern run`, the headless node, through the real binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ok, postern};
use postern_testnet::Testnet;

#[test]
#[cfg_attr(tor_missing, ignore = "needs `tor` (apt-get install tor); CI runs it")]
fn node_bootstraps_on_the_private_network_and_serves_every_identity() {
    let net = Testnet::shared().expect("network");
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("node");
    ok(postern(&dir).arg("init"));
    let a = ok(postern(&dir).args(["--json", "identity", "new", "alice"]));
    let b = ok(postern(&dir).args(["--json", "identity", "new", "bob"]));
    let addr = |s: &str| -> String {
        let v: serde_json::Value = serde_json::from_str(s).expect("json");
        v["address"].as_str().expect("address").to_owned()
    };
    let (a, b) = (addr(&a), addr(&b));
    let cfg = tmp.path().join("arti-network.toml");
    std::fs::write(&cfg, net.arti_network_toml()).expect("write cfg");

    let mut child = postern(&dir)
        .args(["run", "--network-config"])
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let start = Instant::now();
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("line");
        lines.push(line.clone());
        if lines.iter().any(|l| l.contains(&a)) && lines.iter().any(|l| l.contains(&b)) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "{lines:?}");
    }
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status();
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Connected. Serving 2 identities")),
        "{lines:?}"
    );
    assert!(
        stderr.contains("Connecting to Tor: 100%"),
        "no progress shown: {stderr}"
    );
    assert!(
        !stderr.contains(&a[6..]),
        "logs must not print full onion addresses: {stderr}"
    );
}

#[test]
fn bootstrap_failure_is_actionable() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("node");
    ok(postern(&dir).arg("init"));
    let cfg = tmp.path().join("nowhere.toml");
    std::fs::write(
        &cfg,
        "[address_filter]\nallow_local_addrs = true\n\n[tor_network]\nfallback_caches = [\n  \
         { rsa_identity = \"0000000000000000000000000000000000000000\", ed_identity = \
         \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", orports = [\"127.0.0.1:9\"] },\n]\n\n\
         [tor_network.authorities]\nv3idents = [\"0000000000000000000000000000000000000000\"]\n",
    )
    .expect("cfg");
    let began = Instant::now();
    let out = postern(&dir)
        .args(["run", "--bootstrap-timeout", "3", "--network-config"])
        .arg(&cfg)
        .output()
        .expect("run");
    assert!(began.elapsed() < Duration::from_secs(20));
    assert_eq!(
        out.status.code(),
        Some(10),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not connect to the Tor network within 3 s"),
        "{err}"
    );

    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "this is [not toml").expect("bad");
    let out = postern(&dir)
        .args(["run", "--network-config"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Tor configuration error"));
}
