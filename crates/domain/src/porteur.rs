//! Porteurs: the organisations that carry actions (associations, communes, CCAS, bailleurs…).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::event::DomainEvent;
use crate::ids::PorteurId;

/// Longest name or title the ledger accepts; a longer one is refused, never truncated.
pub const NAME_MAX_CHARS: usize = 300;

/// What kind of organisation a porteur is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PorteurKind {
    Association,
    Commune,
    Ccas,
    Bailleur,
    Other,
}

/// A SIRET (14 digits, Luhn checksum; La Poste's establishments use their own rule).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Siret(String);

impl Siret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Siret {
    type Error = PorteurError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PorteurError::InvalidSiret(text, "it must have 14 digits"));
        }
        if !siret_checksum_ok(&digits) {
            return Err(PorteurError::InvalidSiret(
                text,
                "its checksum (Luhn) is wrong",
            ));
        }
        Ok(Siret(digits))
    }
}

impl From<Siret> for String {
    fn from(s: Siret) -> String {
        s.0
    }
}

/// Luhn over the 14 digits; La Poste (SIREN 356000000) uses "sum of digits divisible by 5".
fn siret_checksum_ok(digits: &str) -> bool {
    let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    if digits.starts_with("356000000") && digits != "35600000000048" {
        return values.iter().sum::<u32>().is_multiple_of(5);
    }
    let sum: u32 = values
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An RNA number (Répertoire national des associations): `W` followed by 9 digits or capitals.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Rna(String);

impl TryFrom<String> for Rna {
    type Error = PorteurError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let ok = text.len() == 10
            && text.starts_with('W')
            && text[1..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if ok {
            Ok(Rna(text))
        } else {
            Err(PorteurError::InvalidRna(text))
        }
    }
}

impl From<Rna> for String {
    fn from(r: Rna) -> String {
        r.0
    }
}

/// Commands on a porteur.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum PorteurCommand {
    #[serde(rename = "register_porteur")]
    Register {
        porteur_id: PorteurId,
        name: String,
        kind: PorteurKind,
        #[serde(default)]
        siret: Option<Siret>,
        #[serde(default)]
        rna: Option<Rna>,
    },
    #[serde(rename = "sign_contrat_engagement_republicain")]
    SignContratEngagementRepublicain {
        porteur_id: PorteurId,
        signed_on: NaiveDate,
    },
}

/// Facts about a porteur.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum PorteurEvent {
    PorteurRegistered {
        porteur_id: PorteurId,
        name: String,
        kind: PorteurKind,
        siret: Option<Siret>,
        rna: Option<Rna>,
    },
    ContratEngagementRepublicainSigned {
        porteur_id: PorteurId,
        signed_on: NaiveDate,
    },
}

impl DomainEvent for PorteurEvent {
    const STREAM_TYPE: &'static str = "porteur";
    crate::event_names!(PorteurEvent {
        PorteurRegistered,
        ContratEngagementRepublicainSigned
    });
}

/// Why a porteur command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PorteurError {
    #[error("SIRET '{0}' is invalid: {1}")]
    InvalidSiret(String, &'static str),
    #[error("RNA '{0}' is invalid: it must be W followed by 9 digits, e.g. W623001234")]
    InvalidRna(String),
    #[error("the porteur's name is empty")]
    EmptyName,
    #[error("the porteur's name is longer than {NAME_MAX_CHARS} characters")]
    NameTooLong,
    #[error("porteur {0} is already registered")]
    AlreadyRegistered(PorteurId),
    #[error("porteur {0} is not registered")]
    NotRegistered(PorteurId),
}

/// What the ledger knows of a porteur.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PorteurState {
    pub registered: Option<PorteurRegistration>,
    pub cer_signed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PorteurRegistration {
    pub porteur_id: PorteurId,
    pub name: String,
    pub kind: PorteurKind,
    pub siret: Option<Siret>,
    pub rna: Option<Rna>,
}

/// The porteur aggregate.
pub struct Porteur;

impl esrs::Aggregate for Porteur {
    const NAME: &'static str = "porteur";
    type State = PorteurState;
    type Command = PorteurCommand;
    type Event = PorteurEvent;
    type Error = PorteurError;

    fn handle_command(
        state: &PorteurState,
        command: PorteurCommand,
    ) -> Result<Vec<PorteurEvent>, PorteurError> {
        match command {
            PorteurCommand::Register {
                porteur_id,
                name,
                kind,
                siret,
                rna,
            } => {
                if state.registered.is_some() {
                    return Err(PorteurError::AlreadyRegistered(porteur_id));
                }
                let name = check_name(&name)?;
                Ok(vec![PorteurEvent::PorteurRegistered {
                    porteur_id,
                    name,
                    kind,
                    siret,
                    rna,
                }])
            }
            PorteurCommand::SignContratEngagementRepublicain {
                porteur_id,
                signed_on,
            } => {
                if state.registered.is_none() {
                    return Err(PorteurError::NotRegistered(porteur_id));
                }
                Ok(vec![PorteurEvent::ContratEngagementRepublicainSigned {
                    porteur_id,
                    signed_on,
                }])
            }
        }
    }

    fn apply_event(mut state: PorteurState, event: PorteurEvent) -> PorteurState {
        match event {
            PorteurEvent::PorteurRegistered {
                porteur_id,
                name,
                kind,
                siret,
                rna,
            } => {
                state.registered = Some(PorteurRegistration {
                    porteur_id,
                    name,
                    kind,
                    siret,
                    rna,
                })
            }
            PorteurEvent::ContratEngagementRepublicainSigned { signed_on, .. } => {
                state.cer_signed_on = Some(signed_on)
            }
        }
        state
    }
}

fn check_name(name: &str) -> Result<String, PorteurError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(PorteurError::EmptyName);
    }
    if trimmed.chars().count() > NAME_MAX_CHARS {
        return Err(PorteurError::NameTooLong);
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use esrs::Aggregate;

    #[test]
    fn siret_checksum() {
        // SIRET of a real public body (Luhn-valid).
        assert!(Siret::try_from("73282932000074".to_string()).is_ok());
        assert!(Siret::try_from("73282932000075".to_string()).is_err());
        assert!(Siret::try_from("1234".to_string()).is_err());
    }

    #[test]
    fn rna_format() {
        assert!(Rna::try_from("W623001234".to_string()).is_ok());
        assert!(Rna::try_from("623001234".to_string()).is_err());
    }

    #[test]
    fn register_twice_is_refused() {
        let id = PorteurId::new();
        let register = PorteurCommand::Register {
            porteur_id: id,
            name: "Association Les Jardins du Mont-Liébaut (fictive)".into(),
            kind: PorteurKind::Association,
            siret: None,
            rna: None,
        };
        let events = Porteur::handle_command(&PorteurState::default(), register.clone()).unwrap();
        let state = events
            .into_iter()
            .fold(PorteurState::default(), Porteur::apply_event);
        assert_eq!(
            Porteur::handle_command(&state, register),
            Err(PorteurError::AlreadyRegistered(id))
        );
    }
}
