-- Snapshots bound to the chain: each row keeps the hash of the event at its position and the
-- SHA-256 of its payload as stored. A row whose binding does not hold (rows saved before this
-- migration have empty bindings) is never read. The table becomes insert-only like the log:
-- a snapshot is a cache of the fold, and nothing legitimate ever changes or removes one.
ALTER TABLE snapshots
    ADD COLUMN head_hash      TEXT NOT NULL DEFAULT '',
    ADD COLUMN payload_sha256 TEXT NOT NULL DEFAULT '';

CREATE FUNCTION snapshots_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'snapshots are insert-only: % refused', TG_OP;
END
$$;

CREATE TRIGGER snapshots_refuse_update_delete BEFORE UPDATE OR DELETE ON snapshots
    FOR EACH ROW EXECUTE FUNCTION snapshots_refuse_change();
CREATE TRIGGER snapshots_refuse_truncate BEFORE TRUNCATE ON snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION snapshots_refuse_change();
