//! Why an audit operation failed. A failed verification is not an error: it is a report with
//! problems; errors are for what prevents the operation itself (unreadable file, bad key…).

use std::path::PathBuf;

use engagements_projections::ProjectionError;
use engagements_store::{AppendError, StoreError};

/// An audit operation that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "signing key file {0} already exists: keep it, or move it away before making a new one"
    )]
    KeyExists(PathBuf),
    #[error("signing key file {path} is not usable: {reason}")]
    BadKey { path: PathBuf, reason: String },
    #[error("public key '{0}' is not 64 hexadecimal characters of an Ed25519 key")]
    BadPublicKey(String),
    #[error("checkpoint file {path} cannot be read: {reason}")]
    BadCheckpoint { path: PathBuf, reason: String },
    #[error("the ledger is empty: there is nothing to checkpoint")]
    EmptyLedger,
    #[error("the log is broken at position {position} ({what}): refusing to sign it; run `engagements verify`")]
    BrokenLog { position: i64, what: String },
    #[error("refusing to sign: {0}; run `engagements verify`")]
    CheckpointNotExtended(String),
    #[error("key {key} is not the ledger's signing key {ledger_key}: sign with that key, or record a new one with `engagements keys rotate`")]
    NotTheLedgerKey { key: String, ledger_key: String },
    #[error("nothing matches '{0}': give a stream id (dossier-…), a uuid, or a reference")]
    NotFound(String),
    #[error("'{value}' is not a valid {what}: {reason}")]
    BadInput {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    #[error("output directory {0} is not empty: choose a new or empty directory")]
    DirectoryNotEmpty(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error(transparent)]
    Decode(#[from] engagements_domain::DecodeError),
    #[error("serialisation failed: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl AuditError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AuditError::Io {
            path: path.into(),
            source,
        }
    }
}
