-- The ledger's log. Rows are only ever inserted: triggers refuse UPDATE and DELETE.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY,          -- global, gapless, commit order (assigned by the writer)
    event_id       TEXT    NOT NULL UNIQUE,      -- UUIDv7
    stream_type    TEXT    NOT NULL,
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL,             -- 1, 2, 3… within the stream
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    command_id     TEXT    NOT NULL,             -- idempotency key
    payload        TEXT    NOT NULL,             -- canonical JSON, hashed as stored
    metadata       TEXT    NOT NULL,             -- canonical JSON, hashed as stored
    recorded_at    INTEGER NOT NULL,             -- microseconds since 1970-01-01 UTC, never decreasing
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE INDEX events_command_id ON events (command_id);
CREATE INDEX events_stream_type ON events (stream_type, position);

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused (record a correcting event instead)');
END;

CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused (record a correcting event instead)');
END;

-- Projection snapshots at positions: insert-only too, a cache that can always be rebuilt from the log.
CREATE TABLE snapshots (
    name        TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (name, position)
);
