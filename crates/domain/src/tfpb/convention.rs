//! The convention d'utilisation de l'abattement de TFPB: one bailleur, the QPV and tax years it
//! covers, signed with the State, the EPCI and the commune(s) and annexed to the contrat de ville
//! (l.1062-1070). Amended by avenant; terminated.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    check_id_list, check_ref_id, check_text, check_year, TfpbConventionId, TfpbError,
    CONVENTION_QUARTIERS_MAX, CONVENTION_YEARS_MAX, PARTIES_MAX, TEXT_CHARS_MAX,
};
use crate::event::DomainEvent;

/// Commands on a TFPB convention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum TfpbConventionCommand {
    #[serde(rename = "sign_tfpb_convention")]
    Sign {
        convention_id: TfpbConventionId,
        /// Organisation id of the bailleur.
        bailleur: String,
        /// Quartier ids of the QPV covered.
        quartiers: Vec<String>,
        year_first: i32,
        year_last: i32,
        /// Organisation ids of the signatories besides the bailleur (State, EPCI, commune(s)).
        signatories: Vec<String>,
        signed_on: NaiveDate,
        /// The convention's own reference (number, title).
        reference: String,
    },
    #[serde(rename = "amend_tfpb_convention")]
    Amend {
        convention_id: TfpbConventionId,
        /// The QPV covered from now on (the full list), if it changes.
        #[serde(default)]
        quartiers: Option<Vec<String>>,
        /// The new last year, if it changes.
        #[serde(default)]
        year_last: Option<i32>,
        /// The signatories from now on (the full list), if they change.
        #[serde(default)]
        signatories: Option<Vec<String>>,
        amended_on: NaiveDate,
        /// The avenant's reference and why.
        reason: String,
    },
    #[serde(rename = "terminate_tfpb_convention")]
    Terminate {
        convention_id: TfpbConventionId,
        terminated_on: NaiveDate,
        reason: String,
    },
}

impl TfpbConventionCommand {
    pub fn convention_id(&self) -> TfpbConventionId {
        match self {
            TfpbConventionCommand::Sign { convention_id, .. }
            | TfpbConventionCommand::Amend { convention_id, .. }
            | TfpbConventionCommand::Terminate { convention_id, .. } => *convention_id,
        }
    }
}

/// Facts about a TFPB convention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum TfpbConventionEvent {
    TfpbConventionSigned {
        convention_id: TfpbConventionId,
        bailleur: String,
        quartiers: Vec<String>,
        year_first: i32,
        year_last: i32,
        signatories: Vec<String>,
        signed_on: NaiveDate,
        reference: String,
    },
    /// The new values of what changed; `None` leaves a field as it was.
    TfpbConventionAmended {
        convention_id: TfpbConventionId,
        quartiers: Option<Vec<String>>,
        year_last: Option<i32>,
        signatories: Option<Vec<String>>,
        amended_on: NaiveDate,
        reason: String,
    },
    TfpbConventionTerminated {
        convention_id: TfpbConventionId,
        terminated_on: NaiveDate,
        reason: String,
    },
}

impl DomainEvent for TfpbConventionEvent {
    const STREAM_TYPE: &'static str = "tfpb_convention";
    crate::event_names!(TfpbConventionEvent {
        TfpbConventionSigned,
        TfpbConventionAmended,
        TfpbConventionTerminated
    });
}

/// What a convention says now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConventionTerms {
    pub convention_id: TfpbConventionId,
    pub bailleur: String,
    pub quartiers: Vec<String>,
    pub year_first: i32,
    pub year_last: i32,
    pub signatories: Vec<String>,
    pub signed_on: NaiveDate,
    pub reference: String,
    pub amendments: u32,
    pub terminated_on: Option<NaiveDate>,
}

impl ConventionTerms {
    /// Whether the convention covers `quartier` in tax year `year`. A terminated convention
    /// covers the tax years whose 1 January is before its termination date.
    pub fn covers(&self, quartier: &str, year: i32) -> bool {
        let in_years = (self.year_first..=self.year_last).contains(&year);
        let before_end = self
            .terminated_on
            .is_none_or(|end| NaiveDate::from_ymd_opt(year, 1, 1).is_some_and(|jan| jan < end));
        in_years && before_end && self.quartiers.iter().any(|q| q == quartier)
    }
}

/// The convention aggregate's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TfpbConventionState {
    pub terms: Option<ConventionTerms>,
}

/// The convention aggregate.
pub struct TfpbConvention;

impl esrs::Aggregate for TfpbConvention {
    const NAME: &'static str = "tfpb_convention";
    type State = TfpbConventionState;
    type Command = TfpbConventionCommand;
    type Event = TfpbConventionEvent;
    type Error = TfpbError;

