//! TFPB: the social landlords' abatement of the property tax on their housing in QPV, and what
//! they fund with it (art. 1388 bis CGI; contract l.1062-1070).
//!
//! Two aggregates:
//! - [`convention::TfpbConvention`]: the convention d'utilisation de l'abattement a bailleur signs
//!   with the State, the EPCI and the commune(s), over several QPV and tax years; amended;
//!   terminated.
//! - [`programme::TfpbProgramme`]: one bailleur × one QPV × one tax year: the abatement declared,
//!   the action programme (actions by axis of the national framework, with cross-landlord shares,
//!   l.1070), the spending reported, and the annual bilan with its reviews by the State and the
//!   EPCI. Corrections are new events.
//!
//! The axes of the national framework are reference data (`tfpb_axes.json`); the referential
//! checks (known bailleur, QPV, axis, signatory kinds) are the application's, which sees it.

pub mod convention;
mod ids;
pub mod programme;

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::money::Amount;

pub use convention::{
    TfpbConvention, TfpbConventionCommand, TfpbConventionEvent, TfpbConventionState,
};
pub use ids::{TfpbActionId, TfpbConventionId, TfpbSpendingId};
pub use programme::{TfpbProgramme, TfpbProgrammeCommand, TfpbProgrammeEvent, TfpbProgrammeState};

/// First and last tax year the ledger accepts (the abatement runs 2025-2030 under the current
/// law; a wider range leaves room for earlier and later conventions, anything else is a typo).
pub const TAX_YEAR_MIN: i32 = 2000;
pub const TAX_YEAR_MAX: i32 = 2100;
/// Longest convention: conventions follow the contract (6 years); 10 leaves room for an extension.
pub const CONVENTION_YEARS_MAX: i32 = 10;
/// Longest reference id (organisation, quartier, axis) a TFPB fact may name.
pub const REF_ID_CHARS_MAX: usize = 64;
/// Longest free text (label, evidence, reason, remarks).
pub const TEXT_CHARS_MAX: usize = 2_000;
/// Longest label of an action.
pub const LABEL_CHARS_MAX: usize = 300;
/// Most QPV one convention covers (the contract has 16).
pub const CONVENTION_QUARTIERS_MAX: usize = 64;
/// Most signatories or partners one fact lists.
pub const PARTIES_MAX: usize = 32;
/// Most bailleurs sharing one action.
pub const SHARES_MAX: usize = 16;
/// Most actions in one programme (bailleur × QPV × year).
pub const ACTIONS_PER_PROGRAMME_MAX: usize = 500;
/// Most spendings reported on one action.
pub const SPENDINGS_PER_ACTION_MAX: usize = 1_000;
/// Most dwellings one bailleur declares in one QPV (the biggest QPV have a few thousand).
pub const DWELLINGS_MAX: u32 = 1_000_000;

/// Month and day, in the year after the tax year, by which the bilan is due.
///
/// The contract sets no date. The ledger uses 30 June of the next year: the same six months the
/// State gives operators for their compte rendu financier, and in time for the annual bilan the
/// contract presents to the Conseil communautaire (l.1095-1117). See docs/imports.md.
pub const BILAN_DUE_MONTH: u32 = 6;
pub const BILAN_DUE_DAY: u32 = 30;

/// The date by which the bilan of `year` is due: 30 June of `year + 1`.
pub fn bilan_due_on(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year + 1, BILAN_DUE_MONTH, BILAN_DUE_DAY)
}

/// Whether `date` falls in tax year `year`.
pub fn in_year(date: NaiveDate, year: i32) -> bool {
    date.year() == year
}

/// One bailleur's programme in one QPV for one tax year: the key of a [`TfpbProgramme`] stream.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct TfpbProgrammeKey {
    /// Organisation id of the bailleur (referential, kind `bailleur`).
    pub bailleur: String,
    /// Quartier id of the QPV (referential, e.g. `QN06208`).
    pub quartier: String,
    /// Tax year of the abatement.
    pub year: i32,
}

