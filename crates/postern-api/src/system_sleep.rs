//! Following the system's sleep on Linux: systemd-logind announces `PrepareForSleep(true)`
//! before it suspends (a phone's screen going off, a laptop's lid shut) and
//! `PrepareForSleep(false)` on waking. The node stops cleanly before (`Session::suspend`) and
//! starts again after (`Session::resume`, which pulls from the carriers at once). A *delay*
//! inhibitor holds the sleep back while the node stops — logind waits at most its
//! `InhibitDelayMaxSec` (5 s by default), so the node gives a message in flight less than that.

use std::time::Duration;

use futures::StreamExt;
use postern_core::ErrorKind;
use zbus::zvariant::OwnedFd;

use crate::error::{ApiError, Result};
use crate::Session;

const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const LOGIND_MANAGER: &str = "org.freedesktop.login1.Manager";

/// How long a message being received may still take when the system goes to sleep: inside
/// logind's default 5 s delay.
pub const SLEEP_GRACE: Duration = Duration::from_secs(3);

impl Session {
    /// Stop the node before the system sleeps and start it again when it wakes, for as long
    /// as the system bus is there. `bus` is the bus's address (tests), else the system bus.
    /// Signals count only from logind itself (the bus name's owner), not from anyone on the
    /// bus. An error when logind cannot be reached (no system bus, e.g. in a container): the
    /// node then simply does not follow sleep.
    pub async fn follow_system_sleep(&self, bus: Option<&str>) -> Result<()> {
        let no_bus = |e: zbus::Error| {
            ApiError::new(
                ErrorKind::LocalIo,
                format!("cannot follow the system's sleep (logind on the system bus): {e}"),
            )
        };
        let conn = match bus {
            Some(address) => {
                zbus::connection::Builder::address(address)
                    .map_err(no_bus)?
                    .build()
                    .await
            }
            None => zbus::Connection::system().await,
        }
        .map_err(no_bus)?;
        let logind = zbus::Proxy::new(&conn, LOGIND, LOGIND_PATH, LOGIND_MANAGER)
            .await
            .map_err(no_bus)?;
        let mut signals = logind
            .receive_signal("PrepareForSleep")
            .await
            .map_err(no_bus)?;
        let mut inhibitor = hold_sleep_back(&logind).await;
        while let Some(signal) = signals.next().await {
            let Ok(going_to_sleep) = signal.body().deserialize::<bool>() else {
                continue;
            };
            if going_to_sleep {
                if self.suspend(SLEEP_GRACE).await {
                    tracing::info!("paused for the system's sleep");
                }
                // Stopped: let the system sleep.
                drop(inhibitor.take());
            } else {
                match self.resume().await {
                    Ok(true) => tracing::info!("resumed after the system's sleep"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!("could not start again after sleep: {}", e.message),
                }
                inhibitor = hold_sleep_back(&logind).await;
            }
        }
        Ok(())
    }
}

/// A delay inhibitor: logind waits (briefly) for us to close it before the system sleeps.
/// `None` if logind refuses one (the node then stops as the system goes, which loses nothing
/// but a message in flight, retried by its sender).
async fn hold_sleep_back(logind: &zbus::Proxy<'_>) -> Option<OwnedFd> {
    let why = "Letting mail being received arrive before the system sleeps";
    match logind
        .call::<_, _, OwnedFd>("Inhibit", &("sleep", "Postern", why, "delay"))
        .await
    {
        Ok(fd) => Some(fd),
        Err(e) => {
            tracing::warn!("logind gave no sleep inhibitor: {e}");
            None
        }
    }
}
