//! FETCH, STORE, MOVE and EXPUNGE on the selected mailbox.

use std::num::NonZeroU32;

use chrono::{FixedOffset, TimeZone};
use imap_next::imap_types::core::{Tag, Vec1};
use imap_next::imap_types::datetime::DateTime;
use imap_next::imap_types::extensions::uidplus::{UidElement, UidSet};
use imap_next::imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section,
};
use imap_next::imap_types::flag::{Flag, FlagFetch, StoreResponse, StoreType};
use imap_next::imap_types::response::{Code, Data};
use imap_next::imap_types::sequence::SequenceSet;
use imap_next::imap_types::IntoStatic;

use crate::section::{envelope, nstring, section_bytes};
use crate::session::{flag_list, flags_from, nz, ImapSession, Selected};
use crate::{Entry, Mailstore};

pub(crate) fn flags_update(seq: u32, e: &Entry) -> Data<'static> {
    Data::Fetch {
        seq: nz(seq),
        items: Vec1::unvalidated(vec![
            MessageDataItem::Uid(nz(e.uid)),
            MessageDataItem::Flags(fetch_flags(e)),
        ]),
    }
}

fn fetch_flags(e: &Entry) -> Vec<FlagFetch<'static>> {
    flag_list(e.flags)
        .into_iter()
        .map(FlagFetch::Flag)
        .collect()
}

fn internal_date(at: i64) -> Option<DateTime> {
    let utc = FixedOffset::east_opt(0)?;
    DateTime::try_from(utc.timestamp_opt(at, 0).single()?).ok()
}

/// Whether a set of sequence numbers names a message beyond the last (a client error, answered
/// `BAD` as Dovecot does; UIDs that do not exist are simply not there).
pub(crate) fn beyond_last(sel: &Selected, set: &SequenceSet, uid: bool) -> bool {
    use imap_next::imap_types::sequence::{SeqOrUid, Sequence};
    let len = sel.entries.len() as u32;
    let past = |s: &SeqOrUid| matches!(s, SeqOrUid::Value(v) if v.get() > len);
    !uid && set.0.as_ref().iter().any(|s| match s {
        Sequence::Single(a) => past(a),
        Sequence::Range(a, b) => past(a) || past(b),
    })
}

/// Indices into the selected mailbox's entries that a set names.
pub(crate) fn resolve(sel: &Selected, set: &SequenceSet, uid: bool) -> Vec<usize> {
    let entries = &sel.entries;
    let Some(last) = entries.last() else {
        return Vec::new();
    };
    if uid {
        set.iter(nz(last.uid))
            .filter_map(|u| entries.binary_search_by_key(&u.get(), |e| e.uid).ok())
            .collect()
    } else {
        set.iter(nz(entries.len() as u32))
            .map(|n| n.get() as usize - 1)
            .filter(|i| *i < entries.len())
            .collect()
    }
}

fn needs_message(name: &MessageDataItemName<'_>) -> bool {
    !matches!(
        name,
        MessageDataItemName::Uid | MessageDataItemName::Flags | MessageDataItemName::InternalDate
    )
}

/// Whether the header and the size answer it (what a client listing a mailbox asks).
fn header_answers(name: &MessageDataItemName<'_>) -> bool {
    match name {
        MessageDataItemName::Rfc822Size
        | MessageDataItemName::Rfc822Header
        | MessageDataItemName::Envelope => true,
        MessageDataItemName::BodyExt { section, .. } => matches!(
            section,
            Some(
                Section::Header(None)
                    | Section::HeaderFields(None, _)
                    | Section::HeaderFieldsNot(None, _)
            )
        ),
        other => !needs_message(other),
    }
}

fn sets_seen(name: &MessageDataItemName<'_>) -> bool {
    matches!(
        name,
        MessageDataItemName::BodyExt { peek: false, .. }
            | MessageDataItemName::Rfc822
            | MessageDataItemName::Rfc822Text
    )
}

fn partial(data: Vec<u8>, range: Option<(u32, NonZeroU32)>) -> (Vec<u8>, Option<u32>) {
    match range {
        None => (data, None),
        Some((start, len)) => {
            let a = (start as usize).min(data.len());
            let b = a.saturating_add(len.get() as usize).min(data.len());
            (data[a..b].to_vec(), Some(start))
        }
    }
}

