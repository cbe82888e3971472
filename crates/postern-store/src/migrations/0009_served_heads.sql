-- Migration 9: messages' headers as a mail client is served them, kept once built. Building a
-- served header needs the whole message (its attachments put back, its digest for the
-- verdict's MIME boundary); a client listing a mailbox after the node restarts asks for every
-- header again. A row is good while the message keeps the folder and UID it was built for (a
-- message whose content or place changes gets a new UID); it goes with its message.
CREATE TABLE served_heads (
    message_id  INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    identity_id INTEGER NOT NULL,
    folder      TEXT    NOT NULL,
    uid         INTEGER NOT NULL,
    -- The whole served message's size (RFC822.SIZE).
    size        INTEGER NOT NULL,
    head        BLOB    NOT NULL
) STRICT;

CREATE INDEX served_heads_by_mailbox ON served_heads (identity_id, folder);
