//! What each command does: unpack its arguments, call `postern-core`, return its view. One
//! method per command of `commands.rs`, of the same name. Nothing is decided here.

use data_encoding::BASE64;
use postern_core::{
    Attachment, CarrierModeView, CarriersView, ContactView, DraftView, EventView, GatewayView,
    IdentityView, InviteStateView, ListMemberView, ListPostView, ListView, MailboxView,
    MessageSummary, MessageView, MoveView, NotificationSettings, OutboxView, Postern,
    RecipientCheck, RedeemerView, RevocationScope, RevocationView, ScanPreview, SearchResult,
    DEFAULT_CARRIER_TARGET, SCREEN_INVITE_VALIDITY,
};

use crate::args::*;
use crate::error::{ApiError, Result};
use crate::session::{NodeStatus, Session};

/// The commands, on a session.
pub(crate) struct Handlers<'a>(pub(crate) &'a Session);

fn unbase64(what: &str, b64: &str) -> Result<Vec<u8>> {
    BASE64
        .decode(b64.as_bytes())
        .map_err(|_| ApiError::bad_input(format!("the {what} is not valid base64")))
}

fn attachments(list: Vec<UiAttachment>) -> Result<Vec<Attachment>> {
    list.into_iter()
        .map(|a| {
            Ok(Attachment {
                data: unbase64("attachment", &a.data_b64)?,
                name: a.name,
                content_type: a.content_type,
            })
        })
        .collect()
}

