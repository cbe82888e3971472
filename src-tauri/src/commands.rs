//! The Tauri commands: each one unpacks its arguments, calls `postern-core`, and returns the
//! core's view. Names and shapes are the UI's `src/api.ts`.

use data_encoding::BASE64;
use postern_core::{
    Attachment, CarrierModeView, CarriersView, ContactView, IdentityView, MessageSummary,
    MessageView, OutboxView, Postern, ScanPreview, DEFAULT_INVITE_VALIDITY,
};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::{CommandError, Result};
use crate::shell::{NodeStatus, Shell};

#[derive(Debug, Serialize)]
pub struct AppStatus {
    initialized: bool,
    unlocked: bool,
    data_dir: String,
}

fn unbase64(what: &str, b64: &str) -> Result<Vec<u8>> {
    BASE64
        .decode(b64.as_bytes())
        .map_err(|_| CommandError::new("BadInput", format!("the {what} is not valid base64")))
}

#[tauri::command]
pub async fn app_status(shell: State<'_, Shell>) -> Result<AppStatus> {
    Ok(AppStatus {
        initialized: Postern::exists(&shell.data_dir),
        unlocked: shell.postern.lock().await.is_some(),
        data_dir: shell.data_dir.display().to_string(),
    })
}

#[tauri::command]
pub async fn init_store(shell: State<'_, Shell>, passphrase: String) -> Result<AppStatus> {
    let p = Postern::init(&shell.data_dir, passphrase.as_bytes())?;
    *shell.postern.lock().await = Some(p);
    app_status(shell).await
}

#[tauri::command]
pub async fn unlock(shell: State<'_, Shell>, passphrase: String) -> Result<AppStatus> {
    let p = Postern::open(&shell.data_dir, passphrase.as_bytes())?;
    *shell.postern.lock().await = Some(p);
    app_status(shell).await
}

#[tauri::command]
pub async fn identities(shell: State<'_, Shell>) -> Result<Vec<IdentityView>> {
    shell.with(|p| Ok(p.identities()?)).await
}

#[tauri::command]
pub async fn create_identity(
    shell: State<'_, Shell>,
    name: String,
    display_name: String,
) -> Result<IdentityView> {
    shell
        .with(|p| Ok(p.create_identity(&name, &display_name)?))
        .await
}

#[tauri::command]
pub async fn start_node(shell: State<'_, Shell>) -> Result<NodeStatus> {
    shell.start_node().await?;
    Ok(shell.status())
}

#[tauri::command]
pub async fn node_status(shell: State<'_, Shell>) -> Result<NodeStatus> {
    Ok(shell.status())
}

#[tauri::command]
pub async fn inbox(shell: State<'_, Shell>, identity: String) -> Result<Vec<MessageSummary>> {
    shell.with(|p| Ok(p.inbox(Some(&identity))?)).await
}

#[tauri::command]
pub async fn requests(shell: State<'_, Shell>, identity: String) -> Result<Vec<MessageSummary>> {
    shell.with(|p| Ok(p.requests(Some(&identity))?)).await
}

#[tauri::command]
pub async fn read_message(shell: State<'_, Shell>, id: i64) -> Result<MessageView> {
    shell.with(|p| Ok(p.read(id)?)).await
}

#[tauri::command]
pub async fn accept_request(shell: State<'_, Shell>, id: i64) -> Result<ContactView> {
    shell.with(|p| Ok(p.accept_request(id)?)).await
}

#[derive(Debug, Deserialize)]
pub struct UiAttachment {
    name: String,
    content_type: String,
    data_b64: String,
}

