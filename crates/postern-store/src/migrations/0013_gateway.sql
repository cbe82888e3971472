-- Migration 13: gateway mode (docs/protocol.md §19). An identity on a node with a public host
-- name can carry its contacts' mail out to ordinary addresses and bring replies back.
-- `gateway`: its domain, DKIM selector, and — sealed with the store key — its DKIM private key
-- and the secret its reply addresses are made with.
CREATE TABLE gateway (
    identity_id   INTEGER PRIMARY KEY REFERENCES identities(id) ON DELETE CASCADE,
    domain        TEXT    NOT NULL,
    selector      TEXT    NOT NULL,
    dkim_sealed   BLOB    NOT NULL,
    secret_sealed BLOB    NOT NULL,
    enabled_at    INTEGER NOT NULL
) STRICT;

-- A Postern sender's route: the number its reply addresses carry instead of its address.
CREATE TABLE gateway_routes (
    route       INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (identity_id, address)
) STRICT;

-- Mail leaving for ordinary addresses: the signed message, sealed, with its retry state.
CREATE TABLE gateway_outbox (
    id           INTEGER PRIMARY KEY,
    identity_id  INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    sender       TEXT    NOT NULL,
    envelope_from TEXT   NOT NULL,
    recipient    TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    message_sealed BLOB  NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX gateway_outbox_due ON gateway_outbox (next_attempt);
