-- 0001_init: Herald's first schema.
--
-- Times are INTEGER milliseconds since the Unix epoch (UTC), the unit of every
-- Ably wire timestamp, so that the PostgreSQL store can use BIGINT with the
-- same meaning and both stores compare and order times the same way.
-- The numbering of these files is shared with pgstore; never edit an applied
-- file, add a new one.

-- meta holds installation settings (herald.Store Meta/SetMeta) and the
-- store's own bookkeeping under names starting with "store.".
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- store.generation is bumped by the triggers below on every write to apps or
-- keys, by any process that opens the file, so a server can notice writes the
-- CLI made with one single-row read (herald.KeyStore Generation).
INSERT INTO meta (name, value) VALUES ('store.generation', '0');

CREATE TABLE apps (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,
    tls_only   INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    modified   INTEGER NOT NULL
);

-- keys keeps its rowid: Keys() returns keys in creation order by it.
CREATE TABLE keys (
    app_id           TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    secret           TEXT NOT NULL,
    name             TEXT NOT NULL,
    -- capability is the JSON exactly as configured: SDK tests compare it
    -- byte for byte with the capability of tokens issued under the key.
    capability       TEXT NOT NULL,
    revocable_tokens INTEGER NOT NULL,
    status           INTEGER NOT NULL,
    created          INTEGER NOT NULL,
    modified         INTEGER NOT NULL,
    PRIMARY KEY (app_id, id)
);

-- namespaces keeps its rowid: Namespaces() returns them in provisioning order.
CREATE TABLE namespaces (
    app_id           TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    persisted        INTEGER NOT NULL,
    push_enabled     INTEGER NOT NULL,
    mutable_messages INTEGER NOT NULL,
    raw              TEXT NOT NULL,
    PRIMARY KEY (app_id, id)
);

CREATE TABLE channel_fixtures (
    app_id  TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    raw     TEXT NOT NULL,
    -- ordinal is the fixture's position in the provisioning request.
    ordinal INTEGER NOT NULL,
    PRIMARY KEY (app_id, name)
);

-- stats is clustered on its key: queries read one app's minutes in order and
-- AddStats upserts by the full key.
CREATE TABLE stats (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    minute INTEGER NOT NULL,
    name   TEXT NOT NULL,
    value  INTEGER NOT NULL,
    PRIMARY KEY (app_id, minute, name)
) WITHOUT ROWID;

CREATE TRIGGER apps_insert_generation AFTER INSERT ON apps BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'store.generation';
END;
CREATE TRIGGER apps_update_generation AFTER UPDATE ON apps BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'store.generation';
END;
CREATE TRIGGER apps_delete_generation AFTER DELETE ON apps BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'store.generation';
END;
CREATE TRIGGER keys_insert_generation AFTER INSERT ON keys BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'store.generation';
END;
CREATE TRIGGER keys_update_generation AFTER UPDATE ON keys BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'store.generation';
END;
CREATE TRIGGER keys_delete_generation AFTER DELETE ON keys BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'store.generation';
END;
