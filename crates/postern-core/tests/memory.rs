//! Memory under attack: 50 sessions at once, each sending a compressed message that would
//! decrypt to 64 MiB of zeros. The node decrypts a bounded number at once, each to at most the
//! message size limit (25 MiB by default), so its peak memory stays bounded; it refuses every
//! one and still takes good mail afterwards. Its own test binary: the peak it measures is this
//! process's.

mod common;

use std::time::Duration;

use common::*;
use postern_core::UNAUTHENTICATED;

/// Peak resident memory of this process so far, in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The bound: a baseline node (under 20 MiB), two decryptions of at most 25 MiB each (in
/// vectors that may have grown to 32 MiB), fifty small DATA buffers, and room to spare.
/// (Measured: 90 MiB. Reading the decryptor in one large read held every layer's buffer of the
/// whole message: 240 MiB for one such message, 500 MiB for fifty.)
const BOUND_MIB: u64 = 128;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_decompression_bombs_at_once_stay_within_bounded_memory() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let alice = Device::new(tmp.path(), "alice");
    let mut bob = Device::new(tmp.path(), "bob");
    bob.add_contact(&alice, true);
    let mut config = test_config();
    config.smtp.max_message_size = 25 * 1024 * 1024;
    config.smtp.data_timeout = Duration::from_secs(120);
    config.smtp.command_timeout = Duration::from_secs(120);
    config.inbound.decrypt_parallel = 2;
    config.inbound.transactions_per_identity = 64;
    bob.start_with(loopback(&reg), config).await;
    let key = bob
        .api
        .identity_keys("bob")
        .expect("keys")
        .openpgp_public()
        .expect("pub");
    let bomb = bomb_for(&key, &alice.address, &bob.address, 64 << 20);
    let before = peak_kib();
    let mut sessions = Vec::new();
    for _ in 0..50 {
        let (reg, bomb, from) = (reg.clone(), bomb.clone(), alice.address.clone());
        let to = bob.address.clone();
        sessions.push(tokio::spawn(async move {
            submit_to(&reg, &from, &to, &bomb).await
        }));
    }
    for s in sessions {
        let (_, text) = s.await.expect("session");
        assert_eq!(text, format!("550 5.7.1 {UNAUTHENTICATED}"));
    }
    let peak = peak_kib();
    eprintln!(
        "50 concurrent 64 MiB decompression bombs: peak RSS {} MiB (before {} MiB; bound {BOUND_MIB} MiB)",
        peak / 1024,
        before / 1024
    );
    assert!(peak / 1024 <= BOUND_MIB, "peak RSS {} MiB", peak / 1024);
    assert!(bob.api.inbox(None).expect("inbox").is_empty());
    let (msg, _) = compose_as(
        &alice.api.identity_keys("alice").expect("keys"),
        &alice.address,
        &bob.address,
        &key,
        "after the storm",
    );
    let (code, text) = submit(&reg, &alice.address, &bob, &msg).await;
    assert_eq!(code, 250, "{text}");
}
