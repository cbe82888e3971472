-- Migration 8: hosted accounts. An identity may be hosted by another identity of this device:
-- its address is a different local part under the host's onion (`bob@<host>.onion`), with its
-- own OpenPGP key and mailboxes, and the host's onion service answers for it. So an onion is
-- no longer unique per row: (local_part, onion) is, and an onion has one host.
--
-- SQLite cannot drop a UNIQUE constraint, so the table is rebuilt (the migration runner turns
-- foreign keys off around a migration and checks them before committing).

CREATE TABLE identities_v8 (
    id                    INTEGER PRIMARY KEY,
    local_part            TEXT    NOT NULL,
    onion                 TEXT    NOT NULL,
    display_name          TEXT    NOT NULL,
    fingerprint           BLOB    NOT NULL,
    binding_sig           BLOB    NOT NULL,
    public_key            BLOB    NOT NULL,
    onion_secret_sealed   BLOB    NOT NULL,
    openpgp_secret_sealed BLOB    NOT NULL,
    created_at            INTEGER NOT NULL,
    revoked_at            INTEGER,
    -- The identity whose onion service answers for this one; NULL: its own service.
    host_id               INTEGER REFERENCES identities_v8(id) ON DELETE CASCADE,
    UNIQUE (local_part, onion)
) STRICT;

INSERT INTO identities_v8 (id, local_part, onion, display_name, fingerprint, binding_sig,
        public_key, onion_secret_sealed, openpgp_secret_sealed, created_at, revoked_at, host_id)
    SELECT id, local_part, onion, display_name, fingerprint, binding_sig, public_key,
           onion_secret_sealed, openpgp_secret_sealed, created_at, revoked_at, NULL
    FROM identities;

DROP TABLE identities;
ALTER TABLE identities_v8 RENAME TO identities;

-- One host per onion.
CREATE UNIQUE INDEX identities_one_host ON identities (onion) WHERE host_id IS NULL;
CREATE INDEX identities_by_host ON identities (host_id) WHERE host_id IS NOT NULL;

-- Dropped with the old table; the same as migration 6's.
CREATE TRIGGER identities_mailboxes AFTER INSERT ON identities BEGIN
    INSERT INTO mailboxes (identity_id, name, uidvalidity)
        SELECT NEW.id, f.name,
               max(unixepoch(), COALESCE((SELECT max(uidvalidity) FROM mailboxes), 0) + 1) + f.n
        FROM (SELECT 'inbox' AS name, 0 AS n UNION ALL SELECT 'sent', 1
              UNION ALL SELECT 'drafts', 2 UNION ALL SELECT 'archive', 3
              UNION ALL SELECT 'trash', 4 UNION ALL SELECT 'requests', 5
              UNION ALL SELECT 'system', 6) f;
END;
