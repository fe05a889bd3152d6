//! A partner's contribution to the contract as a whole: the contract lists some partners whose
//! commitments are « En attente » (Annex 3, e.g. the Procureur l.4583-4585). The ledger records
//! that they are awaited, so that views list them instead of silently omitting them.

use serde::{Deserialize, Serialize};

use super::terms::{
    optional_text, required_text, LineRange, TermsError, COMMENT_MAX_CHARS, SOURCE_RANGES_MAX,
    TITLE_MAX_CHARS,
};
use super::CommitmentId;
use crate::event::DomainEvent;

/// Commands on a partner's contribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum ContributionCommand {
    /// The contract gives the partner's contribution as awaited (« En attente »).
    #[serde(rename = "declare_contribution_pending")]
    DeclarePending {
        /// Organisation id of the referential.
        signatory: String,
        /// The partner's name as the source writes it.
        name_in_source: String,
        #[serde(default)]
        source_lines: Vec<LineRange>,
        #[serde(default)]
        note: Option<String>,
    },
}

impl ContributionCommand {
    pub fn signatory(&self) -> &str {
        match self {
            ContributionCommand::DeclarePending { signatory, .. } => signatory,
        }
    }
}

/// Facts about a partner's contribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum ContributionEvent {
    ContributionDeclaredPending {
        signatory: String,
        name_in_source: String,
        source_lines: Vec<LineRange>,
        note: Option<String>,
    },
}

impl DomainEvent for ContributionEvent {
    const STREAM_TYPE: &'static str = "contribution";
    crate::event_names!(ContributionEvent {
        ContributionDeclaredPending
    });
}

/// Why a contribution command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContributionError {
    #[error("the contribution of '{0}' is already declared pending")]
    AlreadyPending(String),
    #[error("signatory '{0}' is not an organisation id (e.g. procureur)")]
    BadSignatory(String),
    #[error(transparent)]
    Terms(#[from] TermsError),
}

/// The stream id of a partner's contribution.
pub fn stream_id(signatory: &str) -> String {
    format!("contribution-{signatory}")
}

/// What the ledger knows of a partner's contribution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContributionState {
    pub pending: bool,
}

/// The contribution aggregate (one stream per partner).
pub struct Contribution;

impl esrs::Aggregate for Contribution {
    const NAME: &'static str = "contribution";
    type State = ContributionState;
    type Command = ContributionCommand;
    type Event = ContributionEvent;
    type Error = ContributionError;

    fn handle_command(
        state: &ContributionState,
        command: ContributionCommand,
    ) -> Result<Vec<ContributionEvent>, ContributionError> {
        let ContributionCommand::DeclarePending {
            signatory,
            name_in_source,
            source_lines,
            note,
        } = command;
        if state.pending {
            return Err(ContributionError::AlreadyPending(signatory));
        }
        if CommitmentId::try_from(signatory.clone()).is_err() {
            return Err(ContributionError::BadSignatory(signatory));
        }
        if source_lines.len() > SOURCE_RANGES_MAX {
            return Err(TermsError::TooMany {
                field: "source_lines",
                count: source_lines.len(),
                max: SOURCE_RANGES_MAX,
            }
            .into());
        }
        source_lines.iter().try_for_each(|r| r.check())?;
        Ok(vec![ContributionEvent::ContributionDeclaredPending {
            signatory,
            name_in_source: required_text(&name_in_source, "name_in_source", TITLE_MAX_CHARS)?,
            source_lines,
            note: optional_text(note, "note", COMMENT_MAX_CHARS)?,
        }])
    }

    fn apply_event(mut state: ContributionState, event: ContributionEvent) -> ContributionState {
        match event {
            ContributionEvent::ContributionDeclaredPending { .. } => state.pending = true,
        }
        state
    }
}
