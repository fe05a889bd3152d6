//! Droit-commun commitments: what each signatory promises to mobilise for the quartiers from its
//! ordinary policies and budgets (contract l.1028-1038; Annex 3 l.3733-5259), and how each
//! promise is followed over the contract's six years.
//!
//! A commitment is pledged, may be revised (the terms are replaced as a whole, with a reason),
//! gets progress reports, and ends fulfilled, lapsed or withdrawn. Indicators that users define
//! on a commitment or an objectif live in [`indicator`]; partners whose contribution the
//! contract gives as « En attente » are recorded by [`contribution`].

pub mod contribution;
pub mod indicator;
pub mod terms;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::event::DomainEvent;
use crate::money::Amount;
use terms::{optional_label, optional_text, required_text, COMMENT_MAX_CHARS, STAFF_COUNT_MAX};
pub use terms::{
    AmountPeriod, Baseline, Carrier, CommitmentId, CommitmentKind, CommitmentTerms, Flag, FlagKind,
    IndicatorId, LineRange, ObjectifLink, ReportError, ReportingPeriod, Scope, Target, TermsError,
    YearPeriod,
};

/// Most revisions of one commitment (one a month for the six years is well below).
pub const REVISIONS_MAX: u32 = 200;
/// Most progress reports on one commitment.
pub const PROGRESS_REPORTS_MAX: u32 = 1_000;

/// Commands on a commitment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum CommitmentCommand {
    /// A signatory (organisation id of the referential) states a commitment.
    #[serde(rename = "pledge_commitment")]
    Pledge {
        commitment_id: CommitmentId,
        signatory: String,
        terms: CommitmentTerms,
    },
    /// New terms replace the old ones; the old ones stay in the log.
    #[serde(rename = "revise_commitment")]
    Revise {
        commitment_id: CommitmentId,
        terms: CommitmentTerms,
        reason: String,
    },
    /// What was done over a period.
    #[serde(rename = "report_commitment_progress")]
    ReportProgress {
        commitment_id: CommitmentId,
        period: ReportingPeriod,
        /// Euros for a financial commitment, a count for staffing, else in `unit`.
        #[serde(default)]
        realised_value: Option<Decimal>,
        /// The unit of `realised_value` for kinds other than financial and staffing.
        #[serde(default)]
        unit: Option<String>,
        #[serde(default)]
        comment: Option<String>,
        /// Where the evidence is (a bilan, a report, a convention number).
        #[serde(default)]
        evidence_ref: Option<String>,
    },
    #[serde(rename = "fulfil_commitment")]
    Fulfil {
        commitment_id: CommitmentId,
        #[serde(default)]
        comment: Option<String>,
        #[serde(default)]
        evidence_ref: Option<String>,
    },
    /// The commitment's period ended without it being kept.
    #[serde(rename = "lapse_commitment")]
    Lapse {
        commitment_id: CommitmentId,
        reason: String,
    },
    /// The signatory takes the commitment back.
    #[serde(rename = "withdraw_commitment")]
    Withdraw {
        commitment_id: CommitmentId,
        reason: String,
    },
}

impl CommitmentCommand {
    /// The commitment the command is about.
    pub fn commitment_id(&self) -> &CommitmentId {
        match self {
            CommitmentCommand::Pledge { commitment_id, .. }
            | CommitmentCommand::Revise { commitment_id, .. }
            | CommitmentCommand::ReportProgress { commitment_id, .. }
            | CommitmentCommand::Fulfil { commitment_id, .. }
            | CommitmentCommand::Lapse { commitment_id, .. }
            | CommitmentCommand::Withdraw { commitment_id, .. } => commitment_id,
        }
    }
}

/// Facts about a commitment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum CommitmentEvent {
    CommitmentPledged {
        commitment_id: CommitmentId,
        signatory: String,
        terms: CommitmentTerms,
    },
    CommitmentRevised {
        commitment_id: CommitmentId,
        /// 1 for the first revision.
        revision: u32,
        terms: CommitmentTerms,
        reason: String,
    },
    CommitmentProgressReported {
        commitment_id: CommitmentId,
        /// 1 for the first report.
        report_no: u32,
        period: ReportingPeriod,
        realised_value: Option<Decimal>,
        unit: Option<String>,
        comment: Option<String>,
        evidence_ref: Option<String>,
    },
    CommitmentFulfilled {
        commitment_id: CommitmentId,
        comment: Option<String>,
        evidence_ref: Option<String>,
    },
    CommitmentLapsed {
        commitment_id: CommitmentId,
        reason: String,
    },
    CommitmentWithdrawn {
        commitment_id: CommitmentId,
        reason: String,
    },
}

impl DomainEvent for CommitmentEvent {
    const STREAM_TYPE: &'static str = "commitment";
    crate::event_names!(CommitmentEvent {
        CommitmentPledged,
        CommitmentRevised,
        CommitmentProgressReported,
        CommitmentFulfilled,
        CommitmentLapsed,
        CommitmentWithdrawn
    });
}

