//! Running the real `postern` binary in tests.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_postern");

/// `postern --data-dir DIR` with the test passphrase, no inherited Postern settings, no stdin.
pub fn postern(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir")
        .arg(dir)
        .env("POSTERN_PASSPHRASE", "pw")
        .env_remove("POSTERN_DATA_DIR")
        .env_remove("POSTERN_NETWORK_CONFIG")
        .stdin(Stdio::null());
    c
}

/// Run it; it must succeed; its standard output.
pub fn ok(c: &mut Command) -> String {
    let o = c.output().expect("run postern");
    assert!(
        o.status.success(),
        "failed: {}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Run it with `--json` output already in the arguments; the parsed output.
pub fn json(c: &mut Command) -> serde_json::Value {
    serde_json::from_str(&ok(c)).expect("json output")
}

/// Start `postern run --loopback REG` (plus `extra` arguments) on `dir` and wait until it serves.
/// Its standard output keeps being drained so that it never blocks on a full pipe.
pub fn start_node(dir: &Path, reg: &Path, extra: &[&str]) -> std::process::Child {
    use std::io::{BufRead, BufReader, Read};
    let mut child = postern(dir)
        .arg("run")
        // Cheaper stamps than the product's: first messages still carry one.
        .args(["--stamp-bits", "12"])
        .args(extra)
        .arg("--loopback")
        .arg(reg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        let n = out.read_line(&mut line).expect("read");
        assert!(n > 0, "node exited before serving");
        if line.starts_with("Connected.") {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = out.read_to_string(&mut sink);
    });
    child
}

/// The next complete SMTP reply's code from a blocking socket (`None`: closed or timed out).
pub fn smtp_code(s: &mut std::net::TcpStream, buf: &mut Vec<u8>) -> Option<u16> {
    use std::io::Read;
    loop {
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            if line.get(3) != Some(&b'-') {
                return std::str::from_utf8(&line[..3]).ok()?.parse().ok();
            }
            continue;
        }
        let mut chunk = [0u8; 1024];
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}
