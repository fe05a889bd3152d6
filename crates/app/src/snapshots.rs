//! Projection snapshots: every read model saved at a position, so that opening the ledger and
//! answering "as of" questions fold only the events after the nearest usable snapshot instead of
//! the whole log.
//!
//! Two rows are written per snapshot, both insert-only, at the same position:
//!
//! - [`SNAPSHOT_NAME`]: the projections, MessagePack with field names (self-describing: tagged
//!   enums and maps keyed by tuples survive), base64 in the TEXT column;
//! - [`MARK_NAME`]: a small JSON [`Mark`] — the latest effective date and record time folded so
//!   far — read to choose a snapshot without decoding any projections.
//!
//! The format version is part of both names: a build that changes the shape of the projections
//! bumps it, so that older snapshots are never read (they are rebuilt as the log is folded). A
//! snapshot also carries the version of the folds' code ([`engagements_projections::FOLD_VERSION`])
//! and is ignored when it was folded by other code. A snapshot that does not decode, or whose
//! position is not the one it is stored at, is ignored.
//!
//! Every row is bound to the chain by the store (the hash of the event at its position and the
//! SHA-256 of its payload, see [`engagements_store::snapshot`]): a row copied from another ledger
//! or altered is skipped with a warning. A row that holds its binding could still have been
//! recomputed by someone with write access to the database, so [`verify_against_log`] (run by
//! `engagements verify`) re-folds the log from position 1 and compares every row with the fold.
//!
//! [`SnapshotPolicy`] decides whether snapshots are read and saved at all: with
//! `ENGAGEMENTS_SNAPSHOTS=off`, `ENGAGEMENTS_SNAPSHOT_EVERY=0` or the command line's
//! `--no-snapshots`, every read folds from the log and no snapshot is read or written.
//!
//! Which snapshot an as-of question may start from (see `docs/audit.md`, "As-of performance"): a
//! snapshot at P is the fold of events 1..=P, all of them. It is usable when that fold is what the
//! question would have folded up to P:
//!
//! - record-time bound: P ≤ the position bound, and every event up to P was recorded at or before
//!   the time bound (the running maximum of `recorded_at` ≤ the bound);
//! - effective date D: every event up to P has an effective date ≤ D (the running maximum of
//!   `effective_date` ≤ D), since events not in force on D are skipped by the question.
//!
//! Both maxima only grow with P, so the usable snapshots are those up to some position: the
//! latest of them is found by walking marks backwards from the position bound.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use engagements_domain::RecordedEvent;
use engagements_projections::{AsOf, Projections, FOLD_VERSION};
use engagements_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// Name of the projection snapshots of this format. Bump the version whenever a read model's
/// shape changes: older snapshots are then ignored and rebuilt, never misread.
pub const SNAPSHOT_NAME: &str = "projections/v3";
/// Name of the marks kept beside each snapshot of [`SNAPSHOT_NAME`].
pub const MARK_NAME: &str = "projections/v3/mark";
/// Format number written inside each snapshot, checked on reading (a second guard beside the
/// name).
const SNAPSHOT_FORMAT: u32 = 3;
/// Default distance, in events, between two snapshots.
pub const SNAPSHOT_EVERY_DEFAULT: i64 = 50_000;
/// Environment variable overriding [`SNAPSHOT_EVERY_DEFAULT`] (0: no snapshot is read or
/// written).
pub const SNAPSHOT_EVERY_ENV: &str = "ENGAGEMENTS_SNAPSHOT_EVERY";
/// Environment variable that turns snapshots off (`off`): every read folds from the log.
pub const SNAPSHOTS_ENV: &str = "ENGAGEMENTS_SNAPSHOTS";
/// Decoded snapshots kept in memory (each is a whole read model).
const DECODED_KEPT: usize = 2;
/// As-of answers kept in memory.
const ANSWERS_KEPT: usize = 32;
/// Largest snapshot payload accepted on reading (bytes of base64 text).
const PAYLOAD_BYTES_MAX: usize = 2 << 30;

/// Whether snapshots are read, and when the live read model saves one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// A snapshot after every event whose position is a multiple of this (0: never). Positions
    /// are shared by every process, so two instances save the same positions (the second save is
    /// ignored by the store).
    pub every: i64,
    /// Whether stored snapshots are read at all (false: every read folds from the log).
    pub read: bool,
}

