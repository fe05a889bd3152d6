//! The referential end to end, through the binary, on both backends: `init` records the built-in
//! contract (idempotent), an avenant changes it, and `referential` shows it before and after by
//! record time (`--as-of`, `--at-position`) and by effective date (`--effective-on`).

use std::path::PathBuf;

use engagements_e2e::{backends, engagements, run_json, run_ok, testing};
use serde_json::Value;

/// Population of quartier `id` in a `referential --format json` document.
fn population(document: &Value, id: &str) -> u64 {
    document["referential"]["quartiers"]["quartiers"]
        .as_array()
        .expect("quartiers")
        .iter()
        .find(|q| q["id"] == id)
        .and_then(|q| q["population"].as_u64())
        .unwrap_or_else(|| panic!("no quartier {id}"))
}

fn objectif_title(document: &Value, number: u64) -> String {
    document["referential"]["strategy"]["objectifs"]
        .as_array()
        .expect("objectifs")
        .iter()
        .find(|o| o["number"] == number)
        .and_then(|o| o["title"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{name}", uuid::Uuid::now_v7()));
    std::fs::write(&path, text).expect("write a temporary file");
    path
}

const AVENANT: &str = r#"{"command":"change_quartier_population","avenant":{"kind":"avenant","reference":"Avenant n°1 au contrat de ville (fictif)","date":"2025-12-15"},"quartier":"QN06209","population":3400,"meta":{"effective_date":"2026-01-01"}}
{"command":"rename_objectif","avenant":{"kind":"avenant","reference":"Avenant n°1 au contrat de ville (fictif)","date":"2025-12-15"},"objectif":6,"title":"Promouvoir l'activité physique (titre d'avenant fictif)","meta":{"effective_date":"2026-01-01"}}
"#;

/// The `ledger ready at …, N events` line of `init` (N: every event, commitments included).
fn ledger_ready(text: &str) -> Option<&str> {
    text.lines().find(|line| line.starts_with("ledger ready"))
}

#[tokio::test]
async fn init_then_avenant_then_referential_as_of() {
    for db in backends().await {
        let first = run_ok(&db, &["init"]);
        let text = String::from_utf8_lossy(&first.stdout).to_string();
        let first_text = text.clone();
        assert!(
            text.contains("contract 'cabbalr-2024-2030' recorded (7 events"),
            "{text}"
        );
        let again = run_ok(&db, &["init"]);
        let text = String::from_utf8_lossy(&again.stdout).to_string();
        assert!(
            text.contains("nothing new") && ledger_ready(&text) == ledger_ready(&first_text),
            "{text}"
        );

        let before = run_json(&db, &["referential", "--format", "json"]);
        assert_eq!(
            before["referential"]["quartiers"]["quartiers"]
                .as_array()
                .unwrap()
                .len(),
            25
        );
        assert_eq!(population(&before, "QN06209"), 3300);
        let title_before = objectif_title(&before, 6);

        // Record time between the publication and the avenant.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let between = chrono::Utc::now().to_rfc3339();
        std::thread::sleep(std::time::Duration::from_millis(1100));

        let file = write_temp("avenant.jsonl", AVENANT);
        run_ok(&db, &["apply", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);

        let after = run_json(&db, &["referential", "--format", "json"]);
        assert_eq!(population(&after, "QN06209"), 3400, "{}", db.backend);
        assert_ne!(objectif_title(&after, 6), title_before);
        assert_eq!(after["avenants"], 2);

        for args in [
            vec![
                "referential",
                "--format",
                "json",
                "--as-of",
                between.as_str(),
            ],
            vec!["referential", "--format", "json", "--at-position", "7"],
            vec![
                "referential",
                "--format",
                "json",
                "--effective-on",
                "2025-12-31",
            ],
        ] {
            let then = run_json(&db, &args);
            assert_eq!(
                population(&then, "QN06209"),
                3300,
                "{args:?} on {}",
                db.backend
            );
            assert_eq!(objectif_title(&then, 6), title_before, "{args:?}");
        }
        let in_force = run_json(
            &db,
            &[
                "referential",
                "--format",
                "json",
                "--effective-on",
                "2026-01-01",
            ],
        );
        assert_eq!(population(&in_force, "QN06209"), 3400);

        let avenants = run_json(&db, &["referential", "avenants", "--format", "json"]);
        let rows = avenants.as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0]["act_reference"],
            "Avenant n°1 au contrat de ville (fictif)"
        );
        assert_eq!(rows[0]["effective_date"], "2026-01-01");
        let quartiers = run_json(&db, &["referential", "quartiers", "--format", "json"]);
        assert_eq!(quartiers.as_array().unwrap().len(), 25);

        // An unknown quartier is refused, named, and nothing is recorded.
        let bad = write_temp(
            "bad.jsonl",
            r#"{"command":"change_quartier_population","avenant":{"kind":"avenant","reference":"Avenant n°2 (fictif)"},"quartier":"QN0620","population":10}"#,
        );
        let output = engagements(&db)
            .args(["apply", bad.to_str().unwrap()])
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&bad);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(stderr.contains("unknown quartier 'QN0620'"), "{stderr}");
        let summary = run_json(&db, &["referential", "--format", "json"]);
        assert_eq!(summary["avenants"], 2);
    }
}

#[tokio::test]
async fn init_loads_another_contract_from_its_directory() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/contract-exempleville");
    let db = testing::sqlite();
    run_ok(&db, &["init", "--contract", fixture.to_str().unwrap()]);
    let document = run_json(&db, &["referential", "--format", "json"]);
    assert_eq!(
        document["referential"]["contract"]["id"],
        "exempleville-2024-2030"
    );
    assert_eq!(population(&document, "QN99901"), 1500);
    // The built-in contract cannot join it in the same ledger.
    let output = engagements(&db).args(["init"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("holds contract 'exempleville-2024-2030'"),
        "{stderr}"
    );
    // A directory that is not a contract is refused with the missing file named.
    let output = engagements(&db)
        .args(["init", "--contract", env!("CARGO_MANIFEST_DIR")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("contract.json is missing"), "{stderr}");
}
