//! Mailing lists kept at rest (migration 10): each list an identity belongs to, its sealed list
//! key, links, posts in the order taken, invitations given, and list mail waiting for the node.

use rusqlite::{params, OptionalExtension, Row};
use sha2::Digest;
use zeroize::Zeroizing;

use crate::{Store, StoreError};

/// One list of one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRecord {
    pub id: i64,
    pub identity_id: i64,
    pub list_id: Vec<u8>,
    pub name: String,
    /// The creator's signed charter.
    pub charter: Vec<u8>,
    /// `invited`, `joining`, `member`, `left` or `removed`.
    pub state: String,
    /// Who invited this identity (empty for the creator).
    pub inviter: String,
    /// The inviter's member key, once known.
    pub sponsor: Option<Vec<u8>>,
    pub created_at: i64,
}

/// A post to keep.
#[derive(Debug, Clone)]
pub struct NewListPost<'a> {
    pub post_id: &'a [u8],
    pub author: &'a [u8],
    pub seq: i64,
    /// `charter`, `join`, `text`, `remove` or `leave`.
    pub kind: &'a str,
    pub post: &'a [u8],
}

/// List mail that arrived and waits for the node.
#[derive(Debug, Clone)]
pub struct ListMail {
    pub id: i64,
    pub identity_id: i64,
    pub sender: String,
    pub frame: Vec<u8>,
    /// The Message-ID of the message that carried it.
    pub message_id: String,
    pub received_at: i64,
}

fn record(r: &Row<'_>) -> rusqlite::Result<ListRecord> {
    Ok(ListRecord {
        id: r.get(0)?,
        identity_id: r.get(1)?,
        list_id: r.get(2)?,
        name: r.get(3)?,
        charter: r.get(4)?,
        state: r.get(5)?,
        inviter: r.get(6)?,
        sponsor: r.get(7)?,
        created_at: r.get(8)?,
    })
}

const COLUMNS: &str =
    "id, identity_id, list_id, name, charter, state, inviter, sponsor, created_at";

fn key_context(identity_id: i64, list_id: &[u8]) -> String {
    let hex: String = list_id.iter().map(|b| format!("{b:02x}")).collect();
    format!("list-key|{identity_id}|{hex}")
}

