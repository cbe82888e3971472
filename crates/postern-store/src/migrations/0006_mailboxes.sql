-- Migration 6: the mailbox model the app and IMAP share — mailboxes per identity with a
-- UIDVALIDITY and the next UID, and per message its UID, flags and thread.

-- `name` is the mailbox's role: inbox, sent, drafts, archive, trash, requests (and `system`,
-- never shown). UIDs in a mailbox only grow (`uidnext`), so one is never given twice; a
-- UIDVALIDITY is unique in the store.
CREATE TABLE mailboxes (
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uidnext     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (identity_id, name)
) STRICT;

-- `read` is the seen flag. `recipients` is the To of our own mail (Sent, Drafts: as typed);
-- `thread` the Message-ID of the thread's first message, computed on arrival from
-- In-Reply-To and References.
ALTER TABLE messages ADD COLUMN uid         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN answered    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN flagged     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN in_reply_to TEXT    NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN refs        TEXT    NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN thread      TEXT    NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN recipients  TEXT    NOT NULL DEFAULT '';

-- Mail stored before: numbered in arrival order, each its own thread.
UPDATE messages SET thread = message_id, uid = (
    SELECT count(*) FROM messages m2
    WHERE m2.identity_id = messages.identity_id AND m2.folder = messages.folder
      AND m2.id <= messages.id);

INSERT INTO mailboxes (identity_id, name, uidvalidity, uidnext)
    SELECT i.id, f.name, unixepoch() + i.id * 8 + f.n,
           COALESCE((SELECT max(uid) FROM messages m
                     WHERE m.identity_id = i.id AND m.folder = f.name), 0) + 1
    FROM identities i,
         (SELECT 'inbox' AS name, 0 AS n UNION ALL SELECT 'sent', 1 UNION ALL SELECT 'drafts', 2
          UNION ALL SELECT 'archive', 3 UNION ALL SELECT 'trash', 4
          UNION ALL SELECT 'requests', 5 UNION ALL SELECT 'system', 6) f;

CREATE UNIQUE INDEX messages_by_uid ON messages (identity_id, folder, uid) WHERE uid > 0;
CREATE INDEX messages_by_thread ON messages (identity_id, thread);
CREATE INDEX messages_by_message_id ON messages (identity_id, message_id);

-- Every identity has the standard mailboxes from its start.
CREATE TRIGGER identities_mailboxes AFTER INSERT ON identities BEGIN
    INSERT INTO mailboxes (identity_id, name, uidvalidity)
        SELECT NEW.id, f.name,
               max(unixepoch(), COALESCE((SELECT max(uidvalidity) FROM mailboxes), 0) + 1) + f.n
        FROM (SELECT 'inbox' AS name, 0 AS n UNION ALL SELECT 'sent', 1
              UNION ALL SELECT 'drafts', 2 UNION ALL SELECT 'archive', 3
              UNION ALL SELECT 'trash', 4 UNION ALL SELECT 'requests', 5
              UNION ALL SELECT 'system', 6) f;
END;

-- A message gets the next UID of its mailbox when it arrives, when it moves, and when its
-- content is replaced (a draft saved again: uid set to 0).
CREATE TRIGGER messages_uid_on_insert AFTER INSERT ON messages WHEN NEW.uid = 0 BEGIN
    INSERT INTO mailboxes (identity_id, name, uidvalidity)
        VALUES (NEW.identity_id, NEW.folder,
                max(unixepoch(), COALESCE((SELECT max(uidvalidity) FROM mailboxes), 0) + 1))
        ON CONFLICT DO NOTHING;
    UPDATE messages SET uid = (SELECT uidnext FROM mailboxes
                               WHERE identity_id = NEW.identity_id AND name = NEW.folder)
        WHERE id = NEW.id;
    UPDATE mailboxes SET uidnext = uidnext + 1
        WHERE identity_id = NEW.identity_id AND name = NEW.folder;
END;

CREATE TRIGGER messages_uid_on_move AFTER UPDATE OF folder, uid ON messages
    WHEN NEW.folder != OLD.folder OR NEW.uid = 0 BEGIN
    INSERT INTO mailboxes (identity_id, name, uidvalidity)
        VALUES (NEW.identity_id, NEW.folder,
                max(unixepoch(), COALESCE((SELECT max(uidvalidity) FROM mailboxes), 0) + 1))
        ON CONFLICT DO NOTHING;
    UPDATE messages SET uid = (SELECT uidnext FROM mailboxes
                               WHERE identity_id = NEW.identity_id AND name = NEW.folder)
        WHERE id = NEW.id;
    UPDATE mailboxes SET uidnext = uidnext + 1
        WHERE identity_id = NEW.identity_id AND name = NEW.folder;
END;
