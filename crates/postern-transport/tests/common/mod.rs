//! Scenarios shared by the loopback and the real-Tor tests: the same code runs over both.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use postern_crypto::IdentityKeys;
use postern_transport::{Listener, Stream, Transport, TransportError};
use postern_types::{LocalPart, OnionAddress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub fn identity(name: &str) -> IdentityKeys {
    IdentityKeys::generate(LocalPart::new(name).expect("local part"), "").expect("keys")
}

/// Connect, retrying until `deadline` (a fresh onion service needs a moment to publish).
pub async fn connect_retrying(
    t: &dyn Transport,
    from: &OnionAddress,
    to: &OnionAddress,
    port: u16,
    deadline: Duration,
) -> Stream {
    let start = Instant::now();
    loop {
        match t.connect(from, to, port).await {
            Ok(s) => return s,
            Err(e) if start.elapsed() < deadline => {
                eprintln!("connect retry after {:?}: {e}", start.elapsed());
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("could not connect within {deadline:?}: {e}"),
        }
    }
}

/// The client sends `ping`, the service answers `pong` and then echoes back what it got.
/// Returns the circuit number the service saw.
pub async fn exchange(client: &mut Stream, service: &mut Listener, tag: &str) -> u64 {
    let ping = format!("ping {tag}\n");
    client
        .write_all(ping.as_bytes())
        .await
        .expect("client write");
    client.flush().await.expect("flush");
    let mut incoming = tokio::time::timeout(Duration::from_secs(60), service.accept())
        .await
        .expect("service got no stream in time")
        .expect("service stopped");
    assert_eq!(incoming.port, 25);
    let mut got = vec![0u8; ping.len()];
    incoming
        .stream
        .read_exact(&mut got)
        .await
        .expect("service read");
    assert_eq!(got, ping.as_bytes());
    let pong = format!("pong {tag}\n");
    incoming
        .stream
        .write_all(pong.as_bytes())
        .await
        .expect("service write");
    incoming.stream.flush().await.expect("flush");
    let mut back = vec![0u8; pong.len()];
    client.read_exact(&mut back).await.expect("client read");
    assert_eq!(back, pong.as_bytes());
    incoming.circuit
}

/// Connecting to an address nobody serves fails with `Unreachable` within `bound`.
pub async fn unreachable_within(t: &dyn Transport, from: &OnionAddress, bound: Duration) {
    let nobody = *identity("nobody").address().onion();
    let start = Instant::now();
    let err = match t.connect(from, &nobody, 25).await {
        Ok(_) => panic!("connected to an onion service that does not exist"),
        Err(e) => e,
    };
    let took = start.elapsed();
    assert!(
        matches!(err, TransportError::Unreachable { .. }),
        "expected Unreachable, got {err:?}"
    );
    assert!(took <= bound, "took {took:?}, more than {bound:?}");
    let msg = err.to_string();
    assert!(msg.contains("unreachable"), "{msg}");
    assert!(
        !msg.contains(&nobody.label()),
        "the error must not print the full address"
    );
    eprintln!("unreachable reported after {took:?}: {msg}");
}
