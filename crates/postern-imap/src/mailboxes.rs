//! The session's mailbox commands: SELECT and EXAMINE, LIST and LSUB, STATUS, and telling
//! the client what changed in the selected mailbox.

use std::borrow::Cow;

use imap_next::imap_types::core::{Atom, QuotedChar, Tag};
use imap_next::imap_types::flag::{Flag, FlagNameAttribute, FlagPerm};
use imap_next::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_next::imap_types::response::{Code, Data};
use imap_next::imap_types::status::{StatusDataItem, StatusDataItemName};

use crate::session::{imap_mailbox, nz, wildcard_match, ImapSession, Phase, Selected};
use crate::{Entry, MailboxInfo, Mailstore};

impl<M: Mailstore> ImapSession<M> {
    pub(crate) fn info(&mut self, name: &str) -> Option<MailboxInfo> {
        self.store
            .mailboxes()
            .ok()?
            .into_iter()
            .find(|m| m.name == name)
    }

    pub(crate) fn select(&mut self, tag: Tag<'static>, name: &str, read_only: bool) {
        self.phase = Phase::LoggedIn;
        let Some(info) = self.info(name) else {
            return self.no_mailbox(tag);
        };
        // Read before the listing: a change in between shows at the next look.
        let version = self.store.version();
        let entries = match self.store.entries(name) {
            Ok(e) => e,
            Err(e) => return self.refused(tag, e),
        };
        let flags = vec![
            Flag::Seen,
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Draft,
        ];
        self.data(Data::Flags(flags.clone()));
        self.data(Data::Exists(entries.len() as u32));
        self.data(Data::Recent(0));
        if let Some(first) = entries.iter().position(|e| !e.flags.seen) {
            self.untagged_ok(Code::Unseen(nz(first as u32 + 1)), "first unseen");
        }
        self.untagged_ok(Code::UidValidity(nz(info.uidvalidity)), "UIDs valid");
        self.untagged_ok(Code::UidNext(nz(info.uidnext)), "next UID");
        let perm = if read_only {
            Vec::new()
        } else {
            flags.into_iter().map(FlagPerm::Flag).collect()
        };
        self.untagged_ok(Code::PermanentFlags(perm), "flags kept");
        self.phase = Phase::Selected(Selected {
            name: name.to_owned(),
            read_only,
            entries,
            copied_away: Default::default(),
            version,
        });
        if read_only {
            self.ok(tag, Some(Code::ReadOnly), "EXAMINE done");
        } else {
            self.ok(tag, Some(Code::ReadWrite), "SELECT done");
        }
    }

    pub(crate) fn list(&mut self, tag: Tag<'static>, pattern: &ListMailbox<'_>, lsub: bool) {
        let pattern = match pattern {
            ListMailbox::Token(t) => String::from_utf8_lossy(t.as_ref()).into_owned(),
            ListMailbox::String(s) => String::from_utf8_lossy(s.as_ref()).into_owned(),
        };
        let delimiter = QuotedChar::try_from('/').ok();
        if pattern.is_empty() {
            let root = Mailbox::try_from(String::new()).unwrap_or(Mailbox::Inbox);
            self.data(Data::List {
                items: vec![FlagNameAttribute::Noselect],
                delimiter,
                mailbox: root,
            });
            return self.ok(tag, None, "LIST done");
        }
        let boxes = match self.store.mailboxes() {
            Ok(b) => b,
            Err(e) => return self.refused(tag, e),
        };
        for b in boxes {
            if !wildcard_match(&pattern, &b.name) {
                continue;
            }
            let mut items = vec![FlagNameAttribute::from(Atom::unvalidated("HasNoChildren"))];
            if let Some(special) = b.special_use {
                items.push(FlagNameAttribute::from(Atom::unvalidated(special)));
            }
            let mailbox = imap_mailbox(&b.name);
            if lsub {
                self.data(Data::Lsub {
                    items,
                    delimiter,
                    mailbox,
                });
            } else {
                self.data(Data::List {
                    items,
                    delimiter,
                    mailbox,
                });
            }
        }
        self.ok(tag, None, if lsub { "LSUB done" } else { "LIST done" });
    }

    pub(crate) fn status(&mut self, tag: Tag<'static>, name: &str, items: &[StatusDataItemName]) {
        let Some(info) = self.info(name) else {
            return self.no_mailbox(tag);
        };
        let entries = match self.store.entries(name) {
            Ok(e) => e,
            Err(e) => return self.refused(tag, e),
        };
        let answer: Vec<StatusDataItem> = items
            .iter()
            .filter_map(|i| match i {
                StatusDataItemName::Messages => {
                    Some(StatusDataItem::Messages(entries.len() as u32))
                }
                StatusDataItemName::Recent => Some(StatusDataItem::Recent(0)),
                StatusDataItemName::UidNext => Some(StatusDataItem::UidNext(nz(info.uidnext))),
                StatusDataItemName::UidValidity => {
                    Some(StatusDataItem::UidValidity(nz(info.uidvalidity)))
                }
                StatusDataItemName::Unseen => Some(StatusDataItem::Unseen(
                    entries.iter().filter(|e| !e.flags.seen).count() as u32,
                )),
                StatusDataItemName::Deleted => Some(StatusDataItem::Deleted(
                    entries.iter().filter(|e| e.flags.deleted).count() as u32,
                )),
                _ => None,
            })
            .collect();
        self.data(Data::Status {
            mailbox: imap_mailbox(name),
            items: Cow::Owned(answer),
        });
        self.ok(tag, None, "STATUS done");
    }

    /// Tell the client what changed in the selected mailbox since it was last told. Removals
    /// (`EXPUNGE`) only where allowed (`expunges`: not during FETCH, STORE, SEARCH by
    /// sequence number).
    pub(crate) fn report_changes(&mut self, expunges: bool) {
        let Phase::Selected(sel) = &self.phase else {
            return;
        };
        let (name, seen) = (sel.name.clone(), sel.version);
        let version = self.store.version();
        if version.is_some() && version == seen {
            return;
        }
        let Ok(now) = self.store.entries(&name) else {
            return;
        };
        let Phase::Selected(sel) = &mut self.phase else {
            return;
        };
        if expunges {
            // Without expunges, removals may remain untold: look again next time.
            sel.version = version;
        }
        let mut out = Vec::new();
        if expunges {
            for i in (0..sel.entries.len()).rev() {
                let uid = sel.entries[i].uid;
                if sel.copied_away.contains(&uid) {
                    // Shown until the client expunges it (see `Selected::copied_away`).
                    continue;
                }
                if now.binary_search_by_key(&uid, |e| e.uid).is_err() {
                    sel.entries.remove(i);
                    out.push(Data::Expunge(nz(i as u32 + 1)));
                }
            }
        }
        for (i, e) in sel.entries.iter_mut().enumerate() {
            if let Ok(j) = now.binary_search_by_key(&e.uid, |n| n.uid) {
                if now[j].flags != e.flags {
                    e.flags = now[j].flags;
                    out.push(crate::fetch::flags_update(i as u32 + 1, e));
                }
            }
        }
        let last = sel.entries.last().map_or(0, |e| e.uid);
        let added: Vec<Entry> = now.into_iter().filter(|e| e.uid > last).collect();
        if !added.is_empty() {
            sel.entries.extend(added);
            out.push(Data::Exists(sel.entries.len() as u32));
        }
        for d in out {
            self.data(d);
        }
    }
}
