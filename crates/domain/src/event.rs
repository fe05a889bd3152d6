//! What every domain event tells the store about itself.

use serde::{de::DeserializeOwned, Serialize};

/// A domain event as the store sees it: a name, a schema version and a JSON payload.
///
/// Events are serialised with an internal `"type"` tag equal to [`DomainEvent::event_type`],
/// so a payload read back from the log deserialises without its row.
pub trait DomainEvent: Serialize + DeserializeOwned + Send + Sync {
    /// The stream type (aggregate name) the event belongs to.
    const STREAM_TYPE: &'static str;
    /// The version of the payload's shape; bumped when a field changes meaning or shape.
    const SCHEMA_VERSION: i32 = 1;
    /// The event's name, a fact in the past tense (e.g. `SubsidyGranted`).
    fn event_type(&self) -> &'static str;

    /// Rewrites a payload recorded under `schema_version` into the shape of `schema_version + 1`.
    ///
    /// The log is never rewritten: an event keeps the bytes (and the hash) it was recorded with,
    /// and is brought up to date each time it is read ([`crate::RecordedEvent::decode`] calls
    /// this once per version step). An event type that bumps [`DomainEvent::SCHEMA_VERSION`]
    /// overrides this; the default knows no older version.
    fn upcast(
        event_type: &str,
        schema_version: i32,
        payload: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let _ = payload;
        Err(format!(
            "no upcaster from version {schema_version} of {event_type} to version {}",
            schema_version + 1
        ))
    }
}

/// Names the variants of an internally tagged event enum, for [`DomainEvent::event_type`].
#[macro_export]
macro_rules! event_names {
    ($enum:ident { $($variant:ident),* $(,)? }) => {
        fn event_type(&self) -> &'static str {
            match self {
                $($enum::$variant { .. } => stringify!($variant),)*
            }
        }
    };
}
