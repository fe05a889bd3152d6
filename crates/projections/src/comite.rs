//! Sessions of the comité des financeurs: each session's agenda, whether it was held, and the
//! decisions recorded under its reference (the dossiers' `SubsidyGranted`, `SubsidyRefused` and
//! `DecisionAdjourned` whose `comite` is the session's reference), from which its procès-verbal
//! is drawn.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use engagements_domain::comite::{AgendaLine, ComiteEvent, ComiteSessionId};
use engagements_domain::dossier::DossierEvent;
use engagements_domain::{Amount, DossierId, RecordedEvent};

/// What the comité decided on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    Granted,
    Refused,
    Adjourned,
}

impl Outcome {
    /// The outcome's code in tables (labelled by the catalogue).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Granted => "granted",
            Outcome::Refused => "refused",
            Outcome::Adjourned => "adjourned",
        }
    }
}

/// One decision recorded under a session's reference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionDecision {
    pub dossier_id: DossierId,
    pub financeur: String,
    pub dispositif: String,
    pub outcome: Outcome,
    /// The amount granted (zero when refused or adjourned).
    pub amount: Amount,
    pub decided_on: NaiveDate,
}

/// Who recorded a fact of the session, and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recorded {
    pub person: String,
    pub organisation: String,
    pub position: i64,
}

/// A session as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionRow {
    pub session_id: ComiteSessionId,
    pub reference: String,
    pub held_on: NaiveDate,
    pub exercice: i32,
    pub agenda: Vec<AgendaLine>,
    pub prepared: Recorded,
    /// Set once its decisions are recorded: who recorded them, and the position of the
    /// `ComiteSessionHeld` event (the procès-verbal shows the envelopes as they stood then).
    pub held: Option<Recorded>,
    pub decisions: Vec<SessionDecision>,
}

impl SessionRow {
    /// The decision recorded at this session on a line of its agenda, if any.
    pub fn decision(&self, line: &AgendaLine) -> Option<&SessionDecision> {
        self.decisions.iter().find(|d| {
            d.dossier_id == line.dossier_id
                && d.financeur == line.financeur
                && d.dispositif == line.dispositif
        })
    }

    /// Whether a line of a dossier (dossier, financeur, dispositif) is on the agenda.
    pub fn has_line(&self, dossier_id: DossierId, financeur: &str, dispositif: &str) -> bool {
        self.agenda
            .iter()
            .any(|l| l.key() == (dossier_id, financeur, dispositif))
    }

    /// The sum granted at this session.
    pub fn granted_total(&self) -> Amount {
        self.decisions.iter().map(|d| d.amount).sum()
    }
}

/// Every session, and the session each reference names.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ComiteView {
    pub sessions: BTreeMap<ComiteSessionId, SessionRow>,
    pub by_reference: BTreeMap<String, ComiteSessionId>,
}

impl ComiteView {
    /// Folds one session event.
    pub fn apply(&mut self, recorded: &RecordedEvent, event: &ComiteEvent) {
        let by = Recorded {
            person: recorded.metadata.actor.person.clone(),
            organisation: recorded.metadata.actor.organisation.clone(),
            position: recorded.position,
        };
        match event {
            ComiteEvent::ComiteSessionPrepared {
                session_id,
                reference,
                held_on,
                exercice,
                agenda,
            } => {
                // The application refuses a reference already used; should two sessions slip
                // through, the first keeps it.
                self.by_reference
                    .entry(reference.clone())
                    .or_insert(*session_id);
                self.sessions.insert(
                    *session_id,
                    SessionRow {
                        session_id: *session_id,
                        reference: reference.clone(),
                        held_on: *held_on,
                        exercice: *exercice,
                        agenda: agenda.clone(),
                        prepared: by,
                        held: None,
                        decisions: Vec::new(),
                    },
                );
            }
            ComiteEvent::ComiteSessionHeld { session_id, .. } => {
                if let Some(row) = self.sessions.get_mut(session_id) {
                    row.held = Some(by);
                }
            }
        }
    }

    /// Follows a dossier event: a decision under a session's reference joins that session.
    pub fn follow_dossier(&mut self, event: &DossierEvent) {
        let (dossier_id, financeur, dispositif, comite, decided_on, outcome, amount) = match event {
            DossierEvent::SubsidyGranted {
                dossier_id,
                financeur,
                dispositif,
                amount,
                comite,
                decided_on,
                ..
            } => (
                dossier_id,
                financeur,
                dispositif,
                comite,
                decided_on,
                Outcome::Granted,
                *amount,
            ),
            DossierEvent::SubsidyRefused {
                dossier_id,
                financeur,
                dispositif,
                comite,
                decided_on,
            } => (
                dossier_id,
                financeur,
                dispositif,
                comite,
                decided_on,
                Outcome::Refused,
                Amount::ZERO,
            ),
            DossierEvent::DecisionAdjourned {
                dossier_id,
                financeur,
                dispositif,
                comite,
                decided_on,
            } => (
                dossier_id,
                financeur,
                dispositif,
                comite,
                decided_on,
                Outcome::Adjourned,
                Amount::ZERO,
            ),
            _ => return,
        };
        let Some(session_id) = self.by_reference.get(comite) else {
            return;
        };
        if let Some(row) = self.sessions.get_mut(session_id) {
            row.decisions.push(SessionDecision {
                dossier_id: *dossier_id,
                financeur: financeur.clone(),
                dispositif: dispositif.clone(),
                outcome,
                amount,
                decided_on: *decided_on,
            });
        }
    }

    /// The session a reference names.
    pub fn by_reference(&self, reference: &str) -> Option<&SessionRow> {
        self.by_reference
            .get(reference)
            .and_then(|id| self.sessions.get(id))
    }

    /// The sessions not yet held whose agenda has this line.
    pub fn open_sessions_with<'a>(
        &'a self,
        dossier_id: DossierId,
        financeur: &'a str,
        dispositif: &'a str,
    ) -> impl Iterator<Item = &'a SessionRow> {
        self.sessions
            .values()
            .filter(move |s| s.held.is_none() && s.has_line(dossier_id, financeur, dispositif))
    }
}
