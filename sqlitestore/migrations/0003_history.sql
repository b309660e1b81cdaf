-- 0003_history: channel history (herald.HistoryStore).
--
-- Both tables are clustered on (app_id, channel, serial): history reads one
-- channel in serial order, newest or oldest first, and stop after a page, so
-- a page is one contiguous range of the primary key. Serials compare as
-- TEXT with the BINARY collation, i.e. byte by byte, as Go compares strings.
--
-- data is a BLOB whatever data_kind says, so that text is kept byte for byte
-- (even when it is not valid UTF-8); it is NULL only for data_kind 0 (no
-- data). extras is the JSON text of the extras object, NULL when there is
-- none.

CREATE TABLE messages (
    app_id        TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    channel       TEXT    NOT NULL,
    serial        TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    client_id     TEXT    NOT NULL,
    connection_id TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    data_kind     INTEGER NOT NULL,
    data          BLOB,
    encoding      TEXT    NOT NULL,
    extras        TEXT,
    timestamp     INTEGER NOT NULL,
    action        INTEGER NOT NULL,
    -- size is herald.Message.Size as the publisher computed it, kept so that
    -- a history read reports the same size as the live message did.
    size          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, channel, serial)
) WITHOUT ROWID;

-- Start/End queries on one channel. In a WITHOUT ROWID table the index also
-- carries the primary key, so it ends in serial.
CREATE INDEX messages_channel_timestamp ON messages (app_id, channel, timestamp);
-- Retention sweeps (DeleteHistory) delete by app and age across channels.
CREATE INDEX messages_timestamp ON messages (app_id, timestamp);

-- presence_events holds presence history: each AppendPresence call is one
-- batch at one serial, its events numbered by idx in the order given.
CREATE TABLE presence_events (
    app_id        TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    channel       TEXT    NOT NULL,
    serial        TEXT    NOT NULL,
    idx           INTEGER NOT NULL,
    action        INTEGER NOT NULL,
    client_id     TEXT    NOT NULL,
    connection_id TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    data_kind     INTEGER NOT NULL,
    data          BLOB,
    encoding      TEXT    NOT NULL,
    extras        TEXT,
    timestamp     INTEGER NOT NULL,
    PRIMARY KEY (app_id, channel, serial, idx)
) WITHOUT ROWID;

CREATE INDEX presence_events_timestamp ON presence_events (app_id, timestamp);
