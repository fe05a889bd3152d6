//! The store's public face: open, append, read, subscribe, verify.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch, Mutex};
use tokio::task::JoinHandle;

use crate::backend::Backend;
use crate::error::{AppendError, StoreError};
use crate::model::{canonical_json, decode_row, AppendRequest, Appended, ChainHead, EventRow};
use crate::persons::LookupCache;
use crate::snapshot::{payload_sha256, NewSnapshot, SnapshotSaved, StoredSnapshot};
use crate::subscription::Subscription;
use crate::verify::{self, VerifyReport};
use crate::writer::{self, Outcome, Pending, PendingCommand};
use engagements_domain::RecordedEvent;

/// Limits on what one command may carry. A limit that is hit is an error, never a truncation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub events_per_command_max: usize,
    pub payload_bytes_max: usize,
    pub stream_id_chars_max: usize,
    /// Commands gathered in one transaction.
    pub batch_commands_max: usize,
    /// Commands waiting for the writer before callers are made to wait.
    pub queue_commands_max: usize,
    /// On PostgreSQL, plan the next batch while the previous one commits, under a lease on the
    /// chain (see `docs/adr/0002-scaling-writes.md`); off, one locked transaction per batch.
    pub pipeline: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            events_per_command_max: 10_000,
            payload_bytes_max: 256 * 1024,
            stream_id_chars_max: 200,
            batch_commands_max: 512,
            queue_commands_max: 8192,
            pipeline: true,
        }
    }
}

/// A handle on the ledger's log. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    url_redacted: String,
    limits: Limits,
    sender: Mutex<Option<mpsc::Sender<Pending>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    last_position: watch::Receiver<i64>,
    persons: LookupCache,
}

