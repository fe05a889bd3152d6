//! Indicators that users define on a commitment or an objectif, and the values they report over
//! time. The contract defines none (l.1095-1117 asks for an evaluation, not for given measures),
//! so each is a user's own definition, recorded with who defined it and when.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::terms::{
    check_value, optional_label, optional_text, required_text, ReportError, ReportingPeriod,
    TermsError, COMMENT_MAX_CHARS, LABEL_MAX_CHARS, TITLE_MAX_CHARS,
};
use super::{CommitmentId, IndicatorId};
use crate::event::DomainEvent;

/// Most values reported on one indicator (monthly for a century is below).
pub const VALUES_MAX: u32 = 5_000;

/// What an indicator measures the progress of.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum IndicatorSubject {
    Commitment {
        commitment_id: CommitmentId,
    },
    /// An objectif of the contract's strategy, by number (1-35 here).
    Objectif {
        objectif: u16,
    },
}

impl IndicatorSubject {
    /// `commitment caf-03` or `objectif 14`.
    pub fn label(&self) -> String {
        match self {
            IndicatorSubject::Commitment { commitment_id } => format!("commitment {commitment_id}"),
            IndicatorSubject::Objectif { objectif } => format!("objectif {objectif}"),
        }
    }
}

/// A reference point: a value at a date (baseline or target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorPoint {
    pub on: chrono::NaiveDate,
    pub value: Decimal,
}

/// Commands on an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum IndicatorCommand {
    #[serde(rename = "define_indicator")]
    Define {
        indicator_id: IndicatorId,
        subject: IndicatorSubject,
        name: String,
        /// What a value counts: « jeunes accompagnés », « % », « € »…
        unit: String,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        baseline: Option<IndicatorPoint>,
        #[serde(default)]
        target: Option<IndicatorPoint>,
    },
    #[serde(rename = "report_indicator_value")]
    ReportValue {
        indicator_id: IndicatorId,
        period: ReportingPeriod,
        value: Decimal,
        #[serde(default)]
        comment: Option<String>,
        #[serde(default)]
        evidence_ref: Option<String>,
    },
    #[serde(rename = "retire_indicator")]
    Retire {
        indicator_id: IndicatorId,
        reason: String,
    },
}

impl IndicatorCommand {
    pub fn indicator_id(&self) -> &IndicatorId {
        match self {
            IndicatorCommand::Define { indicator_id, .. }
            | IndicatorCommand::ReportValue { indicator_id, .. }
            | IndicatorCommand::Retire { indicator_id, .. } => indicator_id,
        }
    }
}

/// Facts about an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum IndicatorEvent {
    IndicatorDefined {
        indicator_id: IndicatorId,
        subject: IndicatorSubject,
        name: String,
        unit: String,
        description: Option<String>,
        baseline: Option<IndicatorPoint>,
        target: Option<IndicatorPoint>,
    },
    IndicatorValueReported {
        indicator_id: IndicatorId,
        /// 1 for the first value.
        value_no: u32,
        period: ReportingPeriod,
        value: Decimal,
        comment: Option<String>,
        evidence_ref: Option<String>,
    },
    IndicatorRetired {
        indicator_id: IndicatorId,
        reason: String,
    },
}

impl DomainEvent for IndicatorEvent {
    const STREAM_TYPE: &'static str = "indicator";
    crate::event_names!(IndicatorEvent {
        IndicatorDefined,
        IndicatorValueReported,
        IndicatorRetired
    });
}

/// Why an indicator command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndicatorError {
    #[error("indicator {0} is already defined")]
    AlreadyDefined(IndicatorId),
    #[error("indicator {0} is not defined")]
    NotDefined(IndicatorId),
    #[error("indicator {0} is retired: no more values can be reported")]
    Retired(IndicatorId),
    #[error("indicator {0} has {VALUES_MAX} values, the limit")]
    TooManyValues(IndicatorId),
    #[error("objectif {0} is not a valid number (1-999)")]
    BadObjectif(u16),
    #[error(transparent)]
    Terms(#[from] TermsError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// What the ledger knows of an indicator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndicatorState {
    pub defined: bool,
    pub retired: bool,
    pub values: u32,
}

/// The indicator aggregate.
pub struct Indicator;

impl esrs::Aggregate for Indicator {
    const NAME: &'static str = "indicator";
    type State = IndicatorState;
    type Command = IndicatorCommand;
    type Event = IndicatorEvent;
    type Error = IndicatorError;

    fn handle_command(
        state: &IndicatorState,
        command: IndicatorCommand,
    ) -> Result<Vec<IndicatorEvent>, IndicatorError> {
        let id = command.indicator_id().clone();
        if let IndicatorCommand::Define { .. } = command {
            if state.defined {
                return Err(IndicatorError::AlreadyDefined(id));
            }
            return define(command).map(|e| vec![e]);
        }
        if !state.defined {
            return Err(IndicatorError::NotDefined(id));
        }
        if state.retired {
            return Err(IndicatorError::Retired(id));
        }
        let event = match command {
            IndicatorCommand::Define { .. } => return Err(IndicatorError::AlreadyDefined(id)),
            IndicatorCommand::ReportValue {
                period,
                value,
                comment,
                evidence_ref,
                ..
            } => {
                period.check()?;
                check_value(value)?;
                if state.values >= VALUES_MAX {
                    return Err(IndicatorError::TooManyValues(id));
                }
                IndicatorEvent::IndicatorValueReported {
                    indicator_id: id,
                    value_no: state.values + 1,
                    period,
                    value: value.normalize(),
                    comment: optional_text(comment, "comment", COMMENT_MAX_CHARS)?,
                    evidence_ref: optional_label(evidence_ref, "evidence_ref")?,
                }
            }
            IndicatorCommand::Retire { reason, .. } => IndicatorEvent::IndicatorRetired {
                indicator_id: id,
                reason: required_text(&reason, "reason", COMMENT_MAX_CHARS)?,
            },
        };
        Ok(vec![event])
    }

    fn apply_event(mut state: IndicatorState, event: IndicatorEvent) -> IndicatorState {
        match event {
            IndicatorEvent::IndicatorDefined { .. } => state.defined = true,
            IndicatorEvent::IndicatorValueReported { value_no, .. } => state.values = value_no,
            IndicatorEvent::IndicatorRetired { .. } => state.retired = true,
        }
        state
    }
}

fn define(command: IndicatorCommand) -> Result<IndicatorEvent, IndicatorError> {
    let IndicatorCommand::Define {
        indicator_id,
        subject,
        name,
        unit,
        description,
        baseline,
        target,
    } = command
    else {
        return Err(IndicatorError::NotDefined(command.indicator_id().clone()));
    };
    if let IndicatorSubject::Objectif { objectif } = subject {
        if !(1..=999).contains(&objectif) {
            return Err(IndicatorError::BadObjectif(objectif));
        }
    }
    for point in [baseline, target].iter().flatten() {
        check_value(point.value)?;
    }
    Ok(IndicatorEvent::IndicatorDefined {
        indicator_id,
        subject,
        name: required_text(&name, "name", TITLE_MAX_CHARS)?,
        unit: required_text(&unit, "unit", LABEL_MAX_CHARS)?,
        description: optional_text(description, "description", COMMENT_MAX_CHARS)?,
        baseline,
        target,
    })
}
