//! An event as read back from the log: what every projection folds.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::event::DomainEvent;
use crate::metadata::Metadata;

/// An event read back from the log, with its metadata decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Global position: 1, 2, 3… in commit order.
    pub position: i64,
    pub event_id: Uuid,
    pub stream_type: String,
    pub stream_id: String,
    /// Version within the stream: 1, 2, 3…
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    /// The payload's canonical JSON, as stored and hashed.
    pub payload: String,
    pub metadata: Metadata,
    /// When the store recorded it (record time, never back-dated).
    pub recorded_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

/// A payload that does not decode into the event type its stream says.
#[derive(Debug, Clone, thiserror::Error)]
#[error("event at position {position} ({event_type}) does not decode: {reason}")]
pub struct DecodeError {
    pub position: i64,
    pub event_type: String,
    pub reason: String,
}

impl RecordedEvent {
    /// Deserialises the payload into a domain event.
    pub fn decode<E: DomainEvent>(&self) -> Result<E, DecodeError> {
        serde_json::from_str(&self.payload).map_err(|e| DecodeError {
            position: self.position,
            event_type: self.event_type.clone(),
            reason: e.to_string(),
        })
    }
}
