//! Walking the whole log to prove it was not altered.

use std::collections::HashMap;

use crate::error::StoreError;
use crate::hash::{event_hash, GENESIS_HASH};
use crate::model::EventRow;
use crate::store::Store;

const PAGE_ROWS: i64 = 5_000;

/// The first thing found wrong in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyProblem {
    pub position: i64,
    pub what: String,
}

/// What a walk of the log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: i64,
    pub position_last: i64,
    pub head_hash: String,
    /// `None` when every check passed.
    pub problem: Option<VerifyProblem>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Checks, for every row in position order: positions gapless from 1, `prev_hash` equal to the
/// previous row's hash, the hash recomputed from the row, versions contiguous within each stream,
/// `recorded_at` never decreasing. Stops at the first problem.
pub(crate) async fn walk(
    store: &Store,
    progress: impl FnMut(i64),
) -> Result<VerifyReport, StoreError> {
    Walk::default().extend(store, progress).await
}

/// A walk of the log that can be carried on later from where it stopped: the checks of
/// [`Store::verify`] for the events appended since, plus a check that the last event it verified
/// still has the hash it had. It cannot see a consistent rewrite of the part already verified
/// (only a full walk can): whoever keeps one says when its last full walk ran.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    checker: Checker,
    problem: Option<VerifyProblem>,
}

impl Walk {
    /// Checks the events after the last one verified; the report covers the whole walk.
    pub async fn extend(
        &mut self,
        store: &Store,
        mut progress: impl FnMut(i64),
    ) -> Result<VerifyReport, StoreError> {
        if self.problem.is_some() {
            return Ok(self.checker.report(self.problem.clone()));
        }
        if let Some(hash) = self.checker.hash_last.clone() {
            let position = self.checker.position_last;
            let still = store.read_rows(position, 1).await?;
            // Its stored hash and the hash recomputed from its content, both as verified.
            let same = still
                .first()
                .is_some_and(|row| row.hash == hash && event_hash(row) == hash);
            if !same {
                self.problem = Some(VerifyProblem {
                    position,
                    what: "the event verified at this position is no longer the same".into(),
                });
                return Ok(self.checker.report(self.problem.clone()));
            }
        }
        let mut from = self.checker.position_last + 1;
        loop {
            let rows = store.read_rows(from, PAGE_ROWS).await?;
            let Some(last) = rows.last() else { break };
            from = last.position + 1;
            for row in &rows {
                if let Err(what) = self.checker.check(row) {
                    self.problem = Some(VerifyProblem {
                        position: row.position,
                        what,
                    });
                    return Ok(self.checker.report(self.problem.clone()));
                }
            }
            progress(self.checker.events);
        }
        Ok(self.checker.report(None))
    }
}

#[derive(Debug, Clone, Default)]
struct Checker {
    events: i64,
    position_last: i64,
    hash_last: Option<String>,
    recorded_at_last: i64,
    stream_versions: HashMap<String, i64>,
}

impl Checker {
    fn check(&mut self, row: &EventRow) -> Result<(), String> {
        let position_expected = self.position_last + 1;
        if row.position != position_expected {
            return Err(format!(
                "position {} follows {}: events are missing or out of order",
                row.position, self.position_last
            ));
        }
        let prev_expected = self.hash_last.as_deref().unwrap_or(GENESIS_HASH);
        if row.prev_hash != prev_expected {
            return Err("prev_hash does not match the previous event's hash".into());
        }
        let hash = event_hash(row);
        if row.hash != hash {
            return Err(format!(
                "hash mismatch: stored {}, recomputed {hash}: the row was altered",
                row.hash
            ));
        }
        let version_expected = self
            .stream_versions
            .get(&row.stream_id)
            .copied()
            .unwrap_or(0)
            + 1;
        if row.version != version_expected {
            return Err(format!(
                "stream {} jumps to version {} (expected {version_expected})",
                row.stream_id, row.version
            ));
        }
        if self.events > 0 && row.recorded_at < self.recorded_at_last {
            return Err("recorded_at goes back in time".into());
        }
        self.stream_versions
            .insert(row.stream_id.clone(), row.version);
        self.events += 1;
        self.position_last = row.position;
        self.hash_last = Some(row.hash.clone());
        self.recorded_at_last = row.recorded_at;
        Ok(())
    }

    fn report(&self, problem: Option<VerifyProblem>) -> VerifyReport {
        VerifyReport {
            events: self.events,
            position_last: self.position_last,
            head_hash: self
                .hash_last
                .clone()
                .unwrap_or_else(|| GENESIS_HASH.to_string()),
            problem,
        }
    }
}

/// The checks of [`Store::verify`], row by row, for logs outside the database (an exported audit
/// bundle): feed rows in position order; the first `Err` names what is wrong with that row.
#[derive(Default)]
pub struct ChainChecker(Checker);

impl ChainChecker {
    /// Checks the next row against the rows seen so far.
    pub fn check(&mut self, row: &EventRow) -> Result<(), String> {
        self.0.check(row)
    }

    /// What the rows seen so far amount to, with the problem found if any.
    pub fn report(&self, problem: Option<VerifyProblem>) -> VerifyReport {
        self.0.report(problem)
    }
}