/// Where a commitment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentStatus {
    /// Pledged and being followed.
    Active,
    Fulfilled,
    Lapsed,
    Withdrawn,
}

impl CommitmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentStatus::Active => "active",
            CommitmentStatus::Fulfilled => "fulfilled",
            CommitmentStatus::Lapsed => "lapsed",
            CommitmentStatus::Withdrawn => "withdrawn",
        }
    }
}

/// Why a commitment command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    #[error("commitment {0} is already pledged: revise it instead")]
    AlreadyPledged(CommitmentId),
    #[error("commitment {0} is not pledged")]
    NotPledged(CommitmentId),
    #[error("commitment {id} is {status}: nothing more can be recorded on it", status = .status.as_str())]
    Closed {
        id: CommitmentId,
        status: CommitmentStatus,
    },
    #[error("signatory '{0}' is not an organisation id (e.g. france-travail)")]
    BadSignatory(String),
    #[error("commitment {0}: the new terms are the same as the current ones")]
    NothingRevised(CommitmentId),
    #[error(
        "commitment {0} has reached {1} of its kind: the limit is there to catch runaway imports"
    )]
    LimitReached(CommitmentId, &'static str),
    #[error("commitment {0}: a progress report needs a realised value or a comment")]
    EmptyReport(CommitmentId),
    #[error(
        "commitment {id}: reporting period {period} does not meet the commitment's years {years}"
    )]
    PeriodOutsideCommitment {
        id: CommitmentId,
        period: String,
        years: String,
    },
    #[error("commitment {id}: realised value {value} {why}")]
    BadRealisedValue {
        id: CommitmentId,
        value: Decimal,
        why: String,
    },
    #[error(transparent)]
    Terms(#[from] TermsError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// What the ledger knows of a commitment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitmentState {
    pub pledged: Option<PledgedCommitment>,
}

/// A pledged commitment, with its current terms.
#[derive(Debug, Clone, PartialEq)]
pub struct PledgedCommitment {
    pub commitment_id: CommitmentId,
    pub signatory: String,
    pub terms: CommitmentTerms,
    pub status: CommitmentStatus,
    pub revisions: u32,
    pub progress_reports: u32,
}

/// The commitment aggregate.
pub struct Commitment;

impl esrs::Aggregate for Commitment {
    const NAME: &'static str = "commitment";
    type State = CommitmentState;
    type Command = CommitmentCommand;
    type Event = CommitmentEvent;
    type Error = CommitmentError;

    fn handle_command(
        state: &CommitmentState,
        command: CommitmentCommand,
    ) -> Result<Vec<CommitmentEvent>, CommitmentError> {
        if let CommitmentCommand::Pledge {
            commitment_id,
            signatory,
            terms,
        } = command
        {
            return pledge(state, commitment_id, signatory, terms).map(|e| vec![e]);
        }
        let id = command.commitment_id().clone();
        let current = state
            .pledged
            .as_ref()
            .ok_or_else(|| CommitmentError::NotPledged(id.clone()))?;
        if current.status != CommitmentStatus::Active {
            return Err(CommitmentError::Closed {
                id,
                status: current.status,
            });
        }
        decide_on_active(current, command).map(|e| vec![e])
    }

    fn apply_event(mut state: CommitmentState, event: CommitmentEvent) -> CommitmentState {
        if let CommitmentEvent::CommitmentPledged {
            commitment_id,
            signatory,
            terms,
        } = event
        {
            state.pledged = Some(PledgedCommitment {
                commitment_id,
                signatory,
                terms,
                status: CommitmentStatus::Active,
                revisions: 0,
                progress_reports: 0,
            });
            return state;
        }
        if let Some(current) = state.pledged.as_mut() {
            match event {
                CommitmentEvent::CommitmentPledged { .. } => {}
                CommitmentEvent::CommitmentRevised {
                    revision, terms, ..
                } => {
                    current.terms = terms;
                    current.revisions = revision;
                }
                CommitmentEvent::CommitmentProgressReported { report_no, .. } => {
                    current.progress_reports = report_no
                }
                CommitmentEvent::CommitmentFulfilled { .. } => {
                    current.status = CommitmentStatus::Fulfilled
                }
                CommitmentEvent::CommitmentLapsed { .. } => {
                    current.status = CommitmentStatus::Lapsed
                }
                CommitmentEvent::CommitmentWithdrawn { .. } => {
                    current.status = CommitmentStatus::Withdrawn
                }
            }
        }
        state
    }
}

fn pledge(
    state: &CommitmentState,
    commitment_id: CommitmentId,
    signatory: String,
    terms: CommitmentTerms,
) -> Result<CommitmentEvent, CommitmentError> {
    if state.pledged.is_some() {
        return Err(CommitmentError::AlreadyPledged(commitment_id));
    }
    if CommitmentId::try_from(signatory.clone()).is_err() {
        return Err(CommitmentError::BadSignatory(signatory));
    }
    Ok(CommitmentEvent::CommitmentPledged {
        commitment_id,
        signatory,
        terms: terms.checked()?,
    })
}

