//! A log built by hand for the projections' tests: the projections never look further than the
//! stream type and the payload of an event.

use chrono::{NaiveDate, Utc};
use engagements_domain::{Actor, DomainEvent, Metadata, RecordedEvent, Source};
use uuid::Uuid;

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Events in position order, each its stream's first (versions are not looked at).
#[derive(Default)]
pub(crate) struct Log {
    pub(crate) events: Vec<RecordedEvent>,
}

impl Log {
    pub(crate) fn push<E: DomainEvent>(&mut self, stream_id: &str, event: E) {
        let position = self.events.len() as i64 + 1;
        self.events.push(RecordedEvent {
            position,
            event_id: Uuid::now_v7(),
            stream_type: E::STREAM_TYPE.to_string(),
            stream_id: stream_id.to_string(),
            version: 1,
            event_type: event.event_type().to_string(),
            schema_version: 1,
            payload: serde_json::to_string(&event).unwrap(),
            metadata: Metadata::new(Actor::system(), Source::System, date(2025, 1, 1)),
            recorded_at: Utc::now(),
            prev_hash: String::new(),
            hash: String::new(),
        });
    }
}
