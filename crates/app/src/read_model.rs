//! The live read model: every projection, kept up to date by folding the log in order, starting
//! from the latest snapshot and saving new ones as it goes (see [`crate::snapshots`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use engagements_projections::{ProjectionError, Projections};
use engagements_store::{Store, StoreError};
use tokio::sync::{RwLock, RwLockReadGuard};
use tokio::task::JoinHandle;

use crate::checkpoints::Checkpoints;
use crate::snapshots::{lock, Mark, SnapshotError, SnapshotPolicy, Snapshots};

/// Events read from the store per page while catching up.
const CATCH_UP_PAGE: i64 = 10_000;

/// Events folded between two yields while folding the history in the background.
const HISTORY_PAGE: i64 = 1_000;

/// A catch-up that lasts longer than this is reported (then again at this interval).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// How far a long catch-up is, for whoever watches it (e.g. `serve` on standard error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUpProgress {
    /// The last position folded so far.
    pub position: i64,
    /// The chain's last position when this catch-up started (it may have grown since).
    pub target: i64,
    /// Events folded by this catch-up so far.
    pub folded: i64,
    /// Since this catch-up started.
    pub elapsed: Duration,
    /// `true` for the last report of a catch-up (nothing left to fold).
    pub done: bool,
}

/// Called with a long catch-up's progress: about once a second, then once when it is done.
pub type ProgressReporter = Box<dyn Fn(CatchUpProgress) + Send + Sync>;

/// Errors while catching up.
#[derive(Debug, thiserror::Error)]
pub enum ReadModelError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// Projections in memory, following the store.
pub struct ReadModel {
    store: Store,
    projections: RwLock<Projections>,
    /// What has been folded into `projections` (updated under its write lock).
    mark: Mutex<Mark>,
    snapshots: Arc<Snapshots>,
    /// Copies of the projections every few thousand events, in memory, for as-of questions.
    checkpoints: Checkpoints,
    /// Snapshots being saved in the background.
    saving: Mutex<Vec<JoinHandle<()>>>,
    /// Told how far a catch-up is, when it lasts more than [`PROGRESS_EVERY`].
    progress: Option<ProgressReporter>,
    /// The position of the snapshot the read model started from (0: it folded from position 1).
    restored_from: Mutex<i64>,
    /// The effective date of each event folded (by the live catch-up or the history fold), by
    /// position, as days from the common era (0: not folded here), so that a question about
    /// facts in force on a date reads only the stretches of the log that hold some.
    effective_days: std::sync::RwLock<Vec<i32>>,
}

/// Events not in force that a read of the log may still cover between two stretches that are:
/// one read instead of two.
const IN_FORCE_GAP: i64 = 32;

impl ReadModel {
    /// An empty read model that saves snapshots as [`SnapshotPolicy::from_env`] says (the
    /// default policy when the variable is unset or wrong).
    pub fn new(store: Store) -> Self {
        let policy = SnapshotPolicy::from_env().unwrap_or_else(|error| {
            tracing::warn!(%error, "default snapshot policy used");
            SnapshotPolicy::default()
        });
        ReadModel::with_snapshots(Arc::new(Snapshots::new(store.clone(), policy)), store)
    }

    /// An empty read model that saves and uses `snapshots`.
    pub fn with_snapshots(snapshots: Arc<Snapshots>, store: Store) -> Self {
        ReadModel {
            store,
            projections: RwLock::new(Projections::default()),
            mark: Mutex::default(),
            snapshots,
            checkpoints: Checkpoints::from_env(),
            saving: Mutex::default(),
            progress: None,
            restored_from: Mutex::default(),
            effective_days: std::sync::RwLock::default(),
        }
    }

    /// Reports the progress of every catch-up that lasts more than a second (the first one,
    /// when a server starts on a long log); call before catching up.
    pub fn set_progress(&mut self, reporter: ProgressReporter) {
        self.progress = Some(reporter);
    }

    /// The snapshots this read model saves and starts from.
    pub fn snapshots(&self) -> &Arc<Snapshots> {
        &self.snapshots
    }

    /// Replaces the in-memory checkpoints (e.g. another spacing); call before catching up.
    pub fn set_checkpoints(&mut self, checkpoints: Checkpoints) {
        self.checkpoints = checkpoints;
    }

    /// The in-memory checkpoints kept while folding.
    pub fn checkpoints(&self) -> &Checkpoints {
        &self.checkpoints
    }