impl TfpbProgrammeKey {
    pub fn new(bailleur: impl Into<String>, quartier: impl Into<String>, year: i32) -> Self {
        TfpbProgrammeKey {
            bailleur: bailleur.into(),
            quartier: quartier.into(),
            year,
        }
    }

    /// The stream holding this programme's history. `:` cannot appear in the (checked) ids, so
    /// two keys never share a stream.
    pub fn stream_id(&self) -> String {
        format!(
            "tfpb-programme-{}:{}:{}",
            self.bailleur, self.quartier, self.year
        )
    }

    /// Checks the ids and the year.
    pub fn check(&self) -> Result<(), TfpbError> {
        check_ref_id("bailleur", &self.bailleur)?;
        check_ref_id("quartier", &self.quartier)?;
        check_year(self.year)
    }
}

impl fmt::Display for TfpbProgrammeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} × {} × {}", self.bailleur, self.quartier, self.year)
    }
}

/// One bailleur's share of an action financed by several bailleurs (l.1070).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TfpbShare {
    /// Organisation id of the bailleur.
    pub bailleur: String,
    /// The part of the action's planned amount this bailleur finances from its abatement.
    pub planned_eur: Amount,
}

/// An action of a programme, as planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TfpbActionSpec {
    pub action_id: TfpbActionId,
    /// Axis id of the national framework (referential `tfpb_axes.json`, e.g. `axe-3`).
    pub axis: String,
    /// Short label, unique among the programme's live actions.
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Total planned amount of the action.
    pub planned_eur: Amount,
    /// Partners (associations, services, habitants' councils…), as named by the bailleur.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<String>,
    /// Cross-landlord action: each bailleur's share, summing to `planned_eur` and including the
    /// programme's own bailleur. Empty: the programme's bailleur finances it all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<TfpbShare>,
}

/// Who reviews a bilan: the State and the EPCI each give their own review.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TfpbReviewer {
    State,
    Epci,
}

/// A review's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum TfpbReviewOutcome {
    Accepted,
    /// Remarks asking for corrections; the bailleur corrects and submits again.
    Remarks {
        remarks: String,
    },
}