impl SnapshotPolicy {
    /// No snapshot is saved (stored ones whose binding holds are still read): for commands that
    /// must write nothing.
    pub const NEVER: SnapshotPolicy = SnapshotPolicy {
        every: 0,
        read: true,
    };
    /// No snapshot is read or saved: every read folds the log from position 1.
    pub const OFF: SnapshotPolicy = SnapshotPolicy {
        every: 0,
        read: false,
    };

    /// Snapshots read, and saved every `every` events (0: never saved).
    pub fn every(every: i64) -> SnapshotPolicy {
        SnapshotPolicy { every, read: true }
    }

    /// [`SNAPSHOT_EVERY_DEFAULT`], or the value of [`SNAPSHOT_EVERY_ENV`] when it is set (0 is
    /// [`SnapshotPolicy::OFF`]); [`SnapshotPolicy::OFF`] when [`SNAPSHOTS_ENV`] is `off`.
    pub fn from_env() -> Result<SnapshotPolicy, SnapshotError> {
        if let Ok(text) = std::env::var(SNAPSHOTS_ENV) {
            match text.trim() {
                "off" => return Ok(SnapshotPolicy::OFF),
                "on" | "" => {}
                _ => return Err(SnapshotError::BadSwitch(text)),
            }
        }
        match std::env::var(SNAPSHOT_EVERY_ENV) {
            Ok(text) => {
                let every = text
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|every| *every >= 0)
                    .ok_or(SnapshotError::BadEvery(text))?;
                Ok(if every == 0 {
                    SnapshotPolicy::OFF
                } else {
                    SnapshotPolicy::every(every)
                })
            }
            Err(_) => Ok(SnapshotPolicy::default()),
        }
    }

    /// The same, saving nothing: snapshots are read only if this policy reads them.
    pub fn read_only(self) -> SnapshotPolicy {
        SnapshotPolicy { every: 0, ..self }
    }

    /// Whether a snapshot is due right after folding the event at `position`.
    pub fn is_due(&self, position: i64) -> bool {
        self.every > 0 && position > 0 && position % self.every == 0
    }

    /// Whether snapshots are neither read nor saved.
    pub fn is_off(&self) -> bool {
        !self.read && self.every == 0
    }
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        SnapshotPolicy::every(SNAPSHOT_EVERY_DEFAULT)
    }
}

/// Errors of snapshots.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{SNAPSHOT_EVERY_ENV}={0:?} is not a number of events ≥ 0")]
    BadEvery(String),
    #[error("{SNAPSHOTS_ENV}={0:?}: expected `on` or `off`")]
    BadSwitch(String),
    #[error("the log cannot be folded: {0}")]
    Fold(String),
    #[error("snapshot at position {position} cannot be encoded: {reason}")]
    Encode { position: i64, reason: String },
    #[error("snapshot at position {position} is unreadable ({reason}); it is ignored")]
    Unreadable { position: i64, reason: String },
}

/// What was folded up to a position, besides the projections: the running maxima that decide
/// which as-of questions a snapshot there may answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Mark {
    /// Position of the last event folded (0: none).
    pub position: i64,
    /// Latest effective date among the events folded.
    pub effective_date_max: Option<NaiveDate>,
    /// Latest record time among the events folded.
    pub recorded_at_max: Option<DateTime<Utc>>,
}

impl Mark {
    /// The mark after folding `event` too.
    pub fn after(self, event: &RecordedEvent) -> Mark {
        Mark {
            position: event.position,
            effective_date_max: self
                .effective_date_max
                .max(Some(event.metadata.effective_date)),
            recorded_at_max: self.recorded_at_max.max(Some(event.recorded_at)),
        }
    }

    /// Whether the fold of every event up to this mark is also what `as_of` folds up to here
    /// (so that its answer may start from a snapshot at this mark).
    pub fn is_usable_for(&self, as_of: &AsOf) -> bool {
        as_of.position.is_none_or(|bound| self.position <= bound)
            && as_of
                .recorded_at
                .is_none_or(|bound| self.recorded_at_max.is_none_or(|max| max <= bound))
            && as_of
                .effective_on
                .is_none_or(|date| self.effective_date_max.is_none_or(|max| max <= date))
    }
}

/// The stored form of a snapshot.
#[derive(Serialize, Deserialize)]
struct Body {
    format: u32,
    fold_version: u32,
    mark: Mark,
    projections: Projections,
}

