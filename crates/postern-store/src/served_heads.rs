//! Served headers kept at rest (migration 9): what an IMAP client is given for a header fetch,
//! so that listing a mailbox after a restart does not rebuild every message. Valid while the
//! message keeps the folder and UID it was built for; the caller checks that.

use rusqlite::params;

use crate::{Store, StoreError};

/// A kept served header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedHead {
    /// The message.
    pub message_id: i64,
    /// The UID it was built for (in the mailbox it was read from).
    pub uid: i64,
    /// The whole served message's size.
    pub size: u32,
    /// The header, through the blank line.
    pub head: Vec<u8>,
}

impl Store {
    /// The kept served headers of one mailbox of an identity.
    pub fn served_heads(
        &self,
        identity_id: i64,
        folder: &str,
    ) -> Result<Vec<ServedHead>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT message_id, uid, size, head FROM served_heads
             WHERE identity_id = ?1 AND folder = ?2",
        )?;
        let rows = st.query_map(params![identity_id, folder], |r| {
            Ok(ServedHead {
                message_id: r.get(0)?,
                uid: r.get(1)?,
                size: r.get(2)?,
                head: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Messages of an identity (at most `limit`) with a UID but no kept served header for it:
    /// (message, folder, UID).
    pub fn messages_without_served_head(
        &self,
        identity_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT m.id, m.folder, m.uid FROM messages m INDEXED BY messages_listing
             LEFT JOIN served_heads s ON s.message_id = m.id
             WHERE m.identity_id = ?1 AND m.uid > 0
               AND (s.message_id IS NULL OR s.uid != m.uid OR s.folder != m.folder)
             LIMIT ?2",
        )?;
        let rows = st.query_map(params![identity_id, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keep served headers of an identity's mailbox, in one transaction (replacing what was
    /// kept for the same messages). Headers of messages gone meanwhile are skipped.
    pub fn keep_served_heads(
        &mut self,
        identity_id: i64,
        folder: &str,
        heads: &[ServedHead],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO served_heads
                    (message_id, identity_id, folder, uid, size, head)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6
                 WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND identity_id = ?2)",
            )?;
            for h in heads {
                st.execute(params![
                    h.message_id,
                    identity_id,
                    folder,
                    h.uid,
                    h.size,
                    h.head
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
