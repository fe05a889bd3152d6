//! Why a command was not recorded. Every variant says what was wrong; none records anything.

use engagements_store::{AppendError, StoreError};

/// A refused or failed command. The ledger is left exactly as it was.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A rule of the domain refuses the command (amount above the grant, dossier withdrawn…).
    #[error("{0}")]
    Rejected(String),
    /// The command names something the ledger does not know.
    #[error("unknown {kind} '{value}'{hint}")]
    UnknownReference {
        kind: &'static str,
        value: String,
        hint: String,
    },
    /// The actor may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The command id was already used for another command, or by another organisation: the
    /// first command is not revealed.
    #[error("command_id {0} was already used for a different command or by another organisation: nothing recorded; give this command a new command_id")]
    CommandIdReused(uuid::Uuid),
    /// The command could not be read.
    #[error("invalid command: {0}")]
    Invalid(String),
    /// The store refused the append (conflict that outlived the retries, limit, writer stopped).
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CommandError {
    /// A stable, machine-readable code (used in HTTP error bodies and JSON outputs).
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Rejected(_) => "rejected",
            CommandError::UnknownReference { .. } => "unknown_reference",
            CommandError::Forbidden(_) => "forbidden",
            CommandError::Invalid(_) => "invalid",
            CommandError::CommandIdReused(_) => "conflict",
            CommandError::Append(AppendError::Conflict { .. }) => "conflict",
            CommandError::Append(AppendError::LimitExceeded(_)) => "limit_exceeded",
            CommandError::Append(_) | CommandError::Store(_) => "storage",
        }
    }

    /// An unknown reference, with no hint.
    pub fn unknown(kind: &'static str, value: impl Into<String>) -> Self {
        CommandError::UnknownReference {
            kind,
            value: value.into(),
            hint: String::new(),
        }
    }

    /// A domain rule's refusal.
    pub fn rejected(error: impl std::fmt::Display) -> Self {
        CommandError::Rejected(error.to_string())
    }
}
