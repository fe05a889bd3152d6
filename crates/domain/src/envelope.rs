//! Envelopes: a financeur's budget for one dispositif and one exercice (e.g. État / BOP 147 / 2025).
//!
//! Opened with an amount, raised or lowered with a reason; a justified over-commitment may be
//! authorised. Every grant (and increase) draws on the envelope, every reduction or cancellation
//! gives back: the envelope's own stream records both, so that a decision appends to the dossier
//! *and* the envelope with their expected versions, and two concurrent decisions cannot both pass
//! the rule "decisions ≤ envelope + authorised over-commitment".

use serde::{Deserialize, Serialize};

use crate::dossier::{EXERCICE_MAX, EXERCICE_MIN, TEXT_MAX_CHARS};
use crate::event::DomainEvent;
use crate::ids::DossierId;
use crate::money::Amount;

/// Longest financeur or dispositif id (they make up the stream id).
pub const REFERENCE_ID_MAX_CHARS: usize = 80;

/// What identifies an envelope: financeur × dispositif × exercice.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeKey {
    pub financeur: String,
    pub dispositif: String,
    pub exercice: i32,
}

impl EnvelopeKey {
    pub fn new(financeur: &str, dispositif: &str, exercice: i32) -> Self {
        EnvelopeKey {
            financeur: financeur.to_string(),
            dispositif: dispositif.to_string(),
            exercice,
        }
    }

    /// The stream holding this envelope's history. `:` never appears in referential ids, so two
    /// keys never share a stream.
    pub fn stream_id(&self) -> String {
        format!(
            "envelope-{}:{}:{}",
            self.financeur, self.dispositif, self.exercice
        )
    }

    /// Checks the key's parts before it becomes a stream id.
    pub fn check(&self) -> Result<(), EnvelopeError> {
        for part in [&self.financeur, &self.dispositif] {
            let ok = !part.is_empty()
                && part.chars().count() <= REFERENCE_ID_MAX_CHARS
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(EnvelopeError::BadId(part.clone()));
            }
        }
        if !(EXERCICE_MIN..=EXERCICE_MAX).contains(&self.exercice) {
            return Err(EnvelopeError::ExerciceOutOfRange(self.exercice));
        }
        Ok(())
    }
}

impl std::fmt::Display for EnvelopeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} / {} / {}",
            self.financeur, self.dispositif, self.exercice
        )
    }
}

/// Commands on an envelope, as users send them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum EnvelopeCommand {
    #[serde(rename = "open_envelope")]
    Open {
        financeur: String,
        dispositif: String,
        exercice: i32,
        amount: Amount,
    },
    /// Adds `amount` to the envelope.
    #[serde(rename = "raise_envelope")]
    Raise {
        financeur: String,
        dispositif: String,
        exercice: i32,
        amount: Amount,
        reason: String,
    },
    /// Takes `amount` off the envelope.
    #[serde(rename = "lower_envelope")]
    Lower {
        financeur: String,
        dispositif: String,
        exercice: i32,
        amount: Amount,
        reason: String,
    },
    /// Allows decisions to exceed the envelope by `amount` more.
    #[serde(rename = "authorise_over_commitment")]
    AuthoriseOverCommitment {
        financeur: String,
        dispositif: String,
        exercice: i32,
        amount: Amount,
        justification: String,
    },
}

impl EnvelopeCommand {
    /// The envelope the command is about.
    pub fn key(&self) -> EnvelopeKey {
        match self {
            EnvelopeCommand::Open {
                financeur,
                dispositif,
                exercice,
                ..
            }
            | EnvelopeCommand::Raise {
                financeur,
                dispositif,
                exercice,
                ..
            }
            | EnvelopeCommand::Lower {
                financeur,
                dispositif,
                exercice,
                ..
            }
            | EnvelopeCommand::AuthoriseOverCommitment {
                financeur,
                dispositif,
                exercice,
                ..
            } => EnvelopeKey::new(financeur, dispositif, *exercice),
        }
    }
}

/// What the envelope aggregate handles: users' commands, and the draws and returns that
/// dossier decisions cause (never sent on their own).
#[derive(Debug, Clone, PartialEq)]
pub enum EnvelopeOperation {
    Command(EnvelopeCommand),
    /// A grant or an increase on `dossier_id` draws `amount`.
    Commit {
        key: EnvelopeKey,
        dossier_id: DossierId,
        amount: Amount,
    },
    /// A reduction or a cancellation on `dossier_id` gives `amount` back.
    Release {
        key: EnvelopeKey,
        dossier_id: DossierId,
        amount: Amount,
    },
}

