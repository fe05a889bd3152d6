//! Events recorded under an older schema version are upcast when read, on both backends, while
//! the stored bytes (and so the hash chain) stay as they were recorded.

use chrono::NaiveDate;
use engagements_domain::{Actor, DomainEvent, Metadata, Source};
use engagements_store::testing;
use engagements_store::{AppendRequest, ExpectedVersion, NewEvent, Store};
use serde::{Deserialize, Serialize};

/// Version 1 had `{"type":"NoteWritten","body":"…"}`; version 2 renamed `body` to `text` and
/// added `language`, which every version-1 note lacked (they were all French).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum NoteEvent {
    NoteWritten { text: String, language: String },
}

impl DomainEvent for NoteEvent {
    const STREAM_TYPE: &'static str = "note";
    const SCHEMA_VERSION: i32 = 2;
    engagements_domain::event_names!(NoteEvent { NoteWritten });

    fn upcast(
        event_type: &str,
        schema_version: i32,
        mut payload: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        match (event_type, schema_version) {
            ("NoteWritten", 1) => {
                let object = payload.as_object_mut().ok_or("payload is not an object")?;
                let body = object.remove("body").ok_or("version 1 has a body")?;
                object.insert("text".into(), body);
                object.insert("language".into(), "fr".into());
                Ok(payload)
            }
            _ => Err(format!("no upcaster for {event_type} v{schema_version}")),
        }
    }
}

fn metadata() -> Metadata {
    Metadata::new(
        Actor::new("Agent test", "cabbalr"),
        Source::Cli,
        NaiveDate::from_ymd_opt(2025, 3, 12).unwrap(),
    )
}

#[tokio::test]
async fn an_event_stored_under_version_1_reads_as_version_2() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let store = Store::open(&db.url).await.unwrap();
        let version_1 = NewEvent {
            event_type: "NoteWritten".into(),
            schema_version: 1,
            payload: r#"{"body":"Réunion du comité (fictive)","type":"NoteWritten"}"#.into(),
        };
        let version_2 = NewEvent::from_event(&NoteEvent::NoteWritten {
            text: "Second note".into(),
            language: "en".into(),
        })
        .unwrap();
        assert_eq!(version_2.schema_version, 2);
        store
            .append(AppendRequest::single(
                metadata(),
                "note",
                "note-1",
                ExpectedVersion::NoStream,
                vec![version_1.clone(), version_2],
            ))
            .await
            .unwrap();

        let events = store.read_stream("note-1", None).await.unwrap();
        assert_eq!(events[0].schema_version, 1);
        assert_eq!(
            events[0].payload, version_1.payload,
            "stored bytes are untouched"
        );
        assert_eq!(
            events[0].decode::<NoteEvent>().unwrap(),
            NoteEvent::NoteWritten {
                text: "Réunion du comité (fictive)".into(),
                language: "fr".into()
            }
        );
        assert_eq!(
            events[1].decode::<NoteEvent>().unwrap(),
            NoteEvent::NoteWritten {
                text: "Second note".into(),
                language: "en".into()
            }
        );
        assert!(store.verify(|_| {}).await.unwrap().problem.is_none());

        // A version from the future is refused with a clear message, not misread.
        let mut future = events[1].clone();
        future.schema_version = 3;
        let error = future.decode::<NoteEvent>().unwrap_err();
        assert!(error.to_string().contains("upgrade it"), "{error}");
        store.shutdown().await;
    }
}