    fn handle_command(
        state: &TfpbConventionState,
        command: TfpbConventionCommand,
    ) -> Result<Vec<TfpbConventionEvent>, TfpbError> {
        match command {
            TfpbConventionCommand::Sign {
                convention_id,
                bailleur,
                quartiers,
                year_first,
                year_last,
                signatories,
                signed_on,
                reference,
            } => {
                if state.terms.is_some() {
                    return Err(TfpbError::ConventionAlreadySigned(convention_id));
                }
                check_ref_id("bailleur", &bailleur)?;
                check_quartiers(&quartiers)?;
                check_years(year_first, year_last)?;
                check_signatories(&signatories)?;
                let reference = check_text("reference", &reference, TEXT_CHARS_MAX)?;
                Ok(vec![TfpbConventionEvent::TfpbConventionSigned {
                    convention_id,
                    bailleur,
                    quartiers,
                    year_first,
                    year_last,
                    signatories,
                    signed_on,
                    reference,
                }])
            }
            TfpbConventionCommand::Amend {
                convention_id,
                quartiers,
                year_last,
                signatories,
                amended_on,
                reason,
            } => {
                let terms = live_terms(state, convention_id)?;
                if quartiers.is_none() && year_last.is_none() && signatories.is_none() {
                    return Err(TfpbError::EmptyAmendment);
                }
                if let Some(quartiers) = &quartiers {
                    check_quartiers(quartiers)?;
                }
                if let Some(year_last) = year_last {
                    check_years(terms.year_first, year_last)?;
                }
                if let Some(signatories) = &signatories {
                    check_signatories(signatories)?;
                }
                let reason = check_text("reason", &reason, TEXT_CHARS_MAX)?;
                Ok(vec![TfpbConventionEvent::TfpbConventionAmended {
                    convention_id,
                    quartiers,
                    year_last,
                    signatories,
                    amended_on,
                    reason,
                }])
            }
            TfpbConventionCommand::Terminate {
                convention_id,
                terminated_on,
                reason,
            } => {
                let terms = live_terms(state, convention_id)?;
                if terminated_on < terms.signed_on {
                    return Err(TfpbError::TerminatedBeforeSigned {
                        terminated_on,
                        signed_on: terms.signed_on,
                    });
                }
                let reason = check_text("reason", &reason, TEXT_CHARS_MAX)?;
                Ok(vec![TfpbConventionEvent::TfpbConventionTerminated {
                    convention_id,
                    terminated_on,
                    reason,
                }])
            }
        }
    }

    fn apply_event(
        mut state: TfpbConventionState,
        event: TfpbConventionEvent,
    ) -> TfpbConventionState {
        apply_to_terms(&mut state.terms, event);
        state
    }
}

/// Folds one convention event into its terms; shared with the read model so both read the same.
pub fn apply_to_terms(terms: &mut Option<ConventionTerms>, event: TfpbConventionEvent) {
    match event {
        TfpbConventionEvent::TfpbConventionSigned {
            convention_id,
            bailleur,
            quartiers,
            year_first,
            year_last,
            signatories,
            signed_on,
            reference,
        } => {
            *terms = Some(ConventionTerms {
                convention_id,
                bailleur,
                quartiers,
                year_first,
                year_last,
                signatories,
                signed_on,
                reference,
                amendments: 0,
                terminated_on: None,
            })
        }
        TfpbConventionEvent::TfpbConventionAmended {
            quartiers,
            year_last,
            signatories,
            ..
        } => {
            if let Some(terms) = terms {
                terms.quartiers = quartiers.unwrap_or(std::mem::take(&mut terms.quartiers));
                terms.year_last = year_last.unwrap_or(terms.year_last);
                terms.signatories = signatories.unwrap_or(std::mem::take(&mut terms.signatories));
                terms.amendments += 1;
            }
        }
        TfpbConventionEvent::TfpbConventionTerminated { terminated_on, .. } => {
            if let Some(terms) = terms {
                terms.terminated_on = Some(terminated_on);
            }
        }
    }
}

fn live_terms(
    state: &TfpbConventionState,
    convention_id: TfpbConventionId,
) -> Result<&ConventionTerms, TfpbError> {
    let terms = state
        .terms
        .as_ref()
        .ok_or(TfpbError::ConventionNotSigned(convention_id))?;
    if terms.terminated_on.is_some() {
        return Err(TfpbError::ConventionTerminated(convention_id));
    }
    Ok(terms)
}

fn check_quartiers(quartiers: &[String]) -> Result<(), TfpbError> {
    if quartiers.is_empty() {
        return Err(TfpbError::NoQuartier);
    }
    check_id_list("quartier", quartiers, CONVENTION_QUARTIERS_MAX)
}

fn check_signatories(signatories: &[String]) -> Result<(), TfpbError> {
    if signatories.is_empty() {
        return Err(TfpbError::NoSignatory);
    }
    check_id_list("signatory", signatories, PARTIES_MAX)
}

