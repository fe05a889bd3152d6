//! Sessions of the comité des financeurs (l.916-924): once a year, chaired by the State and the
//! EPCI, it decides how much each financeur gives to each action of the appel à projets.
//!
//! Its secretariat *prepares* a session: a reference (that of its procès-verbal, e.g.
//! `CF-2025-01`), the date it sits, the exercice, and its agenda — the dossiers' funding lines
//! with the amount each financeur's service proposes (from its avis). The session is *held* when
//! its decisions are recorded: one `decide_subsidy` per line, carrying the session's reference as
//! `comite` and its date as `decided_on`, recorded together with `hold_comite_session`, all or
//! nothing. The money itself is always the dossiers' (and their envelopes'): the session stream
//! keeps what was put before the comité and when it sat, so that its procès-verbal can be drawn
//! and audited.
//!
//! Rules here, on the session's own history: a non-empty agenda of distinct lines, at most
//! [`AGENDA_LINES_MAX`]; a reference of at most [`REFERENCE_MAX_CHARS`]; held once, on its own
//! date. Rules spanning other streams (each line is an open line of a live dossier of the
//! exercice; the reference names one session; every line is decided when the session is held)
//! are checked by the application against the read model.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dossier::{EXERCICE_MAX, EXERCICE_MIN};
use crate::event::DomainEvent;
use crate::ids::DossierId;
use crate::money::Amount;

crate::ids::uuid_id!(
    /// A session of the comité des financeurs.
    ComiteSessionId,
    "comite"
);

/// Most lines one session's agenda may hold (a year's programmation of a large contract).
pub const AGENDA_LINES_MAX: usize = 500;
/// Longest reference of a session (its procès-verbal's).
pub const REFERENCE_MAX_CHARS: usize = 100;

/// One line put before the comité: a financeur's part of a dossier, with the amount its service
/// proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaLine {
    pub dossier_id: DossierId,
    /// Organisation id of the financeur.
    pub financeur: String,
    /// Dispositif id of the line.
    pub dispositif: String,
    /// What the instructing service proposes (its avis's amount), in euros.
    pub proposed_amount: Amount,
}

impl AgendaLine {
    /// The line's key: dossier, financeur, dispositif.
    pub fn key(&self) -> (DossierId, &str, &str) {
        (self.dossier_id, &self.financeur, &self.dispositif)
    }
}

/// Commands on a session of the comité.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum ComiteCommand {
    /// The secretariat prepares a session and its agenda.
    #[serde(rename = "prepare_comite_session")]
    Prepare {
        session_id: ComiteSessionId,
        /// Reference of the session and of its procès-verbal (e.g. `CF-2025-01`); the decisions
        /// carry it as their `comite`.
        reference: String,
        /// The day the comité sits; its decisions are dated that day.
        held_on: NaiveDate,
        exercice: i32,
        agenda: Vec<AgendaLine>,
    },
    /// The session's decisions are recorded: sent with one `decide_subsidy` per line of the
    /// agenda (all or nothing), dated the session's day.
    #[serde(rename = "hold_comite_session")]
    Hold {
        session_id: ComiteSessionId,
        decided_on: NaiveDate,
    },
}

impl ComiteCommand {
    /// The session the command is about.
    pub fn session_id(&self) -> ComiteSessionId {
        match self {
            ComiteCommand::Prepare { session_id, .. } | ComiteCommand::Hold { session_id, .. } => {
                *session_id
            }
        }
    }
}

/// Facts about a session of the comité.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum ComiteEvent {
    ComiteSessionPrepared {
        session_id: ComiteSessionId,
        reference: String,
        held_on: NaiveDate,
        exercice: i32,
        agenda: Vec<AgendaLine>,
    },
    ComiteSessionHeld {
        session_id: ComiteSessionId,
        decided_on: NaiveDate,
    },
}

impl DomainEvent for ComiteEvent {
    const STREAM_TYPE: &'static str = "comite";
    crate::event_names!(ComiteEvent {
        ComiteSessionPrepared,
        ComiteSessionHeld
    });
}