/// Facts about an envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum EnvelopeEvent {
    EnvelopeOpened {
        key: EnvelopeKey,
        amount: Amount,
    },
    EnvelopeRaised {
        key: EnvelopeKey,
        amount: Amount,
        amount_after: Amount,
        reason: String,
    },
    EnvelopeLowered {
        key: EnvelopeKey,
        amount: Amount,
        amount_after: Amount,
        reason: String,
    },
    OverCommitmentAuthorised {
        key: EnvelopeKey,
        amount: Amount,
        authorised_after: Amount,
        justification: String,
    },
    EnvelopeCommitted {
        key: EnvelopeKey,
        dossier_id: DossierId,
        amount: Amount,
        committed_after: Amount,
    },
    EnvelopeReleased {
        key: EnvelopeKey,
        dossier_id: DossierId,
        amount: Amount,
        committed_after: Amount,
    },
}

impl DomainEvent for EnvelopeEvent {
    const STREAM_TYPE: &'static str = "envelope";
    crate::event_names!(EnvelopeEvent {
        EnvelopeOpened,
        EnvelopeRaised,
        EnvelopeLowered,
        OverCommitmentAuthorised,
        EnvelopeCommitted,
        EnvelopeReleased
    });
}

/// Why an envelope operation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("'{0}' is not a valid id: letters, digits, '-' or '_', at most {REFERENCE_ID_MAX_CHARS} characters")]
    BadId(String),
    #[error("exercice {0} is outside {EXERCICE_MIN}-{EXERCICE_MAX}")]
    ExerciceOutOfRange(i32),
    #[error("the envelope {0} is already open: raise or lower it instead")]
    AlreadyOpen(Box<EnvelopeKey>),
    #[error("no envelope is open for {0}: open it before deciding on it")]
    NotOpen(Box<EnvelopeKey>),
    #[error("{field} is empty or longer than {TEXT_MAX_CHARS} characters")]
    BadText { field: &'static str },
    #[error("a change of 0 € changes nothing: give a positive amount")]
    ZeroAmount,
    #[error("lowering {key} by {amount} € is impossible: the envelope is {envelope} €")]
    LowerBelowZero {
        key: Box<EnvelopeKey>,
        amount: Amount,
        envelope: Amount,
    },
    #[error("lowering {key} by {amount} € would leave {after} € (+{authorised} € authorised over-commitment) for {committed} € already granted")]
    LowerBelowCommitted {
        key: Box<EnvelopeKey>,
        amount: Amount,
        after: Amount,
        authorised: Amount,
        committed: Amount,
    },
    #[error("granting {amount} € on dossier {dossier_id} would bring decisions on {key} to {committed_after} €, above the envelope of {envelope} € (+{authorised} € authorised over-commitment): raise the envelope or authorise an over-commitment")]
    EnvelopeExceeded {
        key: Box<EnvelopeKey>,
        dossier_id: DossierId,
        amount: Amount,
        committed_after: Amount,
        envelope: Amount,
        authorised: Amount,
    },
    #[error("releasing {amount} € from {key} is more than the {committed} € committed")]
    ReleaseAboveCommitted {
        key: Box<EnvelopeKey>,
        amount: Amount,
        committed: Amount,
    },
    #[error("amount overflow on {0}")]
    Overflow(Box<EnvelopeKey>),
}

/// What the ledger knows of an envelope.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvelopeState {
    pub key: Option<EnvelopeKey>,
    pub amount: Amount,
    pub over_commitment_authorised: Amount,
    /// Sum of what decisions currently grant on it.
    pub committed: Amount,
}

impl EnvelopeState {
    /// The most decisions may commit: the envelope plus any authorised over-commitment.
    pub fn ceiling(&self) -> Amount {
        self.amount
            .checked_add(self.over_commitment_authorised)
            .unwrap_or(self.amount)
    }
}

/// The envelope aggregate.
pub struct Envelope;

impl esrs::Aggregate for Envelope {
    const NAME: &'static str = "envelope";
    type State = EnvelopeState;
    type Command = EnvelopeOperation;
    type Event = EnvelopeEvent;
    type Error = EnvelopeError;

