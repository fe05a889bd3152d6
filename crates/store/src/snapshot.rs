//! Projection snapshots bound to the chain.
//!
//! A snapshot row is a cache of the fold of events 1..=P. So that a row copied from another
//! ledger, written by hand or damaged cannot be read as this ledger's fold, each row keeps:
//!
//! - `head_hash`: the hash of the event at P when it was saved (read by the INSERT itself);
//! - `payload_sha256`: the SHA-256 (hex) of the payload text as stored.
//!
//! On reading, a row is used only when its payload still has that digest and the log's event at
//! P still has that hash; any other row is skipped with a warning naming it, and an earlier one
//! is tried. This does not prove the payload is the fold of the log (whoever can write the table
//! can recompute both): `engagements verify` re-folds the log and compares every row. The table
//! is insert-only (triggers refuse UPDATE and DELETE).

use sha2::{Digest, Sha256};

/// A snapshot to store.
pub(crate) struct NewSnapshot<'a> {
    pub name: &'a str,
    pub position: i64,
    pub payload: &'a str,
    pub payload_sha256: String,
    pub recorded_at: i64,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SnapshotSaved {
    Saved,
    /// A row of that name at that position exists already (it is kept, never replaced).
    AlreadyThere,
    /// The log has no event at that position.
    NoEventThere,
}

/// A snapshot row as stored, with the hash the log has now at its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub name: String,
    pub position: i64,
    pub payload: String,
    /// The hash of the event at `position` when the snapshot was saved.
    pub head_hash: String,
    /// The SHA-256 of `payload` when the snapshot was saved, hex.
    pub payload_sha256: String,
    /// The hash of the log's event at `position` now (empty: the log has no event there).
    pub event_hash: String,
}

impl StoredSnapshot {
    /// Why this row must not be read (`None`: its binding to the chain holds).
    pub fn binding_problem(&self) -> Option<String> {
        if self.head_hash.is_empty() || self.payload_sha256.is_empty() {
            return Some("it is not bound to the chain (saved by an older version)".into());
        }
        if payload_sha256(&self.payload) != self.payload_sha256 {
            return Some("its payload does not have its recorded digest".into());
        }
        if self.event_hash.is_empty() {
            return Some(format!(
                "the log has no event at position {}",
                self.position
            ));
        }
        if self.event_hash != self.head_hash {
            return Some(format!(
                "it was taken over a chain whose event {} has hash {}, the log's has {}",
                self.position, self.head_hash, self.event_hash
            ));
        }
        None
    }
}

/// The SHA-256 of a payload's bytes as stored, lowercase hex.
pub fn payload_sha256(payload: &str) -> String {
    hex::encode(Sha256::digest(payload.as_bytes()))
}
