//! Replies coming in: the gateway's public SMTP server, and the sink that turns each accepted
//! reply into Postern mail to the user its reply address names — queued in one transaction
//! before the server answers `250`.

use std::sync::Arc;

use mail_parser::{MessageParser, MimeHeaders};
use postern_gateway::{
    resolver, tls_acceptor, InboundMail, InboundPolicy, MxDelivery, PublicServer, ReplySecret,
    ReplySink,
};
use postern_mime::Attachment;
use postern_smtp::Reply;

use crate::context::NodeShared;
use crate::mail::draft::QueuedDraft;
use crate::CoreError;

use super::KIND_IN;

/// Start the gateway's tasks for identity `identity_id`: the delivery loop, and the public
/// server when the configuration names a listening address.
pub(crate) async fn start(
    shared: &Arc<NodeShared>,
    identity_id: i64,
) -> Result<Vec<tokio::task::JoinHandle<()>>, CoreError> {
    let Some(settings) = shared.with_store(|s| s.gateway(identity_id))? else {
        return Ok(Vec::new());
    };
    let net = &shared.config.gateway;
    let dns = resolver(&net.dns).map_err(|e| CoreError::BadSetting(e.to_string()))?;
    let hostname = net
        .hostname
        .clone()
        .unwrap_or_else(|| settings.domain.clone());
    let delivery = Arc::new(MxDelivery::new(dns.clone(), net.smtp_port, &hostname));
    let mut tasks = vec![tokio::spawn(super::outgoing::outbox_loop(
        shared.clone(),
        delivery,
    ))];
    let Some(listen) = net.listen else {
        return Ok(tasks);
    };
    let tls = match (&net.tls_cert, &net.tls_key) {
        (Some(cert), Some(key)) => {
            let read = |p: &std::path::Path| {
                std::fs::read(p)
                    .map_err(|e| CoreError::BadSetting(format!("cannot read {}: {e}", p.display())))
            };
            Some(
                tls_acceptor(&read(cert)?, &read(key)?)
                    .map_err(|e| CoreError::BadSetting(e.to_string()))?,
            )
        }
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        CoreError::BadSetting(format!("cannot listen on {listen} for the gateway: {e}"))
    })?;
    let clock = shared.clock.clone();
    let server = Arc::new(PublicServer::new(
        &hostname,
        InboundPolicy {
            domain: settings.domain.clone(),
            secret: ReplySecret::from_bytes(*settings.secret),
        },
        tls,
        dns,
        net.limits.clone(),
        Arc::new(Inbox {
            shared: shared.clone(),
            identity_id,
            domain: settings.domain.clone(),
        }),
        Arc::new(move || u64::try_from(clock.now_unix()).unwrap_or(0)),
    ));
    tracing::info!("gateway: taking replies on {listen}");
    tasks.push(tokio::spawn(server.serve(listener)));
    Ok(tasks)
}

/// Where accepted replies go.
struct Inbox {
    shared: Arc<NodeShared>,
    identity_id: i64,
    domain: String,
}

/// Attachments a reply may bring in.
const MAX_ATTACHMENTS: usize = 32;
/// Message-IDs of a reply's thread kept.
const MAX_REFERENCES: usize = 50;

#[async_trait::async_trait]
impl ReplySink for Inbox {
    async fn take(&self, mail: InboundMail) -> Result<(), Reply> {
        let Some(parsed) = MessageParser::default().parse(&mail.data) else {
            return Err(Reply::new(550, "5.6.0", "Message could not be read"));
        };
        let from = parsed
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(|| mail.mail_from.clone());
        let from = super::ordinary_address(&from).unwrap_or_else(|| mail.mail_from.clone());
        let subject = parsed.subject().unwrap_or("").to_owned();
        let text = parsed
            .body_text(0)
            .map(|t| t.replace("\r\n", "\n"))
            .unwrap_or_default();
        let attachments: Vec<Attachment> = parsed
            .attachments()
            .take(MAX_ATTACHMENTS)
            .map(|part| Attachment {
                name: part.attachment_name().unwrap_or("attachment").to_owned(),
                content_type: part
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(s) => format!("{}/{}", c.ctype(), s),
                        None => c.ctype().to_owned(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".into()),
                data: part.contents().to_vec(),
            })
            .collect();
        let c = &mail.checks;
        // An Autocrypt key is learnt only from mail whose From domain authenticated it (DMARC
        // pass): anyone can write the header, and a key planted for someone would turn mail
        // to them into mail they cannot read.
        let autocrypt = (c.dmarc == "pass")
            .then(|| parsed.header_raw("Autocrypt"))
            .flatten()
            .and_then(|h| postern_mime::OutsiderKey::from_autocrypt(h, &from))
            .and_then(|k| k.to_bytes().ok());
        let mut origin = format!(
            "from={from}; spf={}; dkim={}; dmarc={}; tls={}; gateway={}",
            c.spf,
            c.dkim,
            c.dmarc,
            if mail.tls { "yes" } else { "no" },
            self.domain
        );
        // The reply's own Message-ID and threading travel with it, so that the user's mailbox
        // threads it under what they sent, and their answer threads at the correspondent's.
        if let Some(id) = parsed.message_id().and_then(super::portable_message_id) {
            origin.push_str("; id=");
            origin.push_str(&id);
        }
        let mut headers = vec![
            ("Postern-Kind".into(), KIND_IN.into()),
            ("Postern-Gateway".into(), origin),
        ];
        let ids = |v: &mail_parser::HeaderValue<'_>| -> Vec<String> {
            match v {
                mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
                mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
                _ => Vec::new(),
            }
            .into_iter()
            .filter_map(|id| super::portable_message_id(&id))
            .take(MAX_REFERENCES)
            .collect()
        };
        if let Some(parent) = ids(parsed.in_reply_to()).into_iter().next() {
            headers.push(("In-Reply-To".into(), format!("<{parent}>")));
        }
        let references = ids(parsed.references());
        if !references.is_empty() {
            let refs: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
            headers.push(("References".into(), refs.join(" ")));
        }
        let draft = QueuedDraft::new(&subject, &text, &attachments).with_headers(headers);
        let now = self.shared.clock.now_unix();
        let result = self.shared.with_store(|s| {
            s.in_transaction(|s| {
                let mut queued = 0;
                for route in &mail.routes {
                    let Some(user) = s.gateway_route_address(self.identity_id, route.route)? else {
                        continue;
                    };
                    let id = postern_mime::random_message_id(&mut rand::rngs::OsRng);
                    s.enqueue(self.identity_id, &user, &id, &draft.to_bytes(), now)?;
                    if let Some(key) = &autocrypt {
                        s.set_gateway_key(
                            self.identity_id,
                            &user,
                            &from,
                            key,
                            postern_store::gateway_key_source::AUTOCRYPT,
                            now,
                        )?;
                    }
                    queued += 1;
                }
                Ok::<_, postern_store::StoreError>(queued)
            })
        });
        match result {
            // A valid token whose route is gone (its sender's identity was deleted here): refused,
            // not acknowledged and dropped.
            Ok(0) => Err(postern_gateway::recipient::no_such_reply_address()),
            Ok(_) => {
                self.shared.wake.notify_one();
                Ok(())
            }
            Err(e) => {
                tracing::error!("gateway: storing a reply failed: {e}");
                Err(Reply::new(
                    451,
                    "4.3.0",
                    "Cannot take the message now; try again later",
                ))
            }
        }
    }
}