    fn handle_command(
        state: &EnvelopeState,
        operation: EnvelopeOperation,
    ) -> Result<Vec<EnvelopeEvent>, EnvelopeError> {
        handle(state, operation).map(|event| vec![event])
    }

    fn apply_event(state: EnvelopeState, event: EnvelopeEvent) -> EnvelopeState {
        state.apply(event)
    }
}

impl EnvelopeState {
    /// Folds one event.
    pub fn apply(mut self, event: EnvelopeEvent) -> EnvelopeState {
        let state = &mut self;
        match event {
            EnvelopeEvent::EnvelopeOpened { key, amount } => {
                state.key = Some(key);
                state.amount = amount;
            }
            EnvelopeEvent::EnvelopeRaised { amount_after, .. }
            | EnvelopeEvent::EnvelopeLowered { amount_after, .. } => state.amount = amount_after,
            EnvelopeEvent::OverCommitmentAuthorised {
                authorised_after, ..
            } => state.over_commitment_authorised = authorised_after,
            EnvelopeEvent::EnvelopeCommitted {
                committed_after, ..
            }
            | EnvelopeEvent::EnvelopeReleased {
                committed_after, ..
            } => state.committed = committed_after,
        }
        self
    }
}

fn handle(
    state: &EnvelopeState,
    operation: EnvelopeOperation,
) -> Result<EnvelopeEvent, EnvelopeError> {
    let key = match &operation {
        EnvelopeOperation::Command(command) => command.key(),
        EnvelopeOperation::Commit { key, .. } | EnvelopeOperation::Release { key, .. } => {
            key.clone()
        }
    };
    key.check()?;
    if let EnvelopeOperation::Command(EnvelopeCommand::Open { amount, .. }) = operation {
        if state.key.is_some() {
            return Err(EnvelopeError::AlreadyOpen(Box::new(key)));
        }
        return Ok(EnvelopeEvent::EnvelopeOpened { key, amount });
    }
    if state.key.is_none() {
        return Err(EnvelopeError::NotOpen(Box::new(key)));
    }
    let add = |a: Amount, b: Amount| {
        a.checked_add(b)
            .ok_or_else(|| EnvelopeError::Overflow(Box::new(key.clone())))
    };
    match operation {
        EnvelopeOperation::Command(EnvelopeCommand::Open { .. }) => {
            unreachable!("handled above")
        }
        EnvelopeOperation::Command(EnvelopeCommand::Raise { amount, reason, .. }) => {
            let reason = text("reason", &reason)?;
            positive(amount)?;
            Ok(EnvelopeEvent::EnvelopeRaised {
                amount_after: add(state.amount, amount)?,
                key,
                amount,
                reason,
            })
        }
        EnvelopeOperation::Command(EnvelopeCommand::Lower { amount, reason, .. }) => {
            let reason = text("reason", &reason)?;
            positive(amount)?;
            let after = state
                .amount
                .checked_sub(amount)
                .ok_or(EnvelopeError::LowerBelowZero {
                    key: Box::new(key.clone()),
                    amount,
                    envelope: state.amount,
                })?;
            if add(after, state.over_commitment_authorised)? < state.committed {
                return Err(EnvelopeError::LowerBelowCommitted {
                    key: Box::new(key),
                    amount,
                    after,
                    authorised: state.over_commitment_authorised,
                    committed: state.committed,
                });
            }
            Ok(EnvelopeEvent::EnvelopeLowered {
                key,
                amount,
                amount_after: after,
                reason,
            })
        }
        EnvelopeOperation::Command(EnvelopeCommand::AuthoriseOverCommitment {
            amount,
            justification,
            ..
        }) => {
            let justification = text("justification", &justification)?;
            positive(amount)?;
            Ok(EnvelopeEvent::OverCommitmentAuthorised {
                authorised_after: add(state.over_commitment_authorised, amount)?,
                key,
                amount,
                justification,
            })
        }
        EnvelopeOperation::Commit {
            dossier_id, amount, ..
        } => {
            let committed_after = add(state.committed, amount)?;
            if committed_after > state.ceiling() {
                return Err(EnvelopeError::EnvelopeExceeded {
                    key: Box::new(key),
                    dossier_id,
                    amount,
                    committed_after,
                    envelope: state.amount,
                    authorised: state.over_commitment_authorised,
                });
            }
            Ok(EnvelopeEvent::EnvelopeCommitted {
                key,
                dossier_id,
                amount,
                committed_after,
            })
        }
        EnvelopeOperation::Release {
            dossier_id, amount, ..
        } => {
            let committed_after = state.committed.checked_sub(amount).ok_or(
                EnvelopeError::ReleaseAboveCommitted {
                    key: Box::new(key.clone()),
                    amount,
                    committed: state.committed,
                },
            )?;
            Ok(EnvelopeEvent::EnvelopeReleased {
                key,
                dossier_id,
                amount,
                committed_after,
            })
        }
    }
}