/// Encodes a snapshot for the TEXT column: MessagePack with field names, then base64.
pub fn encode(mark: &Mark, projections: &Projections) -> Result<String, SnapshotError> {
    #[derive(Serialize)]
    struct BodyRef<'a> {
        format: u32,
        fold_version: u32,
        mark: &'a Mark,
        projections: &'a Projections,
    }
    let bytes = rmp_serde::to_vec_named(&BodyRef {
        format: SNAPSHOT_FORMAT,
        fold_version: FOLD_VERSION,
        mark,
        projections,
    })
    .map_err(|e| SnapshotError::Encode {
        position: mark.position,
        reason: e.to_string(),
    })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Decodes a snapshot stored at `position`, refusing one of another format or position.
pub fn decode(position: i64, payload: &str) -> Result<(Mark, Projections), SnapshotError> {
    let unreadable = |reason: String| SnapshotError::Unreadable { position, reason };
    if payload.len() > PAYLOAD_BYTES_MAX {
        return Err(unreadable(format!(
            "{} bytes, more than the {PAYLOAD_BYTES_MAX} accepted",
            payload.len()
        )));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|e| unreadable(format!("not base64: {e}")))?;
    let body: Body =
        rmp_serde::from_slice(&bytes).map_err(|e| unreadable(format!("not this format: {e}")))?;
    if body.format != SNAPSHOT_FORMAT {
        return Err(unreadable(format!(
            "format {} where {SNAPSHOT_FORMAT} is expected",
            body.format
        )));
    }
    if body.fold_version != FOLD_VERSION {
        return Err(unreadable(format!(
            "folded by code of version {} where {FOLD_VERSION} is expected",
            body.fold_version
        )));
    }
    if body.mark.position != position || body.projections.position != position {
        return Err(unreadable(format!(
            "it holds position {} (projections at {})",
            body.mark.position, body.projections.position
        )));
    }
    Ok((body.mark, body.projections))
}

/// A projection fold that can be shared between callers without copying it.
pub type SharedProjections = Arc<Projections>;

/// Saved snapshots and what is kept of them in memory: their marks, the last decoded ones and the
/// last as-of answers.
pub struct Snapshots {
    store: Store,
    policy: SnapshotPolicy,
    /// Marks known, by position (read from the store or saved here).
    marks: Mutex<BTreeMap<i64, Mark>>,
    decoded: Mutex<VecDeque<(Mark, SharedProjections)>>,
    answers: Mutex<VecDeque<(AsOf, SharedProjections)>>,
}

impl Snapshots {
    /// Snapshots of `store`, saved according to `policy`.
    pub fn new(store: Store, policy: SnapshotPolicy) -> Self {
        Snapshots {
            store,
            policy,
            marks: Mutex::default(),
            decoded: Mutex::default(),
            answers: Mutex::default(),
        }
    }

    pub fn policy(&self) -> SnapshotPolicy {
        self.policy
    }

    /// Saves a snapshot of `projections` (folded up to `mark`): the projections first, then the
    /// mark that makes them findable.
    /// Under [`SnapshotPolicy::OFF`], nothing is written.
    pub async fn save(
        &self,
        mark: Mark,
        projections: SharedProjections,
    ) -> Result<(), SnapshotError> {
        if self.policy.is_off() {
            return Ok(());
        }
        let encoded = {
            let projections = projections.clone();
            tokio::task::spawn_blocking(move || encode(&mark, &projections))
                .await
                .map_err(|e| SnapshotError::Encode {
                    position: mark.position,
                    reason: e.to_string(),
                })??
        };
        self.store
            .save_snapshot(SNAPSHOT_NAME, mark.position, &encoded)
            .await?;
        let mark_json = serde_json::to_string(&mark).map_err(|e| SnapshotError::Encode {
            position: mark.position,
            reason: e.to_string(),
        })?;
        self.store
            .save_snapshot(MARK_NAME, mark.position, &mark_json)
            .await?;
        lock(&self.marks).insert(mark.position, mark);
        remember(&self.decoded, (mark, projections), DECODED_KEPT);
        Ok(())
    }

