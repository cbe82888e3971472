//! The SMTP client side: deliver one message to a peer's onion service, fetching the peer's
//! card (and so its key) over the same channel when we do not hold it yet.

use std::time::Duration;

use postern_card::ContactCard;
use postern_smtp::{data_block, Reply, ReplyParser};
use postern_transport::{Stream, Transport};
use postern_types::MailAddress;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::{ClientTimeouts, SMTP_PORT};

/// Why a delivery attempt did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying later (unreachable, 4xx, timeouts).
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help (5xx, a card that does not match).
    #[error("{0}")]
    Permanent(String),
}

/// An open SMTP conversation with a peer's onion service.
pub(crate) struct Conversation {
    stream: Stream,
    parser: ReplyParser,
    timeouts: ClientTimeouts,
}

fn from_reply(what: &str, r: &Reply) -> DeliveryError {
    let text = format!("{what}: {r}");
    if r.is_transient() {
        DeliveryError::Transient(text)
    } else {
        DeliveryError::Permanent(text)
    }
}

impl Conversation {
    /// The next reply, due within `wait` from now: a deadline for the whole reply, however the
    /// peer trickles it (a byte a minute does not keep us waiting forever).
    async fn reply(&mut self, wait: Duration) -> Result<Reply, DeliveryError> {
        self.reply_by(Instant::now() + wait).await
    }

    async fn reply_by(&mut self, deadline: Instant) -> Result<Reply, DeliveryError> {
        let mut buf = [0u8; 4096];
        loop {
            match self.parser.next_reply() {
                Ok(Some(r)) => return Ok(r),
                Ok(None) => {}
                Err(e) => return Err(DeliveryError::Transient(format!("peer sent {e}"))),
            }
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut buf))
                .await
                .map_err(|_| DeliveryError::Transient("the peer stopped answering".into()))?
                .map_err(|e| DeliveryError::Transient(format!("connection lost: {e}")))?;
            if n == 0 {
                return Err(DeliveryError::Transient(
                    "the peer closed the connection".into(),
                ));
            }
            self.parser.feed(&buf[..n]);
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), DeliveryError> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| DeliveryError::Transient(format!("connection lost: {e}")))?;
        self.stream
            .flush()
            .await
            .map_err(|e| DeliveryError::Transient(format!("connection lost: {e}")))
    }

    async fn expect(&mut self, what: &str, ok: u16) -> Result<Reply, DeliveryError> {
        let wait = self.timeouts.reply;
        let r = self.reply(wait).await?;
        if r.code == ok {
            Ok(r)
        } else {
            Err(from_reply(what, &r))
        }
    }

    /// Send one command line (without CRLF) and return its reply, whatever the code.
    pub(crate) async fn command(&mut self, line: &str) -> Result<Reply, DeliveryError> {
        self.send(format!("{line}\r\n").as_bytes()).await?;
        let wait = self.timeouts.reply;
        self.reply(wait).await
    }

    /// One mail transaction: MAIL, RCPT and DATA pipelined (RFC 2920), then the message.
    /// Returns the final reply to the message, whatever its code; a refusal before DATA is
    /// returned as an error. The whole transaction has a deadline too.
    pub(crate) async fn transaction(
        &mut self,
        from: &str,
        to: &str,
        message: &[u8],
    ) -> Result<Reply, DeliveryError> {
        let limit = self.timeouts.transaction;
        tokio::time::timeout(limit, self.transaction_inner(from, to, message))
            .await
            .map_err(|_| {
                DeliveryError::Transient(format!(
                    "the transaction took longer than {} s",
                    limit.as_secs()
                ))
            })?
    }

    async fn transaction_inner(
        &mut self,
        from: &str,
        to: &str,
        message: &[u8],
    ) -> Result<Reply, DeliveryError> {
        let block = data_block(message);
        self.send(
            format!(
                "MAIL FROM:<{from}> SIZE={} BODY=8BITMIME\r\nRCPT TO:<{to}>\r\nDATA\r\n",
                block.len()
            )
            .as_bytes(),
        )
        .await?;
        let wait = self.timeouts.reply;
        let mail = self.reply(wait).await?;
        let rcpt = self.reply(wait).await?;
        let data = self.reply(wait).await?;
        if mail.code != 250 {
            return Err(from_reply("MAIL", &mail));
        }
        if rcpt.code != 250 {
            return Err(from_reply("RCPT", &rcpt));
        }
        if data.code != 354 {
            return Err(from_reply("DATA", &data));
        }
        self.send(&block).await?;
        let wait = self.timeouts.after_data;
        self.reply(wait).await
    }

    /// Say goodbye (best effort).
    pub(crate) async fn quit(mut self) {
        let _ = self.send(b"QUIT\r\n").await;
    }
}

