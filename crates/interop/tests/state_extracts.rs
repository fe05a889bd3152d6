//! The State's extracts (GISPRO, ANCT programme 147) and the identifiers they bring, through the
//! application layer on both backends: a multi-year grant stays one dossier while its Dauphin code
//! and EJ change every year; an identifier already on another dossier is refused whole; a
//! malformed extract names every problem with its line and column and records nothing; the
//! programmation sheet imported twice records nothing the second time. Every name, number and
//! figure is fictitious.

mod support;

use chrono::NaiveDate;
use engagements_app::{CommandError, CommandMeta, Ledger, MetaDefaults};
use engagements_domain::dossier::ExternalIdKind;
use engagements_domain::{Actor, DossierId, LedgerCommand, Source};
use engagements_interop::import::etat::{
    import_extract, Extract, ExtractImportError, ExtractOptions, ExtractReport,
};
use engagements_interop::import::programmation::{
    import_programmation, read_csv as read_programmation, ProgrammationImportError,
};
use engagements_interop::import::sheet::read_csv;
use engagements_store::testing::{self, TestDb};
use serde_json::json;
use support::head;

const PROGRAMMATION: &str = include_str!("../../../docs/examples/programmation.csv");
const GISPRO_2025: &str = include_str!("../../../docs/examples/gispro-2025.csv");
const GISPRO_2026: &str = include_str!("../../../docs/examples/gispro-2026.csv");
const ANCT_2025: &str = include_str!("../../../docs/examples/anct-2025.csv");

const GISPRO_HEADER: &str = "EJ CHORUS;Action de demande - Code dossier;Projet - Code dossier;Direction du gestionnaire du dossier;Code SIRET;Libellé de la famille de procédure;Montant engagé;Type de tiers";

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent fictif", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

async fn ledger(db: &TestDb) -> Ledger {
    support::ledger_with_envelopes(db, &defaults()).await
}

async fn gispro(
    ledger: &Ledger,
    text: &str,
    exercice: i32,
) -> Result<ExtractReport, ExtractImportError> {
    let options = ExtractOptions {
        exercice: Some(exercice),
        contrat_ville: None,
    };
    import_extract(
        ledger,
        Extract::Gispro,
        &read_csv(text).unwrap(),
        &options,
        &defaults(),
    )
    .await
}

/// The dossier of a programmation reference, and its identifiers as `kind value (details)`.
async fn dossier(ledger: &Ledger, reference: &str) -> (DossierId, Vec<String>) {
    let projections = ledger.projections().await.unwrap();
    let id = projections
        .subsidy
        .dossier_by_external_id(ExternalIdKind::Programmation, reference)
        .unwrap_or_else(|| panic!("no dossier {reference}"));
    let ids = projections.subsidy.dossiers[&id]
        .external_ids
        .iter()
        .map(ToString::to_string)
        .collect();
    (id, ids)
}

async fn filed(ledger: &Ledger) -> usize {
    ledger
        .projections()
        .await
        .unwrap()
        .subsidy
        .filed(None)
        .count()
}

