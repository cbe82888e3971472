//! Meeting by QR code or link: an identity hands out its card with a one-time token; the
//! scanner's device redeems the token over the card's onion service, and both end up holding
//! each other's bound key, marked "verified by scan".
//!
//! 1. Alice: `create_invite` — a token (only its hash is stored) valid for a while; the invite
//!    (card without key + token + expiry) is shown as a QR code or a `postern:` link.
//! 2. Bob scans it: `scan_*` / `read_invite` verify it and show who it is; nothing is stored.
//! 3. Bob confirms: `accept_invite` adds Alice (fingerprint from the QR code, "scanned") and
//!    queues a handshake message carrying the token. Delivery fetches Alice's key over her onion
//!    service (it must match the fingerprint), then sends the handshake signed and encrypted,
//!    with Bob's key and binding inside.
//! 4. Alice's node checks the token in the same transaction that adds Bob ("scanned"); a token
//!    that is unknown, expired or used by someone else is refused with `550 5.7.1` and a
//!    sentence, storing nothing. Creating the invite was Alice's consent.

use std::time::Duration;

use data_encoding::BASE32_NOPAD;
use postern_card::{ContactCard, Invite, TOKEN_LEN};
use postern_store::{NewContact, StoreError};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::mail::draft::QueuedDraft;
use crate::views::hex;
use crate::{ContactView, CoreError, OutboxView, Postern};

/// Verification state of a contact met by scanning (or redeeming) an invite.
pub const VERIFIED_BY_SCAN: &str = "scanned";
/// How long an invite is valid unless asked otherwise: short, because whoever sees the code or
/// link first becomes the contact.
pub const DEFAULT_INVITE_VALIDITY: Duration = Duration::from_secs(3600);
/// How long an invite shown on the app's Meet screen is valid (it is also withdrawn when the
/// screen closes).
pub const SCREEN_INVITE_VALIDITY: Duration = Duration::from_secs(15 * 60);
/// `Postern-Kind` of the handshake message.
pub(crate) const KIND_HANDSHAKE: &str = "handshake";

/// An invite to show.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InviteView {
    /// Its number, to withdraw it.
    pub id: i64,
    /// The inviting identity's address.
    pub identity: String,
    /// The payload: the QR code's content, and the link to copy (`POSTERN:…`).
    pub link: String,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

/// An invite handed out, and what became of it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InviteStateView {
    /// Its number.
    pub id: i64,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// When it stops (stopped) working.
    pub expires_at: i64,
    /// `open`, `redeemed` or `expired`.
    pub state: String,
    /// When it was redeemed.
    pub redeemed_at: Option<i64>,
    /// Who redeemed it.
    pub redeemed_by: Option<RedeemerView>,
}

/// Who redeemed an invite.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RedeemerView {
    /// Their address.
    pub address: String,
    /// Their name, as their binding signs it.
    pub display_name: String,
    /// Their key's fingerprint (hex), to compare.
    pub fingerprint: String,
    /// Whether they are still in the address book (not undone).
    pub still_a_contact: bool,
}

/// What a scanned or pasted code says, verified, before anyone decides to add it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScanPreview {
    /// `invite` (a card with a one-time token: adding it exchanges keys both ways) or `card`.
    pub kind: String,
    /// The card's address.
    pub address: String,
    /// The name it signs.
    pub display_name: String,
    /// OpenPGP fingerprint, upper-case hex.
    pub fingerprint: String,
    /// Whether it carries the OpenPGP key.
    pub has_key: bool,
    /// Expiry of an invite (Unix seconds).
    pub expires_at: Option<i64>,
    /// The text scanned (give it to `accept_scanned`).
    pub text: String,
}

/// The result of accepting an invite: the new contact and the queued handshake.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Handshake {
    /// The inviter, as now in the address book.
    pub contact: ContactView,
    /// The handshake message on its way (its state says when the inviter has us too).
    pub outbox: OutboxView,
}

pub(crate) fn token_hash(token: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"postern-invite-token\0");
    h.update(token);
    h.finalize().to_vec()
}

/// The token as it travels in `Postern-Invite`.
pub(crate) fn token_text(token: &[u8]) -> String {
    BASE32_NOPAD.encode(token)
}

pub(crate) fn token_from_text(text: &str) -> Option<[u8; TOKEN_LEN]> {
    BASE32_NOPAD
        .decode(text.trim().to_ascii_uppercase().as_bytes())
        .ok()?
        .try_into()
        .ok()
}

