//! `postern device offer|receive` through the real binary over the loopback transport: the link
//! printed by one process brings the identities into another data directory; a bad link and a
//! used one are refused with their exit codes; the new device stands by until it takes over,
//! and then the old one stands by.

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

    // One active service: the phone stands by for both identities, until it takes over.
    let phone_pw = |c: &mut std::process::Command| {
        c.env("POSTERN_PASSPHRASE", "phone words");
    };
    let mut c = postern(&phone);
    phone_pw(&mut c);
    let st = json(c.args(["--json", "device", "status"]));
    let laptop_id = json(postern(&laptop).args(["--json", "device", "status"]))["device"]
        .as_str()
        .expect("id")
        .to_owned();
    let services = st["services"].as_array().expect("services");
    assert_eq!(services.len(), 2);
    for s in services {
        assert_eq!(s["here"], false, "{st}");
        assert_eq!(s["device"].as_str(), Some(laptop_id.as_str()), "{st}");
    }
    // The laptop is off: nobody answers, the phone takes the next term.
    let mut c = postern(&phone);
    phone_pw(&mut c);
    let taken = ok(c
        .args(["device", "take-over", "--patience", "2", "--loopback"])
        .arg(&reg));
    assert_eq!(taken.matches("no device answered").count(), 2, "{taken}");
    let mut c = postern(&phone);
    phone_pw(&mut c);
    let st = json(c.args(["--json", "device", "status"]));
    for s in st["services"].as_array().expect("services") {
        assert_eq!((&s["here"], &s["term"]), (&true.into(), &2.into()), "{st}");
    }
    // The phone serves; the laptop, started, finds it at both addresses and stands by.
    let mut c = postern(&phone);
    phone_pw(&mut c);
    let mut phone_node = c
        .args(["run", "--loopback"])
        .arg(&reg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("phone node");
    let mut phone_out = BufReader::new(phone_node.stdout.take().expect("stdout"));
    line.clear();
    phone_out.read_line(&mut line).expect("read");
    while !line.starts_with("Connected.") {
        line.clear();
        assert!(
            phone_out.read_line(&mut line).expect("read") > 0,
            "phone node ended"
        );
    }
    assert!(line.contains("Serving 2 identities"), "{line}");
    let mut laptop_node = postern(&laptop)
        .args(["run", "--loopback"])
        .arg(&reg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("laptop node");
    let mut laptop_out = BufReader::new(laptop_node.stdout.take().expect("stdout"));
    let mut said = String::new();
    while said.matches("Not serving").count() < 2 {
        line.clear();
        assert!(
            laptop_out.read_line(&mut line).expect("read") > 0,
            "laptop node ended: {said}"
        );
        said.push_str(&line);
    }
    assert!(said.contains("Serving 0 identities"), "{said}");
    let phone_id = st["device"].as_str().expect("id");
    assert!(
        said.contains(&format!("your device {phone_id} serves it")),
        "{said}"
    );
    for mut child in [phone_node, laptop_node] {
        let _ = child.kill();
        let _ = child.wait();
    }
    let st = json(postern(&laptop).args(["--json", "device", "status"]));
    for s in st["services"].as_array().expect("services") {
        assert_eq!(s["here"], false, "{st}");
    }

    // The laptop is lost: without --yes (and no terminal to ask) nothing changes; with it, the
    // phone serves alice in the next term and her OpenPGP key is replaced.
    let mut c = postern(&phone);
    phone_pw(&mut c);
    let o = c
        .args(["device", "lost", "alice"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing changed"));
    let mut c = postern(&phone);
    phone_pw(&mut c);
    let lost = json(c.args(["--json", "device", "lost", "alice", "--yes"]));
    assert_eq!(lost["term"], 3, "{lost}");
    assert_eq!(lost["revocation"]["scope"], "key", "{lost}");
    assert!(lost["revocation"]["successor"].is_string(), "{lost}");
}
