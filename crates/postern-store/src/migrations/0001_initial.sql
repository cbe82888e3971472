-- Migration 1: the store's metadata, identities and their contacts.

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- One row per identity. Nothing in one row refers to another identity.
CREATE TABLE identities (
    id                    INTEGER PRIMARY KEY,
    local_part            TEXT    NOT NULL,
    onion                 TEXT    NOT NULL UNIQUE,
    display_name          TEXT    NOT NULL,
    fingerprint           BLOB    NOT NULL,
    binding_sig           BLOB    NOT NULL,
    public_key            BLOB    NOT NULL,
    onion_secret_sealed   BLOB    NOT NULL,
    openpgp_secret_sealed BLOB    NOT NULL,
    created_at            INTEGER NOT NULL
) STRICT;

-- Contacts belong to one identity: each identity has its own address book.
CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    identity_id  INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    address      TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    fingerprint  BLOB    NOT NULL,
    binding_sig  BLOB    NOT NULL,
    public_key   BLOB,
    verification TEXT    NOT NULL,
    added_at     INTEGER NOT NULL,
    UNIQUE (identity_id, address)
) STRICT;
