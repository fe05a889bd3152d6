-- Where each outbox relay stands: the last position a downstream broker acknowledged.
-- A relay restarted after a crash resumes after this position, so each event is published at
-- least once; consumers de-duplicate by position. This is bookkeeping of a reader, not a fact of
-- the ledger: it lives outside the event log and is moved forward in place.
CREATE TABLE relay_offsets (
    relay_name            TEXT    PRIMARY KEY,  -- e.g. `amqp:engagements.events`
    position_acknowledged BIGINT  NOT NULL,     -- last position confirmed by the broker (0: none)
    updated_at            BIGINT  NOT NULL      -- microseconds since 1970-01-01 UTC
);
