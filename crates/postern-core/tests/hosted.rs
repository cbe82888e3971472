//! Hosted accounts: a mailbox on the host's device under the host's onion, reached by Postern
//! mail like any identity and read and written by its holder's mail client through the host's
//! onion service (IMAP on 143, submission on 587) — here over the loopback transport; the same
//! over the private Tor network with torsocks is in `hosted_tor.rs`.

mod common;

use std::time::Duration;

use common::*;
use postern_core::{Transport, HOSTED_READABLE, ONION_IMAP_PORT, ONION_SUBMISSION_PORT};
use postern_transport::{LoopbackTransport, Stream};
use postern_types::MailAddress;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const WAIT: Duration = Duration::from_secs(60);

/// A line-oriented client (IMAP or SMTP) over a transport stream.
struct Client(BufReader<Stream>);

impl Client {
    async fn connect(reg: &std::path::Path, to: &str, port: u16) -> Client {
        let t = LoopbackTransport::new(reg).expect("transport");
        t.start().await.expect("start");
        let addr: MailAddress = to.parse().expect("address");
        let s = t
            .connect(addr.onion(), addr.onion(), port)
            .await
            .expect("connect");
        Client(BufReader::new(s))
    }

    async fn line(&mut self) -> String {
        let mut l = String::new();
        let n = tokio::time::timeout(WAIT, self.0.read_line(&mut l))
            .await
            .expect("in time")
            .expect("read");
        assert!(n > 0, "connection closed");
        l
    }

    async fn send(&mut self, text: &str) {
        self.0
            .get_mut()
            .write_all(text.as_bytes())
            .await
            .expect("write");
    }

    /// Send an IMAP command; everything up to and including its tagged reply.
    async fn imap(&mut self, tag: &str, command: &str) -> String {
        self.send(&format!("{tag} {command}\r\n")).await;
        let mut all = String::new();
        loop {
            let l = self.line().await;
            all.push_str(&l);
            if l.starts_with(&format!("{tag} ")) {
                return all;
            }
        }
    }

