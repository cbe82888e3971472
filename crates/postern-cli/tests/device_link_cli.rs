//! `postern device link|linked|unlink` through the real binary: a device invite from one data
//! directory, redeemed in another, links them at once on the redeeming side (carrier mode on,
//! the other device carried for and designated); a bad invite and unlinking what is not linked
//! are refused with a message and a non-zero exit.

mod common;

use common::{json, ok, postern};

#[test]
fn a_device_invite_links_two_devices_and_unlink_ends_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (laptop, phone) = (tmp.path().join("laptop"), tmp.path().join("phone"));
    for (dir, name) in [(&laptop, "alice"), (&phone, "alicephone")] {
        ok(postern(dir).arg("init"));
        ok(postern(dir).args(["identity", "new", name]));
    }
    let invite = json(postern(&laptop).args(["--json", "device", "link", "-i", "alice"]));
    let link = invite["link"].as_str().expect("link").to_owned();
    let laptop_address = invite["identity"].as_str().expect("identity").to_owned();
    let human = ok(postern(&laptop).args(["device", "link", "-i", "alice", "--no-qr"]));
    assert!(human.contains("Show it to nobody else"), "{human}");

    // Not an invite: refused, nothing linked.
    let o = postern(&phone)
        .args(["device", "link", "-i", "alicephone", "POSTERN:nonsense"])
        .output()
        .expect("run");
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a device invite"));
    assert!(link.starts_with("POSTERN-OWN-DEVICE:"), "{link}");
    assert_eq!(
        json(postern(&phone).args(["--json", "device", "linked", "-i", "alicephone"])),
        serde_json::json!([])
    );

    let linked = ok(postern(&phone).args(["device", "link", "-i", "alicephone", &link]));
    assert!(linked.contains("Linked with your device"), "{linked}");
    let devices = json(postern(&phone).args(["--json", "device", "linked", "-i", "alicephone"]));
    assert_eq!(
        devices[0]["address"].as_str(),
        Some(laptop_address.as_str())
    );
    let mode = json(postern(&phone).args(["--json", "carrier", "status", "-i", "alicephone"]));
    assert_eq!(mode["enabled"], serde_json::json!(true), "{mode}");
    assert_eq!(mode["carrying_for"], serde_json::json!([laptop_address]));

    let done = ok(postern(&phone).args(["device", "unlink", "-i", "alicephone", &laptop_address]));
    assert!(done.contains("no longer linked"), "{done}");
    let o = postern(&phone)
        .args(["device", "unlink", "-i", "alicephone", &laptop_address])
        .output()
        .expect("run");
    assert_ne!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not one of this identity's own devices")
    );
    let mode = json(postern(&phone).args(["--json", "carrier", "status", "-i", "alicephone"]));
    assert_eq!(mode["carrying_for"], serde_json::json!([]));
}
