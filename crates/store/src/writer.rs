//! The single writer: gathers concurrent appends into batches and commits each batch in one
//! transaction (group commit). A command is acknowledged only after its batch has committed.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::backend::Backend;
use crate::error::AppendError;
use crate::hash::{event_hash, GENESIS_HASH};
use crate::model::{AppendRequest, ChainHead, EventRow};

/// One command for the writer, with its metadata's canonical JSON computed by the caller (off
/// the writer's hot path).
pub(crate) struct PendingCommand {
    pub(crate) request: AppendRequest,
    pub(crate) metadata_json: String,
}

/// A group of commands waiting for the writer: recorded all together or not at all.
/// A plain append is a group of one.
pub(crate) struct Pending {
    pub(crate) commands: Vec<PendingCommand>,
    pub(crate) reply: oneshot::Sender<GroupOutcome>,
}

/// What happened to one group: each command's outcome, or why the whole group was refused.
pub(crate) type GroupOutcome = Result<Vec<Outcome>, AppendError>;

/// What happened to one command of a batch.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Written(Vec<EventRow>),
    Duplicate(Vec<EventRow>),
}

/// Runs until every sender is dropped: the pipelined writer on PostgreSQL (see
/// [`crate::pg_pipeline`]) unless `pipeline` is off, one transaction per batch otherwise.
pub(crate) async fn run(
    backend: Backend,
    receiver: mpsc::Receiver<Pending>,
    last_position: watch::Sender<i64>,
    batch_max_commands: usize,
    pipeline: bool,
) {
    match backend {
        Backend::Postgres(pool) if pipeline => {
            crate::pg_pipeline::run(pool, receiver, last_position, batch_max_commands).await
        }
        backend => run_serial(backend, receiver, last_position, batch_max_commands).await,
    }
}

/// One batch at a time: lock, read the head and the batch's lookups, insert, commit.
async fn run_serial(
    backend: Backend,
    mut receiver: mpsc::Receiver<Pending>,
    last_position: watch::Sender<i64>,
    batch_max_commands: usize,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(batch_max_commands);
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        gather(&mut receiver, &mut batch, batch_max_commands);
        let span = tracing::debug_span!("write_batch", commands = batch.len());
        let _entered = span.enter();
        match backend.write_batch(&batch).await {
            Ok(outcomes) => deliver(std::mem::take(&mut batch), outcomes, &last_position),
            Err(error) => fail(std::mem::take(&mut batch), error),
        }
    }
}

/// Adds to `batch` what is already waiting, up to `batch_max_commands` groups.
pub(crate) fn gather(
    receiver: &mut mpsc::Receiver<Pending>,
    batch: &mut Vec<Pending>,
    batch_max_commands: usize,
) {
    while batch.len() < batch_max_commands {
        match receiver.try_recv() {
            Ok(pending) => batch.push(pending),
            Err(_) => break,
        }
    }
}

/// Answers the callers of a recorded batch and moves the followers' position on.
pub(crate) fn deliver(
    batch: Vec<Pending>,
    outcomes: Vec<GroupOutcome>,
    last_position: &watch::Sender<i64>,
) {
    let mut position_last = None;
    for (pending, outcome) in batch.into_iter().zip(outcomes) {
        if let Ok(group) = &outcome {
            for written in group {
                if let Outcome::Written(rows) = written {
                    position_last = rows.last().map(|r| r.position).or(position_last);
                }
            }
        }
        // A caller that gave up waiting is not an error: its command is recorded.
        let _ = pending.reply.send(outcome);
    }
    if let Some(position) = position_last {
        last_position.send_replace(position);
    }
}

/// Answers the callers of a batch that was not recorded.
pub(crate) fn fail(batch: Vec<Pending>, error: sqlx::Error) {
    tracing::error!(%error, "batch failed; none of its commands was recorded");
    let shared = AppendError::from(error);
    for pending in batch {
        let _ = pending.reply.send(Err(shared.clone()));
    }
}

