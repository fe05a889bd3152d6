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
use engagements_domain::porteur::{Porteur, PorteurCommand, PorteurEvent, PorteurState};
use engagements_domain::publication::{PublicationCommand, PublicationEvent};
use engagements_domain::referential::{ContractCommand, ContractEvent};
use engagements_domain::tfpb::{
    TfpbConventionCommand, TfpbConventionEvent, TfpbProgrammeCommand, TfpbProgrammeEvent,
};
use engagements_domain::{Amount, DomainEvent};
use schemars::JsonSchema;
use serde_json::{json, Value};

const BASE_ID: &str = "https://engagements.example/schemas";

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// The schema of one family's commands, as `engagements apply` reads them (without `meta`).
fn command_schema<C: JsonSchema>(family: &str) -> (String, Value) {
    let mut schema = serde_json::to_value(schemars::schema_for!(C)).expect("a schema is JSON");
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

fn all_schemas() -> Vec<(String, Value)> {
    vec![
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
    for sub in ["commands", "events"] {
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
