//! What the API returns: plain data for people (CLI text), scripts (`--json`) and the web UI.

use serde::Serialize;

/// One of the device's identities.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IdentityView {
    /// Local number (stable for the life of the identity on this device).
    pub id: i64,
    /// `local@<onion>.onion`.
    pub address: String,
    /// The name shown to contacts.
    pub display_name: String,
    /// OpenPGP fingerprint, upper-case hex.
    pub fingerprint: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// Number of contacts in this identity's address book.
    pub contacts: usize,
    /// For a hosted account (someone else's mailbox on this device, under one of our onions):
    /// the address of the identity that hosts it. Its mail is readable on this device.
    pub hosted_by: Option<String>,
    /// A hosted account whose holder gave their own OpenPGP key: what Postern senders write to
    /// it is end-to-end encrypted to the holder, and the host cannot read it.
    pub holder_key: bool,
}

/// A contact in one identity's address book.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactView {
    /// Local number.
    pub id: i64,
    /// The identity whose contact this is.
    pub identity_id: i64,
    /// The contact's address.
    pub address: String,
    /// The contact's display name.
    pub display_name: String,
    /// OpenPGP fingerprint, upper-case hex.
    pub fingerprint: String,
    /// Whether we hold the contact's OpenPGP key (otherwise it is fetched on first contact).
    pub has_key: bool,
    /// How the contact was verified: `scanned` (QR code or invite link), `confirmed` (the
    /// person compared fingerprints), `introduced`, `card` (a card handed over), `first_contact`.
    pub verification: String,
    /// When it was added (Unix seconds).
    pub added_at: i64,
    /// The trust shown: `verified`, `vouched` (two or more independent introducers), `introduced`,
    /// `unverified`, or `revoked`.
    pub trust: String,
    /// The same as a sentence ("verified by scan; introduced by Bob").
    pub trust_label: String,
    /// Who introduced this contact, and when; conflicting introductions are flagged.
    pub introductions: Vec<IntroductionView>,
    /// Revocations received from this contact.
    pub revocations: Vec<crate::RevocationView>,
}

/// One introduction of a contact.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IntroductionView {
    /// The introducer's address.
    pub introducer: String,
    /// The introducer's name in the address book.
    pub introducer_name: String,
    /// When it arrived (Unix seconds).
    pub received_at: i64,
    /// The fingerprint the introducer vouched for.
    pub fingerprint: String,
    /// It contradicts the key held for this address (never merged).
    pub conflict: bool,
}

/// A summary of the device.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatusView {
    /// The data directory.
    pub data_dir: String,
    /// The store's schema version.
    pub schema_version: i64,
    /// Number of identities.
    pub identities: usize,
    /// Number of contacts over all identities.
    pub contacts: usize,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