impl Store {
    /// Adds a list to an identity (created, or an invitation received). Returns its row.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_list(
        &mut self,
        identity_id: i64,
        list_id: &[u8],
        name: &str,
        charter: &[u8],
        state: &str,
        inviter: &str,
        sponsor: Option<&[u8]>,
        now: i64,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO lists (identity_id, list_id, name, charter, state, inviter, sponsor,
                created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                identity_id,
                list_id,
                name,
                charter,
                state,
                inviter,
                sponsor,
                now
            ],
        )?;
        let id = self.conn.last_insert_rowid();
        self.log_event(Some(identity_id), crate::event_kind::LIST, Some(id), state)?;
        Ok(id)
    }

    /// An identity's lists, oldest first.
    pub fn lists(&self, identity_id: i64) -> Result<Vec<ListRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM lists WHERE identity_id = ?1 ORDER BY id"
        ))?;
        let rows = st.query_map([identity_id], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn list(&self, row: i64) -> Result<ListRecord, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM lists WHERE id = ?1"),
                [row],
                record,
            )
            .optional()?
            .ok_or(StoreError::NotFound("list"))
    }

    /// The identity's list with this list id, if it has one.
    pub fn list_by_id(
        &self,
        identity_id: i64,
        list_id: &[u8],
    ) -> Result<Option<ListRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM lists WHERE identity_id = ?1 AND list_id = ?2"),
                params![identity_id, list_id],
                record,
            )
            .optional()?)
    }

    /// Moves a list to `state`, with this member's list key (sealed here) and its sponsor when
    /// given.
    pub fn set_list_state(
        &mut self,
        row: i64,
        state: &str,
        key: Option<&[u8]>,
        sponsor: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let rec = self.list(row)?;
        let sealed = key.map(|k| {
            self.key
                .seal(&key_context(rec.identity_id, &rec.list_id), k)
        });
        self.conn.execute(
            "UPDATE lists SET state = ?2, key_sealed = COALESCE(?3, key_sealed),
                sponsor = COALESCE(?4, sponsor) WHERE id = ?1",
            params![row, state, sealed, sponsor],
        )?;
        self.log_event(
            Some(rec.identity_id),
            crate::event_kind::LIST,
            Some(row),
            state,
        )?;
        Ok(())
    }

    /// This member's list key, unsealed.
    pub fn list_key(&self, row: i64) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let rec = self.list(row)?;
        let sealed: Option<Vec<u8>> =
            self.conn
                .query_row("SELECT key_sealed FROM lists WHERE id = ?1", [row], |r| {
                    r.get(0)
                })?;
        let sealed = sealed.ok_or(StoreError::NotFound("list key"))?;
        self.key
            .open(&key_context(rec.identity_id, &rec.list_id), &sealed)
            .map_err(StoreError::Secret)
    }

    /// A list's neighbours: (member key, mail address).
    pub fn list_links(&self, row: i64) -> Result<Vec<(Vec<u8>, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT member, address FROM list_links WHERE list_row = ?1")?;
        let rows = st.query_map([row], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn add_list_link(
        &mut self,
        row: i64,
        member: &[u8],
        address: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO list_links (list_row, member, address) VALUES (?1, ?2, ?3)",
            params![row, member, address],
        )?;
        Ok(())
    }

    pub fn remove_list_link(&mut self, row: i64, member: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM list_links WHERE list_row = ?1 AND member = ?2",
            params![row, member],
        )?;
        Ok(())
    }

    /// Records an invitation given to `address`.
    pub fn add_list_invite(&mut self, row: i64, address: &str, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO list_invites (list_row, address, created_at) VALUES (?1, ?2, ?3)",
            params![row, address, now],
        )?;
        Ok(())
    }

    /// Takes (removes) the invitation given to `address`; whether there was one.
    pub fn take_list_invite(&mut self, row: i64, address: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM list_invites WHERE list_row = ?1 AND address = ?2",
            params![row, address],
        )? > 0)
    }

    /// What changes when a list changes: its newest post, its links, its state.
    pub fn list_version(&self, row: i64) -> Result<(i64, i64, String), StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COALESCE(max(id), 0) FROM list_posts WHERE list_row = ?1),
                    (SELECT count(*) FROM list_links WHERE list_row = ?1),
                    state FROM lists WHERE id = ?1",
            [row],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }

    /// Every post of a list, signed, in the order taken.
    pub fn list_posts(&self, row: i64) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT post FROM list_posts WHERE list_row = ?1 ORDER BY id")?;
        let rows = st.query_map([row], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Posts of one kind, signed, in the order taken, with when they were taken.
    pub fn list_posts_of_kind(
        &self,
        row: i64,
        kind: &str,
    ) -> Result<Vec<(Vec<u8>, i64)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT post, received_at FROM list_posts WHERE list_row = ?1 AND kind = ?2 ORDER BY id",
        )?;
        let rows = st.query_map(params![row, kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps posts not kept yet; returns how many were new.
    pub fn add_list_posts(
        &mut self,
        row: i64,
        posts: &[NewListPost<'_>],
        now: i64,
    ) -> Result<usize, StoreError> {
        let mut added = 0;
        let mut st = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO list_posts (list_row, post_id, author, seq, kind, post,
                received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for p in posts {
            added += st.execute(params![
                row, p.post_id, p.author, p.seq, p.kind, p.post, now
            ])?;
        }
        drop(st);
        if added > 0 {
            let identity_id: i64 =
                self.conn
                    .query_row("SELECT identity_id FROM lists WHERE id = ?1", [row], |r| {
                        r.get(0)
                    })?;
            self.log_event(
                Some(identity_id),
                crate::event_kind::LIST,
                Some(row),
                "posts",
            )?;
        }
        Ok(added)
    }

    /// Keeps a blob of a list's post (an attachment), once per list. Returns its hash.
    pub fn add_list_blob(&mut self, row: i64, data: &[u8]) -> Result<[u8; 32], StoreError> {
        let hash: [u8; 32] = sha2::Sha256::digest(data).into();
        if self.has_list_blob(row, &hash)? {
            return Ok(hash);
        }
        self.put_blob(data)?;
        self.conn.execute(
            "INSERT INTO list_blobs (list_row, hash) VALUES (?1, ?2)",
            params![row, &hash[..]],
        )?;
        Ok(hash)
    }

    /// Whether a list keeps the blob with this hash.
    pub fn has_list_blob(&self, row: i64, hash: &[u8]) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM list_blobs WHERE list_row = ?1 AND hash = ?2",
                params![row, hash],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Forgets a blob a list kept (its copy is lost or damaged); the blob loses the reference.
    pub fn remove_list_blob(&mut self, row: i64, hash: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM list_blobs WHERE list_row = ?1 AND hash = ?2",
            params![row, hash],
        )?;
        Ok(())
    }

    /// The hashes of every blob a list keeps.
    pub fn list_blobs(&self, row: i64) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT hash FROM list_blobs WHERE list_row = ?1")?;
        let rows = st.query_map([row], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether a post is kept.
    pub fn has_list_post(&self, row: i64, post_id: &[u8]) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM list_posts WHERE list_row = ?1 AND post_id = ?2",
                params![row, post_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Queues list mail for the node.
    pub fn push_list_mail(
        &mut self,
        identity_id: i64,
        sender: &str,
        frame: &[u8],
        message_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO list_inbox (identity_id, sender, frame, message_id, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![identity_id, sender, frame, message_id, now],
        )?;
        Ok(())
    }

    /// Waiting list mail after `after` (a `ListMail::id`), oldest first.
    pub fn list_mail(&self, after: i64, limit: usize) -> Result<Vec<ListMail>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, identity_id, sender, frame, message_id, received_at FROM list_inbox
             WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = st.query_map(
            params![after, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok(ListMail {
                    id: r.get(0)?,
                    identity_id: r.get(1)?,
                    sender: r.get(2)?,
                    frame: r.get(3)?,
                    message_id: r.get(4)?,
                    received_at: r.get(5)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn drop_list_mail(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM list_inbox WHERE id = ?1", [id])?;
        Ok(())
    }
}