/// Why a session command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComiteError {
    #[error("session {0} is already prepared")]
    AlreadyPrepared(ComiteSessionId),
    #[error("session {0} does not exist: prepare it first")]
    NotPrepared(ComiteSessionId),
    #[error("session {reference} was already held on {on}: its decisions are recorded")]
    AlreadyHeld { reference: String, on: NaiveDate },
    #[error("the reference is empty or longer than {REFERENCE_MAX_CHARS} characters")]
    BadReference,
    #[error("exercice {0} is outside {EXERCICE_MIN}-{EXERCICE_MAX}")]
    ExerciceOutOfRange(i32),
    #[error("the agenda is empty: put at least one dossier's line on it")]
    EmptyAgenda,
    #[error("the agenda has {0} lines, at most {AGENDA_LINES_MAX}")]
    TooManyLines(usize),
    #[error("the line of dossier {dossier_id} for '{financeur}' under '{dispositif}' is on the agenda twice")]
    DuplicateLine {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
    },
    #[error("the decisions are dated {decided_on}, the session sits on {held_on}: a session's decisions are dated its own day")]
    NotTheSessionDate {
        decided_on: NaiveDate,
        held_on: NaiveDate,
    },
}

/// The session as prepared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFacts {
    pub reference: String,
    pub held_on: NaiveDate,
    pub exercice: i32,
    pub agenda: Vec<AgendaLine>,
}

/// What the ledger knows of a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComiteSessionState {
    pub prepared: Option<SessionFacts>,
    /// The day its decisions were recorded for, once held.
    pub held: Option<NaiveDate>,
}

impl ComiteSessionState {
    /// Folds one event.
    pub fn apply(mut self, event: ComiteEvent) -> ComiteSessionState {
        match event {
            ComiteEvent::ComiteSessionPrepared {
                reference,
                held_on,
                exercice,
                agenda,
                ..
            } => {
                self.prepared = Some(SessionFacts {
                    reference,
                    held_on,
                    exercice,
                    agenda,
                })
            }
            ComiteEvent::ComiteSessionHeld { decided_on, .. } => self.held = Some(decided_on),
        }
        self
    }
}

/// The session aggregate.
pub struct ComiteSession;

impl esrs::Aggregate for ComiteSession {
    const NAME: &'static str = "comite";
    type State = ComiteSessionState;
    type Command = ComiteCommand;
    type Event = ComiteEvent;
    type Error = ComiteError;

    fn handle_command(
        state: &ComiteSessionState,
        command: ComiteCommand,
    ) -> Result<Vec<ComiteEvent>, ComiteError> {
        handle(state, command).map(|event| vec![event])
    }

    fn apply_event(state: ComiteSessionState, event: ComiteEvent) -> ComiteSessionState {
        state.apply(event)
    }
}

fn handle(state: &ComiteSessionState, command: ComiteCommand) -> Result<ComiteEvent, ComiteError> {
    match command {
        ComiteCommand::Prepare {
            session_id,
            reference,
            held_on,
            exercice,
            agenda,
        } => {
            if state.prepared.is_some() {
                return Err(ComiteError::AlreadyPrepared(session_id));
            }
            let reference = reference.trim().to_string();
            if reference.is_empty() || reference.chars().count() > REFERENCE_MAX_CHARS {
                return Err(ComiteError::BadReference);
            }
            if !(EXERCICE_MIN..=EXERCICE_MAX).contains(&exercice) {
                return Err(ComiteError::ExerciceOutOfRange(exercice));
            }
            check_agenda(&agenda)?;
            Ok(ComiteEvent::ComiteSessionPrepared {
                session_id,
                reference,
                held_on,
                exercice,
                agenda,
            })
        }
        ComiteCommand::Hold {
            session_id,
            decided_on,
        } => {
            let facts = state
                .prepared
                .as_ref()
                .ok_or(ComiteError::NotPrepared(session_id))?;
            if let Some(on) = state.held {
                return Err(ComiteError::AlreadyHeld {
                    reference: facts.reference.clone(),
                    on,
                });
            }
            if decided_on != facts.held_on {
                return Err(ComiteError::NotTheSessionDate {
                    decided_on,
                    held_on: facts.held_on,
                });
            }
            Ok(ComiteEvent::ComiteSessionHeld {
                session_id,
                decided_on,
            })
        }
    }
}

