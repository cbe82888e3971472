-- Migration 2: received messages and the outbox queue.

-- Received mail, decrypted and verified. `folder` is 'inbox', or 'requests' for senders who are
-- not (yet) contacts. `verification` says how the signature was checked: 'contact' (the key we
-- hold for that contact) or 'first_contact' (the key the message carried, bound to the sender's
-- onion address by its binding signature).
CREATE TABLE messages (
    id                 INTEGER PRIMARY KEY,
    identity_id        INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    message_id         TEXT    NOT NULL,
    sender             TEXT    NOT NULL,
    sender_name        TEXT    NOT NULL,
    subject            TEXT    NOT NULL,
    folder             TEXT    NOT NULL,
    verification       TEXT    NOT NULL,
    sent_at            INTEGER,
    received_at        INTEGER NOT NULL,
    inner              BLOB    NOT NULL,
    raw                BLOB    NOT NULL,
    sender_key         BLOB,
    sender_binding_sig BLOB,
    read               INTEGER NOT NULL DEFAULT 0,
    -- The same message (same sender, same Message-ID) arriving twice, e.g. directly and through
    -- a carrier, is stored once.
    UNIQUE (identity_id, sender, message_id)
) STRICT;

CREATE INDEX messages_by_folder ON messages (identity_id, folder, received_at);

-- Sending is an INSERT here; the node's delivery loop drains it.
-- `state` is 'queued', 'sending', 'delivered' or 'failed'. The draft (subject, text, attachments)
-- is sealed with the store key; it is encrypted for the recipient at delivery time.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    identity_id   INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    recipient     TEXT    NOT NULL,
    message_id    TEXT    NOT NULL,
    draft_sealed  BLOB    NOT NULL,
    state         TEXT    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  INTEGER NOT NULL,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    delivered_at  INTEGER,
    UNIQUE (identity_id, message_id)
) STRICT;

CREATE INDEX outbox_due ON outbox (state, next_attempt);
