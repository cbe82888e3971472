//! Gateway mode (`docs/protocol.md` §19): an identity on a node with a public host name carries
//! its contacts' mail out to ordinary addresses and brings the replies back.
//!
//! - A contact hands a message over as `Postern-Kind: gateway-out` with
//!   `Postern-Gateway: to=<address>` (`Postern::send_via_gateway`); the gateway takes it in
//!   the message's transaction (`hand_over`): built from its domain, DKIM-signed, queued in
//!   `gateway_outbox`. `outgoing.rs` delivers it to the recipient's MX and bounces back what
//!   cannot be delivered.
//! - A reply to the reply address comes in on the public SMTP server (`incoming.rs`) and is
//!   queued, in one transaction, as `Postern-Kind: gateway-in` mail to the Postern user, with
//!   `Postern-Gateway: from=<address>; spf=…; dkim=…; dmarc=…; tls=…; gateway=<domain>`. The
//!   user's node files it as from that address, verification `gateway`: not end-to-end
//!   encrypted, not a verified sender.

mod hand_over;
pub(crate) mod incoming;
pub(crate) mod outgoing;

pub(crate) use hand_over::hand_over;

use postern_gateway::DkimKey;
use postern_smtp::Reply;
use postern_store::{GatewayPolicy, GatewaySettings};
use rand::RngCore;
use serde::Serialize;

use crate::{CoreError, DraftInput, OutboxView, Postern};

/// A contact's message for an ordinary address, handed to its gateway.
pub(crate) const KIND_OUT: &str = "gateway-out";
/// A reply from an ordinary address, brought in by the gateway.
pub(crate) const KIND_IN: &str = "gateway-in";
/// How a message from an ordinary address through a gateway is verified: it is not.
pub const VERIFIED_BY_GATEWAY: &str = "gateway";
/// How long a reply address works.
pub(crate) const REPLY_VALIDITY_SECS: i64 = 180 * 86_400;
/// Messages one sender may have waiting to leave a gateway.
pub(crate) const MAX_WAITING_PER_SENDER: i64 = 100;

/// A gateway's settings as shown.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GatewayView {
    /// The identity that is the gateway.
    pub identity: String,
    /// Its mail domain.
    pub domain: String,
    /// DKIM selector.
    pub selector: String,
    /// The DNS TXT record to publish at `<selector>._domainkey.<domain>`.
    pub dkim_record: String,
    /// Messages waiting to leave.
    pub waiting: i64,
    /// Whether every contact may send through it (else only `senders`).
    pub all_contacts: bool,
    /// The contacts that may, when not every contact may.
    pub senders: Vec<String>,
    /// Messages one sender may hand over per day (UTC).
    pub max_messages_per_day: i64,
    /// Bytes one sender may hand over per day (UTC).
    pub max_bytes_per_day: i64,
}

/// Whose mail a gateway carries out, and how much, as its operator sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRules {
    /// The contacts that may send through it; empty: every contact.
    pub senders: Vec<String>,
    /// Messages one sender may hand over per day (UTC), at least 1.
    pub max_messages_per_day: i64,
    /// Bytes one sender may hand over per day (UTC), at least 1 KiB.
    pub max_bytes_per_day: i64,
}

impl Default for GatewayRules {
    fn default() -> Self {
        let p = GatewayPolicy::default();
        GatewayRules {
            senders: Vec::new(),
            max_messages_per_day: p.max_messages_per_day,
            max_bytes_per_day: p.max_bytes_per_day,
        }
    }
}

fn refuse(text: &str) -> Reply {
    Reply::new(550, "5.7.1", text)
}

fn busy(e: postern_store::StoreError) -> Reply {
    tracing::error!("store: {e}");
    Reply::new(451, "4.3.0", "Cannot record this now; try again later")
}

