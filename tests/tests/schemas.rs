//! Every event the demo records and every message the relay would publish for it validates
//! against the checked-in JSON Schemas (`schemas/events/`, `schemas/relay/`): what another system
//! reads from the ledger is what the schemas promise.

use std::path::Path;

use engagements_e2e::{run_ok, testing};
use engagements_relay::message::message_body;
use engagements_store::Store;
use jsonschema::{Registry, Resource, Validator};
use serde_json::Value;

fn schema(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn event_schema_names() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/events");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".schema.json"))
        .collect();
    names.sort();
    names
}

fn errors(validator: &Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_demo_event_and_relay_message_matches_its_schema() {
    let db = testing::sqlite();
    run_ok(&db, &["demo"]);
    let store = Store::open_existing(&db.url).await.unwrap();

    let events: Vec<(String, Value)> = event_schema_names()
        .into_iter()
        .map(|name| {
            let value = schema(&format!("events/{name}"));
            let id = value["$id"].as_str().unwrap().to_string();
            (id, value)
        })
        .collect();
    let registry = Registry::new()
        .extend(
            events
                .iter()
                .map(|(id, value)| (id.as_str(), Resource::from_contents(value.clone()))),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let relay = jsonschema::options()
        .with_registry(&registry)
        .build(&schema("relay/message.schema.json"))
        .unwrap();
    let by_stream: Vec<(String, Validator)> = events
        .iter()
        .map(|(_, value)| {
            let stream = value["x-stream-type"].as_str().unwrap().to_string();
            (stream, jsonschema::draft202012::new(value).unwrap())
        })
        .collect();

    let mut checked = 0;
    let mut position = 1;
    loop {
        let batch = store.read_all(position, 1000).await.unwrap();
        let Some(last) = batch.last() else { break };
        position = last.position + 1;
        for event in &batch {
            let (_, validator) = by_stream
                .iter()
                .find(|(stream, _)| *stream == event.stream_type)
                .unwrap_or_else(|| panic!("no schema for stream {}", event.stream_type));
            let payload: Value = serde_json::from_str(&event.payload).unwrap();
            let problems = errors(validator, &payload);
            assert!(
                problems.is_empty(),
                "event {} ({}): {problems:?}",
                event.position,
                event.event_type
            );
            let message: Value = serde_json::from_str(&message_body(event).unwrap()).unwrap();
            let problems = errors(&relay, &message);
            assert!(
                problems.is_empty(),
                "relay message of {}: {problems:?}",
                event.position
            );
            checked += 1;
        }
    }
    assert!(
        checked > 1000,
        "the demo records more than {checked} events"
    );

    // The relay's schema checks the payload against its stream: a grant relabelled as a
    // refusal, or an amount written as a number, is refused.
    let granted = store
        .read_all(1, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.event_type == "SubsidyGranted")
        .expect("the demo grants subsidies");
    let mut message: Value = serde_json::from_str(&message_body(&granted).unwrap()).unwrap();
    message["payload"]["type"] = Value::from("SubsidyRefused");
    assert!(!relay.is_valid(&message));
    let mut message: Value = serde_json::from_str(&message_body(&granted).unwrap()).unwrap();
    message["payload"]["amount"] = Value::from(1000);
    assert!(!relay.is_valid(&message));
    let mut message: Value = serde_json::from_str(&message_body(&granted).unwrap()).unwrap();
    message["hash"] = Value::from("not a hash");
    assert!(!relay.is_valid(&message));
}
