//! `postern device offer|receive` through the real binary over the loopback transport: the link
//! printed by one process brings the identities into another data directory; a bad link and a
//! used one are refused with their exit codes.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use common::{json, ok, postern};

fn addresses(dir: &std::path::Path, pass: &str) -> Vec<String> {
    let v = json(
        postern(dir)
            .env("POSTERN_PASSPHRASE", pass)
            .args(["--json", "identity", "list"]),
    );
    let mut a: Vec<String> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["address"].as_str().expect("address").to_owned())
        .collect();
    a.sort();
    a
}

#[test]
fn a_link_from_one_device_brings_its_identities_to_another() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (laptop, phone, reg) = (
        tmp.path().join("laptop"),
        tmp.path().join("phone"),
        tmp.path().join("registry"),
    );
    ok(postern(&laptop).arg("init"));
    ok(postern(&laptop).args(["identity", "new", "alice"]));
    ok(postern(&laptop).args(["identity", "new", "club"]));

    // Not a link: exit 2, nothing written.
    let o = postern(&phone)
        .args(["device", "receive", "POSTERN:hello", "--loopback"])
        .arg(&reg)
        .output()
        .expect("run");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a device link"));

    let mut offer = postern(&laptop)
        .args(["device", "offer", "--no-qr", "--loopback"])
        .arg(&reg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("offer");
    let mut out = BufReader::new(offer.stdout.take().expect("stdout"));
    let mut link = String::new();
    let mut line = String::new();
    while link.is_empty() {
        line.clear();
        assert!(
            out.read_line(&mut line).expect("read") > 0,
            "the offer ended without a link"
        );
        if line.starts_with("POSTERN-DEVICE:") {
            link = line.trim().to_owned();
        }
    }
    let received = ok(postern(&phone)
        .env("POSTERN_PASSPHRASE", "phone words")
        .args(["device", "receive", &link, "--loopback"])
        .arg(&reg));
    assert!(received.contains("Received 2 identities"), "{received}");
    let status = offer.wait().expect("offer ends");
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("read");
    assert!(status.success(), "offer: {status}\n{rest}");
    assert!(rest.contains("Sent 2 identities"), "{rest}");
    assert_eq!(addresses(&laptop, "pw"), addresses(&phone, "phone words"));

    // The link is used up (its one-time service is gone): exit 10, nothing written.
    let again = tmp.path().join("again");
    let o = postern(&again)
        .args([
            "device",
            "receive",
            &link,
            "--bootstrap-timeout",
            "1",
            "--loopback",
        ])
        .arg(&reg)
        .output()
        .expect("run");
    assert_eq!(
        o.status.code(),
        Some(10),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!again.join("postern.db").exists());
}
