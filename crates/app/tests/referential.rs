//! The contract's referential: its data files against their schemas and the contract's own
//! counts, its publication on both backends (idempotent), avenants and as-of views, and the
//! refusal of references that do not exist.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use engagements_app::referential::{LoadedContract, REFERENTIAL_FILES};
use engagements_app::{CommandError, CommandLine, Ledger, MetaDefaults};
use engagements_domain::referential::QuartierKind;
use engagements_domain::{Actor, Source};
use engagements_store::testing;
use serde_json::Value;

const CABBALR: &str = "cabbalr-2024-2030";
const SEED_FILE: &str = "000_ff42b5a4ed572933.txt";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn contract_dir(id: &str) -> PathBuf {
    repo().join("schemas/contracts").join(id)
}

fn fixture_dir() -> PathBuf {
    repo().join("tests/fixtures/contract-exempleville")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Validates every data file of `dir` against `schemas/referential/<name>.schema.json`.
fn validate_against_schemas(dir: &Path) -> usize {
    let mut validated = 0;
    for file in REFERENTIAL_FILES {
        let data_path = dir.join(file);
        if !data_path.exists() {
            continue;
        }
        let schema_name = file.replace(".json", ".schema.json");
        let schema = read_json(&repo().join("schemas/referential").join(schema_name));
        let validator = jsonschema::draft202012::new(&schema)
            .unwrap_or_else(|e| panic!("schema of {file} does not compile: {e}"));
        let data = read_json(&data_path);
        let errors: Vec<String> = validator
            .iter_errors(&data)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(10)
            .collect();
        assert!(
            errors.is_empty(),
            "{} is invalid: {errors:#?}",
            data_path.display()
        );
        validated += 1;
    }
    validated
}

#[test]
fn data_files_validate_against_their_schemas() {
    assert_eq!(validate_against_schemas(&contract_dir(CABBALR)), 7);
    assert_eq!(validate_against_schemas(&fixture_dir()), 6);
}

#[test]
fn a_schema_refuses_bad_data() {
    let schema = read_json(&repo().join("schemas/referential/quartiers.schema.json"));
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let mut data = read_json(&contract_dir(CABBALR).join("quartiers.json"));
    data["quartiers"][0]["code"] = Value::from("QN-not-a-code");
    assert!(!validator.is_valid(&data));
}

#[test]
fn counts_and_totals_are_those_the_contract_states() {
    let loaded = LoadedContract::from_dir(&contract_dir(CABBALR)).unwrap();
    let r = &loaded.referential;
    let qpv = r
        .quartiers()
        .filter(|q| q.kind == QuartierKind::Qpv)
        .count();
    let qic = r
        .quartiers()
        .filter(|q| q.kind == QuartierKind::Qic)
        .count();
    assert_eq!((qpv, qic, r.quartiers().count()), (16, 9, 25));
    assert_eq!(r.population_of(QuartierKind::Qpv), 36_100);
    assert_eq!(r.population_of(QuartierKind::Qic), 7_710);
    assert_eq!(
        r.population_of(QuartierKind::Qpv) + r.population_of(QuartierKind::Qic),
        43_810
    );
    assert_eq!(r.quartiers.totals.total_population, 43_810);
    assert_eq!(r.enjeux().count(), 3);
    assert_eq!(r.ambitions().count(), 10);
    let numbers: Vec<u32> = r.objectifs().map(|o| o.objectif.number).collect();
    assert_eq!(
        numbers,
        (1..=35).collect::<Vec<u32>>(),
        "35 objectifs numbered 1-35"
    );
    assert_eq!(r.strategy.enjeux_transversaux.len(), 3);
    assert_eq!(r.strategy.groupes_appui_thematiques.len(), 4);
    // Every ambition sits under an enjeu, every objectif under an ambition.
    for path in r.objectifs() {
        assert_eq!(path.objectif.ambition, path.ambition.id);
        assert_eq!(path.ambition.enjeu, path.enjeu.id);
    }
    let bailleurs = r
        .organisations()
        .filter(|o| {
            o.signatory_group == Some(engagements_domain::referential::SignatoryGroup::Bailleur)
        })
        .count();
    assert_eq!(bailleurs, 8);
    let principal = r
        .organisations()
        .filter(|o| {
            o.signatory_group == Some(engagements_domain::referential::SignatoryGroup::Principal)
        })
        .count();
    assert_eq!(principal, 4);
    assert_eq!(r.tfpb_axes().count(), 8);
    assert!(r.dispositif("bop147-aap").is_some());
    assert_eq!(
        r.quartier("QN06209").map(|q| q.kind),
        Some(QuartierKind::Qpv)
    );
    // The directory and the built-in copy are the same data.
    let embedded = LoadedContract::embedded().unwrap();
    assert_eq!(embedded.content_hash, loaded.content_hash);
}

/// Every `source_lines` range of a JSON value, with where it was found.
fn source_ranges(value: &Value, path: &str, out: &mut Vec<(String, u64, u64)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{path}/{key}");
                if key == "source_lines" {
                    for range in child.as_array().into_iter().flatten() {
                        let from = range[0].as_u64().unwrap_or(0);
                        let to = range[1].as_u64().unwrap_or(0);
                        out.push((here.clone(), from, to));
                    }
                } else {
                    source_ranges(child, &here, out);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                source_ranges(child, &format!("{path}/{index}"), out);
            }
        }
        _ => {}
    }
}

