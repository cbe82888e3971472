-- Migration 10: mailing lists (docs/protocol.md §15). A list's state is what a member keeps:
-- its charter and own list key, its links to neighbours, every post it took (in the order it
-- took them) and the invitations it gave; list mail that arrived waits in `list_inbox` until
-- the node has taken it.

-- `state`: invited (an invitation came; no key yet), joining (accepted, waiting for the
-- sponsor's welcome), member, left. `key_sealed` is this member's list key, sealed.
CREATE TABLE lists (
    id          INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    list_id     BLOB    NOT NULL,
    name        TEXT    NOT NULL,
    charter     BLOB    NOT NULL,
    state       TEXT    NOT NULL,
    key_sealed  BLOB,
    inviter     TEXT    NOT NULL DEFAULT '',
    sponsor     BLOB,
    created_at  INTEGER NOT NULL,
    UNIQUE (identity_id, list_id)
) STRICT;

-- A neighbour: its list key and the address its mail goes to (a contact of the identity).
CREATE TABLE list_links (
    list_row INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    member   BLOB    NOT NULL,
    address  TEXT    NOT NULL,
    PRIMARY KEY (list_row, member)
) STRICT;

-- Invitations this member gave and that were not yet accepted.
CREATE TABLE list_invites (
    list_row   INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    address    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (list_row, address)
) STRICT;

-- Every post taken, signed as it travels; `id` is the order it was taken in.
CREATE TABLE list_posts (
    id          INTEGER PRIMARY KEY,
    list_row    INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    post_id     BLOB    NOT NULL,
    author      BLOB    NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    post        BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (list_row, post_id)
) STRICT;

CREATE TABLE list_inbox (
    id          INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    sender      TEXT    NOT NULL,
    frame       BLOB    NOT NULL,
    message_id  TEXT    NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
