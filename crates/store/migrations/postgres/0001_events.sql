-- The ledger's log. Rows are only ever inserted: triggers refuse UPDATE, DELETE and TRUNCATE.
CREATE TABLE events (
    position       BIGINT  PRIMARY KEY,          -- global, gapless, commit order (assigned by the writer)
    event_id       TEXT    NOT NULL UNIQUE,      -- UUIDv7
    stream_type    TEXT    NOT NULL,
    stream_id      TEXT    NOT NULL,
    version        BIGINT  NOT NULL,             -- 1, 2, 3… within the stream
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    command_id     TEXT    NOT NULL,             -- idempotency key
    payload        TEXT    NOT NULL,             -- canonical JSON, hashed as stored (TEXT, not JSONB, keeps the bytes)
    metadata       TEXT    NOT NULL,
    recorded_at    BIGINT  NOT NULL,             -- microseconds since 1970-01-01 UTC, never decreasing
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE INDEX events_command_id ON events (command_id);
CREATE INDEX events_stream_type ON events (stream_type, position);

CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % refused (record a correcting event instead)', TG_OP;
END
$$;

CREATE TRIGGER events_refuse_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

CREATE TABLE snapshots (
    name        TEXT    NOT NULL,
    position    BIGINT  NOT NULL,
    payload     TEXT    NOT NULL,
    recorded_at BIGINT  NOT NULL,
    PRIMARY KEY (name, position)
);
