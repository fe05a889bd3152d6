//! The ledger's use cases: handling commands, keeping the read model up to date, and the
//! operations the CLI and the server share. Files in and out (imports, SCDL) live in
//! `engagements-interop`, above this crate; what auditors read of the log (trails, checkpoints,
//! findings, bundles) in `engagements-audit`, beside it.
//!
//! Commands are decided by the domain's aggregates (`esrs::Aggregate::handle_command` and
//! `apply_event`) over states cached in memory, then appended with the streams' expected
//! versions; a conflict (another writer got there first) reloads the states and retries.

pub mod auth;
pub mod checkpoints;
pub mod command_json;
pub mod commitments_seed;
pub mod demo;
pub mod demo_tfpb;
mod error;
mod handlers;
mod ledger;
mod meta;
mod read_model;
pub mod referential;
pub mod snapshots;
mod states;

pub use error::CommandError;
pub use handlers::refs::hint;
pub use ledger::{Ledger, ProjectionsRead, Receipt};
pub use meta::{CommandLine, CommandMeta, MetaDefaults};
pub use read_model::{CatchUpProgress, ProgressReporter, ReadModel};
