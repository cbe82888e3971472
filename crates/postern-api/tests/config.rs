//! No silent fallbacks: a network configuration that cannot be read is an error with a
//! sentence — never the real Tor network instead. (One test in its own binary: it sets the
//! process's environment. With no data directory at all — no POSTERN_DATA_DIR and no home the
//! platform knows — `SessionConfig::from_env` is an error too; Linux always finds a home in the
//! password database, so that branch is not reachable here.)

use postern_api::{Session, SessionConfig};
use postern_core::ErrorKind;
use serde_json::json;

#[tokio::test]
async fn an_unreadable_network_configuration_is_an_error_not_the_real_tor_network() {
    let tmp = tempfile::tempdir().expect("tmp");
    let missing = tmp.path().join("missing-network.toml");
    std::env::remove_var("POSTERN_LOOPBACK");
    std::env::set_var("POSTERN_DATA_DIR", tmp.path());
    std::env::set_var("POSTERN_NETWORK_CONFIG", &missing);
    let e = SessionConfig::from_env().expect_err("unreadable network configuration");
    assert_eq!(e.kind, ErrorKind::LocalIo);
    assert!(
        e.message.contains("missing-network.toml") && e.message.contains("POSTERN_NETWORK_CONFIG"),
        "{}",
        e.message
    );
    // The app starts with that error and answers every command with it.
    let s = Session::new(SessionConfig::from_env());
    let answer = s.call("app_status", json!({})).await.expect_err("refused");
    assert_eq!(answer.message, e.message);
}
