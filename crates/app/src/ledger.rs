//! The ledger: one store, its live read model, and the command handler.

use std::sync::Arc;

use chrono::Utc;
use engagements_domain::{LedgerCommand, Metadata, RecordedEvent};
use engagements_projections::{AsOf, Projections};
use engagements_store::{AppendError, AppendRequest, Appended, Store};
use tokio::sync::RwLockReadGuard;
use uuid::Uuid;

use crate::auth::{self, Principal};
use crate::error::CommandError;
use crate::handlers::{self, Context};
use crate::meta::{CommandMeta, MetaDefaults};
use crate::read_model::{ReadModel, ReadModelError};
use crate::snapshots::{Mark, SharedProjections, SnapshotError, SnapshotPolicy, Snapshots};
use crate::states::{Plan, StateCache, StateView};

/// How many times a command is re-decided after losing a race for one of its streams.
const CONFLICT_RETRIES_MAX: usize = 5;
/// Events read per page by an as-of fold.
const AS_OF_PAGE: i64 = 10_000;

/// Projections being read: the live read model, or a past state.
pub enum ProjectionsRead<'a> {
    Live(RwLockReadGuard<'a, Projections>),
    Past(SharedProjections),
}

impl std::ops::Deref for ProjectionsRead<'_> {
    type Target = Projections;

    fn deref(&self) -> &Projections {
        match self {
            ProjectionsRead::Live(guard) => guard,
            ProjectionsRead::Past(shared) => shared,
        }
    }
}

/// What an accepted command recorded.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub command_id: Uuid,
    pub events: Vec<RecordedEvent>,
    /// True when this command id had already been recorded: nothing new was written and
    /// `events` are those of the first time.
    pub duplicate: bool,
}

impl Receipt {
    pub fn position_last(&self) -> i64 {
        self.events.last().map(|e| e.position).unwrap_or(0)
    }

    fn from_appended(command_id: Uuid, appended: Appended) -> Self {
        Receipt {
            command_id,
            events: appended.events,
            duplicate: appended.duplicate,
        }
    }
}

/// The ledger's entry point for every use case.
#[derive(Clone)]
pub struct Ledger {
    store: Store,
    read_model: Arc<ReadModel>,
    cache: Arc<StateCache>,
}

impl Ledger {
    /// Opens the ledger at `url` and folds its log into the read model.
    pub async fn open(url: &str) -> Result<Ledger, CommandError> {
        let store = Store::open(url).await?;
        Ledger::from_store(store).await
    }

    /// Wraps an open store. The read model starts from the latest snapshot and saves new ones
    /// as [`SnapshotPolicy::from_env`] says.
    pub async fn from_store(store: Store) -> Result<Ledger, CommandError> {
        let read_model = Arc::new(ReadModel::new(store.clone()));
        Ledger::with_read_model(store, read_model).await
    }

    /// Wraps an open store, saving snapshots of the read model as `policy` says.
    pub async fn from_store_with(
        store: Store,
        policy: SnapshotPolicy,
    ) -> Result<Ledger, CommandError> {
        let snapshots = Arc::new(Snapshots::new(store.clone(), policy));
        let read_model = Arc::new(ReadModel::with_snapshots(snapshots, store.clone()));
        Ledger::with_read_model(store, read_model).await
    }

    /// Wraps an open store with a read model set up by the caller (its snapshots and
    /// checkpoints).
    pub async fn from_read_model(
        store: Store,
        read_model: ReadModel,
    ) -> Result<Ledger, CommandError> {
        Ledger::with_read_model(store, Arc::new(read_model)).await
    }

    async fn with_read_model(
        store: Store,
        read_model: Arc<ReadModel>,
    ) -> Result<Ledger, CommandError> {
        read_model.restore().await.map_err(read_model_error)?;
        let ledger = Ledger {
            store,
            read_model,
            cache: Arc::default(),
        };
        ledger.catch_up().await?;
        Ok(ledger)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn read_model(&self) -> &Arc<ReadModel> {
        &self.read_model
    }

    /// Folds every event recorded so far (by this or another process) into the read model.
    pub async fn catch_up(&self) -> Result<i64, CommandError> {
        self.read_model.catch_up().await.map_err(read_model_error)
    }

    /// The current projections, caught up with the log.
    pub async fn projections(&self) -> Result<RwLockReadGuard<'_, Projections>, CommandError> {
        self.catch_up().await?;
        Ok(self.read_model.read().await)
    }

