//! Relay offsets on both backends: start at 0, move forward only, stay within the log.

use chrono::NaiveDate;
use engagements_domain::{Actor, Metadata, Source};
use engagements_store::relay_offsets::RelayOffsetError;
use engagements_store::testing;
use engagements_store::{AppendRequest, ExpectedVersion, NewEvent, Store};

async fn store_with_events(url: &str, count: usize) -> Store {
    let store = Store::open(url).await.unwrap();
    let metadata = Metadata::new(
        Actor::new("Agent test", "cabbalr"),
        Source::Cli,
        NaiveDate::from_ymd_opt(2025, 3, 12).unwrap(),
    );
    let events = (0..count)
        .map(|n| NewEvent {
            event_type: "Ticked".into(),
            schema_version: 1,
            payload: format!(r#"{{"n":{n},"type":"Ticked"}}"#),
        })
        .collect();
    store
        .append(AppendRequest::single(
            metadata,
            "test",
            "test-1",
            ExpectedVersion::NoStream,
            events,
        ))
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn offsets_start_at_zero_and_move_forward_only() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let store = store_with_events(&db.url, 5).await;
        assert_eq!(store.relay_offset("amqp:a").await.unwrap(), 0);
        store.acknowledge_relay_offset("amqp:a", 3).await.unwrap();
        assert_eq!(store.relay_offset("amqp:a").await.unwrap(), 3);
        // Acknowledging the same position again is harmless.
        store.acknowledge_relay_offset("amqp:a", 3).await.unwrap();
        // Another relay keeps its own offset.
        assert_eq!(store.relay_offset("amqp:b").await.unwrap(), 0);

        let back = store
            .acknowledge_relay_offset("amqp:a", 2)
            .await
            .unwrap_err();
        assert!(matches!(back, RelayOffsetError::Backwards { .. }), "{back}");
        let beyond = store
            .acknowledge_relay_offset("amqp:a", 6)
            .await
            .unwrap_err();
        assert!(beyond.to_string().contains("the log ends at 5"), "{beyond}");
        let negative = store
            .acknowledge_relay_offset("amqp:a", -1)
            .await
            .unwrap_err();
        assert!(
            matches!(negative, RelayOffsetError::Negative { .. }),
            "{negative}"
        );
        let unnamed = store.relay_offset("").await.unwrap_err();
        assert!(matches!(unnamed, RelayOffsetError::BadName(_)), "{unnamed}");
        assert_eq!(store.relay_offset("amqp:a").await.unwrap(), 3);

        store.acknowledge_relay_offset("amqp:a", 5).await.unwrap();
        store.shutdown().await;
        // The offset survives a restart.
        let reopened = Store::open(&db.url).await.unwrap();
        assert_eq!(reopened.relay_offset("amqp:a").await.unwrap(), 5);
        reopened.shutdown().await;
    }
}