/// Why a TFPB command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TfpbError {
    #[error(
        "{what} '{value}' is not a valid id: 1 to {REF_ID_CHARS_MAX} characters, no space or ':'"
    )]
    BadRefId { what: &'static str, value: String },
    #[error("tax year {0} is outside {TAX_YEAR_MIN}-{TAX_YEAR_MAX}")]
    YearOutOfRange(i32),
    #[error("{what} is empty or longer than {max} characters")]
    BadText { what: &'static str, max: usize },
    #[error("{what}: {count} items, at most {max}")]
    TooMany {
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("{what} '{value}' is listed twice")]
    Duplicate { what: &'static str, value: String },
    #[error("convention {0} is already signed")]
    ConventionAlreadySigned(TfpbConventionId),
    #[error("convention {0} does not exist: sign it first")]
    ConventionNotSigned(TfpbConventionId),
    #[error("convention {0} is terminated: nothing more can be recorded on it")]
    ConventionTerminated(TfpbConventionId),
    #[error("years {first}-{last} are not a valid span: first ≤ last, at most {CONVENTION_YEARS_MAX} years")]
    BadYears { first: i32, last: i32 },
    #[error("the convention covers no QPV: list at least one")]
    NoQuartier,
    #[error("the convention has no signatory: list the State, the EPCI and the commune(s)")]
    NoSignatory,
    #[error("the amendment changes nothing: give new quartiers, year_last or signatories")]
    EmptyAmendment,
    #[error("termination date {terminated_on} is before the signature ({signed_on})")]
    TerminatedBeforeSigned {
        terminated_on: NaiveDate,
        signed_on: NaiveDate,
    },
    #[error("{0} dwellings is not plausible: between 1 and {DWELLINGS_MAX}")]
    BadDwellings(u32),
    #[error("action {0} already exists in this programme")]
    ActionExists(TfpbActionId),
    #[error("action {0} is not in programme {1}")]
    UnknownAction(TfpbActionId, TfpbProgrammeKey),
    #[error("action {0} was dropped: plan a new action instead")]
    ActionDropped(TfpbActionId),
    #[error("an action labelled '{0}' already exists in this programme: labels are unique")]
    DuplicateLabel(String),
    #[error("action {action_id} has {realised_eur} € of spending reported: correct the spending to 0 before dropping it")]
    DropWithSpending {
        action_id: TfpbActionId,
        realised_eur: Amount,
    },
    #[error("the shares of a cross-landlord action must include the programme's bailleur '{0}'")]
    SharesWithoutOwnBailleur(String),
    #[error(
        "the shares sum to {shares_eur} € but the action plans {planned_eur} €: they must be equal"
    )]
    SharesDoNotAddUp {
        shares_eur: Amount,
        planned_eur: Amount,
    },
    #[error("action {action_id} has no share for bailleur '{bailleur}': only a bailleur named in its shares confirms one")]
    NoShare {
        action_id: TfpbActionId,
        bailleur: String,
    },
    #[error("the programme's own bailleur '{0}' needs no confirmation of its share")]
    OwnShare(String),
    #[error("bailleur '{bailleur}' has already confirmed its share of action {action_id}")]
    ShareAlreadyConfirmed {
        action_id: TfpbActionId,
        bailleur: String,
    },
    #[error("spending {0} is already reported")]
    SpendingExists(TfpbSpendingId),
    #[error("spending {0} is not reported on action {1}")]
    UnknownSpending(TfpbSpendingId, TfpbActionId),
    #[error("a spending of 0 € records nothing: report the amount spent")]
    ZeroSpending,
    #[error("spending dated {spent_on} is outside tax year {year}")]
    SpendingOutsideYear { spent_on: NaiveDate, year: i32 },
    #[error("no abatement is declared for {0}: declare it before submitting the bilan")]
    BilanWithoutAbatement(TfpbProgrammeKey),
    #[error("bilan submission {0} awaits its reviews: a new submission follows remarks")]
    BilanAwaitingReview(u32),
    #[error(
        "the bilan is accepted by the State and the EPCI: record corrections as new spending facts"
    )]
    BilanAlreadyAccepted,
    #[error("no bilan is submitted for {0}")]
    BilanNotSubmitted(TfpbProgrammeKey),
    #[error("the {0:?} has already reviewed bilan submission {1}")]
    AlreadyReviewed(TfpbReviewer, u32),
    #[error("a total above the amount limit")]
    Overflow,
}

/// Checks an id of the referential as used in TFPB facts and stream ids.
pub fn check_ref_id(what: &'static str, value: &str) -> Result<(), TfpbError> {
    let ok = !value.is_empty()
        && value.chars().count() <= REF_ID_CHARS_MAX
        && !value.chars().any(|c| c == ':' || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(TfpbError::BadRefId {
            what,
            value: value.to_string(),
        })
    }
}

pub(crate) fn check_year(year: i32) -> Result<(), TfpbError> {
    if (TAX_YEAR_MIN..=TAX_YEAR_MAX).contains(&year) {
        Ok(())
    } else {
        Err(TfpbError::YearOutOfRange(year))
    }
}

/// Trims a text and checks its length; returns the trimmed text.
pub(crate) fn check_text(what: &'static str, text: &str, max: usize) -> Result<String, TfpbError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(TfpbError::BadText { what, max });
    }
    Ok(trimmed.to_string())
}

/// Checks a list of ids: bounded, each valid, none twice.
pub(crate) fn check_id_list(
    what: &'static str,
    ids: &[String],
    max: usize,
) -> Result<(), TfpbError> {
    if ids.len() > max {
        return Err(TfpbError::TooMany {
            what,
            count: ids.len(),
            max,
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for id in ids {
        check_ref_id(what, id)?;
        if !seen.insert(id) {
            return Err(TfpbError::Duplicate {
                what,
                value: id.clone(),
            });
        }
    }
    Ok(())
}

/// Label comparison ignores case and surrounding spaces, so that « Médiation » and « médiation »
/// are the same action.
pub fn label_key(label: &str) -> String {
    label.trim().to_lowercase()
}
