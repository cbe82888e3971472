//! Carriers: the carrier's policy and the mail it holds; a recipient's designated carriers; a
//! sender's view of its contacts' carriers, their measured availability, and its hand-overs.

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};

use crate::{Store, StoreError};

/// One identity's carrier mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarrierPolicy {
    /// Carrier mode on.
    pub enabled: bool,
    /// Most bytes held at once.
    pub quota_bytes: i64,
    /// Longest a message is held before it is dropped (and its sender told).
    pub max_hold_secs: i64,
}

impl Default for CarrierPolicy {
    fn default() -> Self {
        CarrierPolicy {
            enabled: false,
            quota_bytes: 100 * 1024 * 1024,
            max_hold_secs: 14 * 24 * 3600,
        }
    }
}

/// A message to hold.
#[derive(Debug)]
pub struct NewCarried<'a> {
    /// The carrier identity.
    pub identity_id: i64,
    /// Envelope sender.
    pub sender: &'a str,
    /// Final recipient.
    pub recipient: &'a str,
    /// SHA-256 of `data`.
    pub data_hash: &'a [u8],
    /// The message as handed over.
    pub data: &'a [u8],
    /// Now.
    pub received_at: i64,
    /// Dropped after this.
    pub expires_at: i64,
}

/// What holding came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Now held (row id).
    New(i64),
    /// The same message from the same sender was already held.
    Duplicate(i64),
    /// Holding it would pass the quota.
    OverQuota,
}

/// What became of one forwarding attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CarriedOutcome {
    /// Over: `delivered` or `refused` (with the recipient's words).
    Finished {
        /// Row id.
        id: i64,
        /// `delivered` or `refused`.
        state: &'static str,
        /// Why it was refused.
        error: Option<String>,
    },
    /// Not this time.
    Retry {
        /// Row id.
        id: i64,
        /// Next attempt.
        at: i64,
        /// Why.
        error: String,
    },
}

/// A held message (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedRecord {
    /// Row id.
    pub id: i64,
    /// The carrier identity.
    pub identity_id: i64,
    /// Envelope sender.
    pub sender: String,
    /// Final recipient.
    pub recipient: String,
    /// SHA-256 of the message.
    pub data_hash: Vec<u8>,
    /// Size in bytes.
    pub size: i64,
    /// When it was handed over.
    pub received_at: i64,
    /// When it will be dropped.
    pub expires_at: i64,
    /// `held`, `forwarding`, `delivered`, `expired`, `refused`.
    pub state: String,
    /// Forwarding attempts.
    pub attempts: i64,
    /// Next forwarding attempt.
    pub next_attempt: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was delivered, expired or refused.
    pub done_at: Option<i64>,
    /// `none`, `due`, `sent`.
    pub receipt_state: String,
}

const CARRIED: &str = "id, identity_id, sender, recipient, data_hash, size, received_at, expires_at, state, attempts, next_attempt, last_error, done_at, receipt_state";

fn carried(r: &Row<'_>) -> rusqlite::Result<CarriedRecord> {
    Ok(CarriedRecord {
        id: r.get(0)?,
        identity_id: r.get(1)?,
        sender: r.get(2)?,
        recipient: r.get(3)?,
        data_hash: r.get(4)?,
        size: r.get(5)?,
        received_at: r.get(6)?,
        expires_at: r.get(7)?,
        state: r.get(8)?,
        attempts: r.get(9)?,
        next_attempt: r.get(10)?,
        last_error: r.get(11)?,
        done_at: r.get(12)?,
        receipt_state: r.get(13)?,
    })
}

/// A contact's carrier, with the pass the contact signed for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCarrier {
    /// The carrier's address.
    pub carrier: String,
    /// The contact's signature allowing us to hand over at that carrier.
    pub pass: Vec<u8>,
    /// The pass's expiry.
    pub expires_at: i64,
}

/// Measured availability of one carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierStat {
    /// The carrier's address.
    pub carrier: String,
    /// Successful contacts.
    pub successes: i64,
    /// Failed contacts.
    pub failures: i64,
    /// Last attempt.
    pub last_contact: i64,
}

/// One hand-over of an outgoing message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// Row id.
    pub id: i64,
    /// The outbox row.
    pub outbox_id: i64,
    /// The carrier.
    pub carrier: String,
    /// `held`, `delivered`, `expired`, `refused`.
    pub state: String,
    /// When handed over.
    pub handed_at: i64,
}