/// Decides, for a batch, which groups are written, which commands are duplicates and which
/// groups conflict, and builds the rows (positions, versions, timestamps, hash chain) of those
/// written.
///
/// A conflicting group is rejected alone: the other groups of the batch are written.
pub(crate) fn plan_batch(
    head: Option<ChainHead>,
    existing: Vec<EventRow>,
    versions: HashMap<String, i64>,
    batch: &[Pending],
    now_micros: i64,
) -> (Vec<EventRow>, Vec<GroupOutcome>) {
    let mut chain = Chain::new(head, existing, versions, now_micros);
    let mut rows = Vec::new();
    let mut outcomes = Vec::with_capacity(batch.len());
    for pending in batch {
        let saved = chain.save();
        let mut group = Vec::with_capacity(pending.commands.len());
        let mut conflict = None;
        for command in &pending.commands {
            match chain.plan_command(command) {
                Ok(outcome) => group.push(outcome),
                Err(error) => {
                    conflict = Some(error);
                    break;
                }
            }
        }
        match conflict {
            Some(error) => {
                chain.restore(saved);
                outcomes.push(Err(error));
            }
            None => {
                for outcome in &group {
                    if let Outcome::Written(written) = outcome {
                        rows.extend(written.iter().cloned());
                    }
                }
                outcomes.push(Ok(group));
            }
        }
    }
    (rows, outcomes)
}

/// The chain's head as the batch is planned.
struct Chain {
    position: i64,
    prev_hash: String,
    recorded_at: i64,
    versions: HashMap<String, i64>,
    rows_by_command: HashMap<String, Vec<EventRow>>,
}

/// What [`Chain::restore`] puts back when a group is rejected.
struct Saved {
    position: i64,
    prev_hash: String,
    versions: HashMap<String, i64>,
}

impl Chain {
    fn new(
        head: Option<ChainHead>,
        existing: Vec<EventRow>,
        versions: HashMap<String, i64>,
        now_micros: i64,
    ) -> Self {
        let mut rows_by_command: HashMap<String, Vec<EventRow>> = HashMap::new();
        for row in existing {
            rows_by_command
                .entry(row.command_id.clone())
                .or_default()
                .push(row);
        }
        let (position, prev_hash, head_recorded_at) = match head {
            Some(h) => (h.position, h.hash, h.recorded_at),
            None => (0, GENESIS_HASH.to_string(), i64::MIN),
        };
        Chain {
            position,
            prev_hash,
            // recorded_at never decreases along positions, even if the clock steps back.
            recorded_at: now_micros.max(head_recorded_at),
            versions,
            rows_by_command,
        }
    }

    fn save(&self) -> Saved {
        Saved {
            position: self.position,
            prev_hash: self.prev_hash.clone(),
            versions: self.versions.clone(),
        }
    }

    fn restore(&mut self, saved: Saved) {
        self.position = saved.position;
        self.prev_hash = saved.prev_hash;
        self.versions = saved.versions;
        self.rows_by_command
            .retain(|_, rows| rows.first().is_some_and(|r| r.position <= saved.position));
    }

    fn plan_command(&mut self, command: &PendingCommand) -> Result<Outcome, AppendError> {
        let request = &command.request;
        let command_id = request.metadata.command_id.to_string();
        if let Some(first) = self.rows_by_command.get(&command_id) {
            return Ok(Outcome::Duplicate(first.clone()));
        }
        if let Some(conflict) = first_conflict(request, &self.versions) {
            return Err(conflict);
        }
        let mut written = Vec::with_capacity(request.event_count());
        for stream in &request.streams {
            let mut version = self.versions.get(&stream.stream_id).copied().unwrap_or(0);
            for event in &stream.events {
                self.position += 1;
                version += 1;
                let mut row = EventRow {
                    position: self.position,
                    event_id: Uuid::now_v7().to_string(),
                    stream_type: stream.stream_type.clone(),
                    stream_id: stream.stream_id.clone(),
                    version,
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    command_id: command_id.clone(),
                    payload: event.payload.clone(),
                    metadata: command.metadata_json.clone(),
                    recorded_at: self.recorded_at,
                    prev_hash: std::mem::take(&mut self.prev_hash),
                    hash: String::new(),
                };
                row.hash = event_hash(&row);
                self.prev_hash = row.hash.clone();
                written.push(row);
            }
            self.versions.insert(stream.stream_id.clone(), version);
        }
        self.rows_by_command.insert(command_id, written.clone());
        Ok(Outcome::Written(written))
    }
}

fn first_conflict(request: &AppendRequest, versions: &HashMap<String, i64>) -> Option<AppendError> {
    request.streams.iter().find_map(|stream| {
        let actual = versions.get(&stream.stream_id).copied();
        (!stream.expected.accepts(actual)).then(|| AppendError::Conflict {
            stream_id: stream.stream_id.clone(),
            expected: stream.expected,
            actual,
        })
    })
}