/// An ordinary address as a gateway delivers to it: `local@domain.tld`, printable ASCII, not
/// an onion address, at most 254 octets.
pub(crate) fn ordinary_address(text: &str) -> Option<String> {
    let a = text.trim().to_ascii_lowercase();
    let (local, domain) = a.rsplit_once('@')?;
    let ok = a.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.ends_with(".onion")
        && a.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | ',' | ';' | '\\'))
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    ok.then_some(a)
}

/// A Message-ID that can travel between Postern and ordinary mail as it is: printable ASCII,
/// no brackets, spaces or ';' (the `Postern-Gateway` field separator), one '@', no onion.
pub(crate) fn portable_message_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let ok = !id.is_empty()
        && id.len() <= 250
        && id.bytes().filter(|b| *b == b'@').count() == 1
        && !id.to_ascii_lowercase().ends_with(".onion")
        && id
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) && !matches!(b, b'<' | b'>' | b';' | b'"'));
    ok.then(|| id.to_owned())
}

/// `k=v; k=v` fields of a `Postern-Gateway` header. No value has whitespace of its own: what
/// a header carries is where a writer folded it, and is dropped.
pub(crate) fn fields(header: &str) -> Vec<(String, String)> {
    header
        .split(';')
        .filter_map(|f| {
            let (k, v) = f.split_once('=')?;
            let k: String = k.chars().filter(|c| !c.is_whitespace()).collect();
            let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            Some((k.to_ascii_lowercase(), v))
        })
        .collect()
}

/// Where a gateway-in message came from, as filed: the ordinary address, and a name that says
/// it came through the gateway and what its checks found.
pub(crate) fn origin(header: &str, gateway_name: &str) -> Option<(String, String)> {
    let f = fields(header);
    let get = |k: &str| {
        f.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("none")
    };
    let from = ordinary_address(get("from"))?;
    let word = |v: &str| -> String {
        v.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(12)
            .collect()
    };
    let name = format!(
        "via gateway {} (not end-to-end encrypted; SPF {}, DKIM {}, DMARC {})",
        if gateway_name.is_empty() {
            "contact"
        } else {
            gateway_name
        },
        word(get("spf")),
        word(get("dkim")),
        word(get("dmarc")),
    );
    Some((from, name))
}