fn seed_document() -> Option<String> {
    let candidates = [
        std::env::var("ENGAGEMENTS_SEED").ok().map(PathBuf::from),
        Some(repo().join("../shared/seed").join(SEED_FILE)),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .and_then(|p| std::fs::read_to_string(p).ok())
}

#[test]
fn every_entry_cites_lines_that_exist_in_the_seed() {
    let Some(seed) = seed_document() else {
        eprintln!("skipping the seed check: set ENGAGEMENTS_SEED or put ../shared/seed/{SEED_FILE} next to the repository");
        return;
    };
    let line_count = seed.lines().count() as u64;
    let seed_lines: Vec<&str> = seed.lines().collect();
    let mut checked = 0;
    for file in REFERENTIAL_FILES {
        let mut ranges = Vec::new();
        source_ranges(
            &read_json(&contract_dir(CABBALR).join(file)),
            file,
            &mut ranges,
        );
        for (where_, from, to) in ranges {
            assert!(
                1 <= from && from <= to && to <= line_count,
                "{where_}: lines {from}-{to} are not within the seed's {line_count} lines"
            );
            let text: String = seed_lines[(from - 1) as usize..to as usize].concat();
            assert!(
                !text.trim().is_empty(),
                "{where_}: lines {from}-{to} are blank"
            );
            checked += 1;
        }
    }
    assert!(checked > 500, "only {checked} ranges checked");
    // Entries (quartiers, objectifs, organisations…) each cite at least one range.
    let loaded = LoadedContract::embedded().unwrap();
    let r = &loaded.referential;
    assert!(r.quartiers().all(|q| !q.source_lines.is_empty()));
    assert!(r.communes().all(|c| !c.source_lines.is_empty()));
    assert!(r.organisations().all(|o| !o.source_lines.is_empty()));
    assert!(r.objectifs().all(|o| !o.objectif.source_lines.is_empty()));
    assert!(r.dispositifs().all(|d| !d.source_lines.is_empty()));
}

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent de test", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    }
}

