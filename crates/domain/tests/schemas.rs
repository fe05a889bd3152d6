//! The JSON Schemas of every command and event, generated from the Rust types and checked in
//! under `schemas/commands/` and `schemas/events/`, so that other systems can validate what they
//! send to the ledger and what they receive from its feed without reading Rust.
//!
//! This test fails when a checked-in schema differs from what the types say now. To regenerate:
//! `UPDATE_SCHEMAS=1 cargo test -p engagements-domain --test schemas`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use engagements_domain::comite::{ComiteCommand, ComiteEvent};
use engagements_domain::commitment::contribution::{ContributionCommand, ContributionEvent};
use engagements_domain::commitment::indicator::{IndicatorCommand, IndicatorEvent};
use engagements_domain::commitment::{CommitmentCommand, CommitmentEvent};
use engagements_domain::cpo::{CpoCommand, CpoEvent};
use engagements_domain::dossier::{DossierCommand, DossierEvent};
use engagements_domain::envelope::{EnvelopeCommand, EnvelopeEvent};
use engagements_domain::json_schema::{close, SchemaKind};
use engagements_domain::porteur::{Porteur, PorteurCommand, PorteurEvent, PorteurState};
use engagements_domain::publication::{PublicationCommand, PublicationEvent};
use engagements_domain::referential::{ContractCommand, ContractEvent};
use engagements_domain::tfpb::{
    TfpbConventionCommand, TfpbConventionEvent, TfpbProgrammeCommand, TfpbProgrammeEvent,
};
use engagements_domain::{Amount, DomainEvent, Metadata};
use schemars::JsonSchema;
use serde_json::{json, Value};

const BASE_ID: &str = "https://engagements.example/schemas";

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// The schema of one family's commands, as `engagements apply` reads them (without `meta`).
fn command_schema<C: JsonSchema>(family: &str) -> (String, Value) {
    let mut schema = serde_json::to_value(schemars::schema_for!(C)).expect("a schema is JSON");
    close(&mut schema, SchemaKind::Command);
    let object = schema.as_object_mut().expect("a schema is an object");
    object.insert(
        "$id".into(),
        json!(format!("{BASE_ID}/commands/{family}.schema.json")),
    );
    object.insert(
        "title".into(),
        json!(format!("Commands of the {family} family")),
    );
    (format!("commands/{family}.schema.json"), schema)
}

/// The schema of one stream type's event payloads, at the version the ledger writes now.
/// Older versions are upcast when read, so a reader of the feed only needs the current one.
fn event_schema<E: DomainEvent + JsonSchema>() -> (String, Value) {
    let stream = E::STREAM_TYPE;
    let mut schema = serde_json::to_value(schemars::schema_for!(E)).expect("a schema is JSON");
    close(&mut schema, SchemaKind::Event);
    let object = schema.as_object_mut().expect("a schema is an object");
    object.insert(
        "$id".into(),
        json!(format!("{BASE_ID}/events/{stream}.schema.json")),
    );
    object.insert(
        "title".into(),
        json!(format!(
            "Events of the {stream} stream, payload version {}",
            E::SCHEMA_VERSION
        )),
    );
    object.insert("x-stream-type".into(), json!(stream));
    object.insert("x-schema-version".into(), json!(E::SCHEMA_VERSION));
    (format!("events/{stream}.schema.json"), schema)
}

/// The stream types of the ledger, each with the schema of its payloads.
const STREAM_TYPES: &[&str] = &[
    PorteurEvent::STREAM_TYPE,
    DossierEvent::STREAM_TYPE,
    EnvelopeEvent::STREAM_TYPE,
    CpoEvent::STREAM_TYPE,
    ContractEvent::STREAM_TYPE,
    CommitmentEvent::STREAM_TYPE,
    ContributionEvent::STREAM_TYPE,
    IndicatorEvent::STREAM_TYPE,
    TfpbConventionEvent::STREAM_TYPE,
    TfpbProgrammeEvent::STREAM_TYPE,
    PublicationEvent::STREAM_TYPE,
    ComiteEvent::STREAM_TYPE,
];

/// The body of a relay message, as `engagements_relay::message::message_body` writes it: one
/// event of the log with its metadata and chain hashes.
#[allow(dead_code)] // only its schema is used
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct RelayMessage {
    /// Position in the log, from 1.
    position: i64,
    event_id: uuid::Uuid,
    stream_type: String,
    stream_id: String,
    /// Version of the event within its stream, from 1.
    version: i64,
    /// The payload's `type`, e.g. `SubsidyGranted`.
    event_type: String,
    /// Version of the payload's shape (see `x-schema-version` of the event schemas).
    schema_version: i32,
    /// When the event was recorded (RFC 3339).
    recorded_at: chrono::DateTime<chrono::Utc>,
    /// The event's payload, exactly as stored and hashed.
    payload: serde_json::Map<String, Value>,
    metadata: Metadata,
    /// Hash of the previous event (64 zeros before the first).
    prev_hash: String,
    /// SHA-256 (hex) of this event, chained to `prev_hash`.
    hash: String,
}

