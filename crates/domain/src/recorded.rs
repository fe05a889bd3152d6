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
    /// Deserialises the payload into a domain event, upcasting it first when it was recorded
    /// under an older schema version (see [`DomainEvent::upcast`]).
    pub fn decode<E: DomainEvent>(&self) -> Result<E, DecodeError> {
        let error = |reason: String| DecodeError {
            position: self.position,
            event_type: self.event_type.clone(),
            reason,
        };
        if self.schema_version == E::SCHEMA_VERSION {
            return serde_json::from_str(&self.payload).map_err(|e| error(e.to_string()));
        }
        if self.schema_version > E::SCHEMA_VERSION || self.schema_version < 1 {
            return Err(error(format!(
                "recorded with schema version {}, this program reads versions 1 to {}: upgrade it",
                self.schema_version,
                E::SCHEMA_VERSION
            )));
        }
        let mut value: serde_json::Value =
            serde_json::from_str(&self.payload).map_err(|e| error(e.to_string()))?;
        for version in self.schema_version..E::SCHEMA_VERSION {
            value = E::upcast(&self.event_type, version, value).map_err(error)?;
        }
        serde_json::from_value(value).map_err(|e| error(e.to_string()))
    }
}
