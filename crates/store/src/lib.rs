//! The ledger's event store: an append-only, SHA-256 hash-chained log on SQLite or PostgreSQL.
//!
//! - every event has a global, gapless `position` and a per-stream `version`;
//! - appends go through one writer task that gathers concurrent commands into batches, one
//!   transaction per batch (group commit), and acknowledges a command only once it is durable;
//! - a command id makes an append idempotent: the same id twice records once;
//! - database triggers refuse UPDATE and DELETE on the log; [`Store::verify`] recomputes the chain;
//! - no person's name enters the chain: events name people by a pseudonymous id, and the names
//!   live in an erasable table ([`persons`]).
//!
//! The canonical encoding hashed for each event is documented in [`hash`] and in
//! `docs/adr/0001-event-store.md`.

mod backend;
pub mod backup;
mod error;
pub mod esrs_adapter;
pub mod hash;
mod model;
pub mod persons;
mod pg_pipeline;
pub mod relay_offsets;
pub mod sessions;
pub mod snapshot;
mod store;
mod subscription;
pub mod testing;
pub mod tokens;
mod verify;
mod writer;

pub use backup::{BackupError, BackupFormat, BackupSummary};
pub use error::{AppendError, StoreError};
pub use model::{
    decode_row, AppendRequest, Appended, ChainHead, EventRow, ExpectedVersion, NewEvent,
    StreamAppend,
};
pub use snapshot::StoredSnapshot;
pub use store::{Limits, Store};
pub use subscription::Subscription;
pub use verify::{ChainChecker, VerifyProblem, VerifyReport, Walk};

pub use engagements_domain::RecordedEvent;
