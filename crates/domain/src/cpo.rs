//! CPO (conventions pluriannuelles d'objectifs): a 3-year agreement with a porteur.
//!
//! Per year and financeur it plans an amount. Year 1 is firm; years 2 and 3 are forecasts, subject
//! to each year's budget vote, until confirmed; a confirmation links the year to the dossier whose
//! grant realises it (the money itself is always a dossier's grant, so it is counted once and
//! draws on the envelope like any other). A CPO may be revised (a year's planned amount, with a
//! reason) or terminated; its id stays the same across its years.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dossier::{EXERCICE_MAX, EXERCICE_MIN, TEXT_MAX_CHARS};
use crate::event::DomainEvent;
use crate::ids::{DossierId, PorteurId};
use crate::money::Amount;
use crate::porteur::NAME_MAX_CHARS;

crate::ids::uuid_id!(
    /// A CPO, stable across its three years.
    CpoId,
    "cpo"
);

/// A CPO lasts this many exercices.
pub const CPO_YEARS: i32 = 3;
/// Most planned lines (year × financeur × dispositif) of one CPO.
pub const CPO_LINES_MAX: usize = 60;

/// The amount a financeur plans for one year under one dispositif.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpoLine {
    pub exercice: i32,
    pub financeur: String,
    pub dispositif: String,
    pub amount: Amount,
}

/// Commands on a CPO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum CpoCommand {
    #[serde(rename = "sign_cpo")]
    Sign {
        cpo_id: CpoId,
        porteur_id: PorteurId,
        title: String,
        number: String,
        signed_on: NaiveDate,
        /// Year 1 of the agreement; it covers `first_exercice` to `first_exercice + 2`.
        first_exercice: i32,
        schedule: Vec<CpoLine>,
    },
    /// The year's budget is voted: the planned amounts of `exercice` become the grant of
    /// `dossier_id` (decided on that dossier like any grant).
    #[serde(rename = "confirm_cpo_year")]
    ConfirmYear {
        cpo_id: CpoId,
        exercice: i32,
        dossier_id: DossierId,
    },
    /// Sets the planned amount of a year not yet confirmed.
    #[serde(rename = "revise_cpo")]
    Revise {
        cpo_id: CpoId,
        line: CpoLine,
        reason: String,
    },
    #[serde(rename = "terminate_cpo")]
    Terminate {
        cpo_id: CpoId,
        terminated_on: NaiveDate,
        reason: String,
    },
}

impl CpoCommand {
    pub fn cpo_id(&self) -> CpoId {
        match self {
            CpoCommand::Sign { cpo_id, .. }
            | CpoCommand::ConfirmYear { cpo_id, .. }
            | CpoCommand::Revise { cpo_id, .. }
            | CpoCommand::Terminate { cpo_id, .. } => *cpo_id,
        }
    }
}

/// Facts about a CPO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum CpoEvent {
    CpoSigned {
        cpo_id: CpoId,
        porteur_id: PorteurId,
        title: String,
        number: String,
        signed_on: NaiveDate,
        first_exercice: i32,
        schedule: Vec<CpoLine>,
    },
    CpoYearConfirmed {
        cpo_id: CpoId,
        exercice: i32,
        dossier_id: DossierId,
    },
    CpoRevised {
        cpo_id: CpoId,
        line: CpoLine,
        reason: String,
    },
    CpoTerminated {
        cpo_id: CpoId,
        terminated_on: NaiveDate,
        reason: String,
    },
}

impl DomainEvent for CpoEvent {
    const STREAM_TYPE: &'static str = "cpo";
    crate::event_names!(CpoEvent {
        CpoSigned,
        CpoYearConfirmed,
        CpoRevised,
        CpoTerminated
    });
}

/// Why a CPO command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpoError {
    #[error("CPO {0} is already signed")]
    AlreadySigned(CpoId),
    #[error("CPO {0} does not exist: sign it first")]
    NotSigned(CpoId),
    #[error("CPO {0} is terminated")]
    Terminated(CpoId),
    #[error("exercice {exercice} is outside the CPO's years {first}-{last}")]
    OutsideYears {
        exercice: i32,
        first: i32,
        last: i32,
    },
    #[error("exercice {0} is outside {EXERCICE_MIN}-{EXERCICE_MAX}")]
    ExerciceOutOfRange(i32),
    #[error("the schedule plans nothing for year 1 ({0}): year 1 is the firm part of a CPO")]
    NoFirstYear(i32),
    #[error("the schedule has {0} lines, at most {CPO_LINES_MAX}")]
    TooManyLines(usize),
    #[error("{exercice} / {financeur} / {dispositif} is planned twice")]
    DuplicateLine {
        exercice: i32,
        financeur: String,
        dispositif: String,
    },
    #[error("year {0} of the CPO is already confirmed")]
    AlreadyConfirmed(i32),
    #[error("year {0} is confirmed: its amount is now a grant, change it on the dossier")]
    RevisingConfirmed(i32),
    #[error("{field} is empty or too long")]
    BadText { field: &'static str },
}