impl<M: Mailstore> ImapSession<M> {
    pub(crate) fn fetch(
        &mut self,
        tag: Tag<'static>,
        set: &SequenceSet,
        names: MacroOrMessageDataItemNames<'static>,
        uid: bool,
    ) {
        let mut names = match names {
            MacroOrMessageDataItemNames::Macro(m) => {
                m.expand().into_iter().map(|n| n.into_static()).collect()
            }
            MacroOrMessageDataItemNames::MessageDataItemNames(n) => n,
        };
        if uid && !names.contains(&MessageDataItemName::Uid) {
            names.insert(0, MessageDataItemName::Uid);
        }
        let Some(sel) = self.selected() else { return };
        let (mailbox, read_only) = (sel.name.clone(), sel.read_only);
        if beyond_last(sel, set, uid) {
            return self.bad(tag, "invalid message sequence number");
        }
        let picked = resolve(sel, set, uid);
        let want_message = names.iter().any(needs_message);
        let header_only = names.iter().all(header_answers);
        let seen = !read_only && names.iter().any(sets_seen);
        for i in picked {
            let Some(sel) = self.selected() else { return };
            let mut entry = sel.entries[i].clone();
            let got = match (want_message, header_only) {
                (false, _) => Ok((Vec::new(), 0)),
                (true, true) => self.store.header(&mailbox, entry.uid),
                (true, false) => self
                    .store
                    .message(&mailbox, entry.uid)
                    .map(|m| (m.len() as u32, m))
                    .map(|(n, m)| (m, n)),
            };
            // Gone since: skipped; the client learns at the next NOOP.
            let Ok((message, size)) = got else { continue };
            let mut told_flags = names.contains(&MessageDataItemName::Flags);
            if seen && !entry.flags.seen {
                let mut f = entry.flags;
                f.seen = true;
                if self.store.set_flags(&mailbox, entry.uid, f).is_ok() {
                    entry.flags = f;
                    if let Some(sel) = self.selected() {
                        sel.entries[i].flags = f;
                    }
                    told_flags = false;
                }
            }
            let msg = message.as_slice();
            let mut items = Vec::new();
            for name in &names {
                let item = match name {
                    MessageDataItemName::Uid => MessageDataItem::Uid(nz(entry.uid)),
                    MessageDataItemName::Flags => MessageDataItem::Flags(fetch_flags(&entry)),
                    MessageDataItemName::InternalDate => match internal_date(entry.received_at) {
                        Some(d) => MessageDataItem::InternalDate(d),
                        None => continue,
                    },
                    MessageDataItemName::Rfc822Size => MessageDataItem::Rfc822Size(size),
                    MessageDataItemName::Envelope => MessageDataItem::Envelope(envelope(msg)),
                    MessageDataItemName::Rfc822 => MessageDataItem::Rfc822(nstring(msg.to_vec())),
                    MessageDataItemName::Rfc822Header => {
                        let end = crate::section::header_end(msg);
                        MessageDataItem::Rfc822Header(nstring(msg[..end].to_vec()))
                    }
                    MessageDataItemName::Rfc822Text => {
                        let end = crate::section::header_end(msg);
                        MessageDataItem::Rfc822Text(nstring(msg[end..].to_vec()))
                    }
                    MessageDataItemName::BodyExt {
                        section,
                        partial: p,
                        ..
                    } => {
                        let (data, origin) = partial(section_bytes(msg, section.as_ref()), *p);
                        MessageDataItem::BodyExt {
                            section: section.clone(),
                            origin,
                            data: nstring(data),
                        }
                    }
                    MessageDataItemName::Body => {
                        MessageDataItem::Body(crate::structure::body_structure(msg, false))
                    }
                    MessageDataItemName::BodyStructure => {
                        MessageDataItem::BodyStructure(crate::structure::body_structure(msg, true))
                    }
                    _ => continue,
                };
                items.push(item);
            }
            if seen && !told_flags {
                items.push(MessageDataItem::Flags(fetch_flags(&entry)));
            }
            if let Ok(items) = Vec1::try_from(items) {
                self.data(Data::Fetch {
                    seq: nz(i as u32 + 1),
                    items,
                });
            }
        }
        if uid {
            self.report_changes(true);
        }
        self.ok(tag, None, if uid { "UID FETCH done" } else { "FETCH done" });
    }

