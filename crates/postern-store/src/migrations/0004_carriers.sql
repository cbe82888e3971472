-- Migration 4: carriers — devices that hold sealed mail for people who are offline.

-- Carrier mode of one identity: off by default. It carries only for the recipients its owner
-- allowed (carrier_allowed), up to a quota, for at most max_hold_secs.
CREATE TABLE carrier_policy (
    identity_id   INTEGER PRIMARY KEY REFERENCES identities(id) ON DELETE CASCADE,
    enabled       INTEGER NOT NULL,
    quota_bytes   INTEGER NOT NULL,
    max_hold_secs INTEGER NOT NULL
) STRICT;

CREATE TABLE carrier_allowed (
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    recipient   TEXT    NOT NULL,
    PRIMARY KEY (identity_id, recipient)
) STRICT;

-- Mail this identity holds as a carrier: still encrypted to the recipient (PGP/MIME as handed
-- over). `state`: 'held', 'forwarding', 'delivered', 'expired', 'refused'. The sender is told
-- the outcome with a signed receipt: `receipt_state` 'none', 'due', 'sent'.
CREATE TABLE carried (
    id              INTEGER PRIMARY KEY,
    identity_id     INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    sender          TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    data_hash       BLOB    NOT NULL,
    data            BLOB    NOT NULL,
    size            INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    INTEGER NOT NULL,
    last_error      TEXT,
    done_at         INTEGER,
    receipt_state   TEXT    NOT NULL DEFAULT 'none',
    receipt_next    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (identity_id, sender, data_hash)
) STRICT;

CREATE INDEX carried_due ON carried (state, next_attempt);
CREATE INDEX carried_receipts ON carried (receipt_state, receipt_next);

-- The carriers this identity designated (as a recipient).
CREATE TABLE my_carriers (
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    carrier     TEXT    NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (identity_id, carrier)
) STRICT;

-- A contact's carriers, with the carrier pass the contact signed for us (as a sender).
CREATE TABLE contact_carriers (
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    contact     TEXT    NOT NULL,
    carrier     TEXT    NOT NULL,
    pass_sig    BLOB    NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (identity_id, contact, carrier)
) STRICT;

-- Measured availability of carriers: every attempt to reach one counts.
CREATE TABLE carrier_stats (
    identity_id  INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    carrier      TEXT    NOT NULL,
    successes    INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,
    last_contact INTEGER NOT NULL,
    PRIMARY KEY (identity_id, carrier)
) STRICT;

-- Hand-overs of our outgoing messages to carriers. `state`: 'held', 'delivered', 'expired',
-- 'refused'.
CREATE TABLE handovers (
    id         INTEGER PRIMARY KEY,
    outbox_id  INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    carrier    TEXT    NOT NULL,
    data_hash  BLOB    NOT NULL,
    handed_at  INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (outbox_id, carrier)
) STRICT;

CREATE INDEX handovers_by_hash ON handovers (data_hash);

-- Which carrier delivered an outgoing message (NULL: delivered directly).
ALTER TABLE outbox ADD COLUMN delivered_via TEXT;