/// Classify a final reply: success, or why not.
pub(crate) fn outcome(what: &str, r: &Reply) -> Result<(), DeliveryError> {
    if r.is_positive() {
        Ok(())
    } else {
        Err(from_reply(what, r))
    }
}

/// Open an SMTP conversation with `to`'s onion service on behalf of `from`.
pub(crate) async fn connect(
    transport: &dyn Transport,
    from: &MailAddress,
    to: &MailAddress,
    timeouts: ClientTimeouts,
) -> Result<Conversation, DeliveryError> {
    let stream = transport
        .connect(from.onion(), to.onion(), SMTP_PORT)
        .await
        .map_err(|e| DeliveryError::Transient(e.to_string()))?;
    let mut c = Conversation {
        stream,
        parser: ReplyParser::new(),
        timeouts,
    };
    c.expect("greeting", 220).await?;
    // The EHLO name says nothing about the sender.
    c.send(b"EHLO postern\r\n").await?;
    c.expect("EHLO", 250).await?;
    Ok(c)
}

/// Ask `to`'s onion service for its card over the (authenticated) onion channel.
async fn fetch_card(
    c: &mut Conversation,
    to: &MailAddress,
    expected_fingerprint: Option<&[u8]>,
) -> Result<ContactCard, DeliveryError> {
    c.send(format!("CARD {}\r\n", to.local()).as_bytes())
        .await?;
    let r = c.expect("CARD", 250).await?;
    let card = ContactCard::from_text(&r.lines.concat())
        .map_err(|e| DeliveryError::Permanent(format!("the recipient's card was refused: {e}")))?;
    if card.address() != to {
        return Err(DeliveryError::Permanent(
            "the recipient's onion service answered with a card for another address".into(),
        ));
    }
    if expected_fingerprint.is_some_and(|f| f != card.binding().fingerprint()) {
        return Err(DeliveryError::Permanent(
            "the recipient's key differs from the one in the address book".into(),
        ));
    }
    if card.public_key().is_none() {
        return Err(DeliveryError::Permanent(
            "the recipient's card carries no key".into(),
        ));
    }
    Ok(card)
}

/// What a successful delivery learned.
#[derive(Debug)]
pub(crate) struct Delivered {
    /// The recipient's card, if it had to be fetched.
    pub fetched_card: Option<ContactCard>,
}

/// What we know of the recipient before connecting.
#[derive(Debug, Default)]
pub(crate) struct KnownRecipient {
    /// Its OpenPGP key, if we hold it.
    pub key: Option<Vec<u8>>,
    /// The fingerprint its key must have (from a card without key), if known.
    pub fingerprint: Option<Vec<u8>>,
}

/// Deliver a message. Without the recipient's key, its card is fetched first (and must match a
/// fingerprint we already know). `seal` turns the recipient's key into the message bytes.
pub(crate) async fn deliver(
    transport: &dyn Transport,
    from: &MailAddress,
    to: &MailAddress,
    known: KnownRecipient,
    seal: impl AsyncFnOnce(Vec<u8>) -> Result<Vec<u8>, DeliveryError>,
    timeouts: ClientTimeouts,
) -> Result<Delivered, DeliveryError> {
    let mut c = connect(transport, from, to, timeouts).await?;
    let (key, fetched_card) = match known.key {
        Some(k) => (k, None),
        None => {
            let card = fetch_card(&mut c, to, known.fingerprint.as_deref()).await?;
            let key = card.public_key().map(<[u8]>::to_vec).unwrap_or_default();
            (key, Some(card))
        }
    };
    let message = seal(key).await?;
    let done = c
        .transaction(&from.to_string(), &to.to_string(), &message)
        .await?;
    outcome("message", &done)?;
    c.quit().await;
    Ok(Delivered { fetched_card })
}
