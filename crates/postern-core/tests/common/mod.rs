//! Helpers for many-node tests: nodes in one process, a raw SMTP client, waiting.

#![allow(dead_code)]

pub mod gnupg;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postern_core::{
    KdfParams, Network, Node, NodeConfig, Postern, RetryPolicy, SystemClock, Transport,
};
use postern_smtp::data_block;
use postern_transport::{LoopbackTransport, Stream};
use postern_types::MailAddress;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub fn fast_kdf() -> KdfParams {
    KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    }
}

/// Quick retries, short timeouts: what the tests need to run in seconds.
pub fn test_config() -> NodeConfig {
    let mut c = NodeConfig {
        retry: RetryPolicy {
            first_retry: Duration::from_secs(1),
            max_interval: Duration::from_secs(2),
            give_up_after: Duration::from_secs(3600),
        },
        // A stamp as real as in the product, cheaper: first messages still carry one.
        stamp_bits: 8,
        ..NodeConfig::default()
    };
    c.smtp.command_timeout = Duration::from_secs(2);
    c.smtp.data_timeout = Duration::from_secs(4);
    c.smtp.max_message_size = 256 * 1024;
    c.smtp.max_recipients = 1;
    // Identities pull from their carriers at once (the product spreads them out).
    c.unlinking.pull_spread = Duration::ZERO;
    c.unlinking.launch_spread = Duration::ZERO;
    c.lists = postern_core::ListTimers {
        graft: Duration::from_secs(1),
        retry: Duration::from_secs(2),
        sync: Duration::from_secs(60),
    };
    c
}

/// One person's device: a store with one identity, and (once started) a node.
/// The system clock plus an offset the test can move forward.
#[derive(Debug, Default)]
pub struct ShiftClock(pub std::sync::atomic::AtomicI64);