async fn apply_line(ledger: &Ledger, line: &str) -> Result<engagements_app::Receipt, CommandError> {
    let parsed = CommandLine::parse(line).map_err(CommandError::Invalid)?;
    ledger
        .execute(parsed.command, &parsed.meta, &defaults())
        .await
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[tokio::test]
async fn publish_amend_and_look_back_on_both_backends() {
    for db in testing::all().await {
        let ledger = Ledger::open(&db.url).await.unwrap();
        let loaded = LoadedContract::embedded().unwrap();
        let first = loaded.publish(&ledger, &defaults()).await.unwrap();
        assert!(!first.duplicate);
        assert_eq!(first.events.len(), 7, "{}", db.backend);
        // Idempotent: the same data again records nothing.
        let again = loaded.publish(&ledger, &defaults()).await.unwrap();
        assert!(again.duplicate, "{}", db.backend);
        let position = ledger.store().head().await.unwrap().unwrap().position;
        assert_eq!(position, 7);

        {
            let p = ledger.projections().await.unwrap();
            let view = &p.referential;
            assert_eq!(view.contract().map(|c| c.id.as_str()), Some(CABBALR));
            assert_eq!(view.contract().unwrap().period.start_year, 2024);
            assert_eq!(view.quartiers().count(), 25);
            let trois_ilots = view.quartier("QN06209").unwrap();
            assert_eq!(
                (trois_ilots.name.as_str(), trois_ilots.population),
                ("3 ÎLOTS", 3_300)
            );
            let o6 = view.objectif(6).unwrap();
            assert_eq!(
                (o6.ambition.id.as_str(), o6.enjeu.id.as_str()),
                ("A2", "E1")
            );
            assert!(view.organisation("etat").is_some());
            assert!(view.tfpb_axis("axe-1").is_some());
            assert_eq!(
                view.content_hash.as_deref(),
                Some(loaded.content_hash.as_str())
            );
        }

        // An avenant effective on 1 January 2026 changes a population.
        let before = ledger
            .projections()
            .await
            .unwrap()
            .referential
            .quartier("QN06209")
            .unwrap()
            .population;
        let receipt = apply_line(
            &ledger,
            r#"{"command":"change_quartier_population","avenant":{"kind":"avenant","reference":"Avenant n°1 (fictif)","date":"2025-12-15"},"quartier":"QN06209","population":4321,"meta":{"effective_date":"2026-01-01"}}"#,
        )
        .await
        .unwrap();
        assert_eq!(receipt.events[0].event_type, "QuartierPopulationChanged");
        let p = ledger.projections().await.unwrap().clone();
        let view = &p.referential;
        assert_eq!(view.quartier("QN06209").unwrap().population, 4321);
        assert_eq!(
            view.as_of(date("2025-12-31"))
                .unwrap()
                .quartier("QN06209")
                .unwrap()
                .population,
            before
        );
        assert_eq!(
            view.as_of(date("2026-01-01"))
                .unwrap()
                .quartier("QN06209")
                .unwrap()
                .population,
            4321
        );
        assert!(
            view.as_of(date("2023-12-31")).is_none(),
            "before the contract"
        );
        assert_eq!(view.amendments.len(), 1);

        // Record time: the ledger as it stood before the avenant.
        let past = ledger.projections_at(7).await.unwrap();
        assert_eq!(
            past.referential.quartier("QN06209").unwrap().population,
            before
        );

        // Unknown references are refused, named, with close values; nothing is recorded.
        let error = apply_line(
            &ledger,
            r#"{"command":"change_quartier_population","avenant":{"kind":"avenant","reference":"Avenant n°2"},"quartier":"QN0620","population":10}"#,
        )
        .await
        .unwrap_err();
        let text = error.to_string();
        assert_eq!(error.code(), "unknown_reference", "{text}");
        assert!(
            text.contains("unknown quartier 'QN0620'") && text.contains("did you mean"),
            "{text}"
        );
        let error = apply_line(
            &ledger,
            r#"{"command":"rename_objectif","avenant":{"kind":"avenant","reference":"Avenant n°2"},"objectif":36,"title":"X"}"#,
        )
        .await
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("unknown objectif '36': objectifs are numbered 1 to 35"),
            "{error}"
        );
        let error = apply_line(
            &ledger,
            r#"{"command":"add_quartier","avenant":{"kind":"avenant","reference":"Avenant n°2"},"quartier":{"id":"QIC-nouveau","kind":"qic","code":null,"name":"Nouveau (fictif)","communes":["bethunne"],"population":500,"population_change_since_2014":null,"new_in_2024":null,"source_lines":[]}}"#,
        )
        .await
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("unknown commune 'bethunne': did you mean 'bethune'"),
            "{error}"
        );
        let error = apply_line(
            &ledger,
            r#"{"command":"rename_objectif","avenant":{"kind":"avenant","reference":" "},"objectif":3,"title":"Un titre nouveau"}"#,
        )
        .await
        .unwrap_err();
        assert!(error.to_string().contains("no reference"), "{error}");
        assert_eq!(ledger.store().head().await.unwrap().unwrap().position, 8);

        // More avenants: rename an objectif, add a quartier, add a signatory.
        apply_line(
            &ledger,
            r#"{"command":"rename_objectif","avenant":{"kind":"avenant","reference":"Avenant n°2 (fictif)"},"objectif":3,"title":"Un titre nouveau (fictif)","meta":{"effective_date":"2026-06-01"}}"#,
        )
        .await
        .unwrap();
        apply_line(
            &ledger,
            r#"{"command":"add_quartier","avenant":{"kind":"avenant","reference":"Avenant n°2 (fictif)"},"quartier":{"id":"QIC-nouveau","kind":"qic","code":null,"name":"Nouveau (fictif)","communes":["bethune"],"population":500,"population_change_since_2014":null,"new_in_2024":null,"source_lines":[]},"meta":{"effective_date":"2026-06-01"}}"#,
        )
        .await
        .unwrap();
        apply_line(
            &ledger,
            r#"{"command":"add_signatory","avenant":{"kind":"avenant","reference":"Avenant n°2 (fictif)"},"organisation":{"id":"bailleur-fictif","name":"Bailleur fictif","kind":"bailleur","signatory_group":"bailleur","source_lines":[]},"representative":{"id":"olivier-gacquerre","name":"Olivier GACQUERRE","organisations":["bailleur-fictif"],"source_lines":[]},"meta":{"effective_date":"2026-06-01"}}"#,
        )
        .await
        .unwrap();
        let p = ledger.projections().await.unwrap().clone();
        let view = &p.referential;
        assert_eq!(view.quartiers().count(), 26);
        assert!(view
            .commune("bethune")
            .unwrap()
            .quartiers
            .contains(&"QIC-nouveau".to_string()));
        assert_eq!(
            view.objectif(3).unwrap().objectif.title,
            "Un titre nouveau (fictif)"
        );
        let person = view.representative("olivier-gacquerre").unwrap();
        assert!(
            person.organisations.len() >= 3,
            "one person signs for several: {person:?}"
        );
        let before_june = view.as_of(date("2026-05-31")).unwrap();
        assert_eq!(before_june.quartiers().count(), 25);
        assert_ne!(
            before_june.objectif(3).unwrap().objectif.title,
            "Un titre nouveau (fictif)"
        );
        // Adding the same quartier twice is refused.
        let error = apply_line(
            &ledger,
            r#"{"command":"add_quartier","avenant":{"kind":"avenant","reference":"Avenant n°3"},"quartier":{"id":"QIC-nouveau","kind":"qic","code":null,"name":"Nouveau (fictif)","communes":["bethune"],"population":500,"population_change_since_2014":null,"new_in_2024":null,"source_lines":[]}}"#,
        )
        .await
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("quartier 'QIC-nouveau' already exists"),
            "{error}"
        );

        // Another contract cannot be published in the same ledger.
        let other = LoadedContract::from_dir(&fixture_dir()).unwrap();
        let error = other.publish(&ledger, &defaults()).await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("holds contract 'cabbalr-2024-2030'"),
            "{error}"
        );
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn another_contract_loads_from_its_own_directory() {
    for db in testing::all().await {
        let ledger = Ledger::open(&db.url).await.unwrap();
        let loaded = LoadedContract::from_dir(&fixture_dir()).unwrap();
        let receipt = loaded.publish(&ledger, &defaults()).await.unwrap();
        assert_eq!(receipt.events.len(), 6, "no TFPB axes file: {}", db.backend);
        let p = ledger.projections().await.unwrap();
        assert_eq!(
            p.referential.contract().unwrap().id,
            "exempleville-2024-2030"
        );
        assert_eq!(p.referential.quartiers().count(), 2);
        assert!(p.referential.quartier("QN06209").is_none());
        assert_eq!(p.referential.tfpb_axes().count(), 0);
        drop(p);
        ledger.store().shutdown().await;
    }
}

#[test]
fn inconsistent_directories_are_refused_with_the_bad_value() {
    let dir = tempfile::tempdir().unwrap();
    for file in REFERENTIAL_FILES {
        let source = fixture_dir().join(file);
        if source.exists() {
            std::fs::copy(&source, dir.path().join(file)).unwrap();
        }
    }
    let communes = dir.path().join("quartiers.json");
    let text = std::fs::read_to_string(&communes)
        .unwrap()
        .replace("\"autreville\"]", "\"nulleville\"]");
    std::fs::write(&communes, text).unwrap();
    let error = LoadedContract::from_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown commune 'nulleville'"), "{error}");

    std::fs::remove_file(dir.path().join("strategy.json")).unwrap();
    let error = LoadedContract::from_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(error.contains("strategy.json is missing"), "{error}");

    std::fs::write(dir.path().join("strategy.json"), "{\"enjeux\": [}").unwrap();
    let error = LoadedContract::from_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(error.contains("strategy.json, line 1"), "{error}");
}