/// The schema of a relay message's body; its payload is checked against its stream's schema.
fn relay_message_schema() -> (String, Value) {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(RelayMessage)).expect("a schema is JSON");
    close(&mut schema, SchemaKind::Event);
    let properties = &mut schema["properties"];
    properties["position"]["minimum"] = json!(1);
    properties["version"]["minimum"] = json!(1);
    properties["stream_type"]["enum"] = json!(STREAM_TYPES);
    properties["prev_hash"]["pattern"] = json!("^[0-9a-f]{64}$");
    properties["hash"]["pattern"] = json!("^[0-9a-f]{64}$");
    let by_stream: Vec<Value> = STREAM_TYPES
        .iter()
        .map(|stream| {
            json!({
                "if": {"properties": {"stream_type": {"const": stream}}},
                "then": {"properties": {"payload": {
                    "$ref": format!("{BASE_ID}/events/{stream}.schema.json")
                }}}
            })
        })
        .collect();
    let object = schema.as_object_mut().expect("a schema is an object");
    object.insert("allOf".into(), json!(by_stream));
    object.insert(
        "$id".into(),
        json!(format!("{BASE_ID}/relay/message.schema.json")),
    );
    object.insert(
        "title".into(),
        json!("Body of a message published by the relay: one event of the log"),
    );
    ("relay/message.schema.json".into(), schema)
}

fn all_schemas() -> Vec<(String, Value)> {
    vec![
        relay_message_schema(),
        command_schema::<PorteurCommand>("porteur"),
        command_schema::<DossierCommand>("dossier"),
        command_schema::<EnvelopeCommand>("envelope"),
        command_schema::<CpoCommand>("cpo"),
        command_schema::<ContractCommand>("contract"),
        command_schema::<CommitmentCommand>("commitment"),
        command_schema::<ContributionCommand>("contribution"),
        command_schema::<IndicatorCommand>("indicator"),
        command_schema::<TfpbConventionCommand>("tfpb_convention"),
        command_schema::<TfpbProgrammeCommand>("tfpb_programme"),
        command_schema::<PublicationCommand>("publication"),
        command_schema::<ComiteCommand>("comite"),
        event_schema::<PorteurEvent>(),
        event_schema::<DossierEvent>(),
        event_schema::<EnvelopeEvent>(),
        event_schema::<CpoEvent>(),
        event_schema::<ContractEvent>(),
        event_schema::<CommitmentEvent>(),
        event_schema::<ContributionEvent>(),
        event_schema::<IndicatorEvent>(),
        event_schema::<TfpbConventionEvent>(),
        event_schema::<TfpbProgrammeEvent>(),
        event_schema::<PublicationEvent>(),
        event_schema::<ComiteEvent>(),
    ]
}

fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema renders");
    text.push('\n');
    text
}

