//! The ledger's domain: money, identifiers, event metadata and the aggregates of a contrat de ville.
//!
//! Everything here is pure: no I/O, no async, no SQL. Aggregates implement [`esrs::Aggregate`]:
//! `handle_command` checks a command against the current state and returns the events it causes,
//! `apply_event` folds an event into the state.

pub mod comite;
pub mod command;
pub mod commitment;
pub mod cpo;
pub mod dossier;
pub mod envelope;
pub mod event;
pub mod ids;
pub mod json_schema;
pub mod metadata;
pub mod money;
pub mod porteur;
pub mod publication;
pub mod recorded;
pub mod referential;
pub mod tfpb;

pub use command::LedgerCommand;
pub use event::DomainEvent;
pub use ids::{DossierId, PorteurId};
pub use metadata::{ActKind, ActRef, Actor, Metadata, Source};
pub use money::{Amount, AmountError};
pub use recorded::{DecodeError, RecordedEvent};
