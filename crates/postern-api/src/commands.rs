//! The command set, defined once: each command's name, argument type and result type. The
//! table below generates `COMMANDS`, the dispatch (`Session::call`) and the UI's TypeScript
//! (`crate::bindings`), so the three cannot disagree. What each command does is in
//! `handlers.rs`.

use postern_core::{
    CarrierModeView, CarriersView, ContactView, DraftView, EventView, GatewayView, IdentityView,
    ListMemberView, ListPostView, ListView, LostDevice, MailboxView, MessageSummary, MessageView,
    MoveView, NotificationSettings, OutboxView, OwnDeviceView, RecipientCheck, RevocationView,
    ScanPreview, SearchResult, ServiceView,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::args::*;
use crate::devices::{
    DeviceOffer, DeviceOfferView, DeviceReceive, DeviceTakeOver, DeviceTransferView, TakeOverView,
};
use crate::error::{ApiError, Result};
use crate::handlers::Handlers;
use crate::session::{NodeStatus, Session};

macro_rules! command_set {
    ($( $(#[doc = $doc:literal])* $name:ident ( $args:ty ) -> $out:ty ; )*) => {
        /// Every command's name.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        impl Session {
            /// Run one command with its JSON arguments; its view as JSON. Whatever it changed
            /// is then announced to subscribers (see `Session::subscribe`).
            pub async fn call(&self, command: &str, a: Value) -> Result<Value> {
                let r = self.dispatch(command, a).await;
                self.changed();
                r
            }

            async fn dispatch(&self, command: &str, a: Value) -> Result<Value> {
                let h = Handlers(self);
                match command {
                    $( stringify!($name) => {
                        let a: $args = args(command, a)?;
                        let out: $out = h.$name(a).await?;
                        view(out)
                    } )*
                    other => Err(ApiError::bad_input(format!("there is no command {other:?}"))),
                }
            }
        }

        /// Declare every command (with its documentation) to the bindings.
        pub(crate) fn declare(b: &mut crate::bindings::Bindings) {
            $( b.command::<$args, $out>(stringify!($name), &[$($doc),*]); )*
        }
    };
}

command_set! {
    /// Whether a store exists and is unlocked, and where.
    app_status(NoArgs) -> AppStatus;
    /// Create the store with a passphrase.
    init_store(Passphrase) -> AppStatus;
    /// Open the store.
    unlock(Passphrase) -> AppStatus;
    /// Change the store's passphrase.
    change_passphrase(NewPassphrase) -> AppStatus;
    /// Write an encrypted backup to a file (all identities or chosen ones, with or without mail).
    backup_export(BackupExport) -> BackupView;
    /// A new device: restore a backup into the empty data directory, and unlock it.
    backup_import(BackupImport) -> BackupView;
    /// Offer this device's identities to a new one: a one-time link and QR code; the transfer
    /// runs in the background (see `device_status`).
    device_offer(DeviceOffer) -> DeviceOfferView;
    /// How far the offer or the receiving has come.
    device_status(NoArgs) -> DeviceTransferView;
    /// Where each identity's service runs: here, or on another of the person's devices.
    device_services(NoArgs) -> Vec<ServiceView>;
    /// Serve an identity (or all that another device serves) here from now on: the device
    /// serving it stops and hands over, or, if none answers, this device takes over.
    device_take_over(DeviceTakeOver) -> Vec<TakeOverView>;
    /// Another device holding the identity is lost: serve it only here (the next term) and
    /// replace its key (or revoke its address), telling every contact.
    device_lost(Revoke) -> LostDevice;
    /// A device invite for another device of this person (one use, ten minutes): whoever
    /// redeems it becomes an own device (carries, gets copies of mail, keeps flags in step).
    device_link_offer(OfIdentity) -> UiInvite;
    /// Redeem another device's device invite: the two link once the handshake arrives.
    device_link_accept(AcceptScanned) -> ContactView;
    /// The devices linked with an identity.
    own_devices(OfIdentity) -> Vec<OwnDeviceView>;
    /// Unlink a device (it stays a contact); the devices still linked.
    device_unlink(DeviceUnlink) -> Vec<OwnDeviceView>;
    /// A new device: receive the identities a link offers, and unlock the new store.
    device_receive(DeviceReceive) -> BackupView;
    /// Every identity.
    identities(NoArgs) -> Vec<IdentityView>;
    /// A new identity (its own onion address and keys).
    create_identity(NewIdentity) -> IdentityView;
    /// Delete an identity with its keys, contacts and mail.
    delete_identity(OfIdentity) -> IdentityView;
    /// Revoke an identity's key (replaced by a new one) or its whole address; contacts are told.
    revoke(Revoke) -> RevocationView;
    /// Join the network and serve every identity.
    start_node(NoArgs) -> NodeStatus;
    /// The node's state.
    node_status(NoArgs) -> NodeStatus;
    /// An identity's mailboxes, with counts.
    mailboxes(OfIdentity) -> Vec<MailboxView>;
    /// The messages of one mailbox, newest first.
    mailbox(OfMailbox) -> Vec<MessageSummary>;
    /// Mail from contacts.
    inbox(OfIdentity) -> Vec<MessageSummary>;
    /// Mail from strangers: contact requests.
    requests(OfIdentity) -> Vec<MessageSummary>;
    /// Open a message (and mark it read).
    read_message(ById) -> MessageView;
    /// The conversation a message is in, oldest first.
    thread(ById) -> Vec<MessageSummary>;
    /// Change a message's flags.
    set_flags(SetFlags) -> MessageSummary;
    /// Move a message to another mailbox (undo: move it back to `from`).
    move_message(MoveTo) -> MoveView;
    /// Put a message in the Archive.
    archive(ById) -> MoveView;
    /// Delete a message: to the Trash, or from there for good.
    trash(ById) -> MoveView;
    /// Save a message's attachments into a folder.
    save_attachments(SaveAttachments) -> Vec<String>;
    /// Accept a contact request.
    accept_request(ById) -> ContactView;
    /// Decline a contact request (its sender's waiting messages are deleted).
    decline_request(ById) -> usize;
    /// Delete a message for good.
    delete_message(ById) -> ();
    /// A reply, as a new draft.
    reply(Reply) -> DraftView;
    /// A forward, as a new draft.
    forward(ById) -> DraftView;
    /// Save what is being written.
    save_draft(SaveDraft) -> DraftView;
    /// A draft, to go on writing.
    draft(ById) -> DraftView;
    /// Throw a draft away.
    discard_draft(ById) -> ();
    /// Send a draft (queued, and filed in Sent).
    send_draft(ById) -> OutboxView;
    /// Whether to ask before this identity writes to this address.
    check_recipient(CheckRecipient) -> RecipientCheck;
    /// Write and send in one step (to an ordinary address through a gateway contact with
    /// `via_gateway`).
    send(Send) -> OutboxView;
    /// The identity's gateway settings, if it is a gateway to ordinary email.
    gateway(OfIdentity) -> Option<GatewayView>;
    /// The outbox.
    outbox(OfIdentity) -> Vec<OutboxView>;
    /// An identity's contacts.
    contacts(OfIdentity) -> Vec<ContactView>;
    /// Mark a contact verified, after comparing fingerprints in person.
    confirm_contact(OfContact) -> ContactView;
    /// Introduce one contact to another.
    introduce(Introduce) -> Vec<OutboxView>;
    /// A short-lived invite for the Meet screen (QR code and link).
    create_invite(OfIdentity) -> UiInvite;
    /// An identity's invites.
    invites(OfIdentity) -> Vec<postern_core::InviteStateView>;
    /// Withdraw an open invite.
    withdraw_invite(OfInvite) -> ();
    /// Undo a redeemed invite (the contact it made is removed).
    undo_invite(OfInvite) -> postern_core::RedeemerView;
    /// What a scanned or pasted invite or card says (nothing is stored).
    read_scanned(Text) -> ScanPreview;
    /// Read a QR code from an image file.
    scan_image(Image) -> ScanPreview;
    /// Read a QR code from a camera frame (grey pixels).
    scan_frame(Frame) -> ScanPreview;
    /// Accept a scanned invite or card: the contact is added and the handshake queued.
    accept_scanned(AcceptScanned) -> ContactView;
    /// An identity's mailing lists and invitations to lists.
    lists(OfIdentity) -> Vec<ListView>;
    /// Create a list; the identity is its moderator.
    list_create(NewList) -> ListView;
    /// Invite a contact to a list.
    list_invite(ListInvite) -> ();
    /// Accept an invitation to a list.
    list_join(OfList) -> ListView;
    /// Post to a list; the post's id (hex).
    list_post(ListPost) -> String;
    /// A list's posts, oldest first.
    list_posts(OfList) -> Vec<ListPostView>;
    /// Save the attachments of a list's posts that are here into a folder.
    save_list_attachments(SaveListAttachments) -> Vec<String>;
    /// A list's members in good standing.
    list_members(OfList) -> Vec<ListMemberView>;
    /// Leave a list: the identity's list key is revoked.
    list_leave(OfList) -> ListView;
    /// An identity's carriers, its contacts' carriers and what it holds.
    carriers(OfIdentity) -> CarriersView;
    /// Use (or stop using) a contact as a carrier; every contact is told.
    designate_carrier(Designate) -> Vec<OutboxView>;
    /// Carry mail for contacts, or stop.
    set_carrier_mode(CarrierMode) -> CarrierModeView;
    /// Whom to carry for, and how much for how long.
    set_carrier_policy(CarrierPolicy) -> CarrierModeView;
    /// Search mail.
    search(Search) -> Vec<SearchResult>;
    /// Changes after a point in the change log.
    events(After) -> Vec<EventView>;
    /// What notifications may say.
    notification_settings(NoArgs) -> NotificationSettings;
    /// Set what notifications may say.
    set_notification_settings(NotificationSettings) -> NotificationSettings;
}

pub(crate) fn args<T: DeserializeOwned>(command: &str, args: Value) -> Result<T> {
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