impl Store {
    /// Opens the ledger at `url` (`sqlite://PATH` or `postgres://…`), creating the schema if needed.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, Limits::default()).await
    }

    /// Opens with explicit limits.
    pub async fn open_with(url: &str, limits: Limits) -> Result<Store, StoreError> {
        let backend = Backend::connect(url).await?;
        Store::start(backend, url, limits).await
    }

    /// Opens an existing ledger without creating the database or changing its schema: a missing
    /// database is [`StoreError::NoLedger`], an outdated schema [`StoreError::SchemaOutdated`].
    /// For commands that must write nothing (reports, history, findings, verify).
    pub async fn open_existing(url: &str) -> Result<Store, StoreError> {
        let backend = Backend::connect_existing(url).await?;
        Store::start(backend, url, Limits::default()).await
    }

    async fn start(backend: Backend, url: &str, limits: Limits) -> Result<Store, StoreError> {
        let head = backend.head().await?;
        let (position_sender, position_receiver) =
            watch::channel(head.map(|h| h.position).unwrap_or(0));
        let (sender, receiver) = mpsc::channel(limits.queue_commands_max);
        let writer = tokio::spawn(writer::run(
            backend.clone(),
            receiver,
            position_sender,
            limits.batch_commands_max,
            limits.pipeline,
        ));
        tracing::info!(backend = backend.name(), "ledger opened");
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                url_redacted: redact(url),
                limits,
                sender: Mutex::new(Some(sender)),
                writer: Mutex::new(Some(writer)),
                last_position: position_receiver,
                persons: LookupCache::default(),
            }),
        })
    }

    /// The database behind the store (for the crate's other tables, e.g. API tokens).
    pub(crate) fn backend(&self) -> &Backend {
        &self.inner.backend
    }

    /// Recent name → person id lookups.
    pub(crate) fn person_cache(&self) -> &LookupCache {
        &self.inner.persons
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.inner.backend.name()
    }

    /// The database URL without its password.
    pub fn url(&self) -> &str {
        &self.inner.url_redacted
    }

    /// Appends one command's events atomically; returns once they are durable.
    pub async fn append(&self, request: AppendRequest) -> Result<Appended, AppendError> {
        let mut appended = self.append_group(vec![request]).await?;
        appended.pop().ok_or(AppendError::Empty)
    }

    /// Appends several commands in one transaction, all or nothing: if one conflicts, none is
    /// recorded. Used by atomic imports. Returns once they are durable.
    pub async fn append_group(
        &self,
        mut requests: Vec<AppendRequest>,
    ) -> Result<Vec<Appended>, AppendError> {
        if requests.is_empty() {
            return Err(AppendError::Empty);
        }
        // No person's name goes into the chain: only the pseudonymous id (crate::persons).
        for request in &mut requests {
            self.pseudonymise(&mut request.metadata)
                .await
                .map_err(|error| match error {
                    StoreError::Database(error) => AppendError::Storage(Arc::new(error)),
                    other => {
                        AppendError::Storage(Arc::new(sqlx::Error::Protocol(other.to_string())))
                    }
                })?;
        }
        let mut commands = Vec::with_capacity(requests.len());
        let mut metadata = Vec::with_capacity(requests.len());
        for request in requests {
            self.check_limits(&request)?;
            let metadata_json = canonical_json(&request.metadata).map_err(|e| {
                AppendError::LimitExceeded(format!("metadata does not serialise: {e}"))
            })?;
            metadata.push(request.metadata.clone());
            commands.push(PendingCommand {
                request,
                metadata_json,
            });
        }
        let (reply, answer) = oneshot::channel();
        let sender = self.inner.sender.lock().await.clone();
        let sender = sender.ok_or(AppendError::WriterStopped)?;
        sender
            .send(Pending { commands, reply })
            .await
            .map_err(|_| AppendError::WriterStopped)?;
        let outcomes = answer.await.map_err(|_| AppendError::WriterStopped)??;
        Ok(outcomes
            .into_iter()
            .zip(metadata)
            .map(|(outcome, metadata)| match outcome {
                Outcome::Written(rows) => Appended {
                    events: rows
                        .into_iter()
                        .map(|row| recorded_with(row, &metadata))
                        .collect(),
                    duplicate: false,
                },
                Outcome::Duplicate(rows) => Appended {
                    events: rows
                        .into_iter()
                        .filter_map(|row| decode_row(row).ok())
                        .collect(),
                    duplicate: true,
                },
            })
            .collect())
    }

    fn check_limits(&self, request: &AppendRequest) -> Result<(), AppendError> {
        let limits = &self.inner.limits;
        if request.event_count() == 0 {
            return Err(AppendError::Empty);
        }
        if request.event_count() > limits.events_per_command_max {
            return Err(AppendError::LimitExceeded(format!(
                "{} events in one command, at most {}",
                request.event_count(),
                limits.events_per_command_max
            )));
        }
        let mut streams = HashSet::new();
        for stream in &request.streams {
            if !streams.insert(&stream.stream_id) {
                return Err(AppendError::DuplicateStream(stream.stream_id.clone()));
            }
            if stream.stream_id.is_empty()
                || stream.stream_id.chars().count() > limits.stream_id_chars_max
            {
                return Err(AppendError::LimitExceeded(format!(
                    "stream id must have 1 to {} characters",
                    limits.stream_id_chars_max
                )));
            }
            for event in &stream.events {
                if event.payload.len() > limits.payload_bytes_max {
                    return Err(AppendError::LimitExceeded(format!(
                        "{} payload of {} bytes, at most {}",
                        event.event_type,
                        event.payload.len(),
                        limits.payload_bytes_max
                    )));
                }
            }
        }
        Ok(())
    }

    /// The events of one stream, in version order, up to `up_to_version` if given.
    pub async fn read_stream(
        &self,
        stream_id: &str,
        up_to_version: Option<i64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = self
            .inner
            .backend
            .read_stream(stream_id, up_to_version)
            .await?;
        rows.into_iter().map(decode_row).collect()
    }

    /// Like [`Store::read_stream`], but an empty stream is an error.
    pub async fn read_existing_stream(
        &self,
        stream_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let events = self.read_stream(stream_id, None).await?;
        if events.is_empty() {
            return Err(StoreError::UnknownStream(stream_id.to_string()));
        }
        Ok(events)
    }

    /// At most `limit` events from `from_position` on, in position order.
    pub async fn read_all(
        &self,
        from_position: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = self.read_rows(from_position, limit).await?;
        rows.into_iter().map(decode_row).collect()
    }

    /// Raw rows, exactly as stored (for verification and export).
    pub async fn read_rows(
        &self,
        from_position: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        Ok(self.inner.backend.read_range(from_position, limit).await?)
    }

    /// The events recorded by a command, empty if that command id was never recorded.
    pub async fn read_command(
        &self,
        command_id: uuid::Uuid,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = self
            .inner
            .backend
            .read_command(&command_id.to_string())
            .await?;
        rows.into_iter().map(decode_row).collect()
    }

    /// The current version of a stream, `None` if it has no event.
    pub async fn stream_version(&self, stream_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.inner.backend.stream_version(stream_id).await?)
    }

    /// The last event of the chain, `None` for an empty ledger.
    pub async fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        Ok(self.inner.backend.head().await?)
    }

    /// Follows the log from `from_position` on (this process's appends wake it at once;
    /// other processes' appends are seen by polling).
    pub fn subscribe(&self, from_position: i64) -> Subscription {
        Subscription::new(
            self.clone(),
            from_position,
            self.inner.last_position.clone(),
        )
    }

    /// Recomputes the whole chain; see [`VerifyReport`].
    pub async fn verify(&self, progress: impl FnMut(i64)) -> Result<VerifyReport, StoreError> {
        verify::walk(self, progress).await
    }

    /// Stores a projection snapshot bound to the chain: the hash of the event at `position` and
    /// the SHA-256 of `payload` are kept with it (see [`crate::snapshot`]). Insert-only: a second
    /// one of the same name at the same position is ignored.
    pub async fn save_snapshot(
        &self,
        name: &str,
        position: i64,
        payload: &str,
    ) -> Result<(), StoreError> {
        let snapshot = NewSnapshot {
            name,
            position,
            payload,
            payload_sha256: payload_sha256(payload),
            recorded_at: chrono::Utc::now().timestamp_micros(),
        };
        match self.inner.backend.save_snapshot(&snapshot).await? {
            SnapshotSaved::Saved | SnapshotSaved::AlreadyThere => Ok(()),
            SnapshotSaved::NoEventThere => Err(StoreError::SnapshotBeyondLog(position)),
        }
    }

    /// The latest snapshot named `name` taken at or before `position` whose binding to the chain
    /// holds (see [`StoredSnapshot::binding_problem`]). Rows that do not hold are skipped, each
    /// with a warning naming it.
    pub async fn latest_snapshot(
        &self,
        name: &str,
        position: i64,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let mut at_or_before = position;
        while at_or_before >= 1 {
            let Some(row) = self.snapshot_at_or_before(name, at_or_before).await? else {
                return Ok(None);
            };
            match row.binding_problem() {
                None => return Ok(Some((row.position, row.payload))),
                Some(problem) => {
                    tracing::warn!(
                        snapshot = %row.name,
                        position = row.position,
                        %problem,
                        "snapshot ignored"
                    );
                    at_or_before = row.position - 1;
                }
            }
        }
        Ok(None)
    }

    /// The latest row named `name` at or before `position`, as stored, whether or not its
    /// binding holds (for verification).
    pub async fn snapshot_at_or_before(
        &self,
        name: &str,
        position: i64,
    ) -> Result<Option<StoredSnapshot>, StoreError> {
        Ok(self
            .inner
            .backend
            .snapshot_at_or_before(name, position)
            .await?)
    }

    /// Every stored snapshot row, as (name, position), in position order.
    pub async fn snapshot_index(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(self.inner.backend.snapshot_index().await?)
    }

    /// Stops accepting appends, lets the writer finish what it holds, and closes the database.
    pub async fn shutdown(&self) {
        self.inner.sender.lock().await.take();
        if let Some(writer) = self.inner.writer.lock().await.take() {
            let _ = writer.await;
        }
        self.inner.backend.close().await;
    }
}

fn recorded_with(row: EventRow, metadata: &engagements_domain::Metadata) -> RecordedEvent {
    RecordedEvent {
        position: row.position,
        event_id: uuid::Uuid::parse_str(&row.event_id).unwrap_or_default(),
        stream_type: row.stream_type,
        stream_id: row.stream_id,
        version: row.version,
        event_type: row.event_type,
        schema_version: row.schema_version,
        payload: row.payload,
        metadata: metadata.clone(),
        recorded_at: chrono::DateTime::from_timestamp_micros(row.recorded_at).unwrap_or_default(),
        prev_hash: row.prev_hash,
        hash: row.hash,
    }
}

/// The URL with any password replaced, for logs and messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
