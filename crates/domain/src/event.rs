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
