-- Migration 3: how people meet (invites, introductions) and part (revocations).

-- One-time invite tokens an identity handed out in a QR code or link. Only a hash is kept.
-- `used_by` is the address that redeemed it: the same sender retrying is answered the same way,
-- anyone else is refused.
CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    token_hash  BLOB    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     TEXT
) STRICT;

-- Provenance: who introduced which card to this identity, and when. `conflict` = 1 when the
-- introduced key contradicts the one the address book holds for that address (never merged).
CREATE TABLE introductions (
    id          INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    fingerprint BLOB    NOT NULL,
    introducer  TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    conflict    INTEGER NOT NULL,
    card        TEXT    NOT NULL,
    UNIQUE (identity_id, address, fingerprint, introducer)
) STRICT;

-- Revocations this identity made (`address` is its own) or received from a contact.
-- `public_key` keeps our own revoked keys, to recognise mail still encrypted to them.
CREATE TABLE revocations (
    id          INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    fingerprint BLOB    NOT NULL,
    successor   BLOB,
    revoked_at  INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    statement   BLOB    NOT NULL,
    public_key  BLOB,
    UNIQUE (identity_id, address, scope, fingerprint)
) STRICT;

CREATE INDEX revocations_by_fingerprint ON revocations (identity_id, fingerprint);

-- An identity whose address its owner revoked: no longer served, never sends again.
ALTER TABLE identities ADD COLUMN revoked_at INTEGER;
