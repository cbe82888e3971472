//! One-time invite tokens, and redeeming one together with adding the redeemer as a contact.

use rusqlite::{params, OptionalExtension};

use crate::contacts::{insert_contact_in, select_contact};
use crate::{ContactRecord, NewContact, Store, StoreError};

/// What redeeming a token came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// The token was good: the redeemer is now a contact verified by scan.
    Added(ContactRecord),
    /// No such token for this identity.
    Unknown,
    /// The token expired at this time (Unix seconds).
    Expired(i64),
    /// Someone else already used it.
    AlreadyUsed,
    /// The redeemer's address is in the address book with a different key.
    Conflict,
}

/// An invite an identity handed out, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRecord {
    /// Row id.
    pub id: i64,
    /// When it was made.
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
    /// When it was redeemed, if it was.
    pub used_at: Option<i64>,
    /// By whom (their address), if redeemed.
    pub used_by: Option<String>,
}

impl Store {
    /// The invites `identity_id` handed out, newest first.
    pub fn invites(&self, identity_id: i64) -> Result<Vec<InviteRecord>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT id, created_at, expires_at, used_at, used_by FROM invites
             WHERE identity_id = ?1 ORDER BY created_at DESC, id DESC",
        )?;
        let rows = st.query_map([identity_id], |r| {
            Ok(InviteRecord {
                id: r.get(0)?,
                created_at: r.get(1)?,
                expires_at: r.get(2)?,
                used_at: r.get(3)?,
                used_by: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Withdraw an invite nobody redeemed yet: its token stops working at once. Returns whether
    /// there was such an invite.
    pub fn withdraw_invite(&mut self, identity_id: i64, id: i64) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM invites WHERE id = ?1 AND identity_id = ?2 AND used_by IS NULL",
            params![id, identity_id],
        )? == 1)
    }

    /// Forget invites that expired unused before `before`.
    pub fn forget_expired_invites(&mut self, before: i64) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM invites WHERE used_by IS NULL AND expires_at < ?1",
            [before],
        )?)
    }

    /// Remember a token (by its hash) that `identity_id` handed out.
    pub fn insert_invite(
        &mut self,
        identity_id: i64,
        token_hash: &[u8],
        created_at: i64,
        expires_at: i64,
    ) -> Result<i64, StoreError> {
        self.insert_invite_for(identity_id, token_hash, created_at, expires_at, "contact")
    }

    /// Remember a token with its purpose: `contact`, or `device` (whoever redeems it becomes
    /// one of this identity's own devices, in the transaction that adds them).
    pub fn insert_invite_for(
        &mut self,
        identity_id: i64,
        token_hash: &[u8],
        created_at: i64,
        expires_at: i64,
        purpose: &str,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO invites (identity_id, token_hash, created_at, expires_at, purpose)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![identity_id, token_hash, created_at, expires_at, purpose],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Redeem a token for `contact` (its sender, whose key and binding were verified): in one
    /// transaction, check the token, mark it used and add (or upgrade) the contact with
    /// `contact.verification`. The same sender redeeming again is answered `Added` (a retried
    /// delivery); anyone else is refused.
    pub fn redeem_invite(
        &mut self,
        token_hash: &[u8],
        now: i64,
        contact: &NewContact<'_>,
    ) -> Result<Redemption, StoreError> {
        let tx = self.conn.savepoint()?;
        let row: Option<(i64, i64, Option<String>, String)> = tx
            .query_row(
                "SELECT id, expires_at, used_by, purpose FROM invites
                 WHERE token_hash = ?1 AND identity_id = ?2",
                params![token_hash, contact.identity_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((invite_id, expires_at, used_by, purpose)) = row else {
            return Ok(Redemption::Unknown);
        };
        match used_by {
            Some(by) if by != contact.address => return Ok(Redemption::AlreadyUsed),
            Some(_) => {}
            None if now > expires_at => return Ok(Redemption::Expired(expires_at)),
            None => {}
        }
        let existing = select_contact(&tx, contact.identity_id, contact.address)?;
        let record = match existing {
            Some(c) if c.fingerprint != contact.fingerprint => return Ok(Redemption::Conflict),
            Some(c) => {
                tx.execute(
                    "UPDATE contacts SET verification = ?2,
                        public_key = COALESCE(public_key, ?3) WHERE id = ?1",
                    params![c.id, contact.verification, contact.public_key],
                )?;
                select_contact(&tx, contact.identity_id, contact.address)?
                    .ok_or(StoreError::NotFound("contact"))?
            }
            None => insert_contact_in(&tx, contact)?,
        };
        tx.execute(
            "UPDATE invites SET used_at = COALESCE(used_at, ?2), used_by = ?3 WHERE id = ?1",
            params![invite_id, now, contact.address],
        )?;
        if purpose == "device" {
            crate::own_devices::link_in(&tx, contact.identity_id, contact.address, now)?;
        }
        tx.execute(
            "INSERT INTO events (at, identity_id, kind, ref, detail)
             VALUES (unixepoch(), ?1, 'contact', ?2, ?3)",
            params![contact.identity_id, record.id, contact.verification],
        )?;
        tx.commit()?;
        Ok(Redemption::Added(record))
    }
}
