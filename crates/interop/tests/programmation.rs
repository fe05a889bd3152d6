//! The comité's programmation sheet through the application layer on both backends: a good file
//! (CSV and XLSX) records porteurs, dossiers, opinions and decisions; a file with several kinds of
//! error reports each with its line and column and records nothing. Every name and figure is
//! fictitious.

mod support;

use chrono::NaiveDate;
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_interop::import::programmation::{
    import_programmation, read_csv, read_xlsx, ProgrammationImportError,
};
use engagements_store::testing::{self, TestDb};
use support::head;

const GOOD_FILE: &str = include_str!("../../../docs/examples/programmation.csv");

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent fictif", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    }
}

async fn ledger(db: &TestDb) -> Ledger {
    support::ledger_with_envelopes(db, &defaults()).await
}

#[tokio::test]
async fn a_good_programmation_sheet_is_recorded_whole() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let before = head(&ledger).await;
        let sheet = read_csv(GOOD_FILE).unwrap();
        let report = import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap();
        assert_eq!(report.rows, 3);
        assert_eq!(report.porteurs_registered, 2);
        assert_eq!(report.dossiers, 2);
        assert_eq!(report.opinions, 2);
        assert_eq!(report.decisions, 2);
        // 2 porteurs + 2 dossiers + 2 opinions + 2 decisions (each with its envelope draw).
        assert!(head(&ledger).await >= before + 8);
        {
            // The read guard is dropped before the next import, which writes.
            let projections = ledger.projections().await.unwrap();
            assert_eq!(projections.porteurs.by_id.len(), 2);
            let names: Vec<&str> = projections
                .porteurs
                .by_id
                .values()
                .map(|p| p.name.as_str())
                .collect();
            assert!(names.contains(&"Association Exemple Fictive"), "{names:?}");
        }

        // The same sheet as a workbook reads the same rows; imported again, it files nothing
        // twice: its dossiers are known by their references, and nothing is recorded.
        let xlsx = workbook(GOOD_FILE);
        let from_xlsx = read_xlsx(&xlsx).unwrap();
        assert_eq!(from_xlsx.rows.len(), sheet.rows.len());
        assert_eq!(from_xlsx.rows[0].line, 2);
        let position = head(&ledger).await;
        let again = import_programmation(&ledger, &from_xlsx, &defaults())
            .await
            .unwrap();
        assert_eq!(again.porteurs_registered, 0);
        assert_eq!((again.dossiers, again.dossiers_known), (0, 2));
        assert!(again.nothing_new(), "{again:?}");
        assert_eq!(head(&ledger).await, position);
        ledger.store().shutdown().await;
    }
}

/// Writes a CSV text (`;`-separated) as a one-sheet workbook, every cell as text.
fn workbook(csv_text: &str) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (row, line) in csv_text.lines().enumerate() {
        for (column, cell) in line.split(';').enumerate() {
            sheet.write_string(row as u32, column as u16, cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn a_sheet_with_errors_reports_each_with_line_and_column_and_records_nothing() {
    let bad = "\
dossier;porteur;siret;action;exercice;quartiers;objectifs;budget;financeur;dispositif;asked;proposed;granted;comite;decided_on;porteur_kind
D1;Asso A (fictive);99900001000011;Action (fictive);2025;QN06204;3;1000;etat;bop147-aap;500;;;;;
D2;Asso B (fictive);;Action (fictive);2025;QN99999;99;1000;nulle-part;bop147-aap;500;;;;;
D3;Asso C (fictive);;Action (fictive);2025;QN06204;3;12.345;etat;bop147-aap;abc;;;;;
D4;Asso D (fictive);;Action (fictive);2025;QN06204;3;1000;etat;bop147-aap;500;;800;CF-1;2025-03-01;
D5;Asso E (fictive);;Action (fictive);1925;QN06204;3;1000;etat;inconnu;500;;;;;
D6;Asso F (fictive);;Action (fictive);2025;QN06204;3;1000;etat;bop147-aap;500;;;;;fondation
";
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let before = head(&ledger).await;
        let sheet = read_csv(bad).unwrap();
        let error = import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap_err();
        let ProgrammationImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        let found: Vec<(usize, Option<&str>)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        for expected in [
            (2, Some("siret")),
            (3, Some("quartiers")),
            (3, Some("objectifs")),
            (3, Some("financeur")),
            (4, Some("budget")),
            (4, Some("asked")),
            (5, Some("granted")),
            (6, Some("exercice")),
            (6, Some("dispositif")),
            (7, Some("porteur_kind")),
        ] {
            assert!(
                found.contains(&expected),
                "{expected:?} missing from {found:?}"
            );
        }
        let text = error.to_string();
        assert!(text.contains("unknown quartier 'QN99999'"), "{text}");
        assert!(text.contains("unknown financeur 'nulle-part'"), "{text}");
        assert!(text.contains("more than 2 decimals"), "{text}");
        assert!(
            text.contains("granted 800.00 is above the 500.00 asked"),
            "{text}"
        );
        assert!(text.contains("checksum"), "{text}");
        assert!(
            text.contains("type de porteur inconnu « fondation »"),
            "{text}"
        );
        assert_eq!(head(&ledger).await, before, "nothing recorded");
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_grant_above_the_request_needs_its_majoration_and_a_dispositif_its_financeur() {
    let header = "dossier;porteur;action;exercice;quartiers;objectifs;budget;financeur;dispositif;asked;granted;comite;decided_on;majoration_reason\n";
    let bad = format!(
        "{header}\
M1;Asso M (fictive);Action (fictive);2025;QN06204;3;1000;etat;bop147-aap;500;800;CF-1;2025-03-01;
M2;Asso N (fictive);Action (fictive);2025;QN06204;3;1000;etat;bop147-aap;500;400;CF-1;2025-03-01;public élargi
M3;Asso O (fictive);Action (fictive);2025;QN06204;3;1000;cabbalr;bop147-aap;500;;;;
"
    );
    let good = format!(
        "{header}\
M4;Asso P (fictive);Action (fictive);2025;QN06204;3;1000;etat;bop147-aap;500;800;CF-1;2025-03-01;public élargi au quartier voisin
"
    );
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let before = head(&ledger).await;
        let error = import_programmation(&ledger, &read_csv(&bad).unwrap(), &defaults())
            .await
            .unwrap_err();
        let text = error.to_string();
        for expected in [
            "line 2, column granted: granted 800.00 is above the 500.00 asked",
            "line 3, column majoration_reason:",
            "line 4, column dispositif: dispositif 'bop147-aap' is not one of 'cabbalr'",
        ] {
            assert!(text.contains(expected), "{expected}\n{text}");
        }
        assert_eq!(head(&ledger).await, before, "nothing recorded");

        import_programmation(&ledger, &read_csv(&good).unwrap(), &defaults())
            .await
            .unwrap();
        let projections = ledger.projections().await.unwrap();
        let line = projections
            .subsidy
            .filed(Some(2025))
            .flat_map(|d| d.lines.values())
            .find(|l| l.granted.cents() == 80_000)
            .cloned();
        assert!(line.is_some(), "the majorated grant is recorded");
        drop(projections);
        ledger.store().shutdown().await;
    }
}