#[test]
fn checked_in_schemas_match_the_rust_types() {
    let dir = schemas_dir();
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    let mut expected = BTreeSet::new();
    for (relative, schema) in all_schemas() {
        let path = dir.join(&relative);
        let text = render(&schema);
        expected.insert(relative.clone());
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(relative);
        }
    }
    // A schema left behind by a removed family is stale too.
    for sub in ["commands", "events", "relay"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let relative = format!("{sub}/{name}");
            if name.ends_with(".schema.json") && !expected.contains(&relative) {
                if update {
                    std::fs::remove_file(dir.join(&relative)).unwrap();
                } else {
                    stale.push(relative);
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "these schemas are out of date with the Rust types: {stale:?}; regenerate them with \
         UPDATE_SCHEMAS=1 cargo test -p engagements-domain --test schemas"
    );
}

fn validator(relative: &str) -> jsonschema::Validator {
    let (_, schema) = all_schemas()
        .into_iter()
        .find(|(name, _)| name == relative)
        .unwrap();
    jsonschema::draft202012::new(&schema).unwrap()
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn command_schemas_accept_what_the_ledger_reads_and_refuse_what_it_refuses() {
    let porteur = validator("commands/porteur.schema.json");
    let good = json!({"command":"register_porteur",
        "porteur_id":"0190f2a0-0000-7000-8000-000000000001",
        "name":"Association fictive","kind":"association"});
    assert!(porteur.is_valid(&good), "{:?}", errors(&porteur, &good));
    serde_json::from_value::<PorteurCommand>(good.clone()).unwrap();

    let mut extra = good.clone();
    extra["colour"] = json!("red");
    assert!(!porteur.is_valid(&extra), "unknown fields are refused");
    assert!(serde_json::from_value::<PorteurCommand>(extra).is_err());

    let mut unknown = good.clone();
    unknown["command"] = json!("fly");
    assert!(!porteur.is_valid(&unknown));

    let mut no_id = good;
    no_id.as_object_mut().unwrap().remove("porteur_id");
    assert!(!porteur.is_valid(&no_id), "required fields are required");
    assert!(serde_json::from_value::<PorteurCommand>(no_id).is_err());
}

#[test]
fn amounts_are_euros_with_at_most_two_decimals() {
    let schema = serde_json::to_value(schemars::schema_for!(Amount)).unwrap();
    let amount = jsonschema::draft202012::new(&schema).unwrap();
    for good in [
        json!("0"),
        json!("1500.50"),
        json!("12.3"),
        json!(42),
        json!(10.25),
    ] {
        assert!(amount.is_valid(&good), "{good} is an amount");
        serde_json::from_value::<Amount>(good).unwrap();
    }
    for bad in [
        json!("12.345"),
        json!("-1"),
        json!("1,50"),
        json!("abc"),
        json!(-3),
    ] {
        assert!(!amount.is_valid(&bad), "{bad} is not an amount");
        assert!(serde_json::from_value::<Amount>(bad).is_err());
    }
}

#[test]
fn event_schemas_name_their_version_and_accept_the_payloads_the_ledger_writes() {
    let events = validator("events/porteur.schema.json");
    let (_, schema) = event_schema::<PorteurEvent>();
    assert_eq!(
        schema["x-schema-version"],
        json!(PorteurEvent::SCHEMA_VERSION)
    );
    let command: PorteurCommand = serde_json::from_value(json!({"command":"register_porteur",
        "porteur_id":"0190f2a0-0000-7000-8000-000000000001","name":"Association fictive",
        "kind":"association"}))
    .unwrap();
    let produced =
        <Porteur as esrs::Aggregate>::handle_command(&PorteurState::default(), command).unwrap();
    assert!(!produced.is_empty());
    for event in produced {
        let payload = serde_json::to_value(&event).unwrap();
        assert!(
            events.is_valid(&payload),
            "{payload}: {:?}",
            errors(&events, &payload)
        );
        let mut renamed = payload.clone();
        renamed["type"] = json!("PorteurVanished");
        assert!(
            !events.is_valid(&renamed),
            "unknown event types are refused"
        );
    }
}

#[test]
fn closed_schemas_refuse_what_the_ledger_refuses() {
    let porteur = validator("commands/porteur.schema.json");
    let good = json!({"command":"register_porteur",
        "porteur_id":"0190f2a0-0000-7000-8000-000000000001",
        "name":"Association fictive","kind":"association",
        "siret":"732 829 320 00074","rna":"W623000123"});
    assert!(porteur.is_valid(&good), "{:?}", errors(&porteur, &good));
    serde_json::from_value::<PorteurCommand>(good.clone()).unwrap();
    for (field, bad) in [
        ("siret", json!("123")),
        ("rna", json!("X12")),
        ("porteur_id", json!("not-a-uuid")),
    ] {
        let mut wrong = good.clone();
        wrong[field] = bad.clone();
        assert!(!porteur.is_valid(&wrong), "{field} = {bad} is refused");
        assert!(serde_json::from_value::<PorteurCommand>(wrong).is_err());
    }

    let envelope = validator("commands/envelope.schema.json");
    let (_, schema) = command_schema::<EnvelopeCommand>("envelope");
    let years: Vec<&Value> = schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|variant| variant["properties"].get("exercice"))
        .collect();
    assert!(!years.is_empty());
    for year in years {
        assert_eq!(year["minimum"], json!(2000), "{year}");
    }
    let open = json!({"command":"open_envelope","financeur":"etat","dispositif":"bop147-aap",
        "exercice":2025,"amount":"100000"});
    assert!(envelope.is_valid(&open), "{:?}", errors(&envelope, &open));
    let mut old = open;
    old["exercice"] = json!(1800);
    assert!(!envelope.is_valid(&old), "exercice 1800 is refused");
}

#[test]
fn event_schemas_are_closed_per_type_with_string_amounts() {
    let dossier = validator("events/dossier.schema.json");
    let granted = json!({"type":"SubsidyGranted",
        "dossier_id":"0190f2a0-0000-7000-8000-000000000002",
        "financeur":"etat","dispositif":"bop147-aap","amount":"12000.00",
        "comite":"CF-2025-01","decided_on":"2025-03-12"});
    assert!(
        dossier.is_valid(&granted),
        "{:?}",
        errors(&dossier, &granted)
    );
    serde_json::from_value::<DossierEvent>(granted.clone()).unwrap();

    let mut relabelled = granted.clone();
    relabelled["type"] = json!("SubsidyRefused");
    assert!(
        !dossier.is_valid(&relabelled),
        "a grant's payload relabelled as a refusal is refused"
    );
    let mut number = granted.clone();
    number["amount"] = json!(12000);
    assert!(
        !dossier.is_valid(&number),
        "events carry amounts as strings"
    );
    let mut extra = granted.clone();
    extra["note"] = json!("added later");
    assert!(
        !dossier.is_valid(&extra),
        "no property the ledger does not write"
    );
    let mut bad_date = granted;
    bad_date["decided_on"] = json!("12/03/2025");
    assert!(!dossier.is_valid(&bad_date));
}
