//! A second device in the app: the offer runs in the background (its own store connection and
//! Tor state) while the screen polls its progress; receiving runs in the call, with the same
//! progress to poll, and leaves the session unlocked on the new store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use postern_core::{
    ContactView, DeviceLink, LostDevice, OwnDeviceView, Postern, ServiceView, TakeOver,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::args::{AcceptScanned, BackupView, DeviceUnlink, NoArgs, OfIdentity, UiInvite};
use crate::error::Result;
use crate::handlers::Handlers;

#[derive(Debug, Deserialize, TS)]
pub(crate) struct DeviceOffer {
    /// With the mail.
    pub(crate) mail: bool,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct DeviceTakeOver {
    /// The identity to serve here; all that another device serves if none.
    pub(crate) identity: Option<String>,
}

/// How taking over one identity went.
#[derive(Debug, Serialize, TS)]
pub(crate) struct TakeOverView {
    pub(crate) identity: String,
    /// `already_here`, `handed_over` or `nobody_answered`.
    pub(crate) result: String,
    /// What happened, in a sentence.
    pub(crate) message: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct DeviceReceive {
    /// The link the other device shows (`POSTERN-DEVICE:…`).
    pub(crate) link: String,
    /// The passphrase for this device's new store.
    pub(crate) new_passphrase: String,
}

/// The link to show (as text and as a QR code).
#[derive(Debug, Serialize, TS)]
pub(crate) struct DeviceOfferView {
    pub(crate) link: String,
    pub(crate) qr_svg: String,
    pub(crate) valid_minutes: i64,
}

/// A transfer in progress, or how the last one ended.
#[derive(Debug, Clone, Serialize, TS)]
pub(crate) struct DeviceTransferView {
    /// `idle`, `waiting` (the link is shown), `moving`, `done` or `failed`.
    pub(crate) state: String,
    pub(crate) done: i64,
    pub(crate) total: i64,
    /// What went wrong, or what was moved.
    pub(crate) message: String,
}

impl Default for DeviceTransferView {
    fn default() -> Self {
        DeviceTransferView {
            state: "idle".into(),
            done: 0,
            total: 0,
            message: String::new(),
        }
    }
}

/// The session's transfer: its state, and the offer's task (one at a time).
#[derive(Debug, Default)]
pub(crate) struct DeviceTransfer {
    pub(crate) view: Arc<Mutex<DeviceTransferView>>,
    pub(crate) task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

const OFFER_MINUTES: i64 = 10;

fn set(view: &Arc<Mutex<DeviceTransferView>>, f: impl FnOnce(&mut DeviceTransferView)) {
    if let Ok(mut v) = view.lock() {
        f(&mut v);
    }
}

fn progress(view: Arc<Mutex<DeviceTransferView>>) -> impl FnMut(u64, u64) + Send {
    move |done, total| {
        set(&view, |v| {
            v.state = "moving".into();
            v.done = i64::try_from(done).unwrap_or(i64::MAX);
            v.total = i64::try_from(total).unwrap_or(i64::MAX);
        })
    }
}

impl Handlers<'_> {
    pub(crate) async fn device_offer(&self, a: DeviceOffer) -> Result<DeviceOfferView> {
        let config = self.0.config()?;
        let ready = self.0.with(|p| Ok(p.prepare_device_offer(a.mail)?)).await?;
        let link = ready.link().to_string();
        let state = config.data_dir.join(".device-tor-app");
        let transport = config.network.transport(&state)?;
        let device = &self.0.device;
        if let Ok(mut t) = device.task.lock() {
            if let Some(old) = t.take() {
                old.abort();
            }
        }
        set(&device.view, |v| {
            *v = DeviceTransferView::default();
            v.state = "waiting".into();
        });
        let view = device.view.clone();
        let task = tokio::spawn(async move {
            let mut step = progress(view.clone());
            let r = ready
                .run(
                    transport,
                    Duration::from_secs(OFFER_MINUTES as u64 * 60),
                    &mut |_| {},
                    &mut step,
                )
                .await;
            set(&view, |v| match r {
                Ok(s) => {
                    v.state = "done".into();
                    v.message = format!(
                        "Moved {} identit{} to the new device.",
                        s.identities.len(),
                        if s.identities.len() == 1 { "y" } else { "ies" }
                    );
                }
                Err(e) => {
                    v.state = "failed".into();
                    v.message = e.to_string();
                }
            });
            let _ = std::fs::remove_dir_all(&state);
        });
        if let Ok(mut t) = device.task.lock() {
            *t = Some(task);
        }
        Ok(DeviceOfferView {
            qr_svg: Postern::qr_svg(&link)?,
            link,
            valid_minutes: OFFER_MINUTES,
        })
    }

    pub(crate) async fn device_status(&self, _: NoArgs) -> Result<DeviceTransferView> {
        Ok(self
            .0
            .device
            .view
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default())
    }

