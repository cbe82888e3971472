//! A node must not die because nobody reads its output any more (a service manager that went
//! away, a script that read "Connected." and closed the pipe).

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{ok, postern};

#[test]
fn a_node_whose_output_is_no_longer_read_keeps_running_and_stops_cleanly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, reg) = (tmp.path().join("a"), tmp.path().join("reg"));
    ok(postern(&dir).arg("init"));
    // Several identities: several lines follow "Connected.", written after the reader is gone.
    for name in ["one", "two", "three"] {
        ok(postern(&dir).args(["identity", "new", name]));
    }
    let mut child = postern(&dir)
        .args(["run", "--loopback"])
        .arg(&reg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    while !line.starts_with("Connected.") {
        line.clear();
        assert!(out.read_line(&mut line).expect("read") > 0, "node exited");
    }
    // Nobody reads its standard output or error from here on.
    drop(out);
    drop(child.stderr.take());
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the node died when its output was no longer read"
    );
    // It still serves: a command that needs the node's lock says it is running.
    let second = postern(&dir)
        .args(["run", "--loopback"])
        .arg(&reg)
        .output()
        .expect("run");
    assert_eq!(second.status.code(), Some(5));
    // And it stops cleanly on SIGTERM, though it cannot say "Stopping.".
    let pid = child.id().to_string();
    ok(std::process::Command::new("kill").args(["-TERM", &pid]));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
}
