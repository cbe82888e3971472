//! Carriers, as a person sees them: switching carrier mode and its policy; designating one's
//! own carriers; what is held; and, for each contact, its carriers' measured availability and
//! how many a message would be handed to.
//!
//! What a carrier learns: it holds OpenPGP-encrypted mail it cannot read; it sees the sender's
//! and the recipient's addresses, the size, and when it was handed over and delivered.

use postern_store::{CarrierPolicy, StoreError};
use postern_types::MailAddress;
use serde::Serialize;

use crate::mail::draft::QueuedDraft;
use crate::mail::KIND_CARRIERS;
use crate::{CoreError, OutboxView, Postern};
use postern_carry::{availability, carriers_needed, reach_probability};

/// What carrier mode means, in words for people (the UI and `postern carrier status` show it).
pub const CARRIER_MODE_NOTE: &str = "As a carrier, this device holds mail for the people you \
allow while they are offline. It cannot read that mail (it stays encrypted to its recipient); \
it learns who sent it to whom, its size, and when.";

/// One identity's carrier mode.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CarrierModeView {
    /// The identity.
    pub identity: String,
    /// On or off.
    pub enabled: bool,
    /// Most bytes held at once.
    pub quota_bytes: i64,
    /// Longest a message is held (seconds).
    pub max_hold_secs: i64,
    /// Recipients it carries for.
    pub carrying_for: Vec<String>,
    /// Messages held now.
    pub held: usize,
    /// Bytes held now.
    pub held_bytes: i64,
    /// What a carrier can and cannot see.
    pub note: String,
}

/// A message held (or once held) as a carrier.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CarriedView {
    /// Local number.
    pub id: i64,
    /// Sender.
    pub sender: String,
    /// Recipient.
    pub recipient: String,
    /// Size in bytes.
    pub size: i64,
    /// Handed over at.
    pub received_at: i64,
    /// Dropped after.
    pub expires_at: i64,
    /// `held`, `forwarding`, `delivered`, `expired`, `refused`.
    pub state: String,
    /// Forwarding attempts.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// A carrier as a sender measures it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CarrierAvailability {
    /// The carrier's address.
    pub carrier: String,
    /// Estimated availability p (successes+1)/(attempts+2).
    pub availability: f64,
    /// Times reached.
    pub successes: i64,
    /// Times not reached.
    pub failures: i64,
    /// The contact's pass for us expires then.
    pub pass_expires_at: i64,
}

/// One contact's carriers.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactCarriersView {
    /// The contact.
    pub contact: String,
    /// Its name.
    pub display_name: String,
    /// Its carriers, most available first.
    pub carriers: Vec<CarrierAvailability>,
    /// How many a message would be handed to (k).
    pub k: usize,
    /// The chance at least one of those k is reachable: 1 - Π(1 - p_i).
    pub estimate: f64,
}

/// Everything about carriers for one identity.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CarriersView {
    /// The identity.
    pub identity: String,
    /// The carriers it designated (its contacts hand mail for it there).
    pub my_carriers: Vec<String>,
    /// The target chance k is chosen for.
    pub target: f64,
    /// Its contacts' carriers.
    pub contacts: Vec<ContactCarriersView>,
    /// Its own carrier mode.
    pub mode: CarrierModeView,
    /// What it holds as a carrier.
    pub held: Vec<CarriedView>,
}

/// The chance of reaching a contact that carriers are chosen for: k carriers so that mail
/// waits with at least one of them that often (`postern carriers --target`, the app).
pub const DEFAULT_CARRIER_TARGET: f64 = 0.999;

impl Postern {
    /// Carrier mode of `identity`, with what it holds.
    pub fn carrier_mode(&self, identity: &str) -> Result<CarrierModeView, CoreError> {
        let me = self.find_identity(identity)?;
        let p = self.store.carrier_policy(me.id)?;
        let held: Vec<_> = self
            .store
            .carried(Some(me.id))?
            .into_iter()
            .filter(|c| c.state == "held" || c.state == "forwarding")
            .collect();
        Ok(CarrierModeView {
            identity: format!("{}@{}", me.local_part, me.onion),
            enabled: p.enabled,
            quota_bytes: p.quota_bytes,
            max_hold_secs: p.max_hold_secs,
            carrying_for: self.store.carrier_allowed(me.id)?,
            held: held.len(),
            held_bytes: held.iter().map(|c| c.size).sum(),
            note: CARRIER_MODE_NOTE.into(),
        })
    }

    /// Switch carrier mode on or off (off keeps what is held: it is still delivered).
    pub fn set_carrier_mode(
        &mut self,
        identity: &str,
        enabled: bool,
    ) -> Result<CarrierModeView, CoreError> {
        let me = self.find_identity(identity)?;
        let mut p = self.store.carrier_policy(me.id)?;
        p.enabled = enabled;
        self.store.set_carrier_policy(me.id, &p)?;
        self.carrier_mode(identity)
    }

