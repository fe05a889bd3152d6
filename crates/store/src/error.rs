//! The store's errors: each names what went wrong and, where it helps, how to fix it.

use std::sync::Arc;

use crate::model::ExpectedVersion;

/// Errors of reads, connection and maintenance.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL '{0}' is not understood: use sqlite://PATH or postgres://USER@HOST/DB")]
    BadUrl(String),
    #[error(
        "no ledger at {0}: check the database URL, or create the ledger with `engagements init`"
    )]
    NoLedger(String),
    #[error("the ledger's schema is older than this program (migrations {0:?} not applied): open it once with a command that records, such as `engagements init`, to bring it up to date")]
    SchemaOutdated(Vec<i64>),
    #[error("no snapshot can be saved at position {0}: the log has no event there")]
    SnapshotBeyondLog(i64),
    #[error("could not open the ledger database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("could not bring the ledger's schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stream '{0}' does not exist")]
    UnknownStream(String),
    #[error("event at position {position} cannot be read: {reason}")]
    Corrupt { position: i64, reason: String },
    #[error("event could not be serialised: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Why an append was refused. A refused append records nothing.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppendError {
    #[error("stream '{stream_id}' is at version {actual:?}, the command expected {expected:?}: reload it and try again")]
    Conflict {
        stream_id: String,
        expected: ExpectedVersion,
        actual: Option<i64>,
    },
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    #[error("an append must carry at least one event")]
    Empty,
    #[error("stream '{0}' appears twice in one command: merge its events")]
    DuplicateStream(String),
    #[error("the write failed and nothing of this command was recorded: {0}")]
    Storage(Arc<sqlx::Error>),
    #[error("the ledger's writer has stopped; nothing of this command was recorded")]
    WriterStopped,
}

impl From<sqlx::Error> for AppendError {
    fn from(error: sqlx::Error) -> Self {
        AppendError::Storage(Arc::new(error))
    }
}
