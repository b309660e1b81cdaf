-- Token revocation (ably-auth §6): per-app switch for channel targets, and
-- the revocation rules, kept until no token they could match can still be
-- valid (expires).
ALTER TABLE apps ADD COLUMN revoke_by_channel INTEGER NOT NULL DEFAULT 0;

CREATE TABLE revocations (
    app_id        TEXT    NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    key_name      TEXT    NOT NULL,
    target_type   TEXT    NOT NULL,
    target_value  TEXT    NOT NULL,
    issued_before INTEGER NOT NULL,
    applies_at    INTEGER NOT NULL,
    expires       INTEGER NOT NULL,
    PRIMARY KEY (app_id, key_name, target_type, target_value, issued_before)
) WITHOUT ROWID;

CREATE INDEX revocations_expires ON revocations (expires);
