//! The commands: each unpacks its arguments (JSON, camelCase names), calls `postern-core` and
//! returns the core's view. `COMMANDS` lists them all; `Session::call` dispatches.

use data_encoding::BASE64;
use postern_core::{Attachment, Postern, SCREEN_INVITE_VALIDITY};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, Result};
use crate::session::Session;

/// Every command's name.
pub const COMMANDS: &[&str] = &[
    "app_status",
    "init_store",
    "unlock",
    "identities",
    "create_identity",
    "start_node",
    "node_status",
    "inbox",
    "requests",
    "read_message",
    "accept_request",
    "decline_request",
    "delete_message",
    "send",
    "outbox",
    "contacts",
    "introduce",
    "create_invite",
    "invites",
    "withdraw_invite",
    "undo_invite",
    "read_scanned",
    "scan_image",
    "scan_frame",
    "accept_scanned",
    "carriers",
    "set_carrier_mode",
    "set_carrier_policy",
    "search",
    "events",
    "change_passphrase",
    "notification_settings",
    "set_notification_settings",
];

#[derive(Debug, Serialize)]
struct AppStatus {
    initialized: bool,
    unlocked: bool,
    data_dir: String,
}

#[derive(Debug, Deserialize)]
struct Passphrase {
    passphrase: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewIdentity {
    name: String,
    display_name: String,
}

#[derive(Debug, Deserialize)]
struct OfIdentity {
    identity: String,
}

#[derive(Debug, Deserialize)]
struct Search {
    /// An identity's mail; absent (or null) searches every identity.
    identity: Option<String>,
    query: String,
    #[serde(default = "default_results")]
    limit: usize,
}

fn default_results() -> usize {
    50
}

#[derive(Debug, Deserialize)]
struct NewPassphrase {
    old: String,
    new: String,
}

#[derive(Debug, Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
}

#[derive(Debug, Deserialize)]
struct ById {
    id: i64,
}

#[derive(Debug, Deserialize)]
struct UiAttachment {
    name: String,
    content_type: String,
    data_b64: String,
}

#[derive(Debug, Deserialize)]
struct Send {
    identity: String,
    to: String,
    subject: String,
    text: String,
    #[serde(default)]
    attachments: Vec<UiAttachment>,
}

#[derive(Debug, Deserialize)]
struct Introduce {
    identity: String,
    whom: String,
    to: String,
    #[serde(default)]
    both: bool,
}

#[derive(Debug, Deserialize)]
struct OfInvite {
    identity: String,
    id: i64,
}

#[derive(Debug, Serialize)]
struct UiInvite {
    id: i64,
    link: String,
    svg: String,
    expires_at: i64,
}