/// Decides a command other than a pledge on an active commitment.
fn decide_on_active(
    current: &PledgedCommitment,
    command: CommitmentCommand,
) -> Result<CommitmentEvent, CommitmentError> {
    let id = current.commitment_id.clone();
    Ok(match command {
        CommitmentCommand::Pledge { commitment_id, .. } => {
            return Err(CommitmentError::AlreadyPledged(commitment_id))
        }
        CommitmentCommand::Revise { terms, reason, .. } => {
            let terms = terms.checked()?;
            if terms == current.terms {
                return Err(CommitmentError::NothingRevised(id));
            }
            if current.revisions >= REVISIONS_MAX {
                return Err(CommitmentError::LimitReached(id, "revisions"));
            }
            CommitmentEvent::CommitmentRevised {
                commitment_id: id,
                revision: current.revisions + 1,
                terms,
                reason: reason_text(&reason)?,
            }
        }
        CommitmentCommand::ReportProgress {
            period,
            realised_value,
            unit,
            comment,
            evidence_ref,
            ..
        } => progress(
            current,
            period,
            realised_value,
            unit,
            optional_text(comment, "comment", COMMENT_MAX_CHARS)?,
            optional_label(evidence_ref, "evidence_ref")?,
        )?,
        CommitmentCommand::Fulfil {
            comment,
            evidence_ref,
            ..
        } => CommitmentEvent::CommitmentFulfilled {
            commitment_id: id,
            comment: optional_text(comment, "comment", COMMENT_MAX_CHARS)?,
            evidence_ref: optional_label(evidence_ref, "evidence_ref")?,
        },
        CommitmentCommand::Lapse { reason, .. } => CommitmentEvent::CommitmentLapsed {
            commitment_id: id,
            reason: reason_text(&reason)?,
        },
        CommitmentCommand::Withdraw { reason, .. } => CommitmentEvent::CommitmentWithdrawn {
            commitment_id: id,
            reason: reason_text(&reason)?,
        },
    })
}

fn reason_text(reason: &str) -> Result<String, CommitmentError> {
    Ok(required_text(reason, "reason", COMMENT_MAX_CHARS)?)
}

fn progress(
    current: &PledgedCommitment,
    period: ReportingPeriod,
    realised_value: Option<Decimal>,
    unit: Option<String>,
    comment: Option<String>,
    evidence_ref: Option<String>,
) -> Result<CommitmentEvent, CommitmentError> {
    let id = current.commitment_id.clone();
    period.check()?;
    if !period.overlaps(&current.terms.period) {
        return Err(CommitmentError::PeriodOutsideCommitment {
            id,
            period: period.label(),
            years: current.terms.period.label(),
        });
    }
    if realised_value.is_none() && comment.is_none() {
        return Err(CommitmentError::EmptyReport(id));
    }
    if current.progress_reports >= PROGRESS_REPORTS_MAX {
        return Err(CommitmentError::LimitReached(id, "progress reports"));
    }
    let unit = optional_label(unit, "unit")?;
    if let Some(value) = realised_value {
        check_realised(&id, &current.terms.kind, value, unit.as_deref())?;
    }
    Ok(CommitmentEvent::CommitmentProgressReported {
        commitment_id: id,
        report_no: current.progress_reports + 1,
        period,
        realised_value: realised_value.map(|v| v.normalize()),
        unit,
        comment,
        evidence_ref,
    })
}

/// A realised value is in the commitment's own unit: euros (≥ 0, cents) for a financial
/// commitment, a whole count for staffing; other kinds say their unit.
fn check_realised(
    id: &CommitmentId,
    kind: &CommitmentKind,
    value: Decimal,
    unit: Option<&str>,
) -> Result<(), CommitmentError> {
    let bad = |why: String| CommitmentError::BadRealisedValue {
        id: id.clone(),
        value,
        why,
    };
    terms::check_value(value)?;
    match kind {
        CommitmentKind::Financial { .. } => {
            Amount::new(value).map_err(|e| bad(format!("is not an amount in euros: {e}")))?;
            if unit.is_some() {
                return Err(bad("is in euros: leave unit out".into()));
            }
        }
        CommitmentKind::Staffing { staff_unit, .. } => {
            let whole = value.fract().is_zero() && !value.is_sign_negative();
            if !whole || value > Decimal::from(STAFF_COUNT_MAX) {
                return Err(bad(format!(
                    "must be a whole count of {staff_unit} (0-{STAFF_COUNT_MAX})"
                )));
            }
        }
        _ if unit.is_none() => {
            return Err(bad(format!(
                "needs a unit: a {} commitment has no unit of its own",
                kind.name()
            )))
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
