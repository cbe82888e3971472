-- Migration 12: attachments of list posts (docs/protocol.md §15). A post names its attachments
-- by hash; a member keeps each one it holds as a blob (stored once, encrypted, like a message's
-- attachment), counted by `blobs.refs` while a list of the member's refers to it.
CREATE TABLE list_blobs (
    list_row INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    hash     BLOB    NOT NULL,
    PRIMARY KEY (list_row, hash)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER list_blobs_release AFTER DELETE ON list_blobs BEGIN
    UPDATE blobs SET refs = refs - 1 WHERE hash = OLD.hash;
END;
