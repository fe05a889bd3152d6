-- API tokens. Only the SHA-256 of each secret is kept: the secret itself is shown once, at creation,
-- and never stored or logged. Tokens are access credentials, not facts of the ledger, so they live
-- outside the event log; revoking a token sets revoked_at and nothing else.
CREATE TABLE api_tokens (
    token_id     TEXT    PRIMARY KEY,           -- UUIDv7, shown by `tokens list`, used by `tokens revoke`
    secret_hash  TEXT    NOT NULL UNIQUE,       -- lowercase hex SHA-256 of the secret
    person       TEXT    NOT NULL,              -- the person in office the token acts as
    organisation TEXT    NOT NULL,              -- the organisation id they act for
    role         TEXT    NOT NULL,              -- admin, instructeur, bailleur, auditeur, lecteur
    created_at   BIGINT  NOT NULL,              -- microseconds since 1970-01-01 UTC
    revoked_at   BIGINT                         -- NULL while the token is valid
);
