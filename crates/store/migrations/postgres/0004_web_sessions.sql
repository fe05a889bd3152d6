-- Web sessions of the pages. The cookie holds a random session id; only its SHA-256 is kept here,
-- so a copy of the database opens no session. Each session is bound to the API token that logged
-- in: revoking the token ends its sessions. Sessions are access bookkeeping, not facts of the
-- ledger: they live outside the event log, and an ended or expired one is deleted.
CREATE TABLE web_sessions (
    session_hash TEXT    PRIMARY KEY,           -- lowercase hex SHA-256 of the session id
    token_id     TEXT    NOT NULL,              -- api_tokens.token_id of the token that logged in
    csrf_token   TEXT    NOT NULL,              -- random; the forms of this session must post it
    created_at   BIGINT  NOT NULL,              -- microseconds since 1970-01-01 UTC (absolute expiry)
    last_seen_at BIGINT  NOT NULL               -- microseconds since 1970-01-01 UTC (idle expiry)
);
CREATE INDEX web_sessions_token ON web_sessions (token_id);
