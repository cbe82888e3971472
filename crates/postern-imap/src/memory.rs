//! An in-memory [`Mailstore`] for tests and fuzzing.

use crate::{Entry, Flags, LoginRefused, MailboxInfo, Mailstore, Refusal};

/// A mail store in memory: INBOX and Archive, user `me`, password `pw`. For tests and
/// fuzzing; not used by Postern itself.
#[derive(Debug, Default)]
pub struct MemoryStore {
    logged_in: bool,
    inbox: Vec<(Entry, Vec<u8>)>,
    archive: Vec<(Entry, Vec<u8>)>,
    uidnext: u32,
    /// Bumped by every change, as Postern's event log is.
    version: i64,
}

impl MemoryStore {
    /// A store with `n` messages in INBOX.
    pub fn with(n: u32) -> Self {
        let mut m = MemoryStore {
            uidnext: 1,
            ..Default::default()
        };
        for i in 0..n {
            m.add(&format!(
                "Subject: message {i}\r\nFrom: a@b.onion\r\n\r\nbody {i}\r\n"
            ));
        }
        m
    }
    /// A new message in INBOX.
    pub fn add(&mut self, text: &str) {
        let uid = self.uidnext;
        self.uidnext += 1;
        self.version += 1;
        self.inbox.push((
            Entry {
                uid,
                flags: Flags::default(),
                received_at: 1_700_000_000,
            },
            text.as_bytes().to_vec(),
        ));
    }
    fn folder(&mut self, name: &str) -> Result<&mut Vec<(Entry, Vec<u8>)>, Refusal> {
        match name {
            "INBOX" => Ok(&mut self.inbox),
            "Archive" => Ok(&mut self.archive),
            _ => Err(Refusal::NoMailbox),
        }
    }
}

impl Mailstore for MemoryStore {
    fn login(&mut self, user: &str, password: &str) -> Result<(), LoginRefused> {
        if user == "me" && password == "pw" {
            self.logged_in = true;
            Ok(())
        } else {
            Err(LoginRefused::Wrong)
        }
    }
    fn mailboxes(&mut self) -> Result<Vec<MailboxInfo>, Refusal> {
        Ok(vec![
            MailboxInfo {
                name: "INBOX".into(),
                special_use: None,
                uidvalidity: 7,
                uidnext: self.uidnext,
            },
            MailboxInfo {
                name: "Archive".into(),
                special_use: Some("Archive"),
                uidvalidity: 8,
                uidnext: self.uidnext,
            },
        ])
    }
    fn entries(&mut self, mailbox: &str) -> Result<Vec<Entry>, Refusal> {
        Ok(self.folder(mailbox)?.iter().map(|e| e.0.clone()).collect())
    }
    fn message(&mut self, mailbox: &str, uid: u32) -> Result<Vec<u8>, Refusal> {
        let f = self.folder(mailbox)?;
        f.iter()
            .find(|e| e.0.uid == uid)
            .map(|e| e.1.clone())
            .ok_or(Refusal::Gone)
    }
    fn set_flags(&mut self, mailbox: &str, uid: u32, flags: Flags) -> Result<(), Refusal> {
        let f = self.folder(mailbox)?;
        let e = f.iter_mut().find(|e| e.0.uid == uid).ok_or(Refusal::Gone)?;
        e.0.flags = flags;
        self.version += 1;
        Ok(())
    }
    fn move_message(&mut self, mailbox: &str, uid: u32, to: &str) -> Result<u32, Refusal> {
        let new = self.uidnext;
        let f = self.folder(mailbox)?;
        let i = f.iter().position(|e| e.0.uid == uid).ok_or(Refusal::Gone)?;
        let mut e = f.remove(i);
        e.0.uid = new;
        self.uidnext += 1;
        self.version += 1;
        self.folder(to)?.push(e);
        Ok(new)
    }
    fn expunge(&mut self, mailbox: &str, _only: Option<&[u32]>) -> Result<Vec<u32>, Refusal> {
        let f = self.folder(mailbox)?;
        let gone = f
            .iter()
            .filter(|e| e.0.flags.deleted)
            .map(|e| e.0.uid)
            .collect::<Vec<_>>();
        f.retain(|e| !e.0.flags.deleted);
        if !gone.is_empty() {
            self.version += 1;
        }
        Ok(gone)
    }
    fn version(&mut self) -> Option<i64> {
        Some(self.version)
    }
    fn append(&mut self, _: &str, _: &[u8], _: Flags) -> Result<u32, Refusal> {
        Err(Refusal::NotAllowed("no appending here".into()))
    }
    fn search_text(&mut self, mailbox: &str, text: &str) -> Result<Vec<u32>, Refusal> {
        let f = self.folder(mailbox)?;
        Ok(f.iter()
            .filter(|e| String::from_utf8_lossy(&e.1).contains(text))
            .map(|e| e.0.uid)
            .collect())
    }
}
