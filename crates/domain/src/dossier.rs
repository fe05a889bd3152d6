//! Subsidy dossiers: one action of one porteur for one exercice, asked of one or more financeurs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::DomainEvent;
use crate::ids::{DossierId, PorteurId};
use crate::money::Amount;
use crate::porteur::NAME_MAX_CHARS;

/// First and last exercice the ledger accepts (a contract runs 6 years; older or later years are typos).
pub const EXERCICE_MIN: i32 = 2000;
pub const EXERCICE_MAX: i32 = 2100;

/// An amount asked of one financeur under one dispositif.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingRequest {
    /// Organisation id of the financeur, from the referential (e.g. `etat`, `cabbalr`).
    pub financeur: String,
    /// Dispositif id from the referential (e.g. `bop147-aap`).
    pub dispositif: String,
    pub amount: Amount,
}

/// What the comité decided for one financeur.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum Decision {
    Granted { amount: Amount },
    Refused,
    Adjourned,
}

/// Commands on a dossier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum DossierCommand {
    #[serde(rename = "file_dossier")]
    File {
        dossier_id: DossierId,
        porteur_id: PorteurId,
        exercice: i32,
        title: String,
        total_budget: Amount,
        requests: Vec<FundingRequest>,
    },
    #[serde(rename = "decide_subsidy")]
    Decide {
        dossier_id: DossierId,
        financeur: String,
        decision: Decision,
    },
}

/// Facts about a dossier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DossierEvent {
    DossierFiled {
        dossier_id: DossierId,
        porteur_id: PorteurId,
        exercice: i32,
        title: String,
        total_budget: Amount,
        requests: Vec<FundingRequest>,
    },
    SubsidyGranted {
        dossier_id: DossierId,
        financeur: String,
        amount: Amount,
    },
    SubsidyRefused {
        dossier_id: DossierId,
        financeur: String,
    },
    DecisionAdjourned {
        dossier_id: DossierId,
        financeur: String,
    },
}

impl DomainEvent for DossierEvent {
    const STREAM_TYPE: &'static str = "dossier";
    crate::event_names!(DossierEvent {
        DossierFiled,
        SubsidyGranted,
        SubsidyRefused,
        DecisionAdjourned
    });
}

/// Why a dossier command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DossierError {
    #[error("dossier {0} is already filed")]
    AlreadyFiled(DossierId),
    #[error("dossier {0} does not exist: file it first")]
    NotFiled(DossierId),
    #[error("exercice {0} is outside {EXERCICE_MIN}-{EXERCICE_MAX}")]
    ExerciceOutOfRange(i32),
    #[error("the dossier's title is empty or longer than {NAME_MAX_CHARS} characters")]
    BadTitle,
    #[error("the dossier asks nothing of any financeur: add at least one request")]
    NoRequest,
    #[error("financeur '{0}' is asked twice under dispositif '{1}': merge the two requests")]
    DuplicateRequest(String, String),
    #[error("financeur '{financeur}' was not asked for anything in dossier {dossier_id}")]
    FinanceurNotAsked {
        dossier_id: DossierId,
        financeur: String,
    },
    #[error("financeur '{financeur}' has already granted {amount} € on dossier {dossier_id}: record an increase or a reduction instead")]
    AlreadyGranted {
        dossier_id: DossierId,
        financeur: String,
        amount: Amount,
    },
}

/// What the ledger knows of a dossier.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DossierState {
    pub filed: Option<DossierFiling>,
    /// Granted amount per financeur.
    pub granted: BTreeMap<String, Amount>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DossierFiling {
    pub dossier_id: DossierId,
    pub porteur_id: PorteurId,
    pub exercice: i32,
    pub title: String,
    pub total_budget: Amount,
    pub requests: Vec<FundingRequest>,
}

/// The dossier aggregate.
pub struct Dossier;

impl esrs::Aggregate for Dossier {
    const NAME: &'static str = "dossier";
    type State = DossierState;
    type Command = DossierCommand;
    type Event = DossierEvent;
    type Error = DossierError;

