-- Persisted tokens: records behind tokens whose capability is too large to
-- carry inline. Rows are removed once expired (DeleteExpiredTokens).
CREATE TABLE tokens (
    app_id        TEXT    NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    ref           TEXT    NOT NULL,
    key_id        TEXT    NOT NULL,
    issued        INTEGER NOT NULL,
    expires       INTEGER NOT NULL,
    client_id     TEXT,
    capability    TEXT    NOT NULL,
    revocable     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, ref)
) WITHOUT ROWID;

CREATE INDEX tokens_expires ON tokens (expires);
