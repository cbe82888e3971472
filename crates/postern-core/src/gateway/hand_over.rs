//! A contact's message for an ordinary address, taken in the transaction that stores it: the
//! gateway's policy checked (who may send, how much a day), the recipient's OpenPGP key chosen,
//! the message built from the gateway's domain, encrypted if it can be, DKIM-signed and queued.

use postern_gateway::{mint_local_part, DkimKey, OutboundMessage, ReplySecret};
use postern_mime::{Letter, OutsiderKey};
use postern_smtp::Reply;
use postern_store::{gateway_key_source, GatewayPolicy, GatewaySettings, Store};
use rand::RngCore;

use super::{
    busy, fields, ordinary_address, portable_message_id, refuse, MAX_WAITING_PER_SENDER,
    REPLY_VALIDITY_SECS,
};
use crate::context::LocalIdentity;

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
    let policy = store.gateway_policy(me.id).map_err(busy)?;
    if !policy.all_contacts && !policy.senders.iter().any(|a| a == &letter.from) {
        return Err(refuse("This gateway does not carry your mail out"));
    }
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
    let key = recipient_key(store, now, me, letter, &to)?;
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
    let signed = render(&settings, letter, &to, route, now, key.as_ref())?;
    within_allowance(store, now, me, &letter.from, &policy, signed.len())?;
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

/// The `key=` a sender gave in `Postern-Gateway` (base64 of an OpenPGP public key; folding
/// whitespace dropped).
fn given_key(letter: &Letter) -> Option<String> {
    let header = letter.gateway.as_deref()?;
    fields(header)
        .into_iter()
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.chars().filter(|c| !c.is_whitespace()).collect())
}

/// The key the message for `to` is encrypted to: the one its sender gave (kept for their next
/// messages), else the one kept for this sender and `to`, else none.
fn recipient_key(
    store: &mut Store,
    now: i64,
    me: &LocalIdentity,
    letter: &Letter,
    to: &str,
) -> Result<Option<OutsiderKey>, Reply> {
    if let Some(given) = given_key(letter) {
        let key = data_encoding::BASE64
            .decode(given.as_bytes())
            .map_err(|_| postern_mime::MimeError::RecipientKey("not base64".into()))
            .and_then(|b| OutsiderKey::parse(&b))
            .map_err(|e| Reply::new(550, "5.7.1", e.to_string()))?;
        let bytes = key.to_bytes().map_err(|e| {
            tracing::error!("gateway: {e}");
            Reply::new(451, "4.3.0", "Cannot record this now; try again later")
        })?;
        store
            .set_gateway_key(
                me.id,
                &letter.from,
                to,
                &bytes,
                gateway_key_source::SENDER,
                now,
            )
            .map_err(busy)?;
        return Ok(Some(key));
    }
    let Some((bytes, _)) = store.gateway_key(me.id, &letter.from, to).map_err(busy)? else {
        return Ok(None);
    };
    // A kept key that no longer works (expired, revoked) is not used: the message leaves in
    // clear, as it would have without one.
    Ok(OutsiderKey::parse(&bytes).ok())
}

/// Check the sender's daily allowance for a message of `size` bytes and count it.
fn within_allowance(
    store: &mut Store,
    now: i64,
    me: &LocalIdentity,
    sender: &str,
    policy: &GatewayPolicy,
    size: usize,
) -> Result<(), Reply> {
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    if size > policy.max_bytes_per_day {
        return Err(Reply::new(
            552,
            "5.3.4",
            "Message larger than this gateway's daily allowance per sender",
        ));
    }
    let day = now.div_euclid(86_400);
    let (messages, bytes) = store.gateway_usage(me.id, sender, day).map_err(busy)?;
    if messages >= policy.max_messages_per_day {
        return Err(Reply::new(
            452,
            "4.5.3",
            format!(
                "You have sent {messages} messages through this gateway today, its limit; \
                 try again tomorrow"
            ),
        ));
    }
    if bytes.saturating_add(size) > policy.max_bytes_per_day {
        return Err(Reply::new(
            452,
            "4.5.3",
            "Your mail through this gateway today has reached its daily volume; try again tomorrow",
        ));
    }
    store
        .gateway_count_use(me.id, sender, day, size)
        .map_err(busy)
}

/// The message for `to` from the gateway's domain, with a reply address for `route`, signed;
/// encrypted to `key` when there is one.
fn render(
    settings: &GatewaySettings,
    letter: &Letter,
    to: &str,
    route: u64,
    now: i64,
    key: Option<&OutsiderKey>,
) -> Result<Vec<u8>, Reply> {
    let failed = |e: postern_gateway::OutboundError| {
        tracing::error!("gateway: {e}");
        Reply::new(
            451,
            "4.3.5",
            "The gateway cannot sign mail now; try again later",
        )
    };
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
        // The Postern message's own (random) Message-ID, so that a reply's In-Reply-To finds
        // it in the sender's Sent; a fresh one at the gateway's domain if it cannot travel.
        message_id: letter
            .message_id
            .as_deref()
            .and_then(portable_message_id)
            .unwrap_or_else(|| {
                format!(
                    "{}@{domain}",
                    data_encoding::BASE32_NOPAD.encode(&id).to_ascii_lowercase()
                )
            }),
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
    let rendered = match key {
        Some(k) => message.render_encrypted(|inner| k.encrypt(inner).map_err(|e| e.to_string())),
        None => message.render(),
    };
    let dkim = DkimKey::from_pem(&settings.dkim_pem, &settings.domain, &settings.selector)
        .map_err(failed)?;
    dkim.sign(&rendered.map_err(failed)?).map_err(failed)
}