    pub(crate) fn store_flags(
        &mut self,
        tag: Tag<'static>,
        set: &SequenceSet,
        kind: StoreType,
        response: StoreResponse,
        flags: &[Flag<'static>],
        uid: bool,
    ) {
        let Some(sel) = self.selected() else { return };
        if sel.read_only {
            return self.no(tag, "the mailbox is read-only (EXAMINE)");
        }
        let mailbox = sel.name.clone();
        if beyond_last(sel, set, uid) {
            return self.bad(tag, "invalid message sequence number");
        }
        let picked = resolve(sel, set, uid);
        for i in picked {
            let Some(sel) = self.selected() else { return };
            let entry = sel.entries[i].clone();
            let new = match kind {
                StoreType::Add => flags_from(flags, entry.flags, true),
                StoreType::Remove => flags_from(flags, entry.flags, false),
                StoreType::Replace => {
                    let mut f = flags_from(flags, Default::default(), true);
                    // Whether it is a draft is where it is, not a flag to set.
                    f.draft = entry.flags.draft;
                    f
                }
            };
            let gone = sel.copied_away.contains(&entry.uid);
            if new != entry.flags && !gone {
                if let Err(e) = self.store.set_flags(&mailbox, entry.uid, new) {
                    return self.refused(tag, e);
                }
            }
            let Some(sel) = self.selected() else { return };
            sel.entries[i].flags = new;
            if response == StoreResponse::Answer {
                let mut e = sel.entries[i].clone();
                e.flags = new;
                let mut d = flags_update(i as u32 + 1, &e);
                if !uid {
                    if let Data::Fetch { seq, .. } = d {
                        d = Data::Fetch {
                            seq,
                            items: Vec1::from(MessageDataItem::Flags(fetch_flags(&e))),
                        };
                    }
                }
                self.data(d);
            }
        }
        if uid {
            self.report_changes(true);
        }
        self.ok(tag, None, if uid { "UID STORE done" } else { "STORE done" });
    }

    /// MOVE: the messages go to `to`; the client is told they left (EXPUNGE) at once.
    pub(crate) fn move_messages(
        &mut self,
        tag: Tag<'static>,
        set: &SequenceSet,
        to: &str,
        uid: bool,
    ) {
        let Some((code, _)) = self.transfer(&tag, set, to, uid) else {
            return;
        };
        self.untagged_ok(code, "moved");
        self.report_changes(true);
        self.ok(tag, None, if uid { "UID MOVE done" } else { "MOVE done" });
    }

    /// COPY: a message lives in one mailbox, so it moves too; here it stays visible until
    /// the client expunges it (see `Selected::copied_away`).
    pub(crate) fn copy_messages(
        &mut self,
        tag: Tag<'static>,
        set: &SequenceSet,
        to: &str,
        uid: bool,
    ) {
        let Some((code, moved)) = self.transfer(&tag, set, to, uid) else {
            return;
        };
        if let Some(sel) = self.selected() {
            sel.copied_away.extend(moved.iter().map(|m| m.0));
        }
        self.ok(
            tag,
            Some(code),
            if uid { "UID COPY done" } else { "COPY done" },
        );
    }

    /// Move the picked messages to `to`; the COPYUID code, and (old UID, new UID) pairs. On
    /// refusal the tagged answer is given and `None` returned.
    fn transfer(
        &mut self,
        tag: &Tag<'static>,
        set: &SequenceSet,
        to: &str,
        uid: bool,
    ) -> Option<(Code<'static>, Vec<(u32, u32)>)> {
        let sel = self.selected()?;
        if sel.read_only {
            self.no(tag.clone(), "the mailbox is read-only (EXAMINE)");
            return None;
        }
        let from = sel.name.clone();
        if beyond_last(sel, set, uid) {
            self.bad(tag.clone(), "invalid message sequence number");
            return None;
        }
        let picked: Vec<u32> = resolve(sel, set, uid)
            .into_iter()
            .map(|i| sel.entries[i].uid)
            .filter(|u| !sel.copied_away.contains(u))
            .collect();
        let Some(target) = self.info(to) else {
            self.no_mailbox(tag.clone());
            return None;
        };
        if to == from {
            self.no(tag.clone(), "the message is already in that mailbox");
            return None;
        }
        let mut moved = Vec::new();
        for old in picked {
            match self.store.move_message(&from, old, to) {
                Ok(new) => moved.push((old, new)),
                Err(e) => {
                    if moved.is_empty() {
                        self.refused(tag.clone(), e);
                        return None;
                    }
                    break;
                }
            }
        }
        let uids = |f: fn(&(u32, u32)) -> u32| {
            Vec1::try_from(
                moved
                    .iter()
                    .map(|m| UidElement::Single(nz(f(m))))
                    .collect::<Vec<_>>(),
            )
        };
        let (Ok(source), Ok(destination)) = (uids(|m| m.0), uids(|m| m.1)) else {
            self.ok(tag.clone(), None, "no messages");
            return None;
        };
        let code = Code::CopyUid {
            uid_validity: nz(target.uidvalidity),
            source: UidSet(source),
            destination: UidSet(destination),
        };
        Some((code, moved))
    }

    pub(crate) fn expunge(&mut self, tag: Tag<'static>, only: Option<&SequenceSet>) {
        let Some(sel) = self.selected() else { return };
        if sel.read_only {
            return self.no(tag, "the mailbox is read-only (EXAMINE)");
        }
        let mailbox = sel.name.clone();
        let uids: Option<Vec<u32>> = only.map(|set| {
            resolve(sel, set, true)
                .into_iter()
                .map(|i| sel.entries[i].uid)
                .collect()
        });
        if let Err(e) = self.store.expunge(&mailbox, uids.as_deref()) {
            return self.refused(tag, e);
        }
        // Messages COPY took away leave the client's view now, if it marked them deleted.
        if let Some(sel) = self.selected() {
            let deleted: Vec<u32> = sel
                .entries
                .iter()
                .filter(|e| e.flags.deleted && sel.copied_away.contains(&e.uid))
                .filter(|e| uids.as_ref().is_none_or(|u| u.contains(&e.uid)))
                .map(|e| e.uid)
                .collect();
            if !deleted.is_empty() {
                // The store may not have changed: look again regardless.
                sel.version = None;
            }
            for u in deleted {
                sel.copied_away.remove(&u);
            }
        }
        self.report_changes(true);
        self.ok(tag, None, "EXPUNGE done");
    }
}