    fn handle_command(
        state: &DossierState,
        command: DossierCommand,
    ) -> Result<Vec<DossierEvent>, DossierError> {
        match command {
            DossierCommand::File {
                dossier_id,
                porteur_id,
                exercice,
                title,
                total_budget,
                requests,
            } => {
                if state.filed.is_some() {
                    return Err(DossierError::AlreadyFiled(dossier_id));
                }
                if !(EXERCICE_MIN..=EXERCICE_MAX).contains(&exercice) {
                    return Err(DossierError::ExerciceOutOfRange(exercice));
                }
                let title = title.trim().to_string();
                if title.is_empty() || title.chars().count() > NAME_MAX_CHARS {
                    return Err(DossierError::BadTitle);
                }
                check_requests(&requests)?;
                Ok(vec![DossierEvent::DossierFiled {
                    dossier_id,
                    porteur_id,
                    exercice,
                    title,
                    total_budget,
                    requests,
                }])
            }
            DossierCommand::Decide {
                dossier_id,
                financeur,
                decision,
            } => {
                let filing = state
                    .filed
                    .as_ref()
                    .ok_or(DossierError::NotFiled(dossier_id))?;
                if !filing.requests.iter().any(|r| r.financeur == financeur) {
                    return Err(DossierError::FinanceurNotAsked {
                        dossier_id,
                        financeur,
                    });
                }
                if let Some(&amount) = state.granted.get(&financeur) {
                    return Err(DossierError::AlreadyGranted {
                        dossier_id,
                        financeur,
                        amount,
                    });
                }
                Ok(vec![match decision {
                    Decision::Granted { amount } => DossierEvent::SubsidyGranted {
                        dossier_id,
                        financeur,
                        amount,
                    },
                    Decision::Refused => DossierEvent::SubsidyRefused {
                        dossier_id,
                        financeur,
                    },
                    Decision::Adjourned => DossierEvent::DecisionAdjourned {
                        dossier_id,
                        financeur,
                    },
                }])
            }
        }
    }

    fn apply_event(mut state: DossierState, event: DossierEvent) -> DossierState {
        match event {
            DossierEvent::DossierFiled {
                dossier_id,
                porteur_id,
                exercice,
                title,
                total_budget,
                requests,
            } => {
                state.filed = Some(DossierFiling {
                    dossier_id,
                    porteur_id,
                    exercice,
                    title,
                    total_budget,
                    requests,
                })
            }
            DossierEvent::SubsidyGranted {
                financeur, amount, ..
            } => {
                state.granted.insert(financeur, amount);
            }
            DossierEvent::SubsidyRefused { .. } | DossierEvent::DecisionAdjourned { .. } => {}
        }
        state
    }
}

fn check_requests(requests: &[FundingRequest]) -> Result<(), DossierError> {
    if requests.is_empty() {
        return Err(DossierError::NoRequest);
    }
    let mut seen = std::collections::BTreeSet::new();
    for request in requests {
        if !seen.insert((&request.financeur, &request.dispositif)) {
            return Err(DossierError::DuplicateRequest(
                request.financeur.clone(),
                request.dispositif.clone(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use esrs::Aggregate;

    fn filed() -> (DossierId, DossierState) {
        let dossier_id = DossierId::new();
        let events = Dossier::handle_command(
            &DossierState::default(),
            DossierCommand::File {
                dossier_id,
                porteur_id: PorteurId::new(),
                exercice: 2025,
                title: "Atelier d'écriture (fictif)".into(),
                total_budget: Amount::euros(12_000),
                requests: vec![FundingRequest {
                    financeur: "etat".into(),
                    dispositif: "bop147-aap".into(),
                    amount: Amount::euros(5_000),
                }],
            },
        )
        .unwrap();
        (
            dossier_id,
            events
                .into_iter()
                .fold(DossierState::default(), Dossier::apply_event),
        )
    }

    #[test]
    fn a_financeur_not_asked_cannot_decide() {
        let (dossier_id, state) = filed();
        let err = Dossier::handle_command(
            &state,
            DossierCommand::Decide {
                dossier_id,
                financeur: "caf".into(),
                decision: Decision::Granted {
                    amount: Amount::euros(1),
                },
            },
        );
        assert!(matches!(err, Err(DossierError::FinanceurNotAsked { .. })));
    }

    #[test]
    fn grant_then_second_grant_is_refused() {
        let (dossier_id, state) = filed();
        let decide = DossierCommand::Decide {
            dossier_id,
            financeur: "etat".into(),
            decision: Decision::Granted {
                amount: Amount::euros(4_000),
            },
        };
        let events = Dossier::handle_command(&state, decide.clone()).unwrap();
        let state = events.into_iter().fold(state, Dossier::apply_event);
        assert_eq!(state.granted["etat"], Amount::euros(4_000));
        assert!(matches!(
            Dossier::handle_command(&state, decide),
            Err(DossierError::AlreadyGranted { .. })
        ));
    }
}