    /// An SMTP reply (all its lines).
    async fn smtp(&mut self) -> String {
        let mut all = String::new();
        loop {
            let l = self.line().await;
            all.push_str(&l);
            if l.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }
}

fn plain(user: &str, password: &str) -> String {
    data_encoding::BASE64.encode(format!("\0{user}\0{password}").as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosted_account_gets_postern_mail_and_its_holder_reads_and_sends_over_the_onion() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut carol = Device::new(tmp.path(), "carol");

    // Alice hosts bob@<alice's onion>.
    let account = alice
        .api
        .add_account("alice", "bob", "Bob", None)
        .expect("account");
    let bob = account.identity.address.clone();
    let onion = alice.address.split('@').nth(1).expect("onion").to_owned();
    assert_eq!(bob, format!("bob@{onion}"));
    assert_eq!(
        account.identity.hosted_by.as_deref(),
        Some(alice.address.as_str())
    );
    assert_eq!(account.readable_by_host, HOSTED_READABLE);
    assert_eq!(account.imap, format!("{onion}:{ONION_IMAP_PORT}"));
    let password = account.login.password.clone().expect("password shown once");
    assert_ne!(
        account.identity.fingerprint,
        alice.api.identity("alice").expect("alice").fingerprint,
        "the account has its own key"
    );
    // The same local part twice, and an account hosting another, are refused.
    assert!(alice.api.add_account("alice", "bob", "Bob", None).is_err());
    assert!(alice.api.add_account(&bob, "eve", "Eve", None).is_err());
    assert_eq!(
        alice.api.accounts(Some("alice")).expect("accounts").len(),
        1
    );

    // Carol and Bob know each other (cards carry a binding signed by the onion's key).
    let bob_card = alice.api.export_card(&bob, true).expect("bob's card");
    carol
        .api
        .add_contact("carol", &bob_card)
        .expect("carol adds bob");
    alice
        .api
        .add_contact(&bob, &carol.card(true))
        .expect("bob adds carol");

    alice.start(loopback(&reg)).await;
    carol.start(loopback(&reg)).await;
    assert!(alice.node.as_ref().expect("node").serving().contains(&bob));

    // Postern mail to the account lands in its inbox, not its host's.
    carol
        .api
        .send("carol", &bob, "For Bob", "Mail for a hosted account.", &[])
        .expect("send");
    carol.node.as_ref().expect("node").wake_outbox();
    wait_for(WAIT, "Bob's inbox", || {
        alice.api.mailbox(&bob, "inbox").ok()?.first().map(|m| m.id)
    })
    .await;
    assert!(alice
        .api
        .mailbox("alice", "inbox")
        .expect("inbox")
        .is_empty());

    // Bob's mail client, through the onion service's IMAP port.
    let mut imap = Client::connect(&reg, &bob, ONION_IMAP_PORT).await;
    assert!(imap.line().await.starts_with("* OK"));
    let wrong = imap
        .imap("a1", &format!("LOGIN {bob} not-the-password"))
        .await;
    assert!(wrong.contains("a1 NO"), "{wrong}");
    // The host's own login does not work through the onion, even with its right password.
    let alice_pw = alice
        .api
        .rotate_client_password("alice")
        .expect("alice's password")
        .password
        .expect("shown");
    let host = imap
        .imap("a2", &format!("LOGIN {} {alice_pw}", alice.address))
        .await;
    assert!(host.contains("a2 NO"), "{host}");
    let ok = imap.imap("a3", &format!("LOGIN {bob} {password}")).await;
    assert!(ok.contains("a3 OK"), "{ok}");
    let select = imap.imap("a4", "SELECT INBOX").await;
    assert!(select.contains("* 1 EXISTS"), "{select}");
    let fetched = imap.imap("a5", "FETCH 1 BODY[]").await;
    assert!(fetched.contains("Mail for a hosted account."), "{fetched}");
    assert!(fetched.contains("Subject: For Bob"), "{fetched}");
    assert!(fetched.contains("Authentication-Results:"), "{fetched}");
    let list = imap.imap("a6", "LIST \"\" \"*\"").await;
    assert!(list.contains("INBOX") && list.contains("a6 OK"), "{list}");
    imap.imap("a7", "LOGOUT").await;

    // Bob replies through submission on the onion: only as himself.
    let mut smtp = Client::connect(&reg, &bob, ONION_SUBMISSION_PORT).await;
    assert!(smtp.smtp().await.starts_with("220"));
    smtp.send("EHLO bobs-laptop\r\n").await;
    assert!(smtp.smtp().await.starts_with("250"));
    smtp.send(&format!("AUTH PLAIN {}\r\n", plain(&bob, &password)))
        .await;
    let auth = smtp.smtp().await;
    assert!(auth.starts_with("235"), "{auth}");
    smtp.send(&format!("MAIL FROM:<{}>\r\n", alice.address))
        .await;
    let spoof = smtp.smtp().await;
    assert!(spoof.starts_with("553"), "{spoof}");
    smtp.send(&format!(
        "MAIL FROM:<{bob}>\r\nRCPT TO:<{}>\r\nDATA\r\n",
        carol.address
    ))
    .await;
    assert!(smtp.smtp().await.starts_with("250"));
    assert!(smtp.smtp().await.starts_with("250"));
    assert!(smtp.smtp().await.starts_with("354"));
    smtp.send(&format!(
        "From: Bob <{bob}>\r\nTo: <{}>\r\nSubject: Re: For Bob\r\n\r\nHello from a hosted account.\r\n.\r\n",
        carol.address
    ))
    .await;
    let queued = smtp.smtp().await;
    assert!(queued.starts_with("250"), "{queued}");
    smtp.send("QUIT\r\n").await;

    let id = wait_for(WAIT, "Carol's inbox", || {
        carol.api.inbox(None).ok()?.first().map(|m| m.id)
    })
    .await;
    let m = carol.api.read(id).expect("read");
    assert_eq!(m.summary.from, bob);
    assert_eq!(m.summary.verification, "contact");
    assert!(m.text.contains("Hello from a hosted account."));

    // Removing the account takes its mail with it; the host's identity stays.
    alice.stop();
    alice.api.remove_account(&bob).expect("remove");
    assert!(alice.api.remove_account("alice").is_err());
    assert!(alice.api.mailbox(&bob, "inbox").is_err());
    assert_eq!(alice.api.identities().expect("identities").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosted_account_with_its_holders_own_key_is_unreadable_by_its_host() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reg = tmp.path().join("registry");
    let mut alice = Device::new(tmp.path(), "alice");
    let mut carol = Device::new(tmp.path(), "carol");

    // Bob's own GnuPG key (his secret stays in his GnuPG home).
    let holder = gnupg::Holder::new(&tmp.path().join("bob-gnupg"), "bob@example.invalid");
    let bob_public = holder.public.clone();
    let (_, bob_secret, _) = gnupg::gpg(&holder.home, &["--armor", "--export-secret-keys"], b"");

    // A secret key is refused (the host must never hold it), and changes nothing.
    assert!(alice
        .api
        .add_account("alice", "bob", "Bob", Some(&bob_secret))
        .is_err());
    assert!(alice.api.accounts(None).expect("accounts").is_empty());
    let account = alice
        .api
        .add_account("alice", "bob", "Bob", Some(&bob_public))
        .expect("account");
    assert!(account.identity.holder_key);
    assert_eq!(account.readable_by_host, postern_core::HOSTED_HOLDER_KEY);
    let bob = account.identity.address.clone();
    let password = account.login.password.clone().expect("password");

    let bob_card = alice.api.export_card(&bob, true).expect("bob's card");
    carol
        .api
        .add_contact("carol", &bob_card)
        .expect("carol adds bob");
    alice
        .api
        .add_contact(&bob, &carol.card(true))
        .expect("bob adds carol");
    alice.start(loopback(&reg)).await;
    carol.start(loopback(&reg)).await;

    carol
        .api
        .send(
            "carol",
            &bob,
            "Only for Bob",
            "The host cannot read this line.",
            &[],
        )
        .expect("send");
    carol.node.as_ref().expect("node").wake_outbox();
    let id = wait_for(WAIT, "Bob's inbox", || {
        alice.api.mailbox(&bob, "inbox").ok()?.first().map(|m| m.id)
    })
    .await;

    // The host authenticated Carol, but sees neither the subject nor the text.
    let m = alice.api.read(id).expect("read");
    assert_eq!(m.summary.from, carol.address);
    assert_eq!(m.summary.verification, "contact");
    assert_eq!(m.summary.subject, "...");
    assert_eq!(m.text, postern_core::HOLDER_ONLY_TEXT);
    let mime = String::from_utf8(alice.api.message_mime(id).expect("mime")).expect("utf-8");
    assert!(!mime.contains("cannot read"), "{mime}");
    assert!(!mime.contains("Only for Bob"), "{mime}");

    // Bob's mail client fetches it over the onion, as PGP/MIME with the host's verdict.
    let mut imap = Client::connect(&reg, &bob, ONION_IMAP_PORT).await;
    assert!(imap.line().await.starts_with("* OK"));
    let ok = imap.imap("a1", &format!("LOGIN {bob} {password}")).await;
    assert!(ok.contains("a1 OK"), "{ok}");
    imap.imap("a2", "SELECT INBOX").await;
    let fetched = imap.imap("a3", "FETCH 1 BODY[]").await;
    assert!(
        fetched.contains(&format!(
            "Authentication-Results: postern; pgp=pass header.from={}",
            carol.address
        )),
        "{fetched}"
    );
    assert!(fetched.contains("multipart/encrypted"), "{fetched}");
    assert!(
        !fetched.contains("Postern: signed by"),
        "no line of ours inside: {fetched}"
    );
    imap.imap("a4", "LOGOUT").await;

    // Bob's GnuPG decrypts it and finds Carol's signature, the subject and the text.
    let carol_key = carol
        .api
        .identity_keys("carol")
        .expect("keys")
        .openpgp_public()
        .expect("public");
    let (ok, plain, status) = holder.decrypt(&fetched, &carol_key);
    assert!(ok, "Bob could not decrypt: {status}");
    assert!(plain.contains("Subject: Only for Bob"), "{plain}");
    assert!(plain.contains("The host cannot read this line."), "{plain}");
    assert!(status.contains("GOODSIG"), "signed by Carol: {status}");
}