    /// Change the carrier policy: whom to carry for (contacts only), the quota, the longest hold.
    pub fn set_carrier_policy(
        &mut self,
        identity: &str,
        allow: &[String],
        disallow: &[String],
        quota_bytes: Option<i64>,
        max_hold_secs: Option<i64>,
    ) -> Result<CarrierModeView, CoreError> {
        let me = self.find_identity(identity)?;
        for a in allow {
            let addr = a.trim().to_ascii_lowercase();
            match self.store.contact(me.id, &addr) {
                Ok(_) => {}
                Err(StoreError::NotFound(_)) => return Err(CoreError::ContactNotFound(addr)),
                Err(e) => return Err(e.into()),
            }
        }
        if quota_bytes.is_some_and(|q| q <= 0) || max_hold_secs.is_some_and(|h| h <= 0) {
            return Err(CoreError::BadSetting(
                "the quota and the holding time must be positive".into(),
            ));
        }
        let mut p: CarrierPolicy = self.store.carrier_policy(me.id)?;
        if let Some(q) = quota_bytes {
            p.quota_bytes = q;
        }
        if let Some(h) = max_hold_secs {
            p.max_hold_secs = h;
        }
        self.store.set_carrier_policy(me.id, &p)?;
        for a in allow {
            self.store
                .set_carrier_allowed(me.id, &a.trim().to_ascii_lowercase(), true)?;
        }
        for d in disallow {
            self.store
                .set_carrier_allowed(me.id, &d.trim().to_ascii_lowercase(), false)?;
        }
        self.carrier_mode(identity)
    }

    /// Designate `carrier` as one of `identity`'s carriers (or stop, with `designate = false`),
    /// and tell every contact (a signed pass for each rides in the announcement, and in every
    /// later message).
    pub fn designate_carrier(
        &mut self,
        identity: &str,
        carrier: &str,
        designate: bool,
    ) -> Result<Vec<OutboxView>, CoreError> {
        let me = self.find_identity(identity)?;
        self.refuse_own_revoked(&me)?;
        let carrier: MailAddress = carrier.trim().parse()?;
        if carrier.to_string() == format!("{}@{}", me.local_part, me.onion) {
            return Err(CoreError::BadSetting(
                "an identity cannot be its own carrier".into(),
            ));
        }
        self.store.set_my_carrier(
            me.id,
            &carrier.to_string(),
            designate,
            self.clock.now_unix(),
        )?;
        let mut queued = Vec::new();
        for c in self.store.contacts(me.id)? {
            if c.address == carrier.to_string() {
                continue;
            }
            let draft = QueuedDraft::new("My carriers", "", &[])
                .with_headers(vec![("Postern-Kind".into(), KIND_CARRIERS.into())]);
            queued.push(self.queue(me.id, &c.address, draft)?);
        }
        Ok(queued)
    }

    /// Carriers of `identity`: its own, its contacts' (with measured availability and k for
    /// `target`), its carrier mode and what it holds.
    pub fn carriers(&self, identity: &str, target: f64) -> Result<CarriersView, CoreError> {
        let me = self.find_identity(identity)?;
        let now = self.clock.now_unix();
        let stats = self.store.carrier_stats(me.id)?;
        let mut contacts = Vec::new();
        for c in self.store.contacts(me.id)? {
            let mut list: Vec<CarrierAvailability> = self
                .store
                .contact_carriers(me.id, &c.address)?
                .into_iter()
                .filter(|x| x.expires_at > now)
                .map(|x| {
                    let s = stats.iter().find(|s| s.carrier == x.carrier);
                    let (ok, bad) = s.map_or((0, 0), |s| (s.successes, s.failures));
                    CarrierAvailability {
                        carrier: x.carrier,
                        availability: availability(ok, bad),
                        successes: ok,
                        failures: bad,
                        pass_expires_at: x.expires_at,
                    }
                })
                .collect();
            if list.is_empty() {
                continue;
            }
            list.sort_by(|a, b| b.availability.total_cmp(&a.availability));
            let ps: Vec<f64> = list.iter().map(|x| x.availability).collect();
            let k = carriers_needed(&ps, target);
            contacts.push(ContactCarriersView {
                contact: c.address,
                display_name: c.display_name,
                estimate: reach_probability(&ps[..k]),
                k,
                carriers: list,
            });
        }
        Ok(CarriersView {
            identity: format!("{}@{}", me.local_part, me.onion),
            my_carriers: self.store.my_carriers(me.id)?,
            target,
            contacts,
            mode: self.carrier_mode(identity)?,
            held: self
                .store
                .carried(Some(me.id))?
                .into_iter()
                .map(|c| CarriedView {
                    id: c.id,
                    sender: c.sender,
                    recipient: c.recipient,
                    size: c.size,
                    received_at: c.received_at,
                    expires_at: c.expires_at,
                    state: c.state,
                    attempts: c.attempts,
                    last_error: c.last_error,
                })
                .collect(),
        })
    }
}
