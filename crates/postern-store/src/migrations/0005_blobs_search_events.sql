-- Migration 5: attachments stored once by content, full-text search, and the change log.

-- Attachment contents, by SHA-256, each stored once (encrypted, in a file under blobs/); `refs`
-- counts the messages that hold it. A row reaching 0 is removed with its file.
CREATE TABLE blobs (
    hash BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    refs INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX blobs_unused ON blobs (refs) WHERE refs <= 0;

-- A message's attachments, in order: the message keeps one line per attachment naming its
-- content (postern_mime::cargo).
CREATE TABLE message_attachments (
    message_id   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    hash         BLOB    NOT NULL,
    PRIMARY KEY (message_id, position)
) STRICT;

CREATE INDEX message_attachments_by_hash ON message_attachments (hash);

CREATE TRIGGER message_attachments_release AFTER DELETE ON message_attachments BEGIN
    UPDATE blobs SET refs = refs - 1 WHERE hash = OLD.hash;
END;

-- Full-text search over decrypted mail, inside the encrypted store. rowid = messages.id.
CREATE VIRTUAL TABLE message_search USING fts5(
    subject,
    body,
    sender_name,
    sender,
    attachment_names,
    identity_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_unsearch AFTER DELETE ON messages BEGIN
    DELETE FROM message_search WHERE rowid = OLD.id;
END;

-- What changed, in the transaction that changed it: new mail, delivery states, contacts,
-- carrying. The running app follows it; `postern events` too.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    identity_id INTEGER,
    kind        TEXT    NOT NULL,
    ref         INTEGER,
    detail      TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Mail to one recipient leaves in the order it was written: a message never overtakes the
-- handshake (or the message) queued before it.
CREATE INDEX outbox_in_order ON outbox (identity_id, recipient, id);
