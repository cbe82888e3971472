//! Served headers built ahead of the client: while the node runs, a background thread builds
//! and keeps (store table `served_heads`) the served header of every message of the
//! identities that have a mail-client login, as mail arrives, so that a client's listing —
//! even its first, even of ten thousand messages — reads them instead of building each message.

use std::collections::{HashMap, HashSet};
use std::sync::Weak;
use std::time::Duration;

use postern_store::ServedHead;

use super::ClientServers;
use crate::Postern;

/// Messages built per identity between looks at whether the node still runs.
const BATCH: usize = 200;
/// How often the change log is looked at when there is nothing to build.
const LOOK: Duration = Duration::from_millis(300);

/// Run until `servers` is gone (the node stopped).
pub(super) fn prepare_heads(servers: Weak<ClientServers>) {
    let Some(mut p) = servers.upgrade().and_then(|s| s.handle()) else {
        return;
    };
    let mut seen = None;
    let mut failed = HashSet::new();
    loop {
        if servers.strong_count() == 0 {
            return;
        }
        let now = p.last_event().ok();
        let more = if now != seen || now.is_none() {
            build_some(&mut p, &mut failed)
        } else {
            false
        };
        if !more {
            seen = now;
            std::thread::sleep(LOOK);
        }
    }
}

/// Build up to `BATCH` missing headers of each identity with a login; whether any are left.
fn build_some(p: &mut Postern, failed: &mut HashSet<i64>) -> bool {
    let Ok(ids) = p.store.identities() else {
        return false;
    };
    let mut more = false;
    for id in ids {
        if !p.client_login(&id.id.to_string()).is_ok_and(|l| l.active) {
            continue;
        }
        let Ok(todo) = p
            .store
            .messages_without_served_head(id.id, BATCH + failed.len())
        else {
            continue;
        };
        let mut by_folder: HashMap<String, Vec<ServedHead>> = HashMap::new();
        let mut built = 0;
        for (message_id, folder, uid) in todo {
            if failed.contains(&message_id) || built == BATCH {
                continue;
            }
            match p.served_message(message_id) {
                Ok(bytes) => {
                    let end = postern_imap::header_end(&bytes);
                    by_folder.entry(folder).or_default().push(ServedHead {
                        message_id,
                        uid,
                        size: bytes.len() as u32,
                        head: bytes[..end].to_vec(),
                    });
                    built += 1;
                }
                // Gone meanwhile, or cannot be served: the client's own fetch will say.
                Err(_) => {
                    failed.insert(message_id);
                }
            }
        }
        for (folder, heads) in by_folder {
            if let Err(e) = p.store.keep_served_heads(id.id, &folder, &heads) {
                tracing::warn!(error = %e, "cannot keep served headers");
                return false;
            }
        }
        more |= built == BATCH;
    }
    more
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::mail::DRAFTS;
    use crate::{DraftInput, KdfParams, SystemClock};

    fn draft(p: &mut Postern, identity: &str, subject: &str) -> i64 {
        p.save_draft(
            &DraftInput {
                id: None,
                identity: identity.into(),
                to: String::new(),
                subject: subject.into(),
                text: "text".into(),
                in_reply_to: None,
                references: Vec::new(),
                ..Default::default()
            },
            &[],
        )
        .expect("draft")
        .id
    }

    #[test]
    fn headers_are_built_ahead_only_for_identities_with_a_login() {
        let tmp = tempfile::tempdir().expect("tmp");
        let kdf = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let mut p =
            Postern::init_with(tmp.path(), b"pw", kdf, Arc::new(SystemClock)).expect("init");
        let me = p.create_identity("me", "Me").expect("me").id;
        let other = p.create_identity("other", "Other").expect("other").id;
        p.rotate_client_password("me").expect("login");
        let n = BATCH + 3;
        let ids: Vec<i64> = (0..n)
            .map(|i| draft(&mut p, "me", &format!("s{i}")))
            .collect();
        draft(&mut p, "other", "no login, no headers");
        let mut failed = HashSet::new();
        assert!(
            build_some(&mut p, &mut failed),
            "more than a batch: more to do"
        );
        assert_eq!(p.store.served_heads(me, DRAFTS).expect("kept").len(), BATCH);
        assert!(!build_some(&mut p, &mut failed), "the rest, then nothing");
        let kept = p.store.served_heads(me, DRAFTS).expect("kept");
        assert_eq!(kept.len(), n);
        assert!(p
            .store
            .served_heads(other, DRAFTS)
            .expect("kept")
            .is_empty());
        // Each is what the client would be served.
        let first = kept.iter().find(|h| h.message_id == ids[0]).expect("first");
        let served = p.served_message(ids[0]).expect("served");
        assert_eq!(
            first.head,
            served[..postern_imap::header_end(&served)].to_vec()
        );
        assert_eq!(first.size as usize, served.len());
        // A changed draft has a new UID: built again.
        p.save_draft(
            &DraftInput {
                id: Some(ids[0]),
                identity: "me".into(),
                to: String::new(),
                subject: "changed".into(),
                text: "text".into(),
                in_reply_to: None,
                references: Vec::new(),
                ..Default::default()
            },
            &[],
        )
        .expect("save again");
        assert!(p
            .store
            .messages_without_served_head(me, 10)
            .expect("todo")
            .iter()
            .any(|t| t.0 == ids[0]));
        build_some(&mut p, &mut failed);
        assert!(p
            .store
            .messages_without_served_head(me, 10)
            .expect("todo")
            .is_empty());
    }
}