fn check_agenda(agenda: &[AgendaLine]) -> Result<(), ComiteError> {
    if agenda.is_empty() {
        return Err(ComiteError::EmptyAgenda);
    }
    if agenda.len() > AGENDA_LINES_MAX {
        return Err(ComiteError::TooManyLines(agenda.len()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for line in agenda {
        if !seen.insert(line.key()) {
            return Err(ComiteError::DuplicateLine {
                dossier_id: line.dossier_id,
                financeur: line.financeur.clone(),
                dispositif: line.dispositif.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use esrs::Aggregate;

    fn run(
        state: ComiteSessionState,
        command: ComiteCommand,
    ) -> Result<ComiteSessionState, ComiteError> {
        let events = ComiteSession::handle_command(&state, command)?;
        Ok(events.into_iter().fold(state, ComiteSession::apply_event))
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 4, d).unwrap()
    }

    fn line(dossier_id: DossierId, financeur: &str) -> AgendaLine {
        AgendaLine {
            dossier_id,
            financeur: financeur.into(),
            dispositif: "bop147-aap".into(),
            proposed_amount: Amount::euros(10_000),
        }
    }

    fn prepare(session_id: ComiteSessionId, agenda: Vec<AgendaLine>) -> ComiteCommand {
        ComiteCommand::Prepare {
            session_id,
            reference: " CF-2025-01 ".into(),
            held_on: day(15),
            exercice: 2025,
            agenda,
        }
    }

    #[test]
    fn a_session_is_prepared_then_held_once_on_its_own_date() {
        let id = ComiteSessionId::new();
        let dossier = DossierId::new();
        let state = run(
            ComiteSessionState::default(),
            prepare(id, vec![line(dossier, "etat"), line(dossier, "cabbalr")]),
        )
        .unwrap();
        let facts = state.prepared.clone().unwrap();
        assert_eq!(facts.reference, "CF-2025-01", "the reference is trimmed");
        assert_eq!(facts.agenda.len(), 2);
        assert_eq!(
            run(state.clone(), prepare(id, vec![line(dossier, "etat")])),
            Err(ComiteError::AlreadyPrepared(id))
        );
        let wrong_day = ComiteCommand::Hold {
            session_id: id,
            decided_on: day(16),
        };
        assert!(matches!(
            run(state.clone(), wrong_day),
            Err(ComiteError::NotTheSessionDate { .. })
        ));
        let hold = ComiteCommand::Hold {
            session_id: id,
            decided_on: day(15),
        };
        let held = run(state, hold.clone()).unwrap();
        assert_eq!(held.held, Some(day(15)));
        assert_eq!(
            run(held, hold),
            Err(ComiteError::AlreadyHeld {
                reference: "CF-2025-01".into(),
                on: day(15)
            })
        );
    }

    #[test]
    fn an_agenda_is_not_empty_has_distinct_lines_and_a_reference() {
        let id = ComiteSessionId::new();
        let dossier = DossierId::new();
        let empty = ComiteSessionState::default;
        assert_eq!(
            run(empty(), prepare(id, vec![])),
            Err(ComiteError::EmptyAgenda)
        );
        assert!(matches!(
            run(
                empty(),
                prepare(id, vec![line(dossier, "etat"), line(dossier, "etat")])
            ),
            Err(ComiteError::DuplicateLine { .. })
        ));
        let too_many: Vec<AgendaLine> = (0..=AGENDA_LINES_MAX)
            .map(|_| line(DossierId::new(), "etat"))
            .collect();
        assert_eq!(
            run(empty(), prepare(id, too_many)),
            Err(ComiteError::TooManyLines(AGENDA_LINES_MAX + 1))
        );
        let blank = ComiteCommand::Prepare {
            session_id: id,
            reference: "  ".into(),
            held_on: day(15),
            exercice: 2025,
            agenda: vec![line(dossier, "etat")],
        };
        assert_eq!(run(empty(), blank), Err(ComiteError::BadReference));
        let never_prepared = ComiteCommand::Hold {
            session_id: id,
            decided_on: day(15),
        };
        assert_eq!(
            run(empty(), never_prepared),
            Err(ComiteError::NotPrepared(id))
        );
    }
}
