-- The persons the ledger's events name (operators, on whose behalf a fact was recorded). Events
-- carry only a pseudonymous `person_id`; the name lives here, outside the hash-chained log, so
-- that it can be erased (RGPD art. 17, end of retention) while the chain stays verifiable. This
-- table is not part of the log: its rows may be updated and deleted.
CREATE TABLE persons (
    person_id  TEXT    PRIMARY KEY,             -- 'person-' followed by a UUID v7
    name       TEXT,                            -- NULL once erased
    name_key   TEXT    UNIQUE,                  -- the name as looked up; NULL once erased
    created_at INTEGER NOT NULL,                -- microseconds since 1970-01-01 UTC
    erased_at  INTEGER                          -- microseconds since 1970-01-01 UTC, once erased
);
