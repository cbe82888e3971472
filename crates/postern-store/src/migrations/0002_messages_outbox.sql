-- Migration 2: received messages and the outbox queue.

-- Received mail, decrypted and verified. `folder` is 'inbox' or 'requests' (unknown senders).
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    identity_id  INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    message_id   TEXT    NOT NULL,
    sender       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    folder       TEXT    NOT NULL,
    raw          BLOB    NOT NULL,
    received_at  INTEGER NOT NULL,
    read         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (identity_id, message_id)
) STRICT;

-- Sending is an INSERT here; the delivery loop drains it.
-- `state` is one of 'queued', 'sending', 'delivered', 'failed'.
CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY,
    identity_id    INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    recipient      TEXT    NOT NULL,
    message_id     TEXT    NOT NULL,
    raw            BLOB    NOT NULL,
    state          TEXT    NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt   INTEGER NOT NULL,
    last_error     TEXT,
    created_at     INTEGER NOT NULL,
    delivered_at   INTEGER
) STRICT;

CREATE INDEX outbox_due ON outbox (state, next_attempt);
