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

pub(crate) mod incoming;
pub(crate) mod outgoing;

use postern_gateway::{mint_local_part, DkimKey, OutboundMessage, ReplySecret};
use postern_mime::Letter;
use postern_smtp::Reply;
use postern_store::{GatewaySettings, Store};
use rand::RngCore;
use serde::Serialize;

use crate::context::LocalIdentity;
use crate::mail::draft::QueuedDraft;
use crate::{CoreError, OutboxView, Postern};

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

/// `k=v; k=v` fields of a `Postern-Gateway` header.
pub(crate) fn fields(header: &str) -> Vec<(String, String)> {
    header
        .split(';')
        .filter_map(|f| {
            let (k, v) = f.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
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

/// Take a contact's hand-over, inside the transaction that stores its message.
pub(crate) fn hand_over(
    store: &mut Store,
    now: i64,
    me: &LocalIdentity,
    letter: &Letter,
) -> Result<(), Reply> {
    let Some(settings) = store.gateway(me.id).map_err(busy)? else {
        return Err(refuse("This identity is not a gateway to ordinary email"));
    };
    let to = letter
        .gateway
        .as_deref()
        .map(fields)
        .and_then(|f| f.into_iter().find(|(k, _)| k == "to").map(|(_, v)| v))
        .and_then(|v| ordinary_address(&v))
        .ok_or_else(|| {
            Reply::new(
                550,
                "5.1.3",
                "The gateway needs one ordinary address (to=name@domain)",
            )
        })?;
    let waiting = store
        .gateway_waiting_from(me.id, &letter.from)
        .map_err(busy)?;
    if waiting >= MAX_WAITING_PER_SENDER {
        return Err(Reply::new(
            452,
            "4.5.3",
            "Enough of your mail waits at this gateway; try again later",
        ));
    }
    let route = store
        .gateway_route(me.id, &letter.from, rand::rngs::OsRng.next_u64(), now)
        .map_err(busy)?;
    let secret = ReplySecret::from_bytes(*settings.secret);
    let expires = u64::try_from(now + REPLY_VALIDITY_SECS).unwrap_or(0);
    let bounce = format!(
        "{}@{}",
        mint_local_part(&secret, route, expires, ""),
        settings.domain
    );
    let signed = render(&settings, letter, &to, route, now)?;
    store
        .gateway_enqueue(
            me.id,
            &letter.from,
            &bounce,
            &to,
            &letter.subject,
            &signed,
            now,
        )
        .map_err(busy)?;
    Ok(())
}

/// The message for `to` from the gateway's domain, with a reply address for `route`, signed.
fn render(
    settings: &GatewaySettings,
    letter: &Letter,
    to: &str,
    route: u64,
    now: i64,
) -> Result<Vec<u8>, Reply> {
    let failed = |e: postern_gateway::OutboundError| {
        tracing::error!("gateway: {e}");
        Reply::new(
            451,
            "4.3.5",
            "The gateway cannot sign mail now; try again later",
        )
    };
    let key = DkimKey::from_pem(&settings.dkim_pem, &settings.domain, &settings.selector)
        .map_err(failed)?;
    let secret = ReplySecret::from_bytes(*settings.secret);
    let domain = &settings.domain;
    let mut id = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let expires = u64::try_from(now + REPLY_VALIDITY_SECS).unwrap_or(0);
    let message = OutboundMessage {
        sender_name: letter
            .from_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "A Postern user".into()),
        reply_address: format!("{}@{domain}", mint_local_part(&secret, route, expires, to)),
        to: to.to_owned(),
        subject: letter.subject.clone(),
        text: letter.text.replace('\n', "\r\n"),
        message_id: format!(
            "{}@{domain}",
            data_encoding::BASE32_NOPAD.encode(&id).to_ascii_lowercase()
        ),
        in_reply_to: letter
            .in_reply_to
            .clone()
            .filter(|p| !p.ends_with(".onion")),
        date: now,
        gateway_domain: domain.clone(),
        attachments: letter
            .attachments
            .iter()
            .map(|a| (a.name.clone(), a.content_type.clone(), a.data.clone()))
            .collect(),
    };
    key.sign(&message.render().map_err(failed)?).map_err(failed)
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

    /// The identity's gateway settings, if it is a gateway.
    pub fn gateway_settings(&self, identity: &str) -> Result<Option<GatewayView>, CoreError> {
        let me = self.find_identity(identity)?;
        let Some(s) = self.store.gateway(me.id)? else {
            return Ok(None);
        };
        Ok(Some(GatewayView {
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
    /// gateway and the recipient's mail servers see its content.
    pub fn send_via_gateway(
        &mut self,
        identity: &str,
        gateway: &str,
        to: &str,
        subject: &str,
        text: &str,
        attachments: &[postern_mime::Attachment],
    ) -> Result<OutboxView, CoreError> {
        let me = self.find_identity(identity)?;
        let to = ordinary_address(to).ok_or_else(|| {
            CoreError::BadDraft(format!(
                "{to:?} is not an ordinary email address (name@domain; Postern addresses are sent to directly)"
            ))
        })?;
        let contact = self
            .store
            .contact(me.id, gateway.trim())
            .map_err(|_| CoreError::ContactNotFound(gateway.trim().to_owned()))?;
        let draft = QueuedDraft::new(subject, text, attachments).with_headers(vec![
            ("Postern-Kind".into(), KIND_OUT.into()),
            ("Postern-Gateway".into(), format!("to={to}")),
        ]);
        self.queue(me.id, &contact.address, draft)
    }
}
