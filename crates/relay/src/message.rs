//! How one event of the log becomes one AMQP message.

use engagements_store::RecordedEvent;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::BasicProperties;
use serde::Serialize;
use serde_json::value::RawValue;

/// AMQP delivery mode 2: the broker writes the message to disk (if its queue is durable).
const DELIVERY_PERSISTENT: u8 = 2;

/// The message body: the event with its metadata, the payload embedded as stored (the exact bytes
/// the hash covers).
#[derive(Serialize)]
struct Body<'a> {
    position: i64,
    event_id: String,
    stream_type: &'a str,
    stream_id: &'a str,
    version: i64,
    event_type: &'a str,
    schema_version: i32,
    recorded_at: String,
    payload: &'a RawValue,
    metadata: &'a engagements_domain::Metadata,
    prev_hash: &'a str,
    hash: &'a str,
}

/// The JSON body of the message for `event`.
pub fn message_body(event: &RecordedEvent) -> Result<String, serde_json::Error> {
    let payload: &RawValue = serde_json::from_str(&event.payload)?;
    serde_json::to_string(&Body {
        position: event.position,
        event_id: event.event_id.to_string(),
        stream_type: &event.stream_type,
        stream_id: &event.stream_id,
        version: event.version,
        event_type: &event.event_type,
        schema_version: event.schema_version,
        recorded_at: event.recorded_at.to_rfc3339(),
        payload,
        metadata: &event.metadata,
        prev_hash: &event.prev_hash,
        hash: &event.hash,
    })
}

/// `<stream_type>.<event_type>`, e.g. `dossier.SubsidyGranted`, for topic bindings.
pub fn routing_key(event: &RecordedEvent) -> String {
    format!("{}.{}", event.stream_type, event.event_type)
}

/// The headers a consumer can filter or de-duplicate on without parsing the body.
pub fn message_headers(event: &RecordedEvent) -> FieldTable {
    let mut headers = FieldTable::default();
    let text = |value: &str| AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()));
    headers.insert("position".into(), AMQPValue::LongLongInt(event.position));
    headers.insert("stream_type".into(), text(&event.stream_type));
    headers.insert("stream_id".into(), text(&event.stream_id));
    headers.insert("version".into(), AMQPValue::LongLongInt(event.version));
    headers.insert("event_type".into(), text(&event.event_type));
    headers.insert(
        "schema_version".into(),
        AMQPValue::LongInt(event.schema_version),
    );
    headers.insert("hash".into(), text(&event.hash));
    headers.insert("prev_hash".into(), text(&event.prev_hash));
    headers
}

/// Persistent JSON message whose id is the position.
pub(crate) fn properties(event: &RecordedEvent) -> BasicProperties {
    BasicProperties::default()
        .with_message_id(ShortString::from(event.position.to_string()))
        .with_content_type("application/json".into())
        .with_content_encoding("utf-8".into())
        .with_delivery_mode(DELIVERY_PERSISTENT)
        .with_type(ShortString::from(event.event_type.clone()))
        .with_app_id("engagements".into())
        .with_timestamp(event.recorded_at.timestamp().max(0) as u64)
        .with_headers(message_headers(event))
}