#[tauri::command]
pub async fn send(
    shell: State<'_, Shell>,
    identity: String,
    to: String,
    subject: String,
    text: String,
    attachments: Vec<UiAttachment>,
) -> Result<OutboxView> {
    let attachments = attachments
        .into_iter()
        .map(|a| {
            Ok(Attachment {
                data: unbase64("attachment", &a.data_b64)?,
                name: a.name,
                content_type: a.content_type,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let out = shell
        .with(|p| Ok(p.send(&identity, &to, &subject, &text, &attachments)?))
        .await?;
    shell.wake().await;
    Ok(out)
}

#[tauri::command]
pub async fn outbox(shell: State<'_, Shell>, identity: String) -> Result<Vec<OutboxView>> {
    shell.with(|p| Ok(p.outbox(Some(&identity))?)).await
}

#[tauri::command]
pub async fn contacts(shell: State<'_, Shell>, identity: String) -> Result<Vec<ContactView>> {
    shell.with(|p| Ok(p.contacts(&identity)?)).await
}

#[tauri::command]
pub async fn introduce(
    shell: State<'_, Shell>,
    identity: String,
    whom: String,
    to: String,
    both: bool,
) -> Result<Vec<OutboxView>> {
    let out = shell
        .with(|p| Ok(p.introduce(&identity, &whom, &to, both)?))
        .await?;
    shell.wake().await;
    Ok(out)
}

#[derive(Debug, Serialize)]
pub struct UiInvite {
    link: String,
    svg: String,
    expires_at: i64,
}

#[tauri::command]
pub async fn create_invite(shell: State<'_, Shell>, identity: String) -> Result<UiInvite> {
    shell
        .with(|p| {
            let i = p.create_invite(&identity, DEFAULT_INVITE_VALIDITY)?;
            Ok(UiInvite {
                svg: Postern::qr_svg(&i.link)?,
                link: i.link,
                expires_at: i.expires_at,
            })
        })
        .await
}

#[tauri::command]
pub async fn read_scanned(shell: State<'_, Shell>, text: String) -> Result<ScanPreview> {
    shell.with(|p| Ok(p.read_scanned(&text)?)).await
}

#[tauri::command]
pub async fn scan_image(shell: State<'_, Shell>, data_b64: String) -> Result<ScanPreview> {
    let bytes = unbase64("image", &data_b64)?;
    shell.with(|p| Ok(p.scan_image(&bytes)?)).await
}

#[tauri::command]
pub async fn scan_frame(
    shell: State<'_, Shell>,
    width: u32,
    height: u32,
    pixels_b64: String,
) -> Result<ScanPreview> {
    let pixels = unbase64("camera frame", &pixels_b64)?;
    shell
        .with(|p| Ok(p.scan_frame(width, height, &pixels)?))
        .await
}

#[tauri::command]
pub async fn accept_scanned(
    shell: State<'_, Shell>,
    identity: String,
    text: String,
) -> Result<ContactView> {
    let out = shell
        .with(|p| Ok(p.accept_scanned(&identity, &text)?))
        .await?;
    shell.wake().await;
    Ok(out)
}

#[tauri::command]
pub async fn carriers(shell: State<'_, Shell>, identity: String) -> Result<CarriersView> {
    shell.with(|p| Ok(p.carriers(&identity, 0.999)?)).await
}

#[tauri::command]
pub async fn set_carrier_mode(
    shell: State<'_, Shell>,
    identity: String,
    enabled: bool,
) -> Result<CarrierModeView> {
    shell
        .with(|p| Ok(p.set_carrier_mode(&identity, enabled)?))
        .await
}

#[tauri::command]
pub async fn set_carrier_policy(
    shell: State<'_, Shell>,
    identity: String,
    allow: Vec<String>,
    quota_mb: i64,
    max_hold_hours: i64,
) -> Result<CarrierModeView> {
    shell
        .with(|p| {
            // The list replaces the old one: stop carrying for whoever is no longer ticked.
            let old = p.carrier_mode(&identity)?.carrying_for;
            let drop: Vec<String> = old.into_iter().filter(|a| !allow.contains(a)).collect();
            Ok(p.set_carrier_policy(
                &identity,
                &allow,
                &drop,
                Some(quota_mb.saturating_mul(1024 * 1024)),
                Some(max_hold_hours.saturating_mul(3600)),
            )?)
        })
        .await
}
