//! The node follows the system's sleep: logind (python3-dbusmock's logind template, on a
//! private bus standing in for the system bus) says `PrepareForSleep(true)`; the node stops —
//! its onion service no longer answers — and lets the system sleep (its delay inhibitor is
//! closed); on `PrepareForSleep(false)` it serves again and holds a new inhibitor.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postern_api::{Session, SessionConfig};
use postern_core::Network;
use postern_transport::{LoopbackTransport, Transport};
use serde_json::{json, Value};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private bus and a mock logind on it; `None` where D-Bus or python3-dbusmock is missing
/// (the test command installs both).
fn mock_logind() -> Option<(String, Killed, Killed)> {
    let has_dbusmock = Command::new("/usr/bin/python3")
        .args(["-c", "import dbusmock"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_dbusmock || !std::path::Path::new("/usr/bin/dbus-daemon").exists() {
        eprintln!(
            "skipped: needs dbus-daemon and python3-dbusmock (scripts/test.sh installs them)"
        );
        return None;
    }
    let mut daemon = Command::new("/usr/bin/dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("dbus-daemon");
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(daemon.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("bus address");
    let address = line.trim().to_owned();
    let daemon = Killed(daemon);
    let logind = Command::new("/usr/bin/python3")
        .args(["-m", "dbusmock", "--system", "--template", "logind"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &address)
        .stdout(Stdio::null())
        .spawn()
        .expect("dbusmock");
    Some((address, daemon, Killed(logind)))
}

async fn wait_until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Postern's inhibitors that logind holds.
async fn postern_inhibitors(bus: &zbus::Connection) -> usize {
    let reply = bus
        .call_method(
            Some("org.freedesktop.login1"),
            "/org/freedesktop/login1",
            Some("org.freedesktop.login1.Manager"),
            "ListInhibitors",
            &(),
        )
        .await;
    let Ok(reply) = reply else { return 0 };
    let list: Vec<(String, String, String, String, u32, u32)> =
        reply.body().deserialize().expect("inhibitors");
    list.iter()
        .filter(|(what, who, _, mode, _, _)| what == "sleep" && who == "Postern" && mode == "delay")
        .count()
}

/// logind announcing sleep (`true`) or waking (`false`), as logind itself.
async fn prepare_for_sleep(bus: &zbus::Connection, going: bool) {
    bus.call_method(
        Some("org.freedesktop.login1"),
        "/org/freedesktop/login1",
        Some("org.freedesktop.DBus.Mock"),
        "EmitSignal",
        &(
            "org.freedesktop.login1.Manager",
            "PrepareForSleep",
            "b",
            vec![zbus::zvariant::Value::from(going)],
        ),
    )
    .await
    .expect("emit PrepareForSleep");
}

/// Whether the identity's onion service answers with an SMTP greeting.
async fn answers(registry: &std::path::Path, address: &str) -> bool {
    use tokio::io::AsyncReadExt;
    let t = LoopbackTransport::new(registry).expect("loopback");
    if t.start().await.is_err() {
        return false;
    }
    let address: postern_types::MailAddress = address.parse().expect("address");
    let onion = address.onion();
    let Ok(mut s) = t.connect(onion, onion, 25).await else {
        return false;
    };
    let mut buf = [0u8; 64];
    matches!(tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await, Ok(Ok(n)) if n >= 3 && &buf[..3] == b"220")
}

async fn state(session: &Session) -> String {
    let s: Value = session
        .call("node_status", json!({}))
        .await
        .expect("status");
    s["state"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_pauses_while_the_system_sleeps_and_serves_again_on_waking() {
    let Some((address, _daemon, _logind)) = mock_logind() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let registry = tmp.path().join("registry");
    let session = Arc::new(Session::new(Ok(SessionConfig {
        data_dir: tmp.path().join("me"),
        network: Network::Loopback {
            registry: registry.clone(),
        },
    })));
    session
        .call("init_store", json!({ "passphrase": "sleepy" }))
        .await
        .expect("init");
    let me = session
        .call(
            "create_identity",
            json!({ "name": "me", "displayName": "Me" }),
        )
        .await
        .expect("identity");
    let me = me["address"].as_str().expect("address").to_owned();
    session.call("start_node", json!({})).await.expect("start");
    assert!(answers(&registry, &me).await, "served before sleep");

    let bus = zbus::connection::Builder::address(address.as_str())
        .expect("address")
        .build()
        .await
        .expect("bus");
    wait_until("logind to answer", || async {
        bus.call_method(
            Some("org.freedesktop.login1"),
            "/org/freedesktop/login1",
            Some("org.freedesktop.login1.Manager"),
            "ListInhibitors",
            &(),
        )
        .await
        .is_ok()
    })
    .await;
    let following = {
        let (session, address) = (session.clone(), address.clone());
        tokio::spawn(async move { session.follow_system_sleep(Some(&address)).await })
    };
    wait_until("Postern to hold sleep back", || async {
        postern_inhibitors(&bus).await == 1
    })
    .await;

    // Someone else on the bus saying "sleep" is not logind: nothing happens.
    bus.emit_signal(
        None::<&str>,
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager",
        "PrepareForSleep",
        &(true,),
    )
    .await
    .expect("emit");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        state(&session).await,
        "online",
        "a forged signal paused the node"
    );

    prepare_for_sleep(&bus, true).await;
    wait_until("the node to pause", || async {
        state(&session).await == "paused"
    })
    .await;
    wait_until("the inhibitor to be let go", || async {
        postern_inhibitors(&bus).await == 0
    })
    .await;
    assert!(
        !answers(&registry, &me).await,
        "the onion service still answers while asleep"
    );

    prepare_for_sleep(&bus, false).await;
    wait_until("the node to serve again", || async {
        state(&session).await == "online"
    })
    .await;
    assert!(answers(&registry, &me).await, "served again after waking");
    wait_until("a new inhibitor", || async {
        postern_inhibitors(&bus).await == 1
    })
    .await;
    following.abort();
}