impl ShiftClock {
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

impl postern_core::Clock for ShiftClock {
    fn now_unix(&self) -> i64 {
        SystemClock.now_unix() + self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

pub struct Device {
    pub dir: PathBuf,
    pub api: Postern,
    pub address: String,
    pub node: Option<Node>,
}

impl Device {
    pub fn new(root: &Path, name: &str) -> Device {
        Self::with_clock(root, name, Arc::new(SystemClock))
    }

    pub fn with_clock(root: &Path, name: &str, clock: Arc<dyn postern_core::Clock>) -> Device {
        let dir = root.join(name);
        let mut api = Postern::init_with(&dir, b"pw", fast_kdf(), clock).expect("init");
        let address = api
            .create_identity(name, &format!("{name} (test)"))
            .expect("identity")
            .address;
        Device {
            dir,
            api,
            address,
            node: None,
        }
    }

    pub fn name(&self) -> String {
        self.address
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn start(&mut self, transport: Arc<dyn Transport>) {
        self.start_with(transport, test_config()).await;
    }

    pub async fn start_with(&mut self, transport: Arc<dyn Transport>, config: NodeConfig) {
        self.node = Some(
            Node::start(&self.api, transport, config)
                .await
                .expect("node"),
        );
    }

    pub fn stop(&mut self) {
        self.node = None;
    }

    pub fn card(&self, with_key: bool) -> String {
        self.api.export_card(&self.name(), with_key).expect("card")
    }

    pub fn add_contact(&mut self, other: &Device, with_key: bool) {
        let name = self.name();
        self.api
            .add_contact(&name, &other.card(with_key))
            .expect("add contact");
    }
}

pub fn loopback(registry: &Path) -> Arc<dyn Transport> {
    let t: Arc<dyn Transport> = Arc::new(LoopbackTransport::new(registry).expect("loopback"));
    t
}

pub fn loopback_network(registry: &Path) -> Network {
    Network::Loopback {
        registry: registry.to_owned(),
    }
}

/// Poll `f` until it returns `Some`, or panic after `limit`.
pub async fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A raw SMTP client for feeding exact bytes to a server.
pub struct RawSmtp {
    pub stream: Stream,
    buf: Vec<u8>,
}

impl RawSmtp {
    pub fn new(stream: Stream) -> Self {
        RawSmtp {
            stream,
            buf: Vec::new(),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
        let _ = self.stream.flush().await;
    }

    /// The next reply's code, or `None` if the server closed the connection (or nothing came
    /// within `wait`).
    pub async fn code(&mut self, wait: Duration) -> Option<u16> {
        self.reply(wait).await.map(|(c, _)| c)
    }

    /// The next full reply: code and last line's text.
    pub async fn reply(&mut self, wait: Duration) -> Option<(u16, String)> {
        let deadline = Instant::now() + wait;
        loop {
            // A complete reply is a line whose 4th byte is a space.
            while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                if text.len() >= 3 && text.as_bytes().get(3) != Some(&b'-') {
                    let code = text[..3].parse().ok()?;
                    return Some((code, text));
                }
            }
            let mut chunk = [0u8; 4096];
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Whether the server has closed the connection (within `wait`).
    pub async fn closed(&mut self, wait: Duration) -> bool {
        let mut chunk = [0u8; 256];
        matches!(
            tokio::time::timeout(wait, self.stream.read(&mut chunk)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

pub async fn smtp_to(reg: &std::path::Path, to: &Device) -> RawSmtp {
    smtp_to_address(reg, &to.address).await
}

pub async fn smtp_to_address(reg: &std::path::Path, to: &str) -> RawSmtp {
    let t = LoopbackTransport::new(reg).expect("t");
    t.start().await.expect("start");
    let addr: MailAddress = to.parse().expect("addr");
    RawSmtp::new(
        t.connect(addr.onion(), addr.onion(), 25)
            .await
            .expect("connect"),
    )
}

/// EHLO, MAIL, RCPT, DATA, the message; returns the final reply.
pub async fn submit(
    reg: &std::path::Path,
    from: &str,
    to: &Device,
    message: &[u8],
) -> (u16, String) {
    submit_to(reg, from, &to.address, message).await
}

/// `submit` to an address.
pub async fn submit_to(
    reg: &std::path::Path,
    from: &str,
    to: &str,
    message: &[u8],
) -> (u16, String) {
    let mut s = smtp_to_address(reg, to).await;
    let w = Duration::from_secs(60);
    assert_eq!(s.code(w).await, Some(220));
    s.send(format!("EHLO t\r\nMAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n").as_bytes())
        .await;
    assert_eq!(s.code(w).await, Some(250));
    assert_eq!(s.code(w).await, Some(250));
    assert_eq!(s.code(w).await, Some(250));
    assert_eq!(s.code(w).await, Some(354));
    s.send(&data_block(message)).await;
    s.reply(w).await.expect("reply after data")
}

/// A message composed the way a node would, signed by `keys` (carrying their key and binding),
/// with `from` as its sender (which may differ from `keys`' address, for forgeries), encrypted to
/// `to_key`. Returns the message and its Message-ID.
pub fn compose_as(
    keys: &postern_crypto::IdentityKeys,
    from: &str,
    to: &str,
    to_key: &[u8],
    subject: &str,
) -> (Vec<u8>, String) {
    compose_with(keys, from, to, to_key, subject, "body", vec![], Vec::new())
}

/// [`compose_as`] with the text, attachments and Postern headers given.
#[allow(clippy::too_many_arguments)]
pub fn compose_with(
    keys: &postern_crypto::IdentityKeys,
    from: &str,
    to: &str,
    to_key: &[u8],
    subject: &str,
    text: &str,
    attachments: Vec<postern_mime::Attachment>,
    headers: Vec<(String, String)>,
) -> (Vec<u8>, String) {
    use postern_mime::{compose, random_message_id, Draft, SenderKeys};
    let recipient = postern_crypto::PublicKeyInfo::parse(to_key).expect("key");
    let mut rng = rand::thread_rng();
    let id = random_message_id(&mut rng);
    let msg = compose(
        &Draft {
            from: from.parse::<MailAddress>().expect("addr"),
            from_name: String::new(),
            to: to.parse::<MailAddress>().expect("addr"),
            subject: subject.into(),
            text: text.into(),
            attachments,
            headers,
        },
        SenderKeys::of(keys),
        recipient.cert(),
        1_800_000_000,
        &id,
        &mut rng,
    )
    .expect("compose");
    (msg, id)
}

/// PGP/MIME around an OpenPGP message of `zeros` compressed zero bytes, encrypted to `key`.
pub fn bomb_for(key: &[u8], from: &str, to: &str, zeros: usize) -> Vec<u8> {
    use openpgp::serialize::stream::{Armorer, Compressor, Encryptor, LiteralWriter, Message};
    use sequoia_openpgp as openpgp;
    use std::io::Write;
    let cert = postern_crypto::PublicKeyInfo::parse(key).expect("key");
    let policy = openpgp::policy::StandardPolicy::new();
    let recipients = cert
        .cert()
        .keys()
        .with_policy(&policy, None)
        .for_transport_encryption();
    let mut armored = Vec::new();
    {
        let message = Message::new(&mut armored);
        let message = Armorer::new(message).build().expect("armor");
        let message = Encryptor::for_recipients(message, recipients)
            .build()
            .expect("encrypt");
        let message = Compressor::new(message).build().expect("compress");
        let mut w = LiteralWriter::new(message).build().expect("literal");
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..zeros / chunk.len() {
            w.write_all(&chunk).expect("write");
        }
        w.finalize().expect("finalize");
    }
    let mut out = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: ...\r\nMessage-ID: <bomb@x>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n\
         --b\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    out.extend(
        String::from_utf8_lossy(&armored)
            .replace("\r\n", "\n")
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    out.extend_from_slice(b"\r\n--b--\r\n");
    out
}