fn positive(amount: Amount) -> Result<(), EnvelopeError> {
    if amount.is_zero() {
        return Err(EnvelopeError::ZeroAmount);
    }
    Ok(())
}

fn text(field: &'static str, value: &str) -> Result<String, EnvelopeError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > TEXT_MAX_CHARS {
        return Err(EnvelopeError::BadText { field });
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use esrs::Aggregate;

    fn run(state: EnvelopeState, op: EnvelopeOperation) -> Result<EnvelopeState, EnvelopeError> {
        let events = Envelope::handle_command(&state, op)?;
        Ok(events.into_iter().fold(state, Envelope::apply_event))
    }

    fn key() -> EnvelopeKey {
        EnvelopeKey::new("etat", "bop147-aap", 2025)
    }

    fn open(amount: u64) -> EnvelopeState {
        run(
            EnvelopeState::default(),
            EnvelopeOperation::Command(EnvelopeCommand::Open {
                financeur: "etat".into(),
                dispositif: "bop147-aap".into(),
                exercice: 2025,
                amount: Amount::euros(amount),
            }),
        )
        .unwrap()
    }

    fn commit(amount: u64) -> EnvelopeOperation {
        EnvelopeOperation::Commit {
            key: key(),
            dossier_id: DossierId::new(),
            amount: Amount::euros(amount),
        }
    }

    #[test]
    fn decisions_stay_within_the_envelope_unless_authorised() {
        let state = open(100_000);
        let state = run(state, commit(90_000)).unwrap();
        let err = run(state.clone(), commit(10_001)).unwrap_err();
        assert!(
            matches!(err, EnvelopeError::EnvelopeExceeded { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("100001.00"), "{err}");
        let state = run(
            state,
            EnvelopeOperation::Command(EnvelopeCommand::AuthoriseOverCommitment {
                financeur: "etat".into(),
                dispositif: "bop147-aap".into(),
                exercice: 2025,
                amount: Amount::euros(5_000),
                justification: "urgence sociale, délibération n° 12".into(),
            }),
        )
        .unwrap();
        let state = run(state, commit(15_000)).unwrap();
        assert_eq!(state.committed, Amount::euros(105_000));
        assert!(run(state, commit(1)).is_err());
    }

    #[test]
    fn an_envelope_must_be_open_and_cannot_be_lowered_below_its_commitments() {
        let err = run(EnvelopeState::default(), commit(1)).unwrap_err();
        assert!(matches!(err, EnvelopeError::NotOpen(_)), "{err}");
        let state = run(open(10_000), commit(8_000)).unwrap();
        let lower = |amount| {
            EnvelopeOperation::Command(EnvelopeCommand::Lower {
                financeur: "etat".into(),
                dispositif: "bop147-aap".into(),
                exercice: 2025,
                amount: Amount::euros(amount),
                reason: "gel de crédits".into(),
            })
        };
        let err = run(state.clone(), lower(2_001)).unwrap_err();
        assert!(
            matches!(err, EnvelopeError::LowerBelowCommitted { .. }),
            "{err}"
        );
        let state = run(state, lower(2_000)).unwrap();
        assert_eq!(state.amount, Amount::euros(8_000));
    }

    #[test]
    fn keys_never_collide_and_bad_ids_are_refused() {
        assert_ne!(
            EnvelopeKey::new("a-b", "c", 2025).stream_id(),
            EnvelopeKey::new("a", "b-c", 2025).stream_id()
        );
        assert!(EnvelopeKey::new("a:b", "c", 2025).check().is_err());
        assert!(EnvelopeKey::new("etat", "bop147-aap", 1999)
            .check()
            .is_err());
    }
}
