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
