//! The single writer: gathers concurrent appends into batches and commits each batch in one
//! transaction (group commit). A command is acknowledged only after its batch has committed.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::backend::Backend;
use crate::error::AppendError;
use crate::hash::{event_hash, GENESIS_HASH};
use crate::model::{AppendRequest, ChainHead, EventRow};

/// An append waiting for the writer.
pub(crate) struct Pending {
    pub(crate) request: AppendRequest,
    /// The metadata's canonical JSON, computed by the caller (off the writer's hot path).
    pub(crate) metadata_json: String,
    pub(crate) reply: oneshot::Sender<Result<Outcome, AppendError>>,
}

/// What happened to one command of a batch.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Written(Vec<EventRow>),
    Duplicate(Vec<EventRow>),
    Rejected(AppendError),
}

/// Runs until every sender is dropped.
pub(crate) async fn run(
    backend: Backend,
    mut receiver: mpsc::Receiver<Pending>,
    last_position: watch::Sender<i64>,
    batch_max_commands: usize,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(batch_max_commands);
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        while batch.len() < batch_max_commands {
            match receiver.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        let span = tracing::debug_span!("write_batch", commands = batch.len());
        let _entered = span.enter();
        match backend.write_batch(&batch).await {
            Ok(outcomes) => {
                let mut position_last = None;
                for (pending, outcome) in batch.drain(..).zip(outcomes) {
                    if let Outcome::Written(rows) = &outcome {
                        position_last = rows.last().map(|r| r.position).or(position_last);
                    }
                    // A caller that gave up waiting is not an error: its command is recorded.
                    let _ = pending.reply.send(Ok(outcome));
                }
                if let Some(position) = position_last {
                    last_position.send_replace(position);
                }
            }
            Err(error) => {
                tracing::error!(%error, "batch failed; none of its commands was recorded");
                let shared = AppendError::from(error);
                for pending in batch.drain(..) {
                    let _ = pending.reply.send(Err(shared.clone()));
                }
            }
        }
    }
}

/// Decides, for a batch, which commands are written, which are duplicates and which conflict,
/// and builds the rows (positions, versions, timestamps, hash chain) of those written.
///
/// A conflicting command is rejected alone: the other commands of the batch are written.
pub(crate) fn plan_batch(
    head: Option<ChainHead>,
    existing: Vec<EventRow>,
    mut versions: HashMap<String, i64>,
    batch: &[Pending],
    now_micros: i64,
) -> (Vec<EventRow>, Vec<Outcome>) {
    let mut rows_by_command: HashMap<String, Vec<EventRow>> = HashMap::new();
    for row in existing {
        rows_by_command
            .entry(row.command_id.clone())
            .or_default()
            .push(row);
    }
    let (mut position, mut prev_hash, head_recorded_at) = match head {
        Some(h) => (h.position, h.hash, h.recorded_at),
        None => (0, GENESIS_HASH.to_string(), i64::MIN),
    };
    // recorded_at never decreases along positions, even if the clock steps back.
    let recorded_at = now_micros.max(head_recorded_at);
    let mut rows = Vec::new();
    let mut outcomes = Vec::with_capacity(batch.len());
    for pending in batch {
        let request = &pending.request;
        let command_id = request.metadata.command_id.to_string();
        if let Some(first) = rows_by_command.get(&command_id) {
            outcomes.push(Outcome::Duplicate(first.clone()));
            continue;
        }
        if let Some(conflict) = first_conflict(request, &versions) {
            outcomes.push(Outcome::Rejected(conflict));
            continue;
        }
        let mut written = Vec::with_capacity(request.event_count());
        for stream in &request.streams {
            let mut version = versions.get(&stream.stream_id).copied().unwrap_or(0);
            for event in &stream.events {
                position += 1;
                version += 1;
                let mut row = EventRow {
                    position,
                    event_id: Uuid::now_v7().to_string(),
                    stream_type: stream.stream_type.clone(),
                    stream_id: stream.stream_id.clone(),
                    version,
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    command_id: command_id.clone(),
                    payload: event.payload.clone(),
                    metadata: pending.metadata_json.clone(),
                    recorded_at,
                    prev_hash: std::mem::take(&mut prev_hash),
                    hash: String::new(),
                };
                row.hash = event_hash(&row);
                prev_hash = row.hash.clone();
                written.push(row);
            }
            versions.insert(stream.stream_id.clone(), version);
        }
        rows.extend(written.iter().cloned());
        rows_by_command.insert(command_id, written.clone());
        outcomes.push(Outcome::Written(written));
    }
    (rows, outcomes)
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