    /// The latest snapshot usable for `as_of` (see the module's documentation), if any.
    pub async fn latest_usable(
        &self,
        as_of: &AsOf,
    ) -> Result<Option<(Mark, SharedProjections)>, SnapshotError> {
        if !self.policy.read {
            return Ok(None);
        }
        let mut at_or_before = as_of.position.unwrap_or(i64::MAX);
        loop {
            let Some(mark) = self.mark_at_or_before(at_or_before).await? else {
                return Ok(None);
            };
            if mark.is_usable_for(as_of) {
                match self.load(mark).await {
                    Ok(projections) => return Ok(Some((mark, projections))),
                    Err(SnapshotError::Unreadable { position, reason }) => {
                        tracing::warn!(position, %reason, "snapshot ignored");
                    }
                    Err(error) => return Err(error),
                }
            }
            at_or_before = mark.position - 1;
        }
    }

    /// A recent as-of answer, when it is still the answer (see [`Snapshots::remember_answer`]).
    pub fn answer(&self, as_of: &AsOf) -> Option<SharedProjections> {
        lock(&self.answers)
            .iter()
            .find(|(key, _)| key == as_of)
            .map(|(_, answer)| answer.clone())
    }

    /// Keeps an as-of answer. Only answers that later events cannot change belong here: those
    /// bounded by a position already recorded, or by a time the log has gone past.
    pub fn remember_answer(&self, as_of: AsOf, answer: SharedProjections) {
        remember(&self.answers, (as_of, answer), ANSWERS_KEPT);
    }

    /// The latest mark at or before `position`, from memory or the store.
    async fn mark_at_or_before(&self, position: i64) -> Result<Option<Mark>, SnapshotError> {
        if position < 1 {
            return Ok(None);
        }
        let Some((stored_at, text)) = self.store.latest_snapshot(MARK_NAME, position).await? else {
            return Ok(None);
        };
        if let Some(mark) = lock(&self.marks).get(&stored_at) {
            return Ok(Some(*mark));
        }
        match serde_json::from_str::<Mark>(&text) {
            Ok(mark) if mark.position == stored_at => {
                lock(&self.marks).insert(stored_at, mark);
                Ok(Some(mark))
            }
            _ => {
                tracing::warn!(position = stored_at, "snapshot mark unreadable, ignored");
                // A mark that cannot be read makes its snapshot unusable; look further back.
                Box::pin(self.mark_at_or_before(stored_at - 1)).await
            }
        }
    }

    /// The projections of the snapshot at `mark`, decoded once and kept.
    async fn load(&self, mark: Mark) -> Result<SharedProjections, SnapshotError> {
        if let Some((_, projections)) = lock(&self.decoded)
            .iter()
            .find(|(kept, _)| kept.position == mark.position)
        {
            return Ok(projections.clone());
        }
        let unreadable = |reason: &str| SnapshotError::Unreadable {
            position: mark.position,
            reason: reason.to_string(),
        };
        let (stored_at, payload) = self
            .store
            .latest_snapshot(SNAPSHOT_NAME, mark.position)
            .await?
            .ok_or_else(|| unreadable("its projections are missing"))?;
        if stored_at != mark.position {
            return Err(unreadable("its projections are missing"));
        }
        let position = mark.position;
        let (stored_mark, projections) =
            tokio::task::spawn_blocking(move || decode(position, &payload))
                .await
                .map_err(|e| unreadable(&e.to_string()))??;
        if stored_mark != mark {
            return Err(unreadable("its mark disagrees with its projections"));
        }
        let projections = Arc::new(projections);
        remember(&self.decoded, (mark, projections.clone()), DECODED_KEPT);
        Ok(projections)
    }
}

/// Events read per page when folding the whole log.
const FOLD_PAGE: i64 = 10_000;

/// Folds the log from position 1 up to `position_last` (all of it when `None`), reading no
/// snapshot: what an auditor's figures must come from.
pub async fn fold_log(
    store: &Store,
    position_last: Option<i64>,
) -> Result<Projections, SnapshotError> {
    let mut projections = Projections::default();
    let mut mark = Mark::default();
    fold_until(store, &mut projections, &mut mark, position_last).await?;
    Ok(projections)
}

/// Folds the events after `mark` into `projections`, up to `position_last` (to the end of the
/// log when `None`).
async fn fold_until(
    store: &Store,
    projections: &mut Projections,
    mark: &mut Mark,
    position_last: Option<i64>,
) -> Result<(), SnapshotError> {
    loop {
        let limit = match position_last {
            Some(last) if last <= mark.position => return Ok(()),
            Some(last) => FOLD_PAGE.min(last - mark.position),
            None => FOLD_PAGE,
        };
        let page = store.read_all(mark.position + 1, limit).await?;
        if page.is_empty() {
            return Ok(());
        }
        for event in &page {
            projections
                .apply(event)
                .map_err(|e| SnapshotError::Fold(e.to_string()))?;
            *mark = mark.after(event);
        }
    }
}