/// Where one year of a CPO stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpoYearStatus {
    /// Year 1, firm from signature.
    Firm,
    /// A later year, not yet confirmed.
    Forecast,
    Confirmed(DossierId),
    /// Dropped by a termination before confirmation.
    Dropped,
}

/// What the ledger knows of a CPO.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CpoState {
    pub porteur_id: Option<PorteurId>,
    pub first_exercice: i32,
    pub schedule: Vec<CpoLine>,
    pub confirmed: Vec<(i32, DossierId)>,
    pub terminated_on: Option<NaiveDate>,
}

impl CpoState {
    /// The status of a year of this CPO.
    pub fn year_status(&self, exercice: i32) -> CpoYearStatus {
        if let Some((_, dossier)) = self.confirmed.iter().find(|(e, _)| *e == exercice) {
            return CpoYearStatus::Confirmed(*dossier);
        }
        if self.terminated_on.is_some() && exercice != self.first_exercice {
            return CpoYearStatus::Dropped;
        }
        if exercice == self.first_exercice {
            CpoYearStatus::Firm
        } else {
            CpoYearStatus::Forecast
        }
    }

    fn check_year(&self, exercice: i32) -> Result<(), CpoError> {
        let last = self.first_exercice + CPO_YEARS - 1;
        if exercice < self.first_exercice || exercice > last {
            return Err(CpoError::OutsideYears {
                exercice,
                first: self.first_exercice,
                last,
            });
        }
        Ok(())
    }
}

/// The CPO aggregate.
pub struct Cpo;

impl esrs::Aggregate for Cpo {
    const NAME: &'static str = "cpo";
    type State = CpoState;
    type Command = CpoCommand;
    type Event = CpoEvent;
    type Error = CpoError;

    fn handle_command(state: &CpoState, command: CpoCommand) -> Result<Vec<CpoEvent>, CpoError> {
        handle(state, command).map(|event| vec![event])
    }

    fn apply_event(state: CpoState, event: CpoEvent) -> CpoState {
        state.apply(event)
    }
}

impl CpoState {
    /// Folds one event.
    pub fn apply(mut self, event: CpoEvent) -> CpoState {
        let state = &mut self;
        match event {
            CpoEvent::CpoSigned {
                porteur_id,
                first_exercice,
                schedule,
                ..
            } => {
                state.porteur_id = Some(porteur_id);
                state.first_exercice = first_exercice;
                state.schedule = schedule;
            }
            CpoEvent::CpoYearConfirmed {
                exercice,
                dossier_id,
                ..
            } => state.confirmed.push((exercice, dossier_id)),
            CpoEvent::CpoRevised { line, .. } => {
                state.schedule.retain(|l| {
                    !(l.exercice == line.exercice
                        && l.financeur == line.financeur
                        && l.dispositif == line.dispositif)
                });
                state.schedule.push(line);
            }
            CpoEvent::CpoTerminated { terminated_on, .. } => {
                state.terminated_on = Some(terminated_on)
            }
        }
        self
    }
}

fn handle(state: &CpoState, command: CpoCommand) -> Result<CpoEvent, CpoError> {
    if let CpoCommand::Sign {
        cpo_id,
        porteur_id,
        title,
        number,
        signed_on,
        first_exercice,
        schedule,
    } = command
    {
        if state.porteur_id.is_some() {
            return Err(CpoError::AlreadySigned(cpo_id));
        }
        let title = text("title", &title, NAME_MAX_CHARS)?;
        let number = text("number", &number, TEXT_MAX_CHARS)?;
        check_schedule(first_exercice, &schedule)?;
        return Ok(CpoEvent::CpoSigned {
            cpo_id,
            porteur_id,
            title,
            number,
            signed_on,
            first_exercice,
            schedule,
        });
    }
    let cpo_id = command.cpo_id();
    if state.porteur_id.is_none() {
        return Err(CpoError::NotSigned(cpo_id));
    }
    if state.terminated_on.is_some() {
        return Err(CpoError::Terminated(cpo_id));
    }
    match command {
        CpoCommand::Sign { .. } => unreachable!("handled above"),
        CpoCommand::ConfirmYear {
            cpo_id,
            exercice,
            dossier_id,
        } => {
            state.check_year(exercice)?;
            if matches!(state.year_status(exercice), CpoYearStatus::Confirmed(_)) {
                return Err(CpoError::AlreadyConfirmed(exercice));
            }
            Ok(CpoEvent::CpoYearConfirmed {
                cpo_id,
                exercice,
                dossier_id,
            })
        }
        CpoCommand::Revise {
            cpo_id,
            line,
            reason,
        } => {
            state.check_year(line.exercice)?;
            if matches!(
                state.year_status(line.exercice),
                CpoYearStatus::Confirmed(_)
            ) {
                return Err(CpoError::RevisingConfirmed(line.exercice));
            }
            let reason = text("reason", &reason, TEXT_MAX_CHARS)?;
            Ok(CpoEvent::CpoRevised {
                cpo_id,
                line,
                reason,
            })
        }
        CpoCommand::Terminate {
            cpo_id,
            terminated_on,
            reason,
        } => Ok(CpoEvent::CpoTerminated {
            cpo_id,
            terminated_on,
            reason: text("reason", &reason, TEXT_MAX_CHARS)?,
        }),
    }
}