#[tokio::test]
async fn a_multi_year_grant_stays_one_dossier_as_its_state_ids_change() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        // The programmation sheet without Dauphin codes: the extract is tied to the ledger by its
        // own `dossier` column (the sheet's reference).
        let sheet = PROGRAMMATION
            .lines()
            .map(|l| l.rsplit_once(';').unwrap().0)
            .collect::<Vec<_>>()
            .join("\n");
        import_programmation(&ledger, &read_programmation(&sheet).unwrap(), &defaults())
            .await
            .unwrap();
        assert_eq!(filed(&ledger).await, 2);
        let (first, ids) = dossier(&ledger, "PROG-2025-001").await;
        assert_eq!(ids, ["programmation PROG-2025-001"]);

        // Year 1: the Dauphin code, the EJ (on the State's line) and the project code attach.
        let year1 = format!(
            "{GISPRO_HEADER};dossier\n2103456789;DA00012345;PRJ-FICTIF-0001;DDETS fictive;99900001000010;Politique de la ville (fictive);6 000,00;Association;PROG-2025-001\n"
        );
        let report = gispro(&ledger, &year1, 2025).await.unwrap();
        assert_eq!(report.matched, 1);
        assert_eq!(report.identifiers_recorded, 3);
        assert!(report.unmatched.is_empty());
        assert!(report.notes.is_empty(), "{:?}", report.notes);
        let (_, ids) = dossier(&ledger, "PROG-2025-001").await;
        assert_eq!(
            ids,
            [
                "programmation PROG-2025-001",
                "dauphin_dossier DA00012345 (2025)",
                "chorus_ej 2103456789 (2025, etat/bop147-aap)",
                "gispro_projet PRJ-FICTIF-0001",
            ]
        );

        // Year 2: a new Dauphin code and a new EJ, the same project code: the same dossier.
        let before = head(&ledger).await;
        let report = gispro(&ledger, GISPRO_2026, 2026).await.unwrap();
        assert_eq!(report.matched, 1);
        assert_eq!(report.dossiers.iter().collect::<Vec<_>>(), [&first]);
        assert_eq!(report.identifiers_recorded, 2);
        assert_eq!(head(&ledger).await, before + 2);
        assert_eq!(filed(&ledger).await, 2, "no dossier filed by an extract");
        let (_, ids) = dossier(&ledger, "PROG-2025-001").await;
        assert_eq!(
            ids[4..],
            [
                "dauphin_dossier DA00023456 (2026)",
                "chorus_ej 2203456789 (2026, etat/bop147-aap)",
            ]
        );
        {
            let projections = ledger.projections().await.unwrap();
            let subsidy = &projections.subsidy;
            for (kind, value) in [
                (ExternalIdKind::DauphinDossier, "DA00012345"),
                (ExternalIdKind::DauphinDossier, "23456"),
                (ExternalIdKind::ChorusEj, "2203456789"),
                (ExternalIdKind::GisproProjet, "prj-fictif-0001"),
            ] {
                assert_eq!(
                    subsidy.dossier_by_external_id(kind, value),
                    Some(first),
                    "{kind} {value}"
                );
            }
            // The dossiers view lists both years' identifiers.
            let table = subsidy.dossiers_table(None);
            let column = table
                .columns
                .iter()
                .position(|c| c == "external_ids")
                .unwrap();
            let text = table
                .rows
                .iter()
                .map(|r| format!("{:?}", r[column]))
                .collect::<String>();
            for expected in ["DA00012345", "DA00023456", "2103456789", "2203456789"] {
                assert!(text.contains(expected), "{expected} missing from {text}");
            }
        }

        // The same extract again brings nothing new and records nothing.
        let before = head(&ledger).await;
        let again = gispro(&ledger, GISPRO_2026, 2026).await.unwrap();
        assert_eq!((again.matched, again.identifiers_recorded), (1, 0));
        assert_eq!(head(&ledger).await, before);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn the_documented_chain_programmation_then_gispro_then_anct() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let report = import_programmation(
            &ledger,
            &read_programmation(PROGRAMMATION).unwrap(),
            &defaults(),
        )
        .await
        .unwrap();
        // Two references and two Dauphin codes.
        assert_eq!(report.identifiers, 4);

        let report = gispro(&ledger, GISPRO_2025, 2025).await.unwrap();
        assert_eq!((report.rows, report.matched), (3, 2));
        // Two EJ and two project codes; the Dauphin codes were known.
        assert_eq!(report.identifiers_recorded, 4);
        assert_eq!(report.unmatched.len(), 1);
        assert_eq!(report.unmatched[0].line, 4);
        assert!(report.unmatched[0].identifiers.contains("DA00077777"));
        // The State engaged 4,500 € on a dossier the ledger has not decided yet: a note.
        assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
        assert_eq!(report.notes[0].line, 3);
        assert!(
            report.notes[0].message.contains("4500.00"),
            "{}",
            report.notes[0]
        );

        // ANCT: every Dauphin code is known; the row of another contract is left aside.
        let before = head(&ledger).await;
        let options = ExtractOptions {
            exercice: Some(2025),
            contrat_ville: Some("CV-FICTIF-01".into()),
        };
        let anct = import_extract(
            &ledger,
            Extract::Anct,
            &read_csv(ANCT_2025).unwrap(),
            &options,
            &defaults(),
        )
        .await
        .unwrap();
        assert_eq!(
            (
                anct.rows,
                anct.matched,
                anct.other_contracts,
                anct.identifiers_recorded
            ),
            (3, 2, 1, 0)
        );
        assert!(anct.unmatched.is_empty());
        assert_eq!(head(&ledger).await, before);

        // An ANCT row tied by the ledger's own `dossier` column records its Dauphin code.
        let (second, _) = dossier(&ledger, "PROG-2025-002").await;
        let linked = format!(
            "Numéro de l’action PRJ;Libellé de l'action;Raison sociale longue;Mt engagé;dossier\n00034567;Accompagnement scolaire (exemple fictif);CENTRE SOCIAL IMAGINAIRE;4500;{second}\n"
        );
        let anct = import_extract(
            &ledger,
            Extract::Anct,
            &read_csv(&linked).unwrap(),
            &ExtractOptions {
                exercice: Some(2026),
                contrat_ville: None,
            },
            &defaults(),
        )
        .await
        .unwrap();
        assert_eq!(anct.identifiers_recorded, 1);
        let (_, ids) = dossier(&ledger, "PROG-2025-002").await;
        assert!(
            ids.contains(&"dauphin_dossier DA00034567 (2026)".to_string()),
            "{ids:?}"
        );
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn an_identifier_already_on_another_dossier_is_refused_and_nothing_is_recorded() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        import_programmation(
            &ledger,
            &read_programmation(PROGRAMMATION).unwrap(),
            &defaults(),
        )
        .await
        .unwrap();
        gispro(&ledger, GISPRO_2025, 2025).await.unwrap();
        let (first, _) = dossier(&ledger, "PROG-2025-001").await;
        let (second, _) = dossier(&ledger, "PROG-2025-002").await;
        let before = head(&ledger).await;

        // A good row, then a row whose Dauphin code is the second dossier's and whose project
        // code is the first's: the file is refused whole, the good row too.
        let bad = format!(
            "{GISPRO_HEADER}\n2203456789;DA00023456;PRJ-FICTIF-0001;DDETS fictive;99900001000010;PV;6 500,00;Association\n2203456790;DA00012346;PRJ-FICTIF-0001;DDETS fictive;99900002000019;PV;4 500,00;Association\n"
        );
        let error = gispro(&ledger, &bad, 2026).await.unwrap_err();
        let ExtractImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        assert_eq!(problems.len(), 1, "{error}");
        assert_eq!(problems[0].line, 3);
        assert_eq!(problems[0].column.as_deref(), Some("Projet - Code dossier"));
        assert!(
            problems[0].message.contains(&first.to_string())
                && problems[0].message.contains(&second.to_string()),
            "{error}"
        );
        // A SIRET that is not the dossier's porteur's is refused too.
        let wrong_siret = format!(
            "{GISPRO_HEADER}\n2203456789;DA00023456;PRJ-FICTIF-0001;DDETS fictive;99900002000019;PV;6 500,00;Association\n"
        );
        let error = gispro(&ledger, &wrong_siret, 2026).await.unwrap_err();
        assert!(
            error.to_string().contains("line 2, column Code SIRET"),
            "{error}"
        );
        assert_eq!(head(&ledger).await, before, "nothing recorded");

        // The same through a command: the second dossier cannot take the first's Dauphin code.
        let command: LedgerCommand = serde_json::from_value(json!({
            "command": "record_external_id", "dossier_id": second,
            "kind": "dauphin_dossier", "value": "12345", "exercice": 2025
        }))
        .unwrap();
        let error = ledger
            .execute(command, &CommandMeta::default(), &defaults())
            .await
            .unwrap_err();
        assert!(matches!(error, CommandError::Rejected(_)), "{error}");
        assert!(
            error.to_string().contains("DA00012345")
                && error.to_string().contains(&first.to_string()),
            "{error}"
        );
        // And the first dossier cannot take it twice.
        let command: LedgerCommand = serde_json::from_value(json!({
            "command": "record_external_id", "dossier_id": first,
            "kind": "dauphin_dossier", "value": "DA00012345"
        }))
        .unwrap();
        let error = ledger
            .execute(command, &CommandMeta::default(), &defaults())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("already recorded"), "{error}");
        assert_eq!(head(&ledger).await, before, "nothing recorded");
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_malformed_extract_names_every_problem_and_records_nothing() {
    // No `Projet - Code dossier` column; a bad amount, a bad SIRET, a bad Dauphin code, a bad EJ,
    // a bad exercice, and a `dossier` link to nothing.
    let bad = "\
EJ CHORUS;Action de demande - Code dossier;Code SIRET;Montant engagé;exercice;dossier
2103456789;DA00012345;99900001000010;douze cents;2025;
2103456790;DA0001234;99900001000011;1 200,00;2025;
21034X;DA00012346;99900002000019;12.345;1925;PROG-INCONNU
";
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        import_programmation(
            &ledger,
            &read_programmation(PROGRAMMATION).unwrap(),
            &defaults(),
        )
        .await
        .unwrap();
        let before = head(&ledger).await;
        let options = ExtractOptions::default();
        let error = import_extract(
            &ledger,
            Extract::Gispro,
            &read_csv(bad).unwrap(),
            &options,
            &defaults(),
        )
        .await
        .unwrap_err();
        let ExtractImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        let found: Vec<(usize, Option<&str>)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        for expected in [
            (1, Some("Projet - Code dossier")),
            (2, Some("Montant engagé")),
            (3, Some("Action de demande - Code dossier")),
            (3, Some("Code SIRET")),
            (4, Some("EJ CHORUS")),
            (4, Some("Montant engagé")),
            (4, Some("exercice")),
            (4, Some("dossier")),
        ] {
            assert!(
                found.contains(&expected),
                "{expected:?} missing from {found:?}"
            );
        }
        let text = error.to_string();
        for expected in [
            "required column is missing",
            "'douze cents' is not an amount",
            "Dauphin dossier code is DA followed by 8 digits",
            "checksum",
            "EJ Chorus has digits only",
            "more than 2 decimals",
            "no dossier 'PROG-INCONNU'",
        ] {
            assert!(text.contains(expected), "{expected} missing from {text}");
        }
        assert_eq!(head(&ledger).await, before, "nothing recorded");

        // Without an exercice column, the exercice must be given.
        let error = gispro(&ledger, GISPRO_2025, 1999)
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(error.to_string().contains("--exercice"), "{error}");
        let error = import_extract(
            &ledger,
            Extract::Gispro,
            &read_csv(GISPRO_2025).unwrap(),
            &ExtractOptions::default(),
            &defaults(),
        )
        .await
        .unwrap_err();
        assert!(
            error.to_string().contains("give --exercice YEAR"),
            "{error}"
        );
        // An ANCT extract read as GISPRO names the columns it lacks.
        let error = gispro(&ledger, ANCT_2025, 2025).await.unwrap_err();
        assert!(error.to_string().contains("EJ CHORUS"), "{error}");
        assert_eq!(head(&ledger).await, before, "nothing recorded");
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn the_same_programmation_sheet_twice_records_nothing_the_second_time() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let sheet = read_programmation(PROGRAMMATION).unwrap();
        let first = import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap();
        assert_eq!((first.dossiers, first.dossiers_known), (2, 0));
        let before = head(&ledger).await;
        let again = import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap();
        assert!(again.nothing_new(), "{again:?}");
        assert_eq!(again.dossiers_known, 2);
        assert_eq!(head(&ledger).await, before, "nothing recorded");
        assert_eq!(filed(&ledger).await, 2);

        // The sheet, later: the comité decided the second dossier and the State's EJ is known.
        // Only the new decision and the new EJ are recorded, on the same dossier.
        let later = PROGRAMMATION
            .lines()
            .enumerate()
            .map(|(i, l)| match i {
                0 => format!("{l};ej"),
                3 => l.replace(
                    ";4500,00;;;;;DA00012346",
                    ";4500,00;4500,00;4000,00;CF-2025-02;2025-06-20;DA00012346;2103456790",
                ),
                _ => format!("{l};"),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let report =
            import_programmation(&ledger, &read_programmation(&later).unwrap(), &defaults())
                .await
                .unwrap();
        assert_eq!(
            (
                report.dossiers,
                report.dossiers_known,
                report.opinions,
                report.decisions,
                report.identifiers
            ),
            (0, 2, 1, 1, 1),
            "{report:?}"
        );
        let (second, ids) = dossier(&ledger, "PROG-2025-002").await;
        assert!(
            ids.contains(&"chorus_ej 2103456790 (2025, etat/bop147-aap)".to_string()),
            "{ids:?}"
        );
        {
            let projections = ledger.projections().await.unwrap();
            let state = &projections.subsidy.dossiers[&second];
            assert_eq!(
                state.lines[&("etat".to_string(), "bop147-aap".to_string())]
                    .granted
                    .to_string(),
                "4000.00"
            );
        }

        // A sheet that changes what is recorded is refused, naming the cell.
        let before = head(&ledger).await;
        let changed = later
            .replace("9000,00", "9500,00")
            .replace("4000,00;CF-2025-02", "4200,00;CF-2025-02");
        let error =
            import_programmation(&ledger, &read_programmation(&changed).unwrap(), &defaults())
                .await
                .unwrap_err();
        let ProgrammationImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        let found: Vec<(usize, Option<&str>)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        assert!(found.contains(&(4, Some("budget"))), "{error}");
        assert!(found.contains(&(4, Some("granted"))), "{error}");
        assert!(error.to_string().contains("amend_dossier"), "{error}");
        assert_eq!(head(&ledger).await, before, "nothing recorded");
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn dossiers_filed_before_references_were_kept_are_not_filed_again() {
    for db in testing::all().await {
        // A ledger of an earlier version: the sheet's second dossier was filed by an import that
        // kept no reference (here, by commands).
        let ledger = ledger(&db).await;
        let porteur = uuid::Uuid::now_v7();
        let dossier_id = uuid::Uuid::now_v7();
        for command in [
            json!({"command":"register_porteur","porteur_id":porteur,"name":"Centre Social Imaginaire",
                "kind":"other","siret":"99900002000019"}),
            json!({"command":"file_dossier","dossier_id":dossier_id,"porteur_id":porteur,"exercice":2025,
                "title":"Accompagnement scolaire (exemple fictif)","total_budget":"9000",
                "quartiers":[{"quartier":"QN06206"}],"objectifs":[{"objectif":12}],
                "requests":[{"financeur":"etat","dispositif":"bop147-aap","amount":"4500"}]}),
        ] {
            let command: LedgerCommand = serde_json::from_value(command).unwrap();
            ledger
                .execute(command, &CommandMeta::default(), &defaults())
                .await
                .unwrap();
        }
        let sheet = read_programmation(PROGRAMMATION).unwrap();
        let report = import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap();
        assert_eq!(
            (
                report.dossiers,
                report.dossiers_known,
                report.porteurs_registered
            ),
            (1, 1, 1),
            "{report:?}"
        );
        assert_eq!(filed(&ledger).await, 2);
        // Its reference and Dauphin code are now kept on the dossier filed earlier.
        let (id, ids) = dossier(&ledger, "PROG-2025-002").await;
        assert_eq!(id.to_string(), dossier_id.to_string());
        assert_eq!(
            ids,
            [
                "programmation PROG-2025-002",
                "dauphin_dossier DA00012346 (2025)"
            ]
        );
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_gispro_workbook_with_numbers_for_codes_reads_like_its_csv() {
    // A spreadsheet turns codes into numbers: the Dauphin code loses its prefix and its leading
    // zeros, the EJ, the SIRET and the amount become numbers.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (column, header) in GISPRO_HEADER.split(';').enumerate() {
        sheet.write_string(0, column as u16, header).unwrap();
    }
    sheet.write_number(1, 0, 2103456789.0).unwrap();
    sheet.write_number(1, 1, 12345.0).unwrap();
    sheet.write_string(1, 2, "PRJ-FICTIF-0001").unwrap();
    sheet.write_string(1, 3, "DDETS fictive").unwrap();
    sheet.write_number(1, 4, 99900001000010.0).unwrap();
    sheet
        .write_string(1, 5, "Politique de la ville (fictive)")
        .unwrap();
    sheet.write_number(1, 6, 6000.0).unwrap();
    sheet.write_string(1, 7, "Association").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let sheet = engagements_interop::import::sheet::read_xlsx(&bytes).unwrap();
    assert_eq!(sheet.rows[0].line, 2);
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        import_programmation(
            &ledger,
            &read_programmation(PROGRAMMATION).unwrap(),
            &defaults(),
        )
        .await
        .unwrap();
        let options = ExtractOptions {
            exercice: Some(2025),
            contrat_ville: None,
        };
        let report = import_extract(&ledger, Extract::Gispro, &sheet, &options, &defaults())
            .await
            .unwrap();
        assert_eq!((report.matched, report.identifiers_recorded), (1, 2));
        assert!(report.notes.is_empty(), "{:?}", report.notes);
        let (_, ids) = dossier(&ledger, "PROG-2025-001").await;
        assert_eq!(
            ids[2..],
            [
                "chorus_ej 2103456789 (2025, etat/bop147-aap)",
                "gispro_projet PRJ-FICTIF-0001"
            ]
        );
        ledger.store().shutdown().await;
    }
}
