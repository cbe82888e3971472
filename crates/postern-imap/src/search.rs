//! SEARCH: flags, dates, sizes and sets from the session's view; TEXT and BODY from the
//! store's search index; header keys from the message's parsed header.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use imap_next::imap_types::core::{Tag, Vec1};
use imap_next::imap_types::response::Data;
use imap_next::imap_types::search::SearchKey;

use crate::fetch::resolve;
use crate::section::{header_text, sent_date};
use crate::session::{nz, ImapSession};
use crate::{Entry, Mailstore};

/// What evaluating one message may need, fetched once per command.
struct Context {
    mailbox: String,
    /// TEXT/BODY results by query.
    text: HashMap<String, HashSet<u32>>,
    /// The messages, when a key needs them.
    bodies: HashMap<u32, Vec<u8>>,
}

fn day(at: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(at, 0).map(|d| d.date_naive())
}

fn contains(hay: &str, needle: &[u8]) -> bool {
    let needle = String::from_utf8_lossy(needle).to_lowercase();
    hay.to_lowercase().contains(&needle)
}

impl<M: Mailstore> ImapSession<M> {
    fn body_of(&mut self, cx: &mut Context, uid: u32) -> Vec<u8> {
        if let Some(b) = cx.bodies.get(&uid) {
            return b.clone();
        }
        let b = self.store.message(&cx.mailbox, uid).unwrap_or_default();
        cx.bodies.insert(uid, b.clone());
        b
    }

    fn text_hits(&mut self, cx: &mut Context, q: &[u8]) -> HashSet<u32> {
        let q = String::from_utf8_lossy(q).into_owned();
        if let Some(h) = cx.text.get(&q) {
            return h.clone();
        }
        let hits: HashSet<u32> = self
            .store
            .search_text(&cx.mailbox, &q)
            .unwrap_or_default()
            .into_iter()
            .collect();
        cx.text.insert(q, hits.clone());
        hits
    }

    fn matches(&mut self, cx: &mut Context, key: &SearchKey<'_>, seq: usize, e: &Entry) -> bool {
        use SearchKey as K;
        let f = e.flags;
        match key {
            K::All => true,
            K::And(keys) => keys.as_ref().iter().all(|k| self.matches(cx, k, seq, e)),
            K::Or(a, b) => self.matches(cx, a, seq, e) || self.matches(cx, b, seq, e),
            K::Not(k) => !self.matches(cx, k, seq, e),
            K::SequenceSet(set) => self
                .selected()
                .is_some_and(|s| resolve(s, set, false).contains(&seq)),
            K::Uid(set) => self
                .selected()
                .is_some_and(|s| resolve(s, set, true).contains(&seq)),
            K::Answered => f.answered,
            K::Unanswered => !f.answered,
            K::Deleted => f.deleted,
            K::Undeleted => !f.deleted,
            K::Draft => f.draft,
            K::Undraft => !f.draft,
            K::Flagged => f.flagged,
            K::Unflagged => !f.flagged,
            K::Seen | K::Old => f.seen,
            K::Unseen => !f.seen,
            K::New | K::Recent | K::Keyword(_) => false,
            K::Unkeyword(_) => true,
            K::Before(d) => day(e.received_at).is_some_and(|x| x < *d.as_ref()),
            K::On(d) => day(e.received_at).is_some_and(|x| x == *d.as_ref()),
            K::Since(d) => day(e.received_at).is_some_and(|x| x >= *d.as_ref()),
            K::SentBefore(d) | K::SentOn(d) | K::SentSince(d) => {
                let b = self.body_of(cx, e.uid);
                let Some(sent) = sent_date(&b).and_then(day) else {
                    return false;
                };
                match key {
                    K::SentBefore(_) => sent < *d.as_ref(),
                    K::SentOn(_) => sent == *d.as_ref(),
                    _ => sent >= *d.as_ref(),
                }
            }
            K::Larger(n) => self.body_of(cx, e.uid).len() > *n as usize,
            K::Smaller(n) => self.body_of(cx, e.uid).len() < *n as usize,
            K::Text(q) | K::Body(q) => self.text_hits(cx, q.as_ref()).contains(&e.uid),
            K::Subject(q) => contains(
                &header_text(&self.body_of(cx, e.uid), "subject"),
                q.as_ref(),
            ),
            K::From(q) => contains(&header_text(&self.body_of(cx, e.uid), "from"), q.as_ref()),
            K::To(q) => contains(&header_text(&self.body_of(cx, e.uid), "to"), q.as_ref()),
            K::Cc(q) => contains(&header_text(&self.body_of(cx, e.uid), "cc"), q.as_ref()),
            K::Bcc(q) => contains(&header_text(&self.body_of(cx, e.uid), "bcc"), q.as_ref()),
            K::Header(name, q) => {
                let name = String::from_utf8_lossy(name.as_ref()).into_owned();
                contains(&header_text(&self.body_of(cx, e.uid), &name), q.as_ref())
            }
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    pub(crate) fn search(
        &mut self,
        tag: Tag<'static>,
        criteria: &Vec1<SearchKey<'static>>,
        uid: bool,
    ) {
        let Some(sel) = self.selected() else { return };
        let mut cx = Context {
            mailbox: sel.name.clone(),
            text: HashMap::new(),
            bodies: HashMap::new(),
        };
        let entries = sel.entries.clone();
        let mut found = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if criteria
                .as_ref()
                .iter()
                .all(|k| self.matches(&mut cx, k, i, e))
            {
                found.push(nz(if uid { e.uid } else { i as u32 + 1 }));
            }
        }
        self.data(Data::Search(found));
        if uid {
            self.report_changes(true);
        }
        self.ok(
            tag,
            None,
            if uid {
                "UID SEARCH done"
            } else {
                "SEARCH done"
            },
        );
    }
}