fn preview(card: &ContactCard, expires_at: Option<i64>, text: String) -> ScanPreview {
    ScanPreview {
        kind: if expires_at.is_some() {
            "invite"
        } else {
            "card"
        }
        .into(),
        address: card.address().to_string(),
        display_name: card.display_name().as_str().to_owned(),
        fingerprint: hex(card.binding().fingerprint()),
        has_key: card.public_key().is_some(),
        expires_at,
        text,
    }
}

fn check_fresh(invite: &Invite, now: i64) -> Result<(), CoreError> {
    if now > invite.expires_at() {
        return Err(CoreError::InviteExpired(format!(
            "on {} UTC",
            postern_types::utc_minute(invite.expires_at())
        )));
    }
    Ok(())
}

fn first_scanned(texts: Vec<String>, now: i64) -> Result<ScanPreview, CoreError> {
    let mut last_err = None;
    for t in texts {
        match Postern::read_scanned_at(&t, now) {
            Ok(p) => return Ok(p),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or(CoreError::Qr(postern_qr::QrError::NotFound)))
}

impl Postern {
    /// A new one-time invite for `identity`, valid for `valid_for`.
    pub fn create_invite(
        &mut self,
        identity: &str,
        valid_for: Duration,
    ) -> Result<InviteView, CoreError> {
        self.create_invite_for(identity, valid_for, "contact")
    }

    /// An invite with a purpose: `contact`, or `device` (its redeemer becomes an own device).
    pub(crate) fn create_invite_for(
        &mut self,
        identity: &str,
        valid_for: Duration,
        purpose: &str,
    ) -> Result<InviteView, CoreError> {
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        // Without the key: the QR code stays small; the key comes over the onion channel.
        let card = self.card_of(&me, false)?;
        let mut token = [0u8; TOKEN_LEN];
        rand::rngs::OsRng.fill_bytes(&mut token);
        let now = self.clock.now_unix();
        let expires_at = now.saturating_add(i64::try_from(valid_for.as_secs()).unwrap_or(i64::MAX));
        let id =
            self.store
                .insert_invite_for(me.id, &token_hash(&token), now, expires_at, purpose)?;
        Ok(InviteView {
            id,
            identity: format!("{}@{}", me.local_part, me.onion),
            link: Invite::new(card, token, expires_at).to_text(),
            expires_at,
        })
    }

    /// The invites `identity` handed out, newest first, with who redeemed each.
    pub fn invites(&mut self, identity: &str) -> Result<Vec<InviteStateView>, CoreError> {
        let me = self.find_identity(identity)?;
        let now = self.clock.now_unix();
        // Expired, unused invites are of no more use to anyone.
        self.store.forget_expired_invites(now - 7 * 24 * 3600)?;
        let mut out = Vec::new();
        for r in self.store.invites(me.id)? {
            let redeemed_by = match &r.used_by {
                Some(address) => Some(match self.store.contact(me.id, address) {
                    Ok(c) => RedeemerView {
                        address: address.clone(),
                        display_name: c.display_name.clone(),
                        fingerprint: hex(&c.fingerprint),
                        still_a_contact: true,
                    },
                    Err(postern_store::StoreError::NotFound(_)) => RedeemerView {
                        address: address.clone(),
                        display_name: String::new(),
                        fingerprint: String::new(),
                        still_a_contact: false,
                    },
                    Err(e) => return Err(e.into()),
                }),
                None => None,
            };
            let state = match (&redeemed_by, r.expires_at < now) {
                (Some(_), _) => "redeemed",
                (None, true) => "expired",
                (None, false) => "open",
            };
            out.push(InviteStateView {
                id: r.id,
                created_at: r.created_at,
                expires_at: r.expires_at,
                state: state.into(),
                redeemed_at: r.used_at,
                redeemed_by,
            });
        }
        Ok(out)
    }

    /// Withdraw an invite nobody redeemed: its code and link stop working at once.
    pub fn withdraw_invite(&mut self, identity: &str, id: i64) -> Result<(), CoreError> {
        let me = self.find_identity(identity)?;
        if self.store.withdraw_invite(me.id, id)? {
            Ok(())
        } else {
            Err(CoreError::InviteNotOpen(id))
        }
    }

    /// Undo a redeemed invite: whoever redeemed it is removed from the address book (the mail
    /// it sent stays). The invite stays used: it cannot be redeemed again.
    pub fn undo_invite(&mut self, identity: &str, id: i64) -> Result<RedeemerView, CoreError> {
        let list = self.invites(identity)?;
        let me = self.find_identity(identity)?;
        let Some(redeemer) = list
            .into_iter()
            .find(|i| i.id == id)
            .and_then(|i| i.redeemed_by)
            .filter(|r| r.still_a_contact)
        else {
            return Err(CoreError::InviteNotRedeemed(id));
        };
        self.store.delete_contact(me.id, &redeemer.address)?;
        Ok(redeemer)
    }

    /// An invite (or card) text as an SVG QR code.
    pub fn qr_svg(text: &str) -> Result<String, CoreError> {
        Ok(postern_qr::svg(text)?)
    }

    /// An invite (or card) text as a PNG QR code, `module_px` pixels per module.
    pub fn qr_png(text: &str, module_px: u32) -> Result<Vec<u8>, CoreError> {
        Ok(postern_qr::png(text, module_px)?)
    }

    /// Verify a pasted invite link or card text. Nothing is stored.
    pub fn read_scanned(&self, text: &str) -> Result<ScanPreview, CoreError> {
        Self::read_scanned_at(text, self.clock.now_unix())
    }

    /// [`Postern::read_scanned`] without a store, at time `now` (Unix seconds).
    pub fn read_scanned_at(text: &str, now: i64) -> Result<ScanPreview, CoreError> {
        let text = text.trim();
        let is_card = text
            .get(..postern_card::TEXT_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(postern_card::TEXT_PREFIX));
        if is_card {
            let card = ContactCard::from_text(text)?;
            return Ok(preview(&card, None, card.to_text()));
        }
        let invite = Invite::from_text(text)?;
        check_fresh(&invite, now)?;
        Ok(preview(
            invite.card(),
            Some(invite.expires_at()),
            invite.to_text(),
        ))
    }

    /// Find a Postern invite or card in a PNG or JPEG image and verify it. Nothing is stored.
    pub fn scan_image(&self, bytes: &[u8]) -> Result<ScanPreview, CoreError> {
        Self::scan_image_at(bytes, self.clock.now_unix())
    }

    /// [`Postern::scan_image`] without a store, at time `now`.
    pub fn scan_image_at(bytes: &[u8], now: i64) -> Result<ScanPreview, CoreError> {
        first_scanned(postern_qr::scan_image(bytes)?, now)
    }

    /// Find a Postern invite or card in a raw 8-bit grayscale camera frame and verify it.
    pub fn scan_frame(
        &self,
        width: u32,
        height: u32,
        pixels: &[u8],
    ) -> Result<ScanPreview, CoreError> {
        first_scanned(
            postern_qr::scan_frame(width, height, pixels)?,
            self.clock.now_unix(),
        )
    }

    /// Add what was scanned, after the person confirmed: an invite starts the handshake, a
    /// plain card is added as it is.
    pub fn accept_scanned(&mut self, identity: &str, text: &str) -> Result<ContactView, CoreError> {
        match self.read_scanned(text)?.kind.as_str() {
            "invite" => Ok(self.accept_invite(identity, text)?.contact),
            _ => self.add_contact(identity, text),
        }
    }

    /// Accept an invite for `identity`: add the inviter ("scanned") and queue the handshake.
    pub fn accept_invite(&mut self, identity: &str, text: &str) -> Result<Handshake, CoreError> {
        let invite = Invite::from_text(text)?;
        check_fresh(&invite, self.clock.now_unix())?;
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        let card = invite.card();
        let address = card.address().to_string();
        if address == format!("{}@{}", me.local_part, me.onion) {
            return Err(CoreError::OwnCard);
        }
        self.refuse_revoked(&me, &address)?;
        let contact = match self.store.contact(me.id, &address) {
            Ok(existing) if existing.fingerprint != card.binding().fingerprint() => {
                return Err(CoreError::ConflictingContact(card.address().redacted()));
            }
            Ok(existing) => {
                self.store
                    .set_contact_verification(existing.id, VERIFIED_BY_SCAN)?;
                self.store.contact(me.id, &address)?
            }
            Err(StoreError::NotFound(_)) => self.store.insert_contact(&NewContact {
                identity_id: me.id,
                address: &address,
                display_name: card.display_name().as_str(),
                fingerprint: card.binding().fingerprint(),
                binding_sig: card.binding().signature(),
                public_key: card.public_key(),
                verification: VERIFIED_BY_SCAN,
                added_at: self.clock.now_unix(),
            })?,
            Err(e) => return Err(e.into()),
        };
        let draft = QueuedDraft::new(
            "Contact exchange",
            &format!(
                "{} used your invite: you now have each other's keys, verified by scan.\n",
                me.display_name
            ),
            &[],
        )
        .with_headers(vec![
            ("Postern-Kind".into(), KIND_HANDSHAKE.into()),
            ("Postern-Invite".into(), token_text(invite.token())),
        ]);
        let outbox = self.queue(me.id, &address, draft)?;
        Ok(Handshake {
            contact: self.describe(contact)?,
            outbox,
        })
    }
}