#[derive(Debug, Deserialize)]
struct Text {
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Image {
    data_b64: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Frame {
    width: u32,
    height: u32,
    pixels_b64: String,
}

#[derive(Debug, Deserialize)]
struct AcceptScanned {
    identity: String,
    text: String,
}

#[derive(Debug, Deserialize)]
struct CarrierMode {
    identity: String,
    enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CarrierPolicy {
    identity: String,
    allow: Vec<String>,
    quota_mb: i64,
    max_hold_hours: i64,
}

fn args<T: DeserializeOwned>(command: &str, args: Value) -> Result<T> {
    // A command without arguments may be called with none at all.
    let args = if args.is_null() {
        Value::Object(Default::default())
    } else {
        args
    };
    serde_json::from_value(args)
        .map_err(|e| ApiError::bad_input(format!("wrong arguments for {command}: {e}")))
}

fn view<T: Serialize>(t: T) -> Result<Value> {
    serde_json::to_value(t).map_err(|e| {
        ApiError::new(
            postern_core::ErrorKind::Internal,
            format!("cannot serialise the answer: {e}"),
        )
    })
}

fn unbase64(what: &str, b64: &str) -> Result<Vec<u8>> {
    BASE64
        .decode(b64.as_bytes())
        .map_err(|_| ApiError::bad_input(format!("the {what} is not valid base64")))
}

impl Session {
    /// Run one command with its JSON arguments; its view as JSON. Whatever it changed is then
    /// announced to subscribers (see `Session::subscribe`).
    pub async fn call(&self, command: &str, a: Value) -> Result<Value> {
        let r = self.dispatch(command, a).await;
        self.changed();
        r
    }

    async fn dispatch(&self, command: &str, a: Value) -> Result<Value> {
        match command {
            "app_status" => view(self.app_status().await?),
            "init_store" => {
                let Passphrase { passphrase } = args(command, a)?;
                let p = Postern::init(&self.config()?.data_dir, passphrase.as_bytes())?;
                *self.postern.lock().await = Some(p);
                self.follow_events().await;
                view(self.app_status().await?)
            }
            "unlock" => {
                let Passphrase { passphrase } = args(command, a)?;
                let p = Postern::open(&self.config()?.data_dir, passphrase.as_bytes())?;
                *self.postern.lock().await = Some(p);
                self.follow_events().await;
                view(self.app_status().await?)
            }
            "identities" => view(self.with(|p| Ok(p.identities()?)).await?),
            "create_identity" => {
                let n: NewIdentity = args(command, a)?;
                view(
                    self.with(|p| Ok(p.create_identity(&n.name, &n.display_name)?))
                        .await?,
                )
            }
            "start_node" => {
                self.start_node().await?;
                view(self.status())
            }
            "node_status" => view(self.status()),
            "inbox" => {
                let OfIdentity { identity } = args(command, a)?;
                view(self.with(|p| Ok(p.inbox(Some(&identity))?)).await?)
            }
            "requests" => {
                let OfIdentity { identity } = args(command, a)?;
                view(self.with(|p| Ok(p.requests(Some(&identity))?)).await?)
            }
            "read_message" => {
                let ById { id } = args(command, a)?;
                view(self.with(|p| Ok(p.read(id)?)).await?)
            }
            "accept_request" => {
                let ById { id } = args(command, a)?;
                view(self.with(|p| Ok(p.accept_request(id)?)).await?)
            }
            "decline_request" => {
                let ById { id } = args(command, a)?;
                view(self.with(|p| Ok(p.decline_request(id)?)).await?)
            }
            "delete_message" => {
                let ById { id } = args(command, a)?;
                view(self.with(|p| Ok(p.delete_message(id)?)).await?)
            }
            "send" => {
                let s: Send = args(command, a)?;
                let attachments = s
                    .attachments
                    .into_iter()
                    .map(|a| {
                        Ok(Attachment {
                            data: unbase64("attachment", &a.data_b64)?,
                            name: a.name,
                            content_type: a.content_type,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let out = self
                    .with(|p| Ok(p.send(&s.identity, &s.to, &s.subject, &s.text, &attachments)?))
                    .await?;
                self.wake().await;
                view(out)
            }
            "outbox" => {
                let OfIdentity { identity } = args(command, a)?;
                view(self.with(|p| Ok(p.outbox(Some(&identity))?)).await?)
            }
            "contacts" => {
                let OfIdentity { identity } = args(command, a)?;
                view(self.with(|p| Ok(p.contacts(&identity)?)).await?)
            }
            "introduce" => {
                let i: Introduce = args(command, a)?;
                let out = self
                    .with(|p| Ok(p.introduce(&i.identity, &i.whom, &i.to, i.both)?))
                    .await?;
                self.wake().await;
                view(out)
            }
            "create_invite" => {
                let OfIdentity { identity } = args(command, a)?;
                view(
                    self.with(|p| {
                        // Shown on the Meet screen: short-lived, and withdrawn when it closes.
                        let i = p.create_invite(&identity, SCREEN_INVITE_VALIDITY)?;
                        Ok(UiInvite {
                            id: i.id,
                            svg: Postern::qr_svg(&i.link)?,
                            link: i.link,
                            expires_at: i.expires_at,
                        })
                    })
                    .await?,
                )
            }
            "invites" => {
                let OfIdentity { identity } = args(command, a)?;
                view(self.with(|p| Ok(p.invites(&identity)?)).await?)
            }
            "withdraw_invite" => {
                let i: OfInvite = args(command, a)?;
                view(
                    self.with(|p| Ok(p.withdraw_invite(&i.identity, i.id)?))
                        .await?,
                )
            }
            "undo_invite" => {
                let i: OfInvite = args(command, a)?;
                view(self.with(|p| Ok(p.undo_invite(&i.identity, i.id)?)).await?)
            }
            "read_scanned" => {
                let Text { text } = args(command, a)?;
                view(self.with(|p| Ok(p.read_scanned(&text)?)).await?)
            }
            "scan_image" => {
                let Image { data_b64 } = args(command, a)?;
                let bytes = unbase64("image", &data_b64)?;
                view(self.with(|p| Ok(p.scan_image(&bytes)?)).await?)
            }
            "scan_frame" => {
                let f: Frame = args(command, a)?;
                let pixels = unbase64("camera frame", &f.pixels_b64)?;
                view(
                    self.with(|p| Ok(p.scan_frame(f.width, f.height, &pixels)?))
                        .await?,
                )
            }
            "accept_scanned" => {
                let s: AcceptScanned = args(command, a)?;
                let out = self
                    .with(|p| Ok(p.accept_scanned(&s.identity, &s.text)?))
                    .await?;
                self.wake().await;
                view(out)
            }
            "carriers" => {
                let OfIdentity { identity } = args(command, a)?;
                view(self.with(|p| Ok(p.carriers(&identity, 0.999)?)).await?)
            }
            "set_carrier_mode" => {
                let m: CarrierMode = args(command, a)?;
                view(
                    self.with(|p| Ok(p.set_carrier_mode(&m.identity, m.enabled)?))
                        .await?,
                )
            }
            "set_carrier_policy" => {
                let c: CarrierPolicy = args(command, a)?;
                view(
                    self.with(|p| {
                        // The list replaces the old one: stop carrying for whoever is no
                        // longer ticked.
                        let old = p.carrier_mode(&c.identity)?.carrying_for;
                        let drop: Vec<String> =
                            old.into_iter().filter(|x| !c.allow.contains(x)).collect();
                        Ok(p.set_carrier_policy(
                            &c.identity,
                            &c.allow,
                            &drop,
                            Some(c.quota_mb.saturating_mul(1024 * 1024)),
                            Some(c.max_hold_hours.saturating_mul(3600)),
                        )?)
                    })
                    .await?,
                )
            }
            "search" => {
                let q: Search = args(command, a)?;
                view(
                    self.with(|p| Ok(p.search(q.identity.as_deref(), &q.query, q.limit)?))
                        .await?,
                )
            }
            "change_passphrase" => {
                let c: NewPassphrase = args(command, a)?;
                self.with(|p| Ok(p.change_passphrase(c.old.as_bytes(), c.new.as_bytes())?))
                    .await?;
                view(self.app_status().await?)
            }
            "notification_settings" => view(self.with(|p| Ok(p.notification_settings()?)).await?),
            "set_notification_settings" => {
                let n: postern_core::NotificationSettings = args(command, a)?;
                self.with(|p| Ok(p.set_notification_settings(n)?)).await?;
                view(n)
            }
            "events" => {
                let After { after } = args(command, a)?;
                view(
                    self.with(|p| Ok(p.events_after(after, postern_core::MAX_EVENTS)?))
                        .await?,
                )
            }
            other => Err(ApiError::bad_input(format!(
                "there is no command {other:?}"
            ))),
        }
    }

    async fn app_status(&self) -> Result<AppStatus> {
        let config = self.config()?;
        Ok(AppStatus {
            initialized: Postern::exists(&config.data_dir),
            unlocked: self.postern.lock().await.is_some(),
            data_dir: config.data_dir.display().to_string(),
        })
    }
}
