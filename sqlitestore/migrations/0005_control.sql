-- 0005_control: the Control API (docs/decisions-control.md).
--
-- Key rotation: the secret a rotation replaced, accepted until
-- previous_expires (ms; 0 with an empty previous_secret when there is none).
ALTER TABLE keys ADD COLUMN previous_secret  TEXT    NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN previous_expires INTEGER NOT NULL DEFAULT 0;

-- Account access tokens for the Control API. Only the SHA-256 of a token is
-- kept (hash); the token string is shown once when it is made. Tokens are
-- never deleted, so audit entries can name them. expires, last_used and
-- revoked are ms, 0 meaning never.
CREATE TABLE access_tokens (
    id           TEXT    PRIMARY KEY,
    account_id   TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    -- capabilities is a JSON array of strings such as "read:key".
    capabilities TEXT    NOT NULL,
    hash         BLOB    NOT NULL,
    created      INTEGER NOT NULL,
    expires      INTEGER NOT NULL DEFAULT 0,
    last_used    INTEGER NOT NULL DEFAULT 0,
    revoked      INTEGER NOT NULL DEFAULT 0
);

-- The audit log. AUTOINCREMENT keeps ids from being reused after pruning,
-- since they are the pagination cursor. app_id has no foreign key: entries
-- outlive the app they describe (its deletion is itself audited), and ''
-- marks account-level entries.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time    INTEGER NOT NULL,
    app_id  TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    code    INTEGER NOT NULL,
    address TEXT    NOT NULL,
    count   INTEGER NOT NULL,
    details TEXT    NOT NULL
);

CREATE INDEX audit_app_id ON audit (app_id, id);
CREATE INDEX audit_time ON audit (time);