impl Postern {
    /// Make `identity` a gateway for `domain`, signing with the RSA key `dkim_pem` published
    /// under `selector`. Its reply-address secret is made here (kept if it was one already).
    pub fn enable_gateway(
        &mut self,
        identity: &str,
        domain: &str,
        selector: &str,
        dkim_pem: &str,
    ) -> Result<GatewayView, CoreError> {
        let me = self.find_identity(identity)?;
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if ordinary_address(&format!("postmaster@{domain}")).is_none() {
            return Err(CoreError::BadSetting(format!(
                "{domain:?} is not a mail domain a gateway can have"
            )));
        }
        let selector = selector.trim();
        if selector.is_empty()
            || !selector
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(CoreError::BadSetting(
                "a DKIM selector is letters, digits and '-'".into(),
            ));
        }
        DkimKey::from_pem(dkim_pem, &domain, selector)
            .map_err(|e| CoreError::BadSetting(e.to_string()))?;
        let secret = match self.store.gateway(me.id)? {
            Some(s) => s.secret,
            None => {
                let mut s = zeroize::Zeroizing::new([0u8; 32]);
                rand::rngs::OsRng.fill_bytes(s.as_mut_slice());
                s
            }
        };
        self.store.set_gateway(
            me.id,
            &GatewaySettings {
                domain,
                selector: selector.to_owned(),
                dkim_pem: zeroize::Zeroizing::new(dkim_pem.to_owned()),
                secret,
            },
            self.clock.now_unix(),
        )?;
        self.gateway_settings(identity)?
            .ok_or_else(|| CoreError::Corrupt("gateway settings vanished".into()))
    }

    /// Set whose mail gateway `identity` carries out (contacts of it; none named: every
    /// contact) and how much per sender per day.
    pub fn set_gateway_rules(
        &mut self,
        identity: &str,
        rules: &GatewayRules,
    ) -> Result<GatewayView, CoreError> {
        let me = self.find_identity(identity)?;
        if self.store.gateway(me.id)?.is_none() {
            return Err(CoreError::BadSetting(format!(
                "{identity} is not a gateway (enable it first)"
            )));
        }
        if rules.max_messages_per_day < 1 || rules.max_bytes_per_day < 1024 {
            return Err(CoreError::BadSetting(
                "a gateway's daily allowance is at least one message and 1 KiB per sender".into(),
            ));
        }
        let mut senders = Vec::new();
        for name in &rules.senders {
            let contact = self
                .store
                .contact(me.id, name.trim())
                .map_err(|_| CoreError::ContactNotFound(name.trim().to_owned()))?;
            senders.push(contact.address);
        }
        self.store.set_gateway_policy(
            me.id,
            &GatewayPolicy {
                all_contacts: senders.is_empty(),
                senders,
                max_messages_per_day: rules.max_messages_per_day,
                max_bytes_per_day: rules.max_bytes_per_day,
            },
        )?;
        self.gateway_settings(identity)?
            .ok_or_else(|| CoreError::Corrupt("gateway settings vanished".into()))
    }

    /// The identity's gateway settings, if it is a gateway.
    pub fn gateway_settings(&self, identity: &str) -> Result<Option<GatewayView>, CoreError> {
        let me = self.find_identity(identity)?;
        let Some(s) = self.store.gateway(me.id)? else {
            return Ok(None);
        };
        let policy = self.store.gateway_policy(me.id)?;
        Ok(Some(GatewayView {
            all_contacts: policy.all_contacts,
            senders: policy.senders,
            max_messages_per_day: policy.max_messages_per_day,
            max_bytes_per_day: policy.max_bytes_per_day,
            identity: self.address_of(me.id),
            dkim_record: DkimKey::dns_record(&s.dkim_pem)
                .map_err(|e| CoreError::BadSetting(e.to_string()))?,
            domain: s.domain,
            selector: s.selector,
            waiting: self.store.gateway_waiting(me.id)?,
        }))
    }

    /// Send a message to an ordinary address through `gateway`, a contact of `identity` that
    /// is a gateway. It travels sealed to the gateway, which must read it to deliver it: the
    /// gateway sees its content, and the recipient's mail servers do too unless it leaves
    /// encrypted — to `to_key` (the recipient's OpenPGP public key, armored or binary) when
    /// given, else to a key the gateway keeps for them (given before, or learnt from an
    /// `Autocrypt` header in their authenticated replies).
    #[allow(clippy::too_many_arguments)]
    pub fn send_via_gateway(
        &mut self,
        identity: &str,
        gateway: &str,
        to: &str,
        subject: &str,
        text: &str,
        attachments: &[postern_mime::Attachment],
        to_key: Option<&[u8]>,
    ) -> Result<OutboxView, CoreError> {
        let to = ordinary_address(to).ok_or_else(|| {
            CoreError::BadDraft(format!(
                "{to:?} is not an ordinary email address (name@domain; Postern addresses are sent to directly)"
            ))
        })?;
        let key = to_key
            .map(|bytes| crate::mail::gateway_draft::parse_key(&to, bytes))
            .transpose()?;
        let draft = self.save_draft_keyed(
            &DraftInput {
                identity: identity.to_owned(),
                to,
                subject: subject.to_owned(),
                text: text.to_owned(),
                via_gateway: Some(gateway.trim().to_owned()),
                ..DraftInput::default()
            },
            attachments,
            key,
        )?;
        match self.send_draft(draft.id) {
            Ok(o) => Ok(o),
            Err(e) => {
                // Nothing half-done: a message that cannot be sent is not left as a draft.
                let _ = self.discard_draft(draft.id);
                Err(e)
            }
        }
    }
}
