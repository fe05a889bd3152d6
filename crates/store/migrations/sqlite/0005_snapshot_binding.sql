-- Snapshots bound to the chain: each row keeps the hash of the event at its position and the
-- SHA-256 of its payload as stored. A row whose binding does not hold (rows saved before this
-- migration have empty bindings) is never read. The table becomes insert-only like the log:
-- a snapshot is a cache of the fold, and nothing legitimate ever changes or removes one.
ALTER TABLE snapshots ADD COLUMN head_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN payload_sha256 TEXT NOT NULL DEFAULT '';

CREATE TRIGGER snapshots_refuse_update BEFORE UPDATE ON snapshots
BEGIN
    SELECT RAISE(ABORT, 'snapshots are insert-only: UPDATE refused');
END;

CREATE TRIGGER snapshots_refuse_delete BEFORE DELETE ON snapshots
BEGIN
    SELECT RAISE(ABORT, 'snapshots are insert-only: DELETE refused');
END;
