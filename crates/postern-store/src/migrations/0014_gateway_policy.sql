-- Migration 14: a gateway's outbound policy and its correspondents' OpenPGP keys; a user's gateways
-- (docs/protocol.md §19).
-- Whose mail it carries out: every contact (`all_contacts` = 1), or only those listed in
-- `gateway_senders`; and how much per sender per day (UTC).
ALTER TABLE gateway ADD COLUMN all_contacts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE gateway ADD COLUMN max_messages_per_day INTEGER NOT NULL DEFAULT 200;
ALTER TABLE gateway ADD COLUMN max_bytes_per_day INTEGER NOT NULL DEFAULT 104857600;

CREATE TABLE gateway_senders (
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    PRIMARY KEY (identity_id, address)
) STRICT;

-- What each sender handed over on a day: the limits are checked against it, in the
-- hand-over's transaction. Days older than yesterday are pruned as new ones start.
CREATE TABLE gateway_usage (
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    sender      TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    messages    INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    PRIMARY KEY (identity_id, sender, day)
) STRICT;

-- An ordinary correspondent's OpenPGP public key, per Postern sender (as an Autocrypt client
-- keeps its peers): given by the sender, or learnt from an Autocrypt header in a reply whose
-- DKIM or DMARC passed. Sealed with the store key.
CREATE TABLE gateway_keys (
    identity_id   INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    sender        TEXT    NOT NULL,
    correspondent TEXT    NOT NULL,
    key_sealed    BLOB    NOT NULL,
    source        TEXT    NOT NULL CHECK (source IN ('sender', 'autocrypt')),
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (identity_id, sender, correspondent)
) STRICT;

-- On the user's side: the contacts this identity has sent mail through as gateways. Only they
-- may bring it `gateway-in` mail (replies from ordinary addresses).
CREATE TABLE gateway_choices (
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    gateway     TEXT    NOT NULL,
    first_used_at INTEGER NOT NULL,
    PRIMARY KEY (identity_id, gateway)
) STRICT;