impl Store {
    /// An identity's carrier policy (the default, off, if never set).
    pub fn carrier_policy(&self, identity_id: i64) -> Result<CarrierPolicy, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT enabled, quota_bytes, max_hold_secs FROM carrier_policy WHERE identity_id = ?1",
                [identity_id],
                |r| {
                    Ok(CarrierPolicy {
                        enabled: r.get(0)?,
                        quota_bytes: r.get(1)?,
                        max_hold_secs: r.get(2)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Set an identity's carrier policy.
    pub fn set_carrier_policy(
        &mut self,
        identity_id: i64,
        p: &CarrierPolicy,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO carrier_policy (identity_id, enabled, quota_bytes, max_hold_secs)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (identity_id) DO UPDATE SET enabled = ?2, quota_bytes = ?3,
                max_hold_secs = ?4",
            params![identity_id, p.enabled, p.quota_bytes, p.max_hold_secs],
        )?;
        Ok(())
    }

    /// Recipients an identity carries for.
    pub fn carrier_allowed(&self, identity_id: i64) -> Result<Vec<String>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT recipient FROM carrier_allowed WHERE identity_id = ?1 ORDER BY recipient",
        )?;
        let rows = st.query_map([identity_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Allow (or stop) carrying for `recipient`.
    pub fn set_carrier_allowed(
        &mut self,
        identity_id: i64,
        recipient: &str,
        allowed: bool,
    ) -> Result<(), StoreError> {
        if allowed {
            self.conn.execute(
                "INSERT OR IGNORE INTO carrier_allowed (identity_id, recipient) VALUES (?1, ?2)",
                params![identity_id, recipient],
            )?;
        } else {
            self.conn.execute(
                "DELETE FROM carrier_allowed WHERE identity_id = ?1 AND recipient = ?2",
                params![identity_id, recipient],
            )?;
        }
        Ok(())
    }

    /// Hold a message, within `quota_bytes` of what this identity holds (in one transaction).
    pub fn hold_carried(
        &mut self,
        m: &NewCarried<'_>,
        quota_bytes: i64,
    ) -> Result<Held, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM carried WHERE identity_id = ?1 AND sender = ?2 AND data_hash = ?3",
                params![m.identity_id, m.sender, m.data_hash],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Ok(Held::Duplicate(id));
        }
        let used: i64 = tx.query_row(
            "SELECT COALESCE(SUM(size), 0) FROM carried
             WHERE identity_id = ?1 AND state IN ('held', 'forwarding')",
            [m.identity_id],
            |r| r.get(0),
        )?;
        let size = i64::try_from(m.data.len()).unwrap_or(i64::MAX);
        if used.saturating_add(size) > quota_bytes {
            return Ok(Held::OverQuota);
        }
        tx.execute(
            "INSERT INTO carried (identity_id, sender, recipient, data_hash, data, size,
                received_at, expires_at, state, next_attempt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'held', ?7)",
            params![
                m.identity_id,
                m.sender,
                m.recipient,
                m.data_hash,
                m.data,
                size,
                m.received_at,
                m.expires_at
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO events (at, identity_id, kind, ref, detail)
             VALUES (unixepoch(), ?1, 'carrier', ?2, 'held')",
            params![m.identity_id, id],
        )?;
        tx.commit()?;
        Ok(Held::New(id))
    }

    /// Held messages due for forwarding, oldest first, marked `forwarding`.
    pub fn claim_carried_due(
        &mut self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<CarriedRecord>, StoreError> {
        let tx = self.conn.savepoint()?;
        let due: Vec<CarriedRecord> = {
            let mut st = tx.prepare_cached(&format!(
                "SELECT {CARRIED} FROM carried WHERE state = 'held' AND next_attempt <= ?1
                   AND expires_at >= ?1
                 ORDER BY recipient, next_attempt, id LIMIT ?2"
            ))?;
            let rows = st.query_map(params![now, limit as i64], carried)?;
            rows.collect::<Result<_, _>>()?
        };
        for r in &due {
            tx.execute(
                "UPDATE carried SET state = 'forwarding', attempts = attempts + 1 WHERE id = ?1",
                [r.id],
            )?;
        }
        tx.commit()?;
        Ok(due)
    }

    /// When the next held message is due for forwarding.
    pub fn next_carried_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT min(next_attempt) FROM carried WHERE state = 'held'",
            [],
            |r| r.get(0),
        )?)
    }

    /// A held message's bytes.
    pub fn carried_data(&self, id: i64) -> Result<Vec<u8>, StoreError> {
        self.conn
            .query_row("SELECT data FROM carried WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::NotFound("held message"))
    }

    /// Record forwarding outcomes in one transaction: each row is either finished
    /// (`delivered` or `refused`; its bytes are dropped and its sender is owed a receipt) or
    /// held again until `retry_at`.
    pub fn settle_carried(
        &mut self,
        outcomes: &[CarriedOutcome],
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.savepoint()?;
        for o in outcomes {
            match o {
                CarriedOutcome::Finished { id, state, error } => {
                    tx.execute(
                        "UPDATE carried SET state = ?2, last_error = ?3, done_at = ?4, data = x'',
                            receipt_state = 'due', receipt_next = ?4 WHERE id = ?1",
                        params![id, state, error, now],
                    )?;
                    tx.execute(
                        "INSERT INTO events (at, identity_id, kind, ref, detail)
                         SELECT unixepoch(), identity_id, 'carrier', id, state FROM carried
                         WHERE id = ?1",
                        [id],
                    )?
                }
                CarriedOutcome::Retry { id, at, error } => tx.execute(
                    "UPDATE carried SET state = 'held', next_attempt = ?2, last_error = ?3
                     WHERE id = ?1",
                    params![id, at, error],
                )?,
            };
        }
        tx.commit()?;
        Ok(())
    }

    /// Drop held messages past their holding time; returns how many (their senders get a
    /// receipt saying so).
    pub fn expire_carried(&mut self, now: i64) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE carried SET state = 'expired', done_at = ?1, data = x'',
                last_error = 'held too long', receipt_state = 'due', receipt_next = ?1
             WHERE state = 'held' AND expires_at < ?1",
            [now],
        )?)
    }

    /// A recipient asked for its mail: everything held for it is due now. Returns how many.
    pub fn pull_carried(
        &mut self,
        identity_id: i64,
        recipient: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE carried SET next_attempt = ?3
             WHERE identity_id = ?1 AND recipient = ?2 AND state = 'held'",
            params![identity_id, recipient, now],
        )?)
    }

    /// After a crash: forwarding that was under way is held again.
    pub fn requeue_carried(&mut self) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE carried SET state = 'held' WHERE state = 'forwarding'",
            [],
        )?)
    }

    /// Receipts due to be sent.
    pub fn receipts_due(&self, now: i64, limit: usize) -> Result<Vec<CarriedRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {CARRIED} FROM carried WHERE receipt_state = 'due' AND receipt_next <= ?1
             ORDER BY receipt_next, id LIMIT ?2"
        ))?;
        let rows = st.query_map(params![now, limit as i64], carried)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Receipts accepted (`next` = `None`) or to be retried at `next`, in one transaction.
    pub fn receipts_done(&mut self, done: &[(i64, Option<i64>)]) -> Result<(), StoreError> {
        let tx = self.conn.savepoint()?;
        for (id, next) in done {
            match next {
                None => tx.execute(
                    "UPDATE carried SET receipt_state = 'sent' WHERE id = ?1",
                    [id],
                )?,
                Some(t) => tx.execute(
                    "UPDATE carried SET receipt_next = ?2 WHERE id = ?1",
                    params![id, t],
                )?,
            };
        }
        tx.commit()?;
        Ok(())
    }

    /// What an identity holds or held as a carrier, newest first.
    pub fn carried(&self, identity_id: Option<i64>) -> Result<Vec<CarriedRecord>, StoreError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {CARRIED} FROM carried WHERE (?1 IS NULL OR identity_id = ?1)
             ORDER BY received_at DESC, id DESC"
        ))?;
        let rows = st.query_map(params![identity_id], carried)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The carriers an identity designated.
    pub fn my_carriers(&self, identity_id: i64) -> Result<Vec<String>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT carrier FROM my_carriers WHERE identity_id = ?1 ORDER BY added_at, carrier",
        )?;
        let rows = st.query_map([identity_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Designate (or drop) a carrier.
    pub fn set_my_carrier(
        &mut self,
        identity_id: i64,
        carrier: &str,
        designated: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        if designated {
            self.conn.execute(
                "INSERT OR IGNORE INTO my_carriers (identity_id, carrier, added_at) VALUES (?1, ?2, ?3)",
                params![identity_id, carrier, now],
            )?;
        } else {
            self.conn.execute(
                "DELETE FROM my_carriers WHERE identity_id = ?1 AND carrier = ?2",
                params![identity_id, carrier],
            )?;
        }
        Ok(())
    }

    /// Replace what we know of a contact's carriers.
    pub fn set_contact_carriers(
        &mut self,
        identity_id: i64,
        contact: &str,
        carriers: &[ContactCarrier],
    ) -> Result<(), StoreError> {
        let tx = self.conn.savepoint()?;
        tx.execute(
            "DELETE FROM contact_carriers WHERE identity_id = ?1 AND contact = ?2",
            params![identity_id, contact],
        )?;
        for c in carriers {
            tx.execute(
                "INSERT OR REPLACE INTO contact_carriers (identity_id, contact, carrier, pass_sig, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![identity_id, contact, c.carrier, c.pass, c.expires_at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A contact's carriers.
    pub fn contact_carriers(
        &self,
        identity_id: i64,
        contact: &str,
    ) -> Result<Vec<ContactCarrier>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT carrier, pass_sig, expires_at FROM contact_carriers
             WHERE identity_id = ?1 AND contact = ?2 ORDER BY carrier",
        )?;
        let rows = st.query_map(params![identity_id, contact], |r| {
            Ok(ContactCarrier {
                carrier: r.get(0)?,
                pass: r.get(1)?,
                expires_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Count one attempt to reach a carrier.
    pub fn record_carrier_contact(
        &mut self,
        identity_id: i64,
        carrier: &str,
        reached: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO carrier_stats (identity_id, carrier, successes, failures, last_contact)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (identity_id, carrier) DO UPDATE SET
                successes = successes + ?3, failures = failures + ?4, last_contact = ?5",
            params![
                identity_id,
                carrier,
                i64::from(reached),
                i64::from(!reached),
                now
            ],
        )?;
        Ok(())
    }

    /// Availability measured so far, per carrier.
    pub fn carrier_stats(&self, identity_id: i64) -> Result<Vec<CarrierStat>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT carrier, successes, failures, last_contact FROM carrier_stats
             WHERE identity_id = ?1 ORDER BY carrier",
        )?;
        let rows = st.query_map([identity_id], |r| {
            Ok(CarrierStat {
                carrier: r.get(0)?,
                successes: r.get(1)?,
                failures: r.get(2)?,
                last_contact: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Record a hand-over.
    pub fn record_handover(
        &mut self,
        outbox_id: i64,
        carrier: &str,
        data_hash: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO handovers (outbox_id, carrier, data_hash, handed_at, state, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'held', ?4)
             ON CONFLICT (outbox_id, carrier) DO UPDATE SET data_hash = ?3, state = 'held',
                updated_at = ?4",
            params![outbox_id, carrier, data_hash, now],
        )?;
        Ok(())
    }

    /// The hand-over of `identity_id`'s message with this hash to `carrier`, if any.
    pub fn handover_by_hash(
        &self,
        identity_id: i64,
        carrier: &str,
        data_hash: &[u8],
    ) -> Result<Option<Handover>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT h.id, h.outbox_id, h.carrier, h.state, h.handed_at
                 FROM handovers h JOIN outbox o ON o.id = h.outbox_id
                 WHERE o.identity_id = ?1 AND h.carrier = ?2 AND h.data_hash = ?3",
                params![identity_id, carrier, data_hash],
                handover,
            )
            .optional()?)
    }

    /// An outgoing message's hand-overs.
    pub fn handovers(&self, outbox_id: i64) -> Result<Vec<Handover>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, outbox_id, carrier, state, handed_at FROM handovers
             WHERE outbox_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([outbox_id], handover)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A carrier's receipt settled a hand-over.
    pub fn set_handover_state(&mut self, id: i64, state: &str, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE handovers SET state = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, state, now],
        )?;
        Ok(())
    }
}

fn handover(r: &Row<'_>) -> rusqlite::Result<Handover> {
    Ok(Handover {
        id: r.get(0)?,
        outbox_id: r.get(1)?,
        carrier: r.get(2)?,
        state: r.get(3)?,
        handed_at: r.get(4)?,
    })
}