    /// Starts from the latest readable snapshot, if the read model has folded nothing yet.
    /// Returns the position it starts from.
    pub async fn restore(&self) -> Result<i64, ReadModelError> {
        let mut projections = self.projections.write().await;
        if projections.position > 0 {
            return Ok(projections.position);
        }
        let now = engagements_projections::AsOf::now();
        if let Some((mark, snapshot)) = self.snapshots.latest_usable(&now).await? {
            *projections = (*snapshot).clone();
            *lock(&self.mark) = mark;
            *lock(&self.restored_from) = mark.position;
            tracing::info!(
                position = mark.position,
                "read model restored from a snapshot"
            );
        }
        Ok(projections.position)
    }

    /// Folds every event not yet seen. Whoever holds the lock catches up for everyone. Snapshots
    /// due on the way are saved in the background. Takes the write lock only when there is
    /// something to fold.
    pub async fn catch_up(&self) -> Result<i64, ReadModelError> {
        // Most calls find nothing new: look first without the write lock, so that concurrent
        // readers do not queue one behind the other (nor behind a reader building a table).
        let folded = self.projections.read().await.position;
        if self.store.read_all(folded + 1, 1).await?.is_empty() {
            return Ok(folded);
        }
        let mut projections = self.projections.write().await;
        let policy = self.snapshots.policy();
        let started = Instant::now();
        let start_position = projections.position;
        let mut reported_at: Option<Instant> = None;
        // The target of the progress reports, read only if this catch-up turns out long.
        let mut target: Option<i64> = None;
        loop {
            let events = self
                .store
                .read_all(projections.position + 1, CATCH_UP_PAGE)
                .await?;
            if let Some(reporter) = &self.progress {
                let due = match reported_at {
                    None => started.elapsed() >= PROGRESS_EVERY,
                    Some(at) => at.elapsed() >= PROGRESS_EVERY || events.is_empty(),
                };
                if due {
                    let target = match target {
                        Some(target) => target,
                        None => {
                            let head = self.store.head().await?.map_or(0, |h| h.position);
                            *target.insert(head)
                        }
                    };
                    reporter(CatchUpProgress {
                        position: projections.position,
                        target: target.max(projections.position),
                        folded: projections.position - start_position,
                        elapsed: started.elapsed(),
                        done: events.is_empty(),
                    });
                    reported_at = Some(Instant::now());
                }
            }
            if events.is_empty() {
                return Ok(projections.position);
            }
            // The report totals are kept up to date event by event (built once; again after
            // a change of the referential's quartiers dropped some).
            projections.prepare_report_totals();
            self.note_effective_dates(&events);
            let mut mark = *lock(&self.mark);
            for event in &events {
                if let Err(error) = projections.apply(event) {
                    *lock(&self.mark) = mark;
                    return Err(error.into());
                }
                mark = mark.after(event);
                if policy.is_due(event.position) {
                    self.save_in_background(mark, projections.clone());
                }
                if self.checkpoints.is_due(event.position) {
                    self.checkpoints
                        .keep(mark, Arc::new(projections.checkpoint()));
                }
            }
            *lock(&self.mark) = mark;
        }
    }

    /// Folds the log from position 1 up to the snapshot the read model was restored from,
    /// keeping in-memory checkpoints on the way, so that a moment before the start is answered
    /// from a nearby checkpoint, as fast as a later one, instead of decoding a stored snapshot
    /// (hundreds of MB at a million events) and folding up to its distance.
    ///
    /// Meant for a background task once the server answers: it folds a copy of its own, in
    /// small pages, yielding between them, and never touches the live projections. The
    /// checkpoints come from the log alone, like every figure. Returns the events folded (0
    /// when the read model folded from position 1 itself, or keeps no checkpoints).
    pub async fn fold_history(
        &self,
        progress: Option<&(dyn Fn(CatchUpProgress) + Send + Sync)>,
    ) -> Result<i64, ReadModelError> {
        let target = *lock(&self.restored_from);
        if target == 0 || self.checkpoints.extent().1 == 0 {
            return Ok(0);
        }
        let started = Instant::now();
        let mut reported_at = Instant::now();
        let mut projections = Projections::default();
        let mut mark = Mark::default();
        while mark.position < target {
            let limit = HISTORY_PAGE.min(target - mark.position);
            let events = self.store.read_all(mark.position + 1, limit).await?;
            if events.is_empty() {
                break;
            }
            // As in the live catch-up: checkpoints carry the report totals, so that a report
            // from one costs its rows, not a walk of every dossier.
            projections.prepare_report_totals();
            self.note_effective_dates(&events);
            for event in &events {
                projections.apply(event)?;
                mark = mark.after(event);
                if self.checkpoints.is_due(event.position) {
                    self.checkpoints
                        .keep(mark, Arc::new(projections.checkpoint()));
                }
            }
            if let Some(progress) = progress.filter(|_| reported_at.elapsed() >= PROGRESS_EVERY) {
                progress(CatchUpProgress {
                    position: mark.position,
                    target,
                    folded: mark.position,
                    elapsed: started.elapsed(),
                    done: false,
                });
                reported_at = Instant::now();
            }
            // Let the server's requests run between pages.
            tokio::task::yield_now().await;
        }
        if let Some(progress) = progress {
            progress(CatchUpProgress {
                position: mark.position,
                target,
                folded: mark.position,
                elapsed: started.elapsed(),
                done: true,
            });
        }
        Ok(mark.position)
    }