fn check_years(first: i32, last: i32) -> Result<(), TfpbError> {
    check_year(first)?;
    check_year(last)?;
    if last < first || last - first + 1 > CONVENTION_YEARS_MAX {
        return Err(TfpbError::BadYears { first, last });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use esrs::Aggregate;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn sign(convention_id: TfpbConventionId) -> TfpbConventionCommand {
        TfpbConventionCommand::Sign {
            convention_id,
            bailleur: "sia-habitat".into(),
            quartiers: vec!["QN06208".into(), "QN06209".into()],
            year_first: 2025,
            year_last: 2030,
            signatories: vec!["etat".into(), "cabbalr".into(), "commune-bethune".into()],
            signed_on: date(2025, 3, 1),
            reference: "Convention TFPB n° 2025-01 (fictive)".into(),
        }
    }

    fn run(
        state: TfpbConventionState,
        command: TfpbConventionCommand,
    ) -> Result<TfpbConventionState, TfpbError> {
        let events = TfpbConvention::handle_command(&state, command)?;
        Ok(events.into_iter().fold(state, TfpbConvention::apply_event))
    }

    #[test]
    fn signed_convention_covers_its_quartiers_and_years_only() {
        let id = TfpbConventionId::new();
        let state = run(TfpbConventionState::default(), sign(id)).unwrap();
        let terms = state.terms.as_ref().unwrap();
        assert!(terms.covers("QN06208", 2025));
        assert!(terms.covers("QN06209", 2030));
        assert!(!terms.covers("QN06208", 2024));
        assert!(!terms.covers("QN06208", 2031));
        assert!(!terms.covers("QN06212", 2026));
        assert_eq!(
            run(state, sign(id)),
            Err(TfpbError::ConventionAlreadySigned(id))
        );
    }

    #[test]
    fn bad_signatures_are_refused() {
        let id = TfpbConventionId::new();
        let mut command = sign(id);
        if let TfpbConventionCommand::Sign { quartiers, .. } = &mut command {
            quartiers.push("QN06208".into());
        }
        assert!(matches!(
            run(TfpbConventionState::default(), command),
            Err(TfpbError::Duplicate { .. })
        ));
        let mut command = sign(id);
        if let TfpbConventionCommand::Sign { year_last, .. } = &mut command {
            *year_last = 2024;
        }
        assert!(matches!(
            run(TfpbConventionState::default(), command),
            Err(TfpbError::BadYears { .. })
        ));
        let mut command = sign(id);
        if let TfpbConventionCommand::Sign { signatories, .. } = &mut command {
            signatories.clear();
        }
        assert_eq!(
            run(TfpbConventionState::default(), command),
            Err(TfpbError::NoSignatory)
        );
    }

    #[test]
    fn amendment_then_termination_change_coverage() {
        let id = TfpbConventionId::new();
        let state = run(TfpbConventionState::default(), sign(id)).unwrap();
        let state = run(
            state,
            TfpbConventionCommand::Amend {
                convention_id: id,
                quartiers: Some(vec!["QN06208".into(), "QN06212".into()]),
                year_last: None,
                signatories: None,
                amended_on: date(2026, 1, 15),
                reason: "Avenant n° 1 (fictif)".into(),
            },
        )
        .unwrap();
        let terms = state.terms.clone().unwrap();
        assert!(terms.covers("QN06212", 2026));
        assert!(!terms.covers("QN06209", 2026));
        assert_eq!(terms.amendments, 1);
        let state = run(
            state,
            TfpbConventionCommand::Terminate {
                convention_id: id,
                terminated_on: date(2027, 6, 30),
                reason: "Résiliation (fictive)".into(),
            },
        )
        .unwrap();
        let terms = state.terms.clone().unwrap();
        assert!(
            terms.covers("QN06208", 2027),
            "1 Jan 2027 is before the end"
        );
        assert!(!terms.covers("QN06208", 2028));
        assert_eq!(
            run(
                state,
                TfpbConventionCommand::Terminate {
                    convention_id: id,
                    terminated_on: date(2027, 7, 1),
                    reason: "again".into(),
                }
            ),
            Err(TfpbError::ConventionTerminated(id))
        );
    }

    #[test]
    fn empty_amendment_and_early_termination_are_refused() {
        let id = TfpbConventionId::new();
        let state = run(TfpbConventionState::default(), sign(id)).unwrap();
        assert_eq!(
            run(
                state.clone(),
                TfpbConventionCommand::Amend {
                    convention_id: id,
                    quartiers: None,
                    year_last: None,
                    signatories: None,
                    amended_on: date(2026, 1, 1),
                    reason: "rien".into(),
                }
            ),
            Err(TfpbError::EmptyAmendment)
        );
        assert!(matches!(
            run(
                state,
                TfpbConventionCommand::Terminate {
                    convention_id: id,
                    terminated_on: date(2024, 1, 1),
                    reason: "x".into(),
                }
            ),
            Err(TfpbError::TerminatedBeforeSigned { .. })
        ));
    }
}
