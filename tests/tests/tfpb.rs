//! TFPB end to end, on both backends: a bailleur's year imported from its spreadsheet with
//! `engagements import tfpb`, a bad file refused whole, the bilan submitted and reviewed with
//! `engagements apply`, then shown by `engagements report tfpb`. Every figure is fictitious.

use std::io::Write;

use engagements_e2e::{backends, engagements, run_json, run_ok};

const GOOD_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/examples/tfpb.csv");

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{name}", uuid::Uuid::now_v7()));
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write a temporary file");
    path
}

fn events(db: &engagements_e2e::TestDb) -> String {
    let verify = run_ok(db, &["verify"]);
    String::from_utf8_lossy(&verify.stdout)
        .lines()
        .find(|l| l.starts_with("events:"))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn import_a_bailleurs_year_then_show_its_bilan() {
    for db in backends().await {
        run_ok(&db, &["init"]);
        let signed = temp_file(
            "convention.jsonl",
            &format!(
                "{}\n",
                serde_json::json!({
                    "command": "sign_tfpb_convention",
                    "convention_id": uuid::Uuid::now_v7(),
                    "bailleur": "maisons-et-cites",
                    "quartiers": ["QN06211"],
                    "year_first": 2025,
                    "year_last": 2030,
                    "signatories": ["etat", "cabbalr", "commune-bruay-la-buissiere", "commune-haillicourt"],
                    "signed_on": "2025-02-10",
                    "reference": "Convention d'utilisation de l'abattement TFPB (fictive)"
                })
            ),
        );
        run_ok(&db, &["apply", signed.to_str().unwrap()]);

        // A file with errors is refused whole, with every problem named.
        let bad = temp_file(
            "bad.csv",
            "qpv;year;axis;label;planned;realised\nQN06211;2025;axe-1;Bon (fictif);10,00;\nQN09999;2025;axe-9;Mauvais (fictif);dix;\n",
        );
        let before = events(&db);
        let output = engagements(&db)
            .args([
                "import",
                "tfpb",
                bad.to_str().unwrap(),
                "--bailleur",
                "maisons-et-cites",
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", db.backend);
        let stderr = String::from_utf8_lossy(&output.stderr);
        for expected in [
            "line 3, column qpv",
            "line 3, column axis",
            "line 3, column planned",
            "nothing recorded",
        ] {
            assert!(
                stderr.contains(expected),
                "{expected} missing on {}: {stderr}",
                db.backend
            );
        }
        assert_eq!(events(&db), before, "nothing recorded on {}", db.backend);

        // The good file.
        let output = run_ok(
            &db,
            &[
                "import",
                "tfpb",
                GOOD_FILE,
                "--bailleur",
                "maisons-et-cites",
            ],
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("6 rows imported"), "{stdout}");

        // The bilan of QN06211 is submitted and accepted by the State and the EPCI.
        let programme = serde_json::json!({"bailleur": "maisons-et-cites", "quartier": "QN06211", "year": 2025});
        let lines = [
            serde_json::json!({"command": "submit_tfpb_bilan", "programme": programme, "submitted_on": "2026-05-20"}),
            serde_json::json!({"command": "accept_tfpb_bilan", "programme": programme, "reviewer": "etat", "reviewer_kind": "state", "reviewed_on": "2026-06-10"}),
            serde_json::json!({"command": "accept_tfpb_bilan", "programme": programme, "reviewer": "cabbalr", "reviewer_kind": "epci", "reviewed_on": "2026-06-12"}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let bilan = temp_file("bilan.jsonl", &text);
        run_ok(&db, &["apply", bilan.to_str().unwrap(), "--atomic"]);

        // Flags are judged today: the tax year 2025 is over and its bilan was due on 30 June 2026.
        let rows = run_json(
            &db,
            &[
                "report",
                "tfpb",
                "--bailleur",
                "maisons-et-cites",
                "--year",
                "2025",
                "--format",
                "json",
            ],
        );
        let rows = rows.as_array().unwrap();
        let total = |quartier: &str| {
            rows.iter()
                .find(|r| r["quartier"] == quartier && r["axis"] == "total")
                .unwrap_or_else(|| panic!("no total row for {quartier}: {rows:?}"))
        };
        let qn06211 = total("QN06211");
        assert_eq!(qn06211["abatement_eur"], "118000.00");
        assert_eq!(qn06211["planned_eur"], "97000.00");
        assert_eq!(qn06211["realised_eur"], "93360.40");
        assert_eq!(qn06211["realised_ratio_pct"], "79.1");
        assert_eq!(qn06211["gap_eur"], "24639.60");
        assert_eq!(qn06211["bilan"], "accepted");
        assert_eq!(qn06211["flags"], "realised_below_abatement");
        let qn06213 = total("QN06213");
        assert_eq!(qn06213["bilan"], "not_submitted");
        assert_eq!(
            qn06213["flags"],
            "realised_below_abatement bilan_late spending_not_covered"
        );
        let axes: Vec<&str> = rows
            .iter()
            .filter(|r| r["quartier"] == "QN06211" && r["axis"] != "total")
            .map(|r| r["axis"].as_str().unwrap())
            .collect();
        assert_eq!(axes, ["axe-1", "axe-3", "axe-4", "axe-7"]);
        let flags = run_json(&db, &["report", "tfpb-flags", "--format", "json"]);
        assert_eq!(flags.as_array().unwrap().len(), 4, "{flags}");
        let verify = run_ok(&db, &["verify"]);
        assert!(String::from_utf8_lossy(&verify.stdout).contains("chain:         OK"));
        for file in [signed, bad, bilan] {
            let _ = std::fs::remove_file(file);
        }
    }
}