    /// Keeps the effective date of each of `events` by position.
    fn note_effective_dates(&self, events: &[engagements_domain::RecordedEvent]) {
        use chrono::Datelike;
        let Some(last) = events.last() else { return };
        let mut days = self
            .effective_days
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let needed = usize::try_from(last.position).unwrap_or(0);
        if days.len() < needed {
            days.resize(needed, 0);
        }
        for event in events {
            if let Some(slot) = usize::try_from(event.position - 1)
                .ok()
                .and_then(|i| days.get_mut(i))
            {
                *slot = event.metadata.effective_date.num_days_from_ce();
            }
        }
    }

    /// The stretches `(first, last)` of positions `from..=to` to read for the facts in force on
    /// `date`: every event in force then lies in one of them (a stretch may also hold a few
    /// that are not, which the fold skips). `None` when some of these positions were not folded
    /// by this read model (e.g. before its snapshot, while the history fold runs): read them all.
    pub fn in_force_stretches(
        &self,
        from: i64,
        to: i64,
        date: NaiveDate,
    ) -> Option<Vec<(i64, i64)>> {
        use chrono::Datelike;
        let wanted = date.num_days_from_ce();
        let days = self
            .effective_days
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let mut stretches: Vec<(i64, i64)> = Vec::new();
        for position in from.max(1)..=to {
            let day = *days.get(usize::try_from(position - 1).ok()?)?;
            if day == 0 {
                return None;
            }
            if day > wanted {
                continue;
            }
            match stretches.last_mut() {
                Some((_, last)) if position - *last <= IN_FORCE_GAP => *last = position,
                _ => stretches.push((position, position)),
            }
        }
        Some(stretches)
    }

    /// Makes sure events up to `position` are folded in (read-your-writes).
    pub async fn catch_up_to(&self, position: i64) -> Result<(), ReadModelError> {
        if self.projections.read().await.position < position {
            self.catch_up().await?;
        }
        Ok(())
    }

    /// The projections as they are now (call [`ReadModel::catch_up`] first for the latest).
    pub async fn read(&self) -> RwLockReadGuard<'_, Projections> {
        self.projections.read().await
    }

    /// What the projections returned by [`ReadModel::read`] have folded.
    pub fn mark(&self) -> Mark {
        *lock(&self.mark)
    }

    /// Catches up, then saves a snapshot at the current position now (whatever the policy).
    pub async fn snapshot_now(&self) -> Result<Mark, ReadModelError> {
        self.catch_up().await?;
        let projections = self.projections.read().await;
        let mark = self.mark();
        if mark.position > 0 {
            self.snapshots
                .save(mark, Arc::new(projections.clone()))
                .await?;
        }
        Ok(mark)
    }

    /// Waits until the snapshots being saved in the background are stored.
    pub async fn snapshots_saved(&self) {
        let pending = std::mem::take(&mut *lock(&self.saving));
        for task in pending {
            if let Err(error) = task.await {
                tracing::warn!(%error, "snapshot task failed");
            }
        }
    }

    /// Saves a snapshot without holding up the fold: the copy is taken here, encoding and
    /// writing happen on another task. A failure only costs speed, so it is logged.
    fn save_in_background(&self, mark: Mark, projections: Projections) {
        let snapshots = self.snapshots.clone();
        let task = tokio::spawn(async move {
            if let Err(error) = snapshots.save(mark, Arc::new(projections)).await {
                tracing::warn!(%error, position = mark.position, "snapshot not saved");
            }
        });
        let mut saving = lock(&self.saving);
        saving.retain(|task| !task.is_finished());
        saving.push(task);
    }
}