    /// Another device holding the identity is lost: stop the node, take the next term and
    /// replace the key (or revoke the address), start the node again if it ran.
    pub(crate) async fn device_lost(&self, a: crate::args::Revoke) -> Result<LostDevice> {
        let scope = if a.address {
            postern_core::RevocationScope::Address
        } else {
            postern_core::RevocationScope::Key
        };
        let was_running = self.0.stop_node().await;
        let r = self
            .0
            .with(|p| Ok(p.device_lost(&a.identity, scope, &a.reason)?))
            .await;
        if was_running {
            self.0.start_node().await?;
        }
        r
    }

    pub(crate) async fn device_link_offer(&self, a: OfIdentity) -> Result<UiInvite> {
        self.0
            .with(|p| {
                let i = p.offer_device_link(&a.identity)?;
                Ok(UiInvite {
                    id: i.id,
                    svg: Postern::qr_svg(&i.link)?,
                    link: i.link,
                    expires_at: i.expires_at,
                })
            })
            .await
    }

    pub(crate) async fn device_link_accept(&self, a: AcceptScanned) -> Result<ContactView> {
        let h = self
            .0
            .with(|p| Ok(p.accept_device_link(&a.identity, &a.text)?))
            .await?;
        self.0.wake().await;
        Ok(h.contact)
    }

    pub(crate) async fn own_devices(&self, a: OfIdentity) -> Result<Vec<OwnDeviceView>> {
        self.0.with(|p| Ok(p.own_devices(&a.identity)?)).await
    }

    pub(crate) async fn device_unlink(&self, a: DeviceUnlink) -> Result<Vec<OwnDeviceView>> {
        self.0
            .with(|p| {
                p.unlink_own_device(&a.identity, &a.device)?;
                Ok(p.own_devices(&a.identity)?)
            })
            .await
    }

    pub(crate) async fn device_services(&self, _: NoArgs) -> Result<Vec<ServiceView>> {
        self.0.with(|p| Ok(p.services()?)).await
    }

    /// Stop the node, ask the device serving each identity to hand it over (or take it if
    /// none answers), and start the node again if it was running.
    pub(crate) async fn device_take_over(&self, a: DeviceTakeOver) -> Result<Vec<TakeOverView>> {
        let config = self.0.config()?;
        let chosen: Vec<String> = match a.identity {
            Some(i) => vec![i],
            None => self
                .0
                .with(|p| Ok(p.services()?))
                .await?
                .into_iter()
                .filter(|s| !s.here)
                .map(|s| s.address)
                .collect(),
        };
        let was_running = self.0.stop_node().await;
        let state = config.data_dir.join(".takeover-tor-app");
        let transport = config.network.transport(&state)?;
        let mut out = Vec::new();
        let mut failed = None;
        for id in chosen {
            let prepared = self.0.with(|p| Ok(p.prepare_take_over(&id)?)).await;
            let r = match prepared {
                Ok(t) => t
                    .run(transport.clone(), Duration::from_secs(60))
                    .await
                    .map_err(crate::error::ApiError::from),
                Err(e) => Err(e),
            };
            match r {
                Ok(r) => {
                    let (result, message) = match r {
                        TakeOver::AlreadyHere => ("already_here", "Served here already.".to_owned()),
                        TakeOver::HandedOver { from } => (
                            "handed_over",
                            format!("Your device {from} stopped serving it; it is served here now."),
                        ),
                        TakeOver::NobodyAnswered => (
                            "nobody_answered",
                            "No device answered; it is served here now. Your other device will stand by when it next starts.".to_owned(),
                        ),
                    };
                    out.push(TakeOverView {
                        identity: id,
                        result: result.into(),
                        message,
                    });
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        drop(transport);
        let _ = std::fs::remove_dir_all(&state);
        if was_running || !out.is_empty() {
            self.0.start_node().await?;
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    pub(crate) async fn device_receive(&self, a: DeviceReceive) -> Result<BackupView> {
        let config = self.0.config()?;
        let dir = config.data_dir.clone();
        let link = DeviceLink::parse(&a.link)?;
        let view = self.0.device.view.clone();
        set(&view, |v| *v = DeviceTransferView::default());
        let state = dir.join(".device-tor-app");
        std::fs::create_dir_all(&state).map_err(|e| {
            crate::error::ApiError::new(postern_core::ErrorKind::LocalIo, e.to_string())
        })?;
        let transport = config.network.transport(&state)?;
        let mut step = progress(view.clone());
        let r = Postern::receive_device(
            &dir,
            transport,
            &link,
            a.new_passphrase.as_bytes(),
            Duration::from_secs(180),
            &mut step,
        )
        .await;
        let _ = std::fs::remove_dir_all(&state);
        let (p, summary) = match r {
            Ok(x) => x,
            Err(e) => {
                set(&view, |v| {
                    v.state = "failed".into();
                    v.message = e.to_string();
                });
                return Err(e.into());
            }
        };
        set(&view, |v| v.state = "done".into());
        *self.0.postern.lock().await = Some(p);
        self.0.follow_events().await;
        Ok(BackupView::new(String::new(), summary))
    }
}