impl Handlers<'_> {
    pub(crate) async fn app_status(&self, _: NoArgs) -> Result<AppStatus> {
        let config = self.0.config()?;
        Ok(AppStatus {
            initialized: Postern::exists(&config.data_dir),
            unlocked: self.0.postern.lock().await.is_some(),
            data_dir: config.data_dir.display().to_string(),
        })
    }

    pub(crate) async fn init_store(&self, a: Passphrase) -> Result<AppStatus> {
        let p = Postern::init(&self.0.config()?.data_dir, a.passphrase.as_bytes())?;
        *self.0.postern.lock().await = Some(p);
        self.0.follow_events().await;
        self.app_status(NoArgs {}).await
    }

    pub(crate) async fn unlock(&self, a: Passphrase) -> Result<AppStatus> {
        let p = Postern::open(&self.0.config()?.data_dir, a.passphrase.as_bytes())?;
        *self.0.postern.lock().await = Some(p);
        self.0.follow_events().await;
        self.app_status(NoArgs {}).await
    }

    pub(crate) async fn change_passphrase(&self, a: NewPassphrase) -> Result<AppStatus> {
        self.0
            .with(|p| Ok(p.change_passphrase(a.old.as_bytes(), a.new.as_bytes())?))
            .await?;
        self.app_status(NoArgs {}).await
    }

    pub(crate) async fn backup_export(&self, a: BackupExport) -> Result<BackupView> {
        let file = std::path::PathBuf::from(&a.file);
        let summary = self
            .0
            .with(|p| {
                Ok(p.export_backup(
                    &file,
                    a.passphrase.as_bytes(),
                    &a.identities,
                    a.mail,
                    &mut |_, _| {},
                )?)
            })
            .await?;
        Ok(BackupView::new(a.file, summary))
    }

    pub(crate) async fn backup_import(&self, a: BackupImport) -> Result<BackupView> {
        let dir = self.0.config()?.data_dir.clone();
        let (p, summary) = Postern::import_backup(
            &dir,
            std::path::Path::new(&a.file),
            a.passphrase.as_bytes(),
            a.new_passphrase.as_bytes(),
            &mut |_, _| {},
        )?;
        *self.0.postern.lock().await = Some(p);
        self.0.follow_events().await;
        Ok(BackupView::new(a.file, summary))
    }

    pub(crate) async fn identities(&self, _: NoArgs) -> Result<Vec<IdentityView>> {
        self.0.with(|p| Ok(p.identities()?)).await
    }

    pub(crate) async fn create_identity(&self, a: NewIdentity) -> Result<IdentityView> {
        self.0
            .with(|p| Ok(p.create_identity(&a.name, &a.display_name)?))
            .await
    }

    pub(crate) async fn delete_identity(&self, a: OfIdentity) -> Result<IdentityView> {
        self.0.with(|p| Ok(p.delete_identity(&a.identity)?)).await
    }

    pub(crate) async fn revoke(&self, a: Revoke) -> Result<RevocationView> {
        let scope = if a.address {
            RevocationScope::Address
        } else {
            RevocationScope::Key
        };
        let out = self
            .0
            .with(|p| Ok(p.revoke(&a.identity, scope, &a.reason)?))
            .await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn start_node(&self, _: NoArgs) -> Result<NodeStatus> {
        self.0.start_node().await?;
        Ok(self.0.status())
    }

    pub(crate) async fn node_status(&self, _: NoArgs) -> Result<NodeStatus> {
        self.0.refresh_status().await;
        Ok(self.0.status())
    }

    pub(crate) async fn mailboxes(&self, a: OfIdentity) -> Result<Vec<MailboxView>> {
        self.0.with(|p| Ok(p.mailboxes(&a.identity)?)).await
    }

    pub(crate) async fn mailbox(&self, a: OfMailbox) -> Result<Vec<MessageSummary>> {
        self.0
            .with(|p| Ok(p.mailbox(&a.identity, &a.mailbox)?))
            .await
    }

    pub(crate) async fn inbox(&self, a: OfIdentity) -> Result<Vec<MessageSummary>> {
        self.0.with(|p| Ok(p.inbox(Some(&a.identity))?)).await
    }

    pub(crate) async fn requests(&self, a: OfIdentity) -> Result<Vec<MessageSummary>> {
        self.0.with(|p| Ok(p.requests(Some(&a.identity))?)).await
    }

    pub(crate) async fn read_message(&self, a: ById) -> Result<MessageView> {
        self.0.with(|p| Ok(p.read(a.id)?)).await
    }

    pub(crate) async fn thread(&self, a: ById) -> Result<Vec<MessageSummary>> {
        self.0.with(|p| Ok(p.thread(a.id)?)).await
    }

    pub(crate) async fn set_flags(&self, a: SetFlags) -> Result<MessageSummary> {
        self.0.with(|p| Ok(p.set_flags(a.id, a.flags)?)).await
    }

    pub(crate) async fn move_message(&self, a: MoveTo) -> Result<MoveView> {
        self.0.with(|p| Ok(p.move_message(a.id, &a.to)?)).await
    }

    pub(crate) async fn archive(&self, a: ById) -> Result<MoveView> {
        self.0.with(|p| Ok(p.archive(a.id)?)).await
    }

    pub(crate) async fn trash(&self, a: ById) -> Result<MoveView> {
        self.0.with(|p| Ok(p.trash(a.id)?)).await
    }

    pub(crate) async fn save_attachments(&self, a: SaveAttachments) -> Result<Vec<String>> {
        let dir = std::path::PathBuf::from(a.dir);
        if !dir.is_absolute() {
            return Err(ApiError::bad_input(
                "choose a folder to save into (a full path)",
            ));
        }
        let saved = self.0.with(|p| Ok(p.save_attachments(a.id, &dir)?)).await?;
        Ok(saved.iter().map(|p| p.display().to_string()).collect())
    }

    pub(crate) async fn accept_request(&self, a: ById) -> Result<ContactView> {
        self.0.with(|p| Ok(p.accept_request(a.id)?)).await
    }

    pub(crate) async fn decline_request(&self, a: ById) -> Result<usize> {
        self.0.with(|p| Ok(p.decline_request(a.id)?)).await
    }

    pub(crate) async fn delete_message(&self, a: ById) -> Result<()> {
        self.0.with(|p| Ok(p.delete_message(a.id)?)).await
    }

    pub(crate) async fn reply(&self, a: Reply) -> Result<DraftView> {
        self.0.with(|p| Ok(p.reply(a.id, a.all)?)).await
    }

    pub(crate) async fn forward(&self, a: ById) -> Result<DraftView> {
        self.0.with(|p| Ok(p.forward(a.id)?)).await
    }

    pub(crate) async fn save_draft(&self, a: SaveDraft) -> Result<DraftView> {
        let add = attachments(a.attach)?;
        self.0.with(|p| Ok(p.save_draft(&a.draft, &add)?)).await
    }

    pub(crate) async fn draft(&self, a: ById) -> Result<DraftView> {
        self.0.with(|p| Ok(p.draft(a.id)?)).await
    }

    pub(crate) async fn discard_draft(&self, a: ById) -> Result<()> {
        self.0.with(|p| Ok(p.discard_draft(a.id)?)).await
    }

    pub(crate) async fn send_draft(&self, a: ById) -> Result<OutboxView> {
        let out = self.0.with(|p| Ok(p.send_draft(a.id)?)).await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn check_recipient(&self, a: CheckRecipient) -> Result<RecipientCheck> {
        self.0
            .with(|p| Ok(p.check_recipient(&a.identity, &a.to)?))
            .await
    }

    pub(crate) async fn send(&self, s: Send) -> Result<OutboxView> {
        let add = attachments(s.attachments)?;
        let out = self
            .0
            .with(|p| {
                Ok(match &s.via_gateway {
                    Some(gw) => p.send_via_gateway(
                        &s.identity,
                        gw,
                        &s.to,
                        &s.subject,
                        &s.text,
                        &add,
                        s.to_key.as_deref().map(str::as_bytes),
                    )?,
                    None => p.send(&s.identity, &s.to, &s.subject, &s.text, &add)?,
                })
            })
            .await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn gateway(&self, a: OfIdentity) -> Result<Option<GatewayView>> {
        self.0.with(|p| Ok(p.gateway_settings(&a.identity)?)).await
    }

    pub(crate) async fn outbox(&self, a: OfIdentity) -> Result<Vec<OutboxView>> {
        self.0.with(|p| Ok(p.outbox(Some(&a.identity))?)).await
    }

    pub(crate) async fn contacts(&self, a: OfIdentity) -> Result<Vec<ContactView>> {
        self.0.with(|p| Ok(p.contacts(&a.identity)?)).await
    }

    pub(crate) async fn confirm_contact(&self, a: OfContact) -> Result<ContactView> {
        self.0
            .with(|p| Ok(p.confirm_contact(&a.identity, &a.address)?))
            .await
    }

    pub(crate) async fn introduce(&self, i: Introduce) -> Result<Vec<OutboxView>> {
        let out = self
            .0
            .with(|p| Ok(p.introduce(&i.identity, &i.whom, &i.to, i.both)?))
            .await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn create_invite(&self, a: OfIdentity) -> Result<UiInvite> {
        self.0
            .with(|p| {
                // Shown on the Meet screen: short-lived, and withdrawn when it closes.
                let i = p.create_invite(&a.identity, SCREEN_INVITE_VALIDITY)?;
                Ok(UiInvite {
                    id: i.id,
                    svg: Postern::qr_svg(&i.link)?,
                    link: i.link,
                    expires_at: i.expires_at,
                })
            })
            .await
    }

    pub(crate) async fn invites(&self, a: OfIdentity) -> Result<Vec<InviteStateView>> {
        self.0.with(|p| Ok(p.invites(&a.identity)?)).await
    }

    pub(crate) async fn withdraw_invite(&self, i: OfInvite) -> Result<()> {
        self.0
            .with(|p| Ok(p.withdraw_invite(&i.identity, i.id)?))
            .await
    }

    pub(crate) async fn undo_invite(&self, i: OfInvite) -> Result<RedeemerView> {
        self.0.with(|p| Ok(p.undo_invite(&i.identity, i.id)?)).await
    }

    pub(crate) async fn read_scanned(&self, t: Text) -> Result<ScanPreview> {
        self.0.with(|p| Ok(p.read_scanned(&t.text)?)).await
    }

    pub(crate) async fn scan_image(&self, i: Image) -> Result<ScanPreview> {
        let bytes = unbase64("image", &i.data_b64)?;
        self.0.with(|p| Ok(p.scan_image(&bytes)?)).await
    }

    pub(crate) async fn scan_frame(&self, f: Frame) -> Result<ScanPreview> {
        let pixels = unbase64("camera frame", &f.pixels_b64)?;
        self.0
            .with(|p| Ok(p.scan_frame(f.width, f.height, &pixels)?))
            .await
    }

    pub(crate) async fn accept_scanned(&self, s: AcceptScanned) -> Result<ContactView> {
        let out = self
            .0
            .with(|p| Ok(p.accept_scanned(&s.identity, &s.text)?))
            .await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn lists(&self, a: OfIdentity) -> Result<Vec<ListView>> {
        self.0.with(|p| Ok(p.lists(&a.identity)?)).await
    }

    pub(crate) async fn list_create(&self, a: NewList) -> Result<ListView> {
        let out = self
            .0
            .with(|p| Ok(p.list_create(&a.identity, &a.name)?))
            .await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn list_invite(&self, a: ListInvite) -> Result<()> {
        self.0
            .with(|p| Ok(p.list_invite(&a.identity, &a.list, &a.contact)?))
            .await?;
        self.0.wake().await;
        Ok(())
    }

    pub(crate) async fn list_join(&self, a: OfList) -> Result<ListView> {
        let out = self
            .0
            .with(|p| Ok(p.list_join(&a.identity, &a.list)?))
            .await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn list_post(&self, a: ListPost) -> Result<String> {
        let out = self
            .0
            .with(|p| {
                let files = attachments(a.attachments)?;
                Ok(p.list_post_with(&a.identity, &a.list, &a.subject, &a.text, &files)?)
            })
            .await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn save_list_attachments(
        &self,
        a: SaveListAttachments,
    ) -> Result<Vec<String>> {
        let dir = std::path::PathBuf::from(a.dir);
        if !dir.is_absolute() {
            return Err(ApiError::bad_input(
                "choose a folder to save into (a full path)",
            ));
        }
        let saved = self
            .0
            .with(|p| Ok(p.save_list_attachments(&a.identity, &a.list, &dir)?))
            .await?;
        Ok(saved.iter().map(|p| p.display().to_string()).collect())
    }

    pub(crate) async fn list_posts(&self, a: OfList) -> Result<Vec<ListPostView>> {
        self.0
            .with(|p| Ok(p.list_posts(&a.identity, &a.list)?))
            .await
    }

    pub(crate) async fn list_members(&self, a: OfList) -> Result<Vec<ListMemberView>> {
        self.0
            .with(|p| Ok(p.list_members(&a.identity, &a.list)?))
            .await
    }

    pub(crate) async fn list_leave(&self, a: OfList) -> Result<ListView> {
        let out = self
            .0
            .with(|p| Ok(p.list_leave(&a.identity, &a.list)?))
            .await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn carriers(&self, a: OfIdentity) -> Result<CarriersView> {
        self.0
            .with(|p| Ok(p.carriers(&a.identity, DEFAULT_CARRIER_TARGET)?))
            .await
    }

    pub(crate) async fn designate_carrier(&self, d: Designate) -> Result<Vec<OutboxView>> {
        let out = self
            .0
            .with(|p| Ok(p.designate_carrier(&d.identity, &d.carrier, d.designate)?))
            .await?;
        self.0.wake().await;
        Ok(out)
    }

    pub(crate) async fn set_carrier_mode(&self, m: CarrierMode) -> Result<CarrierModeView> {
        self.0
            .with(|p| Ok(p.set_carrier_mode(&m.identity, m.enabled)?))
            .await
    }

    pub(crate) async fn set_carrier_policy(&self, c: CarrierPolicy) -> Result<CarrierModeView> {
        self.0
            .with(|p| {
                // The list replaces the old one: stop carrying for whoever is no longer ticked.
                let old = p.carrier_mode(&c.identity)?.carrying_for;
                let drop: Vec<String> = old.into_iter().filter(|x| !c.allow.contains(x)).collect();
                Ok(p.set_carrier_policy(
                    &c.identity,
                    &c.allow,
                    &drop,
                    Some(c.quota_mb.saturating_mul(1024 * 1024)),
                    Some(c.max_hold_hours.saturating_mul(3600)),
                )?)
            })
            .await
    }

    pub(crate) async fn search(&self, q: Search) -> Result<Vec<SearchResult>> {
        self.0
            .with(|p| Ok(p.search(q.identity.as_deref(), &q.query, q.limit)?))
            .await
    }

    pub(crate) async fn events(&self, a: After) -> Result<Vec<EventView>> {
        self.0
            .with(|p| Ok(p.events_after(a.after, postern_core::MAX_EVENTS)?))
            .await
    }

    pub(crate) async fn notification_settings(&self, _: NoArgs) -> Result<NotificationSettings> {
        self.0.with(|p| Ok(p.notification_settings()?)).await
    }

    pub(crate) async fn set_notification_settings(
        &self,
        n: NotificationSettings,
    ) -> Result<NotificationSettings> {
        self.0.with(|p| Ok(p.set_notification_settings(n)?)).await?;
        Ok(n)
    }
}
