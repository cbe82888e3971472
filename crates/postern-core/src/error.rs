use postern_card::CardError;
use postern_crypto::CryptoError;
use postern_store::StoreError;
use postern_types::{AddressError, ErrorKind, HasKind};

/// Errors of the core API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// From the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// From key handling.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A backup could not be written or restored.
    #[error(transparent)]
    Backup(#[from] postern_store::BackupError),
    /// A contact card was refused.
    #[error(transparent)]
    Card(#[from] CardError),
    /// From the network layer.
    #[error(transparent)]
    Transport(#[from] postern_transport::TransportError),
    /// An address or name was invalid.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// No identity matches what was asked for.
    #[error("no identity matches {0:?} (see `postern identity list`)")]
    IdentityNotFound(String),
    /// More than one identity matches.
    #[error("{0:?} matches more than one identity; use its number or full address")]
    AmbiguousIdentity(String),
    /// No such contact.
    #[error("no contact {0} for this identity")]
    ContactNotFound(String),
    /// A card of the identity itself was offered as its own contact.
    #[error("this is the identity's own card; add it to a different identity")]
    OwnCard,
    /// The contact is already in the address book with a different key.
    #[error("{0} is already a contact with a different key; refusing to replace it")]
    ConflictingContact(String),
    /// A QR code could not be made or read.
    #[error(transparent)]
    Qr(#[from] postern_qr::QrError),
    /// A node already runs on this data directory.
    #[error("a Postern node is already running on {0} (only one may serve its identities)")]
    AlreadyRunning(std::path::PathBuf),
    /// Something stored is damaged.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// No such message.
    #[error("no message {0}")]
    MessageNotFound(i64),
    /// The message is not a contact request.
    #[error("message {0} is not a contact request")]
    NotARequest(i64),
    /// The message to send is not acceptable.
    #[error("cannot send: {0}")]
    BadDraft(String),
    /// A mailbox that does not exist, or a move the mailbox model does not allow.
    #[error("{0}")]
    BadMailbox(String),
    /// No draft with that number.
    #[error("no draft {0}")]
    DraftNotFound(i64),
    /// An OpenPGP or address error from a lower layer.
    #[error(transparent)]
    Onion(#[from] postern_types::OnionAddressError),
    /// The invite expired before it was used.
    #[error("this invite expired {0}; ask for a new QR code or link")]
    InviteExpired(String),
    /// The contact (or one of our identities) revoked this address or key.
    #[error("{0}")]
    Revoked(String),
    /// The node must be stopped for this change.
    #[error("stop the running node (`postern run`) on {0} first: {1}")]
    NodeRunning(std::path::PathBuf, &'static str),
    /// The passphrase is unacceptable for a new store.
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    /// A setting out of its range.
    #[error("{0}")]
    BadSetting(String),
    /// No open invite with this number (redeemed, expired and forgotten, or another's).
    #[error("invite {0} is not open: it was redeemed, withdrawn, or is not this identity's")]
    InviteNotOpen(i64),
    /// No redeemed invite with this number whose redeemer is still a contact.
    #[error("invite {0} was not redeemed by anyone still in the address book")]
    InviteNotRedeemed(i64),
    /// An address that is not one of the identity's own devices.
    #[error("{0} is not one of this identity's own devices")]
    NotOwnDevice(String),
    /// Text given as a device invite that is not one (`POSTERN-OWN-DEVICE:…`).
    #[error("not a device invite: {0}")]
    NotADeviceInvite(String),
    /// A device link that is not one (`POSTERN-DEVICE:…`).
    #[error("not a device link: {0}")]
    BadDeviceLink(String),
    /// The identity's service runs on another device, or could not be moved here.
    #[error("{0}")]
    ServiceElsewhere(String),
    /// The other device refused or broke off the transfer.
    #[error("device transfer: {0}")]
    DeviceTransfer(String),
    /// No list of this identity matches.
    #[error("no list {0:?} for this identity")]
    ListNotFound(String),
    /// The list cannot do that in its state, or the protocol refused it.
    #[error("list: {0}")]
    List(String),
}

impl HasKind for CoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            CoreError::Store(e) => e.kind(),
            CoreError::Crypto(e) => e.kind(),
            CoreError::BadDeviceLink(_) | CoreError::NotADeviceInvite(_) => ErrorKind::BadInput,
            CoreError::DeviceTransfer(_) => ErrorKind::Unreachable,
            CoreError::ServiceElsewhere(_) => ErrorKind::AlreadyExists,
            CoreError::Backup(e) => e.kind(),
            CoreError::Card(e) => e.kind(),
            CoreError::Transport(e) => e.kind(),
            CoreError::Address(_) | CoreError::OwnCard | CoreError::EmptyPassphrase => {
                ErrorKind::BadInput
            }
            CoreError::AmbiguousIdentity(_) => ErrorKind::BadInput,
            CoreError::IdentityNotFound(_) | CoreError::ContactNotFound(_) => ErrorKind::NotFound,
            CoreError::ConflictingContact(_) | CoreError::Revoked(_) => ErrorKind::Untrusted,
            CoreError::InviteExpired(_) => ErrorKind::BadInput,
            CoreError::NodeRunning(..) => ErrorKind::AlreadyExists,
            CoreError::Corrupt(_) => ErrorKind::Corrupt,
            CoreError::AlreadyRunning(_) => ErrorKind::AlreadyExists,
            CoreError::Qr(e) => e.kind(),
            CoreError::MessageNotFound(_)
            | CoreError::DraftNotFound(_)
            | CoreError::InviteNotOpen(_)
            | CoreError::InviteNotRedeemed(_)
            | CoreError::NotOwnDevice(_)
            | CoreError::ListNotFound(_) => ErrorKind::NotFound,
            CoreError::NotARequest(_)
            | CoreError::BadDraft(_)
            | CoreError::BadMailbox(_)
            | CoreError::BadSetting(_)
            | CoreError::List(_)
            | CoreError::Onion(_) => ErrorKind::BadInput,
        }
    }
}