    /// The projections as they stood after event `position` (folded from the log).
    pub async fn projections_at(&self, position: i64) -> Result<Projections, CommandError> {
        self.projections_as_of(&AsOf {
            position: Some(position),
            ..AsOf::default()
        })
        .await
    }

    /// The projections as of a record time and/or an effective date (see [`AsOf`]).
    pub async fn projections_as_of(&self, as_of: &AsOf) -> Result<Projections, CommandError> {
        let shared = self.projections_as_of_shared(as_of).await?;
        Ok(Arc::unwrap_or_clone(shared))
    }

    /// The projections to read for `as_of`, without copying them: the live read model itself
    /// (held for reading, so its tables built once per position are shared by every reader)
    /// when `as_of` is now, else a shared past answer. Drop it before the next `execute`.
    pub async fn read_as_of(&self, as_of: &AsOf) -> Result<ProjectionsRead<'_>, CommandError> {
        if as_of.is_now() {
            return Ok(ProjectionsRead::Live(self.projections().await?));
        }
        Ok(ProjectionsRead::Past(
            self.projections_as_of_shared(as_of).await?,
        ))
    }

    /// [`Ledger::projections_as_of`], shared rather than copied: recent answers are kept and
    /// handed out again as long as later events cannot change them.
    ///
    /// The fold starts from the latest usable point — the live read model or a snapshot (see
    /// [`crate::snapshots`]) — and folds only the events after it, the same way
    /// [`Projections::fold_as_of`] folds the whole log.
    pub async fn projections_as_of_shared(
        &self,
        as_of: &AsOf,
    ) -> Result<SharedProjections, CommandError> {
        if as_of.is_now() {
            return Ok(Arc::new(self.projections().await?.clone()));
        }
        // A question without a position bound (facts in force on a date, the ledger as it
        // stood at a time not yet passed) is asked of the log as it is: bounded by the head, it
        // is a final answer, kept and handed out again until an event is recorded. A record
        // time becomes the last position recorded by then, so that the fold reads no event
        // past it.
        let bound = match (as_of.position, as_of.recorded_at) {
            (Some(position), _) => position,
            (None, recorded_at) => {
                let head = self.store.head().await?.map_or(0, |h| h.position);
                match recorded_at {
                    Some(time) => self.last_position_recorded_by(time, head).await?,
                    None => head,
                }
            }
        };
        let as_of = &AsOf {
            position: Some(bound),
            ..*as_of
        };
        let snapshots = self.read_model.snapshots();
        if let Some(answer) = snapshots.answer(as_of) {
            return Ok(answer);
        }
        let (mut projections, start) = self.as_of_start(as_of).await?;
        // What to read: every position after the start, or, for facts in force on a date, only
        // the stretches where the read model saw events in force then (the same events, folded
        // in the same order: the answer is the same; each of those positions was folded here,
        // so the log holds them all, up to the bound).
        let (stretches, mut reached) = match as_of
            .effective_on
            .and_then(|date| self.read_model.in_force_stretches(start + 1, bound, date))
        {
            Some(stretches) => (stretches, bound),
            None => (vec![(start + 1, bound)], start),
        };
        let mut past_bound = false;
        'stretches: for (first, last) in stretches {
            let mut from = first;
            while from <= last {
                // Read no further than the stretch: a page past it is read for nothing.
                let limit = AS_OF_PAGE.min(last - from + 1);
                let page = self.store.read_all(from, limit).await?;
                let Some(end) = page.last() else {
                    break 'stretches;
                };
                from = end.position + 1;
                reached = reached.max(end.position);
                for event in &page {
                    if as_of.is_past_record_bound(event) {
                        past_bound = true;
                        break 'stretches;
                    }
                    if as_of.is_in_force(event) {
                        projections
                            .apply(event)
                            .map_err(|e| CommandError::Invalid(e.to_string()))?;
                    }
                }
            }
        }
        let answer = Arc::new(projections);
        // Final answers only: the log went past the time bound, or reached the position bound.
        if past_bound || reached >= bound {
            snapshots.remember_answer(*as_of, answer.clone());
        }
        Ok(answer)
    }

    /// The last position recorded at or before `time` (0: none), at most `head`: a bisection
    /// over the log, which the writer keeps in record-time order (a record time never decreases
    /// along positions), started from the nearest in-memory checkpoint recorded by then.
    async fn last_position_recorded_by(
        &self,
        time: chrono::DateTime<Utc>,
        head: i64,
    ) -> Result<i64, CommandError> {
        let by_then = AsOf {
            recorded_at: Some(time),
            ..AsOf::default()
        };
        let mut low = self
            .read_model
            .checkpoints()
            .nearest_usable(&by_then)
            .map_or(0, |(mark, _)| mark.position.min(head));
        let mut high = head;
        while low < high {
            let middle = low + (high - low + 1) / 2;
            let recorded_by_then = self
                .store
                .read_all(middle, 1)
                .await?
                .first()
                .is_some_and(|event| event.recorded_at <= time);
            if recorded_by_then {
                low = middle;
            } else {
                high = middle - 1;
            }
        }
        Ok(low)
    }

    /// Where an as-of fold starts: the live read model when it is usable as it is, else the
    /// nearest usable in-memory checkpoint, else the latest usable snapshot, else nothing.
    /// Returns the projections and their position.
    async fn as_of_start(&self, as_of: &AsOf) -> Result<(Projections, i64), CommandError> {
        {
            let live = self.read_model.read().await;
            let mark = self.read_model.mark();
            if mark.position == live.position && mark.position > 0 && mark.is_usable_for(as_of) {
                return Ok((live.clone(), mark.position));
            }
        }
        if let Some((mark, checkpoint)) = self.read_model.checkpoints().nearest_usable(as_of) {
            // Checkpoints are closer together than stored snapshots, and already decoded.
            return Ok((Arc::unwrap_or_clone(checkpoint), mark.position));
        }
        let snapshot = self
            .read_model
            .snapshots()
            .latest_usable(as_of)
            .await
            .map_err(snapshot_error)?;
        Ok(match snapshot {
            Some((mark, projections)) => (Arc::unwrap_or_clone(projections), mark.position),
            None => (Projections::default(), 0),
        })
    }

    /// Catches up, then saves a snapshot of the read model at the current position.
    pub async fn snapshot_now(&self) -> Result<Mark, CommandError> {
        self.read_model
            .snapshot_now()
            .await
            .map_err(read_model_error)
    }

    /// Decides and records one command as an admin acting as `defaults.actor` (the CLI, the
    /// demo, imports run by whoever holds the database). See [`Ledger::execute_as`].
    pub async fn execute(
        &self,
        command: LedgerCommand,
        meta: &CommandMeta,
        defaults: &MetaDefaults,
    ) -> Result<Receipt, CommandError> {
        let principal = Principal::admin(&defaults.actor);
        self.execute_as(&principal, command, meta, defaults).await
    }

    /// Decides and records one command sent by `principal`, if the authorization table lets it
    /// (checked against the same read model the command is decided on). Returns once its events
    /// are durable and folded into the read model. A refused command records nothing.
    ///
    /// A command id already recorded returns the first receipt when the command and the
    /// organisation are the same, and is refused otherwise, revealing nothing of the first.
    #[tracing::instrument(skip_all, fields(command = %command.name()))]
    pub async fn execute_as(
        &self,
        principal: &Principal,
        command: LedgerCommand,
        meta: &CommandMeta,
        defaults: &MetaDefaults,
    ) -> Result<Receipt, CommandError> {
        let metadata = resolve_metadata(&command, meta, defaults)?;
        auth::check_on_behalf(principal, &metadata)?;
        if let Some(receipt) = self.already_recorded(&metadata).await? {
            return Ok(receipt);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let plan = self.plan_one(principal, command.clone()).await?;
            let request = AppendRequest {
                metadata: metadata.clone(),
                streams: plan.streams.clone(),
            };
            match self.store.append(request).await {
                Ok(appended) => {
                    if !appended.duplicate {
                        self.remember(plan);
                    }
                    let receipt = Receipt::from_appended(metadata.command_id, appended);
                    if receipt.duplicate {
                        // Another request with this id won the race: the same rule applies.
                        same_command(&metadata, &receipt.events)?;
                    }
                    self.read_model
                        .catch_up_to(receipt.position_last())
                        .await
                        .map_err(|e| CommandError::Invalid(e.to_string()))?;
                    return Ok(receipt);
                }
                Err(AppendError::Conflict { stream_id, .. }) if attempt < CONFLICT_RETRIES_MAX => {
                    tracing::debug!(%stream_id, attempt, "conflict, deciding again");
                    self.cache.forget(&stream_id);
                    self.catch_up().await?;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// [`Ledger::execute_atomic_as`] for an admin acting as `defaults.actor`.
    pub async fn execute_atomic(
        &self,
        commands: Vec<(LedgerCommand, CommandMeta)>,
        defaults: &MetaDefaults,
    ) -> Result<Vec<Receipt>, (usize, CommandError)> {
        let principal = Principal::admin(&defaults.actor);
        self.execute_atomic_as(&principal, commands, defaults).await
    }

    /// Decides and records several commands all together or not at all. On refusal, returns the
    /// index of the first refused command and why; nothing is recorded.
    ///
    /// Commands whose id is already recorded (same command, same organisation) are not decided
    /// again: their receipts are the first ones, marked duplicate, so that a file applied twice
    /// records nothing new.
    pub async fn execute_atomic_as(
        &self,
        principal: &Principal,
        commands: Vec<(LedgerCommand, CommandMeta)>,
        defaults: &MetaDefaults,
    ) -> Result<Vec<Receipt>, (usize, CommandError)> {
        let mut receipts: Vec<Option<Receipt>> = Vec::with_capacity(commands.len());
        let mut fresh = Vec::new();
        let mut metadata = Vec::new();
        let mut fresh_index = Vec::new();
        for (index, (command, meta)) in commands.into_iter().enumerate() {
            let resolved = resolve_metadata(&command, &meta, defaults)
                .and_then(|m| auth::check_on_behalf(principal, &m).map(|()| m))
                .map_err(|e| (index, e))?;
            match self
                .already_recorded(&resolved)
                .await
                .map_err(|e| (index, e))?
            {
                Some(receipt) => receipts.push(Some(receipt)),
                None => {
                    receipts.push(None);
                    fresh.push(command);
                    metadata.push(resolved);
                    fresh_index.push(index);
                }
            }
        }
        if fresh.is_empty() {
            return Ok(receipts.into_iter().flatten().collect());
        }
        let to_index = |i: usize| fresh_index.get(i).copied().unwrap_or(0);
        let mut attempt = 0;
        let appended = loop {
            attempt += 1;
            let (requests, plans) = self
                .plan_group(principal, &fresh, &metadata)
                .await
                .map_err(|(i, e)| (to_index(i), e))?;
            match self.store.append_group(requests).await {
                Ok(appended) => {
                    for plan in plans {
                        self.remember(plan);
                    }
                    break appended;
                }
                Err(AppendError::Conflict { stream_id, .. }) if attempt < CONFLICT_RETRIES_MAX => {
                    self.cache.forget(&stream_id);
                    self.catch_up().await.map_err(|e| (0, e))?;
                }
                Err(error) => return Err((0, error.into())),
            }
        };
        for ((appended, metadata), index) in appended.into_iter().zip(&metadata).zip(&fresh_index) {
            let receipt = Receipt::from_appended(metadata.command_id, appended);
            if receipt.duplicate {
                same_command(metadata, &receipt.events).map_err(|e| (*index, e))?;
            }
            receipts[*index] = Some(receipt);
        }
        let receipts: Vec<Receipt> = receipts.into_iter().flatten().collect();
        let last = receipts
            .iter()
            .map(Receipt::position_last)
            .max()
            .unwrap_or(0);
        self.read_model
            .catch_up_to(last)
            .await
            .map_err(|e| (0, CommandError::Invalid(e.to_string())))?;
        Ok(receipts)
    }

    /// The first receipt of this command id, if it was recorded; refused when the first command
    /// differs or came from another organisation.
    async fn already_recorded(&self, metadata: &Metadata) -> Result<Option<Receipt>, CommandError> {
        let events = self.store.read_command(metadata.command_id).await?;
        if events.is_empty() {
            return Ok(None);
        }
        same_command(metadata, &events)?;
        Ok(Some(Receipt {
            command_id: metadata.command_id,
            events,
            duplicate: true,
        }))
    }

    async fn plan_one(
        &self,
        principal: &Principal,
        command: LedgerCommand,
    ) -> Result<Plan, CommandError> {
        let projections = self.projections().await?;
        auth::authorize(principal, &command, &projections)?;
        let states = StateView::new(&self.store, &self.cache);
        let ctx = Context {
            projections: &projections,
            states: &states,
            principal,
        };
        handlers::plan(&ctx, command).await
    }

    /// Plans each command against the states and projections left by the ones before it.
    async fn plan_group(
        &self,
        principal: &Principal,
        commands: &[LedgerCommand],
        metadata: &[Metadata],
    ) -> Result<(Vec<AppendRequest>, Vec<Plan>), (usize, CommandError)> {
        let mut scratch = self.projections().await.map_err(|e| (0, e))?.clone();
        let mut states = StateView::new(&self.store, &self.cache);
        let mut requests = Vec::with_capacity(commands.len());
        let mut plans = Vec::with_capacity(commands.len());
        for (index, (command, metadata)) in commands.iter().zip(metadata).enumerate() {
            auth::authorize(principal, command, &scratch).map_err(|e| (index, e))?;
            let plan = {
                let ctx = Context {
                    projections: &scratch,
                    states: &states,
                    principal,
                };
                handlers::plan(&ctx, command.clone())
                    .await
                    .map_err(|e| (index, e))?
            };
            stage_in(&mut scratch, &plan, metadata).map_err(|e| (index, e))?;
            states.overlay.extend(plan.states.iter().cloned());
            requests.push(AppendRequest {
                metadata: metadata.clone(),
                streams: plan.streams.clone(),
            });
            plans.push(plan);
        }
        Ok((requests, plans))
    }

    fn remember(&self, plan: Plan) {
        for (stream_id, state) in plan.states {
            self.cache.put(stream_id, state);
        }
    }
}

/// Folds a planned command into scratch projections as if recorded, so that the next command of
/// an atomic group sees it (positions are provisional and never stored).
fn stage_in(
    scratch: &mut Projections,
    plan: &Plan,
    metadata: &Metadata,
) -> Result<(), CommandError> {
    for stream in &plan.streams {
        for (offset, event) in stream.events.iter().enumerate() {
            let provisional = RecordedEvent {
                position: scratch.position + 1,
                event_id: Uuid::nil(),
                stream_type: stream.stream_type.clone(),
                stream_id: stream.stream_id.clone(),
                version: offset as i64 + 1,
                event_type: event.event_type.clone(),
                schema_version: event.schema_version,
                payload: event.payload.clone(),
                metadata: metadata.clone(),
                recorded_at: Utc::now(),
                prev_hash: String::new(),
                hash: String::new(),
            };
            scratch
                .apply(&provisional)
                .map_err(|e| CommandError::Invalid(e.to_string()))?;
        }
    }
    Ok(())
}

/// The metadata a command is recorded with: the caller's, its digest, and an effective date that
/// defaults to the command's own business date (a grant decided on 12 March takes effect on 12
/// March, whatever day it is recorded) and may not contradict it.
fn resolve_metadata(
    command: &LedgerCommand,
    meta: &CommandMeta,
    defaults: &MetaDefaults,
) -> Result<Metadata, CommandError> {
    let mut metadata = meta.resolve(defaults);
    // One serialisation for both the digest and the business date (this is the write path).
    let value = serde_json::to_value(command).map_err(|e| CommandError::Invalid(e.to_string()))?;
    metadata.command_digest = Some(digest_of(&value));
    if let Some(business) = engagements_domain::command::business_date_of(&value) {
        match meta.effective_date {
            None => metadata.effective_date = business,
            Some(stated) if stated != business => {
                return Err(CommandError::Invalid(format!(
                    "meta.effective_date {stated} contradicts the command's own date {business}: leave meta.effective_date out, the command's date is its effective date"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(metadata)
}

/// SHA-256 (hex) of a command's canonical JSON, as decoded (so that spacing and key order in the
/// request do not matter).
fn digest_of(value: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// A command id recorded before may be sent again only with the same command, by the same
/// organisation (on whose behalf it is recorded). Events recorded before digests existed are
/// compared by organisation only.
fn same_command(metadata: &Metadata, recorded: &[RecordedEvent]) -> Result<(), CommandError> {
    let Some(first) = recorded.first() else {
        return Ok(());
    };
    // The organisation whose act it is: below admin, a caller acts for its own only
    // (`auth::check_on_behalf`), so another organisation's id stays refused.
    let same_organisation =
        first.metadata.acting_for().organisation == metadata.acting_for().organisation;
    let same_body = match (&first.metadata.command_digest, &metadata.command_digest) {
        (Some(recorded), Some(sent)) => recorded == sent,
        _ => true,
    };
    if same_organisation && same_body {
        Ok(())
    } else {
        Err(CommandError::CommandIdReused(metadata.command_id))
    }
}

fn read_model_error(error: ReadModelError) -> CommandError {
    match error {
        ReadModelError::Store(error) | ReadModelError::Snapshot(SnapshotError::Store(error)) => {
            CommandError::Store(error)
        }
        other => CommandError::Invalid(other.to_string()),
    }
}

fn snapshot_error(error: SnapshotError) -> CommandError {
    match error {
        SnapshotError::Store(error) => CommandError::Store(error),
        other => CommandError::Invalid(other.to_string()),
    }
}