fn check_schedule(first: i32, schedule: &[CpoLine]) -> Result<(), CpoError> {
    if !(EXERCICE_MIN..=EXERCICE_MAX - CPO_YEARS).contains(&first) {
        return Err(CpoError::ExerciceOutOfRange(first));
    }
    if schedule.len() > CPO_LINES_MAX {
        return Err(CpoError::TooManyLines(schedule.len()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for line in schedule {
        if line.exercice < first || line.exercice >= first + CPO_YEARS {
            return Err(CpoError::OutsideYears {
                exercice: line.exercice,
                first,
                last: first + CPO_YEARS - 1,
            });
        }
        if !seen.insert((line.exercice, &line.financeur, &line.dispositif)) {
            return Err(CpoError::DuplicateLine {
                exercice: line.exercice,
                financeur: line.financeur.clone(),
                dispositif: line.dispositif.clone(),
            });
        }
    }
    if !schedule.iter().any(|l| l.exercice == first) {
        return Err(CpoError::NoFirstYear(first));
    }
    Ok(())
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, CpoError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(CpoError::BadText { field });
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use esrs::Aggregate;

    fn run(state: CpoState, command: CpoCommand) -> Result<CpoState, CpoError> {
        let events = Cpo::handle_command(&state, command)?;
        Ok(events.into_iter().fold(state, Cpo::apply_event))
    }

    fn line(exercice: i32, amount: u64) -> CpoLine {
        CpoLine {
            exercice,
            financeur: "etat".into(),
            dispositif: "bop147-aap".into(),
            amount: Amount::euros(amount),
        }
    }

    fn sign(cpo_id: CpoId, schedule: Vec<CpoLine>) -> CpoCommand {
        CpoCommand::Sign {
            cpo_id,
            porteur_id: PorteurId::new(),
            title: "CPO médiation sociale (fictive)".into(),
            number: "CPO-2024-01".into(),
            signed_on: NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
            first_exercice: 2024,
            schedule,
        }
    }

    #[test]
    fn year_one_is_firm_later_years_are_forecasts_until_confirmed() {
        let cpo_id = CpoId::new();
        let state = run(
            CpoState::default(),
            sign(
                cpo_id,
                vec![line(2024, 30_000), line(2025, 30_000), line(2026, 30_000)],
            ),
        )
        .unwrap();
        assert_eq!(state.year_status(2024), CpoYearStatus::Firm);
        assert_eq!(state.year_status(2025), CpoYearStatus::Forecast);
        let dossier_id = DossierId::new();
        let confirm = CpoCommand::ConfirmYear {
            cpo_id,
            exercice: 2025,
            dossier_id,
        };
        let state = run(state, confirm.clone()).unwrap();
        assert_eq!(
            state.year_status(2025),
            CpoYearStatus::Confirmed(dossier_id)
        );
        assert_eq!(
            run(state.clone(), confirm),
            Err(CpoError::AlreadyConfirmed(2025))
        );
        let revise = CpoCommand::Revise {
            cpo_id,
            line: line(2025, 1),
            reason: "x".into(),
        };
        assert_eq!(
            run(state.clone(), revise),
            Err(CpoError::RevisingConfirmed(2025))
        );
        let state = run(
            state,
            CpoCommand::Terminate {
                cpo_id,
                terminated_on: NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
                reason: "dissolution de l'association".into(),
            },
        )
        .unwrap();
        assert_eq!(state.year_status(2026), CpoYearStatus::Dropped);
    }

    #[test]
    fn a_schedule_must_fit_three_years_and_plan_year_one() {
        let outside = run(
            CpoState::default(),
            sign(CpoId::new(), vec![line(2024, 1), line(2027, 1)]),
        );
        assert!(matches!(outside, Err(CpoError::OutsideYears { .. })));
        let no_first = run(CpoState::default(), sign(CpoId::new(), vec![line(2025, 1)]));
        assert_eq!(no_first, Err(CpoError::NoFirstYear(2024)));
    }
}
