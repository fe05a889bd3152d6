//! What goes into the store and what comes out of it.

use chrono::DateTime;
use engagements_domain::event::DomainEvent;
use engagements_domain::{Metadata, RecordedEvent};
use serde::Serialize;
use uuid::Uuid;

use crate::error::StoreError;

/// What a command expects of a stream's current version (optimistic concurrency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version.
    Exact(i64),
}

impl ExpectedVersion {
    /// `NoStream` for version 0, `Exact(v)` otherwise.
    pub fn from_version(version: i64) -> Self {
        if version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(version)
        }
    }

    pub(crate) fn accepts(self, current: Option<i64>) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current.is_none(),
            ExpectedVersion::Exact(v) => current == Some(v),
        }
    }
}

/// An event to append, already serialised to canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: i32,
    /// Canonical JSON: compact, object keys sorted.
    pub payload: String,
}

impl NewEvent {
    /// Serialises a domain event into its canonical JSON payload.
    pub fn from_event<E: DomainEvent>(event: &E) -> Result<Self, StoreError> {
        Ok(NewEvent {
            event_type: event.event_type().to_string(),
            schema_version: E::SCHEMA_VERSION,
            payload: canonical_json(event)?,
        })
    }
}

/// Compact JSON with object keys sorted (serde_json's map is ordered by key).
pub(crate) fn canonical_json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    serde_json::to_string(&value)
}

/// Events for one stream within a command.
#[derive(Debug, Clone)]
pub struct StreamAppend {
    pub stream_type: String,
    pub stream_id: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// One command's events, appended atomically to one or more streams.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub metadata: Metadata,
    pub streams: Vec<StreamAppend>,
}

impl AppendRequest {
    /// One stream's events.
    pub fn single(
        metadata: Metadata,
        stream_type: impl Into<String>,
        stream_id: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Self {
        AppendRequest {
            metadata,
            streams: vec![StreamAppend {
                stream_type: stream_type.into(),
                stream_id: stream_id.into(),
                expected,
                events,
            }],
        }
    }

    pub(crate) fn event_count(&self) -> usize {
        self.streams.iter().map(|s| s.events.len()).sum()
    }
}

/// The outcome of an accepted append.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The recorded events of this command (of its first execution, for a duplicate).
    pub events: Vec<RecordedEvent>,
    /// True when the command id had already been recorded: nothing new was written.
    pub duplicate: bool,
}

impl Appended {
    pub fn last_position(&self) -> i64 {
        self.events.last().map(|e| e.position).unwrap_or(0)
    }
}

/// A row of the log exactly as stored: what the hash chain covers.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub position: i64,
    pub event_id: String,
    pub stream_type: String,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub command_id: String,
    pub payload: String,
    pub metadata: String,
    pub recorded_at: i64,
    pub prev_hash: String,
    pub hash: String,
}

/// Decodes a stored row; a row that does not decode is reported with its position.
pub fn decode_row(row: EventRow) -> Result<RecordedEvent, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        position: row.position,
        reason,
    };
    let event_id = Uuid::parse_str(&row.event_id).map_err(|e| corrupt(e.to_string()))?;
    let metadata: Metadata =
        serde_json::from_str(&row.metadata).map_err(|e| corrupt(format!("metadata: {e}")))?;
    let recorded_at = DateTime::from_timestamp_micros(row.recorded_at)
        .ok_or_else(|| corrupt("recorded_at out of range".into()))?;
    Ok(RecordedEvent {
        position: row.position,
        event_id,
        stream_type: row.stream_type,
        stream_id: row.stream_id,
        version: row.version,
        event_type: row.event_type,
        schema_version: row.schema_version,
        payload: row.payload,
        metadata,
        recorded_at,
        prev_hash: row.prev_hash,
        hash: row.hash,
    })
}

/// The last event of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub position: i64,
    pub hash: String,
    pub recorded_at: i64,
}
