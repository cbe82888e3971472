//! The commands' argument types, and the few views only the app has. Each derives `TS`: the
//! UI's TypeScript is generated from these (`crate::bindings`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Serialize, TS)]
pub(crate) struct AppStatus {
    pub(crate) initialized: bool,
    pub(crate) unlocked: bool,
    pub(crate) data_dir: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct Passphrase {
    pub(crate) passphrase: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewIdentity {
    pub(crate) name: String,
    pub(crate) display_name: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct OfIdentity {
    pub(crate) identity: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct Search {
    /// An identity's mail; absent (or null) searches every identity.
    pub(crate) identity: Option<String>,
    pub(crate) query: String,
    #[serde(default = "default_results")]
    pub(crate) limit: usize,
}

pub(crate) fn default_results() -> usize {
    50
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct NewPassphrase {
    pub(crate) old: String,
    pub(crate) new: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct After {
    #[serde(default)]
    pub(crate) after: i64,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct ById {
    pub(crate) id: i64,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct UiAttachment {
    pub(crate) name: String,
    pub(crate) content_type: String,
    pub(crate) data_b64: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct Send {
    pub(crate) identity: String,
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) text: String,
    #[serde(default)]
    pub(crate) attachments: Vec<UiAttachment>,
    /// Send to an ordinary address (`to` is name@domain) through this contact, a gateway: it
    /// leaves the gateway as ordinary email, readable there and by the recipient's servers.
    #[serde(default)]
    pub(crate) via_gateway: Option<String>,
    /// With `via_gateway`: the recipient's OpenPGP public key (armored), which the gateway
    /// encrypts the message to.
    #[serde(default)]
    pub(crate) to_key: Option<String>,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct Introduce {
    pub(crate) identity: String,
    pub(crate) whom: String,
    pub(crate) to: String,
    #[serde(default)]
    pub(crate) both: bool,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct OfInvite {
    pub(crate) identity: String,
    pub(crate) id: i64,
}

#[derive(Debug, Serialize, TS)]
pub(crate) struct UiInvite {
    pub(crate) id: i64,
    pub(crate) link: String,
    pub(crate) svg: String,
    pub(crate) expires_at: i64,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct Text {
    pub(crate) text: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Image {
    pub(crate) data_b64: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Frame {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) pixels_b64: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct AcceptScanned {
    pub(crate) identity: String,
    pub(crate) text: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct DeviceUnlink {
    pub(crate) identity: String,
    /// The device's identity address.
    pub(crate) device: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct CarrierMode {
    pub(crate) identity: String,
    pub(crate) enabled: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CarrierPolicy {
    pub(crate) identity: String,
    pub(crate) allow: Vec<String>,
    pub(crate) quota_mb: i64,
    pub(crate) max_hold_hours: i64,
}

/// No arguments.
#[derive(Debug, Deserialize, TS)]
pub(crate) struct NoArgs {}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct OfMailbox {
    pub(crate) identity: String,
    /// `inbox`, `requests`, `drafts`, `sent`, `archive` or `trash`.
    pub(crate) mailbox: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct SetFlags {
    pub(crate) id: i64,
    #[serde(flatten)]
    pub(crate) flags: postern_core::FlagChange,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct MoveTo {
    pub(crate) id: i64,
    pub(crate) to: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct Reply {
    pub(crate) id: i64,
    /// Everyone the message went to, not only its sender.
    #[serde(default)]
    pub(crate) all: bool,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct SaveDraft {
    #[serde(flatten)]
    pub(crate) draft: postern_core::DraftInput,
    /// Files to attach, added to what the draft already has.
    #[serde(default)]
    pub(crate) attach: Vec<UiAttachment>,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct CheckRecipient {
    pub(crate) identity: String,
    pub(crate) to: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct SaveAttachments {
    pub(crate) id: i64,
    /// The folder to save into (chosen in a file dialog).
    pub(crate) dir: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct OfContact {
    pub(crate) identity: String,
    pub(crate) address: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct Designate {
    pub(crate) identity: String,
    pub(crate) carrier: String,
    /// False: stop using it as a carrier.
    pub(crate) designate: bool,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct NewList {
    pub(crate) identity: String,
    pub(crate) name: String,
}

/// One list of an identity: its name, or its id in hex.
#[derive(Debug, Deserialize, TS)]
pub(crate) struct OfList {
    pub(crate) identity: String,
    pub(crate) list: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct ListInvite {
    pub(crate) identity: String,
    pub(crate) list: String,
    /// The contact's address.
    pub(crate) contact: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct ListPost {
    pub(crate) identity: String,
    pub(crate) list: String,
    pub(crate) subject: String,
    pub(crate) text: String,
    #[serde(default)]
    pub(crate) attachments: Vec<UiAttachment>,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct SaveListAttachments {
    pub(crate) identity: String,
    pub(crate) list: String,
    /// The folder to save into (chosen in a file dialog).
    pub(crate) dir: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct Revoke {
    pub(crate) identity: String,
    /// The whole address (true), or only its OpenPGP key, replaced by a new one (false).
    #[serde(default)]
    pub(crate) address: bool,
    #[serde(default)]
    pub(crate) reason: String,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct BackupExport {
    /// Where to write it (must not exist).
    pub(crate) file: String,
    /// The backup's own passphrase.
    pub(crate) passphrase: String,
    /// Only these identities (and what they need); empty: all.
    #[serde(default)]
    pub(crate) identities: Vec<String>,
    /// With their mail.
    pub(crate) mail: bool,
}

#[derive(Debug, Deserialize, TS)]
pub(crate) struct BackupImport {
    /// The backup file.
    pub(crate) file: String,
    /// The backup's passphrase.
    pub(crate) passphrase: String,
    /// The passphrase for this device's new store.
    pub(crate) new_passphrase: String,
}

/// What a backup holds.
#[derive(Debug, Serialize, TS)]
pub(crate) struct BackupView {
    pub(crate) file: String,
    pub(crate) identities: Vec<String>,
    pub(crate) mail: bool,
    pub(crate) messages: i64,
    pub(crate) attachments: i64,
    pub(crate) bytes: i64,
    /// Attachments already missing from the store, so not in the backup.
    pub(crate) missing: usize,
    pub(crate) created_at: i64,
}

impl BackupView {
    pub(crate) fn new(file: String, s: postern_core::BackupSummary) -> Self {
        BackupView {
            file,
            identities: s.identities,
            mail: s.mail,
            messages: s.messages,
            attachments: s.blobs,
            bytes: i64::try_from(s.bytes).unwrap_or(i64::MAX),
            missing: s.missing.len(),
            created_at: s.created_at,
        }
    }
}