/// A stored snapshot row that must not be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotProblem {
    /// The row's name (e.g. [`SNAPSHOT_NAME`]).
    pub name: String,
    pub position: i64,
    pub what: String,
}

impl std::fmt::Display for SnapshotProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "snapshot {} at position {} {}",
            self.name, self.position, self.what
        )
    }
}

/// What [`verify_against_log`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotCheck {
    /// Rows of this format compared with the fold of the log.
    pub compared: usize,
    /// Rows of other formats, which this version never reads.
    pub other_formats: usize,
    /// Rows saved before snapshots were bound to the chain, which are never read.
    pub unbound: usize,
    pub problems: Vec<SnapshotProblem>,
}

/// The explanation given for a snapshot that differs from the fold of the log.
pub const SNAPSHOT_MISMATCH: &str = "does not match the events: forged or from other code";

/// Re-folds the log from position 1 and compares every stored snapshot row of this format (the
/// projections and their marks) with the fold at its position; rows whose binding to the chain
/// does not hold are problems too. Reads no snapshot to fold.
pub async fn verify_against_log(store: &Store) -> Result<SnapshotCheck, SnapshotError> {
    let mut check = SnapshotCheck::default();
    let mut wanted: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (name, position) in store.snapshot_index().await? {
        if name == SNAPSHOT_NAME || name == MARK_NAME {
            wanted.entry(position).or_default().push(name);
        } else {
            check.other_formats += 1;
        }
    }
    let mut projections = Projections::default();
    let mut mark = Mark::default();
    // One row at a time, as the fold reaches its position: rows can be large.
    for (position, names) in wanted {
        fold_until(store, &mut projections, &mut mark, Some(position)).await?;
        for name in names {
            let Some(row) = store.snapshot_at_or_before(&name, position).await? else {
                continue;
            };
            let verdict = if mark.position < position {
                RowVerdict::Problem("lies past the end of the log".into())
            } else {
                compare_row(&row, &mark, &projections)
            };
            match verdict {
                RowVerdict::Same => check.compared += 1,
                RowVerdict::Unbound => check.unbound += 1,
                RowVerdict::Problem(what) => {
                    check.compared += 1;
                    check.problems.push(SnapshotProblem {
                        name,
                        position,
                        what,
                    });
                }
            }
        }
    }
    Ok(check)
}

enum RowVerdict {
    Same,
    Unbound,
    Problem(String),
}

/// Compares one stored row with the fold of the log at its position.
fn compare_row(
    row: &engagements_store::StoredSnapshot,
    mark: &Mark,
    folded: &Projections,
) -> RowVerdict {
    if row.head_hash.is_empty() && row.payload_sha256.is_empty() {
        return RowVerdict::Unbound;
    }
    if let Some(problem) = row.binding_problem() {
        return RowVerdict::Problem(format!("is not bound to this chain ({problem})"));
    }
    let matches = if row.name == MARK_NAME {
        serde_json::from_str::<Mark>(&row.payload).is_ok_and(|stored| stored == *mark)
    } else {
        match decode(row.position, &row.payload) {
            Ok((stored_mark, stored)) => {
                stored_mark == *mark && same_state(&stored_mark, &stored, folded)
            }
            Err(_) => false,
        }
    };
    if matches {
        RowVerdict::Same
    } else {
        RowVerdict::Problem(SNAPSHOT_MISMATCH.into())
    }
}

/// Whether two projections hold the same state: their canonical serialisations are equal.
fn same_state(mark: &Mark, a: &Projections, b: &Projections) -> bool {
    match (encode(mark, a), encode(mark, b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Pushes `entry` to the front of a small most-recent-first list, dropping the oldest.
fn remember<T>(list: &Mutex<VecDeque<T>>, entry: T, kept: usize) {
    let mut list = lock(list);
    list.push_front(entry);
    list.truncate(kept);
}

/// The data behind a mutex, even if a panicking holder poisoned it: every value kept here is
/// written whole under the lock, so it is never half-updated.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
