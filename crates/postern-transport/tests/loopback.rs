//! The transport scenarios over loopback TCP.

mod common;

use std::time::Duration;

use common::*;
use postern_transport::{LoopbackTransport, ServiceOptions, Transport};

#[tokio::test]
async fn bytes_both_ways_restart_and_unreachable() {
    let reg = tempfile::tempdir().expect("tmp");
    let alice_t = LoopbackTransport::new(reg.path()).expect("alice");
    let bob_t = LoopbackTransport::new(reg.path()).expect("bob");
    alice_t.start().await.expect("start");
    bob_t.start().await.expect("start");
    assert!(alice_t.bootstrap_status().borrow().ready);

    let alice = identity("alice");
    let bob = identity("bob");
    let a = *alice.address().onion();
    let b = *bob.address().onion();
    let mut service = bob_t
        .serve(&bob, &ServiceOptions::for_ports(&[25]))
        .await
        .expect("serve");
    assert_eq!(service.onion(), &b);
    let mut s = connect_retrying(&alice_t, &a, &b, 25, Duration::from_secs(5)).await;
    exchange(&mut s, &mut service, "one").await;

    // Restart Bob: the same key gives the same address, reachable again.
    drop(service);
    drop(bob_t);
    unreachable_within(&alice_t, &a, Duration::from_secs(5)).await;
    let bob_t = LoopbackTransport::new(reg.path()).expect("bob again");
    bob_t.start().await.expect("start");
    let mut service = bob_t
        .serve(&bob, &ServiceOptions::for_ports(&[25]))
        .await
        .expect("serve again");
    let mut s = connect_retrying(&alice_t, &a, &b, 25, Duration::from_secs(5)).await;
    exchange(&mut s, &mut service, "two").await;

    // A port that is not served is unreachable.
    assert!(alice_t.connect(&a, &b, 26).await.is_err());
}

#[tokio::test]
async fn every_connection_is_its_own_circuit() {
    let reg = tempfile::tempdir().expect("tmp");
    let t = LoopbackTransport::new(reg.path()).expect("t");
    t.start().await.expect("start");
    let carol = identity("carol");
    let c = *carol.address().onion();
    let mut service = t
        .serve(&carol, &ServiceOptions::for_ports(&[25]))
        .await
        .expect("serve");
    let (x, y) = (identity("x"), identity("y"));
    let mut s1 = t.connect(x.address().onion(), &c, 25).await.expect("x");
    let c1 = exchange(&mut s1, &mut service, "x").await;
    let mut s2 = t.connect(y.address().onion(), &c, 25).await.expect("y");
    let c2 = exchange(&mut s2, &mut service, "y").await;
    assert_ne!(c1, c2);
}
