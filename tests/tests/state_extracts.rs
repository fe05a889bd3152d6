//! The State's extracts end to end, on both backends: on a fresh `init`ed ledger, the comité's
//! programmation (with Dauphin codes), then GISPRO's extracts of two years with
//! `engagements import gispro`: the second year's new Dauphin code and EJ attach to the same
//! dossier through the project code, `report dossiers` lists both years' identifiers, an extract
//! imported twice records nothing the second time, and a malformed one is refused whole with
//! every problem named. Every name, number and figure is fictitious.

use std::io::Write;

use engagements_e2e::{backends, engagements, run_json, run_ok, TestDb};

fn example(name: &str) -> String {
    format!("{}/../docs/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{name}", uuid::Uuid::now_v7()));
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write a temporary file");
    path
}

/// The `events:` line of `engagements verify`: how many events the ledger holds.
fn events(db: &TestDb) -> String {
    let verify = run_ok(db, &["verify"]);
    String::from_utf8_lossy(&verify.stdout)
        .lines()
        .find(|l| l.starts_with("events:"))
        .unwrap_or_default()
        .to_string()
}

fn stdout(db: &TestDb, args: &[&str]) -> String {
    String::from_utf8_lossy(&run_ok(db, args).stdout).into_owned()
}

#[tokio::test]
async fn import_gispro_keeps_one_grant_across_years() {
    for db in backends().await {
        run_ok(&db, &["init"]);
        let envelopes: String = [
            ("etat", "bop147-aap"),
            ("cabbalr", "fonds-cohesion-sociale"),
        ]
        .iter()
        .map(|(financeur, dispositif)| {
            format!(
                "{}\n",
                serde_json::json!({"command": "open_envelope", "financeur": financeur,
                        "dispositif": dispositif, "exercice": 2025, "amount": "100000"})
            )
        })
        .collect();
        let envelopes = temp_file("envelopes.jsonl", &envelopes);
        run_ok(&db, &["apply", envelopes.to_str().unwrap()]);
        let programmation = example("programmation.csv");
        let out = stdout(&db, &["import", "programmation", &programmation]);
        assert!(out.contains("2 dossiers"), "{out}");

        // Year 1: EJ and project codes attach to the two dossiers known by their Dauphin codes;
        // the row of another contract is listed as unmatched.
        let out = stdout(
            &db,
            &[
                "import",
                "gispro",
                &example("gispro-2025.csv"),
                "--exercice",
                "2025",
            ],
        );
        for expected in [
            "3 rows: 2 attached to 2 dossiers, 4 identifiers recorded; 1 unmatched",
            "line 4: unmatched: no dossier of the ledger carries dauphin_dossier DA00077777",
            "note: line 3",
        ] {
            assert!(
                out.contains(expected),
                "{expected} missing on {}: {out}",
                db.backend
            );
        }

        // Year 2: a new Dauphin code and a new EJ, the same project: the same dossier.
        let gispro_2026 = example("gispro-2026.csv");
        let out = stdout(
            &db,
            &["import", "gispro", &gispro_2026, "--exercice", "2026"],
        );
        assert!(
            out.contains("1 rows: 1 attached to 1 dossiers, 2 identifiers recorded; 0 unmatched"),
            "{out}"
        );
        let rows = run_json(&db, &["report", "dossiers", "--format", "json"]);
        let rows = rows.as_array().unwrap();
        let dossiers: std::collections::BTreeSet<&str> = rows
            .iter()
            .map(|r| r["dossier_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            dossiers.len(),
            2,
            "no dossier filed by an extract: {rows:?}"
        );
        let first = rows
            .iter()
            .find(|r| {
                r["title"] == "Atelier d'écriture (exemple fictif)" && r["financeur"] == "etat"
            })
            .unwrap();
        let ids = first["external_ids"].as_str().unwrap();
        for expected in [
            "programmation PROG-2025-001",
            "dauphin_dossier DA00012345 (2025)",
            "chorus_ej 2103456789 (2025, etat/bop147-aap)",
            "gispro_projet PRJ-FICTIF-0001",
            "dauphin_dossier DA00023456 (2026)",
            "chorus_ej 2203456789 (2026, etat/bop147-aap)",
        ] {
            assert!(ids.contains(expected), "{expected} missing from {ids}");
        }
        // The dossier's history is found by any of its identifiers.
        let history = stdout(&db, &["history", "DA00023456"]);
        assert!(
            history.contains(
                "identifiant d'un autre système : engagement juridique Chorus 2203456789"
            ),
            "{history}"
        );

        // Imported again, the extract and the programmation record nothing.
        let before = events(&db);
        let out = stdout(
            &db,
            &["import", "gispro", &gispro_2026, "--exercice", "2026"],
        );
        assert!(out.contains("nothing new, nothing recorded"), "{out}");
        let out = stdout(&db, &["import", "programmation", &programmation]);
        assert!(out.contains("nothing new, nothing recorded"), "{out}");
        assert_eq!(events(&db), before, "nothing recorded on {}", db.backend);

        // A malformed extract is refused whole, every problem named.
        let bad = temp_file(
            "gispro-bad.csv",
            "EJ CHORUS;Action de demande - Code dossier;Code SIRET;Montant engagé\n2303456789;DA00034567;99900001000011;1 000,00\n2303456790;DA123;99900002000019;mille\n",
        );
        let output = engagements(&db)
            .args([
                "import",
                "gispro",
                bad.to_str().unwrap(),
                "--exercice",
                "2027",
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", db.backend);
        let stderr = String::from_utf8_lossy(&output.stderr);
        for expected in [
            "line 1, column Projet - Code dossier: required column is missing",
            "line 2, column Code SIRET",
            "line 3, column Action de demande - Code dossier",
            "line 3, column Montant engagé",
            "4 problem(s), nothing recorded",
        ] {
            assert!(
                stderr.contains(expected),
                "{expected} missing on {}: {stderr}",
                db.backend
            );
        }
        assert_eq!(events(&db), before, "nothing recorded on {}", db.backend);
    }
}
