//! The hash chain's canonical encoding.
//!
//! `hash(n) = SHA-256(encoding(n))`, hex, lowercase, where `encoding(n)` is the ASCII tag
//! `engagements/event/v1` followed by these fields, each written as its length in bytes
//! (8 bytes, big-endian) then its UTF-8 bytes:
//!
//! 1. `prev_hash` (hex of event n-1's hash; 64 zeros for position 1)
//! 2. `position` (decimal)
//! 3. `event_id` (hyphenated lowercase UUID)
//! 4. `stream_type`
//! 5. `stream_id`
//! 6. `version` (decimal)
//! 7. `event_type`
//! 8. `schema_version` (decimal)
//! 9. `command_id`
//! 10. `recorded_at` (decimal microseconds since the Unix epoch, UTC)
//! 11. `payload` (the stored JSON text, byte for byte)
//! 12. `metadata` (the stored JSON text, byte for byte)
//!
//! Length prefixes make the encoding unambiguous: no two different rows encode the same.

use sha2::{Digest, Sha256};

use crate::model::EventRow;

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const TAG: &[u8] = b"engagements/event/v1";

/// The hash of a row given its fields and `prev_hash` (the row's own `hash` is ignored).
pub fn event_hash(row: &EventRow) -> String {
    let mut hasher = Sha256::new();
    hasher.update(TAG);
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(row.prev_hash.as_bytes());
    field(row.position.to_string().as_bytes());
    field(row.event_id.as_bytes());
    field(row.stream_type.as_bytes());
    field(row.stream_id.as_bytes());
    field(row.version.to_string().as_bytes());
    field(row.event_type.as_bytes());
    field(row.schema_version.to_string().as_bytes());
    field(row.command_id.as_bytes());
    field(row.recorded_at.to_string().as_bytes());
    field(row.payload.as_bytes());
    field(row.metadata.as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> EventRow {
        EventRow {
            position: 1,
            event_id: "0190f2a0-0000-7000-8000-000000000001".into(),
            stream_type: "porteur".into(),
            stream_id: "porteur-1".into(),
            version: 1,
            event_type: "PorteurRegistered".into(),
            schema_version: 1,
            command_id: "c1".into(),
            payload: r#"{"a":1}"#.into(),
            metadata: "{}".into(),
            recorded_at: 1_700_000_000_000_000,
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = event_hash(&row());
        let mut variants = Vec::new();
        let mut r = row();
        r.position = 2;
        variants.push(r);
        let mut r = row();
        r.payload = r#"{"a":2}"#.into();
        variants.push(r);
        let mut r = row();
        r.recorded_at += 1;
        variants.push(r);
        let mut r = row();
        r.stream_id = "porteur-2".into();
        variants.push(r);
        let mut r = row();
        r.metadata = "{ }".into();
        variants.push(r);
        for v in variants {
            assert_ne!(event_hash(&v), base);
        }
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = row();
        a.stream_type = "por".into();
        a.stream_id = "teurporteur-1".into();
        let mut b = row();
        b.stream_type = "porteur".into();
        b.stream_id = "porteur-1".into();
        assert_ne!(event_hash(&a), event_hash(&b));
    }
}
