//! A node serving several identities launches their onion services each after its own random
//! delay (`Unlinking::launch_spread`), not in one loop: launched together, they would show the
//! network that they came up together (`docs/protocol.md` §13).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use postern_core::Transport;
use postern_transport::{BootstrapStatus, Listener, ServiceOptions, Stream, TransportError};
use postern_types::OnionAddress;
use tokio::sync::watch;

/// The loopback transport, noting when each service was launched.
#[derive(Debug)]
struct NotingLaunches {
    inner: Arc<dyn Transport>,
    launched: Mutex<Vec<Instant>>,
}

#[async_trait::async_trait]
impl Transport for NotingLaunches {
    async fn start(&self) -> Result<(), TransportError> {
        self.inner.start().await
    }

    fn bootstrap_status(&self) -> watch::Receiver<BootstrapStatus> {
        self.inner.bootstrap_status()
    }

    async fn serve(
        &self,
        identity: &postern_crypto::IdentityKeys,
        options: &ServiceOptions,
    ) -> Result<Listener, TransportError> {
        self.launched.lock().expect("lock").push(Instant::now());
        self.inner.serve(identity, options).await
    }

    async fn connect(
        &self,
        from: &OnionAddress,
        to: &OnionAddress,
        port: u16,
    ) -> Result<Stream, TransportError> {
        self.inner.connect(from, to, port).await
    }
}

/// A device with `n` identities, started with `spread`; the launch times, once all are in.
async fn launch_times(n: usize, spread: Duration) -> (Instant, Vec<Instant>, usize) {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut device = Device::new(tmp.path(), "device");
    for i in 1..n {
        device
            .api
            .create_identity(&format!("other{i}"), "Another")
            .expect("identity");
    }
    let noting = Arc::new(NotingLaunches {
        inner: loopback(&tmp.path().join("registry")),
        launched: Mutex::new(Vec::new()),
    });
    let mut config = test_config();
    config.unlinking.launch_spread = spread;
    let began = Instant::now();
    device.start_with(noting.clone(), config).await;
    let at_start = noting.launched.lock().expect("lock").len();
    let deadline = Instant::now() + spread + Duration::from_secs(10);
    loop {
        let launched = noting.launched.lock().expect("lock").clone();
        if launched.len() == n {
            return (began, launched, at_start);
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} services launched",
            launched.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_services_launch_at_independent_times() {
    let spread = Duration::from_secs(4);
    let (began, launched, at_start) = launch_times(8, spread).await;
    let offsets: Vec<Duration> = launched.iter().map(|t| *t - began).collect();
    eprintln!("launched after {offsets:?}");
    // Each within the spread (plus the start's own work), none waited for by the start.
    assert!(
        offsets.iter().all(|d| *d < spread + Duration::from_secs(3)),
        "{offsets:?}"
    );
    assert!(at_start < 8, "the start waited for every launch");
    // Apart, not back to back: eight independent draws over 4 s all fall within half a second
    // of each other with probability about 4e-6; launched in one loop they are milliseconds
    // apart.
    let first = launched.iter().min().expect("some");
    let last = launched.iter().max().expect("some");
    assert!(
        *last - *first > Duration::from_millis(500),
        "launched together: {offsets:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_spread_every_service_is_up_when_the_node_has_started() {
    let (_, launched, at_start) = launch_times(3, Duration::ZERO).await;
    assert_eq!(at_start, 3);
    assert_eq!(launched.len(), 3);
}
