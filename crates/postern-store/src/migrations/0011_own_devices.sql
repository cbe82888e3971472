-- Migration 11: a person's own devices (docs/protocol.md §18). An own device is another
-- identity of the same person, on another device, linked in one step: each carries for the
-- other, mail from contacts that reaches one is copied to the other, and flags travel between
-- them. `purpose` of an invite: `contact` (meeting someone) or `device` (linking an own device:
-- whoever redeems it becomes one).
CREATE TABLE own_devices (
    id          INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    linked_at   INTEGER NOT NULL,
    UNIQUE (identity_id, address)
) STRICT;

ALTER TABLE invites ADD COLUMN purpose TEXT NOT NULL DEFAULT 'contact';
