//! What auditors need: the trail of any thing, signed checkpoints that prove the log was not
//! rewritten, rule-based findings, and an audit bundle that can be re-verified offline.
//!
//! See `docs/audit.md` for the two time axes, every finding rule and how to verify a bundle.

pub mod bundle;
pub mod bundle_readme;
pub mod checkpoint;
mod error;
pub mod findings;
pub mod history;
pub mod publish;
pub mod routine;

pub use error::AuditError;
