//! Provenance: who introduced which card, and when.

use rusqlite::{params, Row};

use crate::{Store, StoreError};

/// An introduction to record.
#[derive(Debug)]
pub struct NewIntroduction<'a> {
    /// The identity that received it.
    pub identity_id: i64,
    /// The introduced address.
    pub address: &'a str,
    /// The introduced key's fingerprint.
    pub fingerprint: &'a [u8],
    /// The contact who made the introduction.
    pub introducer: &'a str,
    /// When it arrived.
    pub received_at: i64,
    /// Whether it contradicts the address book.
    pub conflict: bool,
    /// The introduced card (text form, with key).
    pub card: &'a str,
}

/// A recorded introduction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntroductionRecord {
    /// Row id.
    pub id: i64,
    /// The introduced address.
    pub address: String,
    /// The introduced key's fingerprint.
    pub fingerprint: Vec<u8>,
    /// Who introduced it.
    pub introducer: String,
    /// When.
    pub received_at: i64,
    /// Whether it contradicted the address book.
    pub conflict: bool,
    /// The card.
    pub card: String,
}

fn record(r: &Row<'_>) -> rusqlite::Result<IntroductionRecord> {
    Ok(IntroductionRecord {
        id: r.get(0)?,
        address: r.get(1)?,
        fingerprint: r.get(2)?,
        introducer: r.get(3)?,
        received_at: r.get(4)?,
        conflict: r.get(5)?,
        card: r.get(6)?,
    })
}

impl Store {
    /// Record an introduction. The same introducer introducing the same card again is recorded
    /// once (the first time counts).
    pub fn record_introduction(&mut self, i: &NewIntroduction<'_>) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO introductions (identity_id, address, fingerprint, introducer, received_at,
                conflict, card)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (identity_id, address, fingerprint, introducer) DO NOTHING",
            params![
                i.identity_id,
                i.address,
                i.fingerprint,
                i.introducer,
                i.received_at,
                i.conflict,
                i.card
            ],
        )?;
        Ok(())
    }

    /// Introductions of `address` to `identity_id`, oldest first.
    pub fn introductions(
        &self,
        identity_id: i64,
        address: &str,
    ) -> Result<Vec<IntroductionRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, address, fingerprint, introducer, received_at, conflict, card
             FROM introductions WHERE identity_id = ?1 AND address = ?2 ORDER BY received_at, id",
        )?;
        let rows = st.query_map(params![identity_id, address], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
