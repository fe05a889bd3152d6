//! Files made the way French users save them (`tests/fixtures/`, described in its README): French
//! Excel's « CSV (séparateur : point-virgule) » in Windows-1252, « Texte Unicode » in UTF-16 with
//! tabs, workbooks with a title row and merged header cells on another sheet than the first, all
//! with CRLF line ends. Each imports to the figures the UTF-8 examples of `docs/examples/` give;
//! the same file with one bad cell records nothing and names the cell's physical line and its
//! column as the file titles it. Both backends. Every name and figure is fictitious.
//!
//! `UPDATE_FIXTURES=1` rewrites the workbooks of the folder from [`programmation_workbook`] and
//! [`tfpb_workbook`].

mod support;

use std::path::PathBuf;

use chrono::NaiveDate;
use engagements_app::auth::{Principal, Role};
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_interop::import::encoding::TextEncoding;
use engagements_interop::import::etat::{
    import_extract, read_extract, Extract, ExtractImportError, ExtractOptions,
};
use engagements_interop::import::problems::RowProblem;
use engagements_interop::import::programmation::{
    import_programmation, read_programmation, ProgrammationImportError,
};
use engagements_interop::import::tfpb::{import_tfpb_sheet, read_tfpb, TfpbImportError};
use engagements_projections::tfpb::TfpbFilter;
use engagements_projections::Projections;
use engagements_store::testing::{self, TestDb};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use support::head;

const PROGRAMMATION_UTF8: &str = include_str!("../../../docs/examples/programmation.csv");
const TFPB_UTF8: &str = include_str!("../../../docs/examples/tfpb.csv");

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

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

/// Replaces the one occurrence of `from` in `bytes` (the test fails if there is not exactly one).
fn one_bad_cell(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at: Vec<usize> = (0..bytes.len().saturating_sub(from.len() - 1))
        .filter(|&i| &bytes[i..i + from.len()] == from)
        .collect();
    assert_eq!(
        at.len(),
        1,
        "{:?} must occur once",
        String::from_utf8_lossy(from)
    );
    [&bytes[..at[0]], to, &bytes[at[0] + from.len()..]].concat()
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The text of a UTF-16 LE file after its BOM.
fn from_utf16(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..2], b"\xff\xfe");
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

fn cp1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '–' => 0x96,
            '€' => 0x80,
            c => u8::try_from(c as u32).expect("a Latin-1 character"),
        })
        .collect()
}

/// Asserts the one problem is at `line`, `column`.
fn assert_one_problem(problems: &[RowProblem], line: usize, column: &str) {
    let found: Vec<(usize, Option<&str>)> = problems
        .iter()
        .map(|p| (p.line, p.column.as_deref()))
        .collect();
    assert_eq!(found, vec![(line, Some(column))], "{problems:#?}");
}

/// What the ledger says of the imported dossiers, without the ids it made up: porteur, title,
/// budget, quartiers, objectifs, and each line's amounts, status and decision date.
fn dossiers_signature(projections: &Projections) -> Vec<String> {
    let mut lines = Vec::new();
    for state in projections.subsidy.filed(None) {
        let Some(filing) = state.filed.as_ref() else {
            continue;
        };
        let porteur = projections.porteurs.get(&filing.porteur_id).unwrap();
        let ids: Vec<String> = state.external_ids.iter().map(|e| e.to_string()).collect();
        for ((financeur, dispositif), line) in &state.lines {
            lines.push(format!(
                "{} {:?} {:?} | {} {} {} {:?} {:?} | {financeur}/{dispositif} asked {} proposed {:?} granted {} {} on {:?} | {}",
                porteur.name,
                porteur.siret,
                porteur.rna,
                filing.title,
                filing.exercice,
                filing.total_budget,
                filing.quartiers.iter().map(|q| &q.quartier).collect::<Vec<_>>(),
                filing.objectifs.iter().map(|o| o.objectif).collect::<Vec<_>>(),
                line.requested,
                line.proposed.map(|p| p.to_string()),
                line.granted,
                line.status.as_str(),
                line.decided_on,
                ids.join("; ")
            ));
        }
    }
    lines.sort();
    lines
}

/// The dossiers the UTF-8 example of docs/examples records.
async fn reference_dossiers(db: &TestDb) -> Vec<String> {
    let ledger = ledger(db).await;
    let sheet = read_programmation(PROGRAMMATION_UTF8.as_bytes(), None).unwrap();
    import_programmation(&ledger, &sheet, &defaults())
        .await
        .unwrap();
    let signature = dossiers_signature(&ledger.projections().await.unwrap());
    ledger.store().shutdown().await;
    signature
}

/// A programmation file imports to the example's dossiers; its bad twin records nothing and
/// names (`line`, `column`).
async fn programmation_case(
    good: &[u8],
    encoding: Option<TextEncoding>,
    bad: &[u8],
    line: usize,
    column: &str,
) {
    let expected = reference_dossiers(&testing::sqlite()).await;
    assert_eq!(expected.len(), 3, "{expected:#?}");
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let before = head(&ledger).await;
        let sheet = read_programmation(bad, None).unwrap();
        let error = import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap_err();
        let ProgrammationImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        assert_one_problem(problems, line, column);
        assert_eq!(head(&ledger).await, before, "nothing recorded");

        let sheet = read_programmation(good, None).unwrap();
        assert_eq!(sheet.encoding, encoding, "{}", sheet.source);
        let report = import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap();
        assert_eq!((report.rows, report.dossiers, report.decisions), (3, 2, 2));
        let projections = ledger.projections().await.unwrap();
        assert_eq!(dossiers_signature(&projections), expected);
        let granted: engagements_domain::Amount = projections
            .subsidy
            .filed(None)
            .flat_map(|d| d.lines.values().map(|l| l.granted))
            .sum();
        assert_eq!(granted.to_string(), "10000.00");
        drop(projections);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn programmation_from_french_excel_csv_in_windows_1252() {
    let good = fixture("programmation-excel-cp1252.csv");
    // Line 1 is a title, line 2 empty, line 3 the header: the second dossier's cabbalr line is
    // physical line 5.
    let bad = one_bad_cell(
        &good,
        &cp1252("4\u{a0}000,00;4\u{a0}000,00"),
        &cp1252("4\u{a0}000,00;quatre mille"),
    );
    programmation_case(&good, Some(TextEncoding::Windows1252), &bad, 5, "Accordé").await;
}

#[tokio::test]
async fn programmation_from_excel_unicode_text_in_utf16() {
    let good = fixture("programmation-texte-unicode.txt");
    // The first row's decision date becomes a day that does not exist.
    let text = from_utf16(&good);
    let bad = [
        &good[..2],
        &utf16(&text.replacen("\t2025-03-14\t", "\t30/02/2025\t", 1))[..],
    ]
    .concat();
    programmation_case(
        &good,
        Some(TextEncoding::Utf16Le),
        &bad,
        2,
        "DATE DE DECISION",
    )
    .await;
}

#[tokio::test]
async fn programmation_from_a_workbook_with_a_title_row_and_merged_headers() {
    if std::env::var("UPDATE_FIXTURES").is_ok() {
        std::fs::write(
            fixture_path("programmation-titre-fusion.xlsx"),
            programmation_workbook(None),
        )
        .unwrap();
    }
    let good = fixture("programmation-titre-fusion.xlsx");
    // The data start on row 4 (title on 1, merged headers on 2 and 3).
    let bad = programmation_workbook(Some(BadCell::Text(5, "mille")));
    programmation_case(&good, None, &bad, 5, "Accordé").await;
}

#[tokio::test]
async fn a_formula_without_a_saved_value_is_refused_at_its_cell() {
    let book = programmation_workbook(Some(BadCell::Formula(4, "L4-2000")));
    let sheet = read_programmation(&book, None).unwrap();
    assert_eq!(sheet.source, "XLSX, sheet 'Programmation 2025'");
    let problems: Vec<&RowProblem> = sheet.problems.iter().collect();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(
        (problems[0].line, problems[0].column.as_deref()),
        (4, Some("granted"))
    );
    assert!(problems[0].message.contains("=L4-2000"), "{}", problems[0]);
    assert!(
        problems[0].message.contains("no saved value"),
        "{}",
        problems[0]
    );
    // And the import names it with the file's title, recording nothing.
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let before = head(&ledger).await;
        let error = import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap_err();
        let ProgrammationImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        assert_one_problem(problems, 4, "Accordé");
        assert_eq!(head(&ledger).await, before);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_named_sheet_is_read_and_an_unknown_one_is_refused_with_the_sheets() {
    let book = programmation_workbook(None);
    let sheet = read_programmation(&book, Some("programmation 2025")).unwrap();
    assert_eq!(sheet.rows.len(), 3);
    let error = read_programmation(&book, Some("Feuil9")).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("Feuil9") && text.contains("Notes, Programmation 2025"),
        "{text}"
    );
}

/// One row of the example programmation: dossier, porteur, SIRET, RNA, action, quartiers,
/// objectifs, budget, financeur, dispositif, asked, granted, comité, Dauphin code.
type WorkbookRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    &'static str,
    &'static str,
    f64,
    Option<f64>,
    Option<&'static str>,
    &'static str,
);

/// One cell to spoil in the workbook: a text, or a formula with no saved value.
enum BadCell {
    /// (spreadsheet row, text) in the `Accordé` column.
    Text(u32, &'static str),
    /// (spreadsheet row, formula) in the `Accordé` column.
    Formula(u32, &'static str),
}

/// The example programmation as a French team keeps it in a workbook: a first sheet of notes,
/// then a sheet with a merged title row, two header rows with merged cells (identity columns
/// merged down, « Montants (€) » across the three amounts), amounts as numbers and dates as
/// date cells.
fn programmation_workbook(bad: Option<BadCell>) -> Vec<u8> {
    let mut book = Workbook::new();
    let notes = book.add_worksheet().set_name("Notes").unwrap();
    notes
        .write_string(0, 0, "Programmation fictive : voir la feuille suivante.")
        .unwrap();
    let sheet = book.add_worksheet().set_name("Programmation 2025").unwrap();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sheet
        .merge_range(
            0,
            0,
            0,
            16,
            "Programmation 2025 – comité des financeurs (fictive)",
            &bold,
        )
        .unwrap();
    let down = [
        "N° dossier",
        "Porteur",
        "SIRET",
        "RNA",
        "Intitulé de l'action",
        "Exercice",
        "Quartiers",
        "Objectifs",
        "Budget total",
        "Financeur",
        "Dispositif",
    ];
    for (column, title) in down.iter().enumerate() {
        sheet
            .merge_range(1, column as u16, 2, column as u16, title, &bold)
            .unwrap();
    }
    sheet
        .merge_range(1, 11, 1, 13, "Montants (€)", &bold)
        .unwrap();
    for (offset, title) in ["Demandé", "Proposé", "Accordé"].iter().enumerate() {
        sheet
            .write_string_with_format(2, 11 + offset as u16, *title, &bold)
            .unwrap();
    }
    sheet.merge_range(1, 14, 1, 15, "Décision", &bold).unwrap();
    sheet
        .write_string_with_format(2, 14, "Comité", &bold)
        .unwrap();
    sheet
        .write_string_with_format(2, 15, "Décidé le", &bold)
        .unwrap();
    sheet
        .merge_range(1, 16, 2, 16, "Code Dauphin", &bold)
        .unwrap();
    let rows: [WorkbookRow; 3] = [
        (
            "PROG-2025-001",
            "Association Exemple Fictive",
            "99900001000010",
            "W623000001",
            "Atelier d'écriture (exemple fictif)",
            "QN06204|QN06205",
            "3|7",
            20000.0,
            "etat",
            "bop147-aap",
            8000.0,
            Some(6000.0),
            Some("CF-2025-01"),
            "DA00012345",
        ),
        (
            "PROG-2025-001",
            "Association Exemple Fictive",
            "99900001000010",
            "W623000001",
            "Atelier d'écriture (exemple fictif)",
            "QN06204|QN06205",
            "3|7",
            20000.0,
            "cabbalr",
            "fonds-cohesion-sociale",
            5000.0,
            Some(4000.0),
            Some("CF-2025-01"),
            "DA00012345",
        ),
        (
            "PROG-2025-002",
            "Centre Social Imaginaire",
            "99900002000019",
            "",
            "Accompagnement scolaire (exemple fictif)",
            "QN06206",
            "12",
            9000.0,
            "etat",
            "bop147-aap",
            4500.0,
            None,
            None,
            "DA00012346",
        ),
    ];
    for (index, row) in rows.iter().enumerate() {
        let r = 3 + index as u32;
        let (
            dossier,
            porteur,
            siret,
            rna,
            action,
            quartiers,
            objectifs,
            budget,
            financeur,
            dispositif,
            asked,
            granted,
            comite,
            code,
        ) = *row;
        for (column, text) in [
            (0, dossier),
            (1, porteur),
            (2, siret),
            (3, rna),
            (4, action),
            (6, quartiers),
            (9, financeur),
            (10, dispositif),
            (16, code),
        ] {
            if !text.is_empty() {
                sheet.write_string(r, column, text).unwrap();
            }
        }
        sheet.write_number(r, 5, 2025.0).unwrap();
        // One objectif alone is a number in a spreadsheet.
        match objectifs.parse::<f64>() {
            Ok(number) => sheet.write_number(r, 7, number).unwrap(),
            Err(_) => sheet.write_string(r, 7, objectifs).unwrap(),
        };
        sheet.write_number(r, 8, budget).unwrap();
        sheet.write_number(r, 11, asked).unwrap();
        if let Some(granted) = granted {
            sheet.write_number(r, 12, granted).unwrap();
            sheet.write_number(r, 13, granted).unwrap();
            sheet
                .write_string(r, 14, comite.unwrap_or_default())
                .unwrap();
            let day = ExcelDateTime::from_ymd(2025, 3, 14).unwrap();
            sheet
                .write_datetime_with_format(r, 15, &day, &date)
                .unwrap();
        }
    }
    match bad {
        Some(BadCell::Text(row, text)) => {
            sheet.write_string(row - 1, 13, text).unwrap();
        }
        Some(BadCell::Formula(row, formula)) => {
            // Saved with an empty result, as a program that does not compute formulas saves
            // them: Excel or LibreOffice would compute it on opening, a reader sees nothing.
            sheet.set_formula_result_default("");
            sheet
                .write_formula(row - 1, 13, Formula::new(formula))
                .unwrap();
        }
        None => {}
    }
    book.save_to_buffer().unwrap()
}

/// The example TFPB file as a bailleur's workbook: a title row, French titles, numbers and dates.
fn tfpb_workbook() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Actions 2025").unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sheet
        .write_string(0, 0, "Actions TFPB 2025 – Maisons et Cités (fictif)")
        .unwrap();
    let titles = [
        "QPV",
        "Année",
        "Axe",
        "Libellé de l'action",
        "Prévu",
        "Réalisé",
        "Logements",
        "Abattement",
        "Partenaires",
        "Date de dépense",
        "Justificatif",
    ];
    for (column, title) in titles.iter().enumerate() {
        sheet.write_string(2, column as u16, *title).unwrap();
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(TFPB_UTF8.as_bytes());
    for (index, record) in reader.records().enumerate() {
        let record = record.unwrap();
        let r = 3 + index as u32;
        for (column, cell) in record.iter().enumerate() {
            let c = column as u16;
            if cell.is_empty() {
                continue;
            }
            match column {
                1 | 6 => sheet
                    .write_number(r, c, cell.parse::<f64>().unwrap())
                    .unwrap(),
                4 | 5 | 7 => sheet
                    .write_number(r, c, cell.replace(',', ".").parse::<f64>().unwrap())
                    .unwrap(),
                9 => {
                    let day = NaiveDate::parse_from_str(cell, "%Y-%m-%d").unwrap();
                    let day = ExcelDateTime::parse_from_str(&day.to_string()).unwrap();
                    sheet.write_datetime_with_format(r, c, &day, &date).unwrap()
                }
                _ => sheet.write_string(r, c, cell).unwrap(),
            };
        }
    }
    book.save_to_buffer().unwrap()
}

fn bailleur() -> Principal {
    Principal {
        person: "Personne fictive".into(),
        organisation: "maisons-et-cites".into(),
        role: Role::Bailleur,
    }
}

/// What the ledger says of the bailleur's programmes, per QPV and per axis.
fn tfpb_signature(projections: &Projections) -> Vec<String> {
    let today = defaults().today;
    let filter = TfpbFilter::default();
    [
        projections.tfpb.bailleur_table(&filter, today),
        projections.tfpb.axis_table(&filter, today),
    ]
    .iter()
    .flat_map(|table| {
        table.rows.iter().map(|row| {
            row.iter()
                .map(|c| c.to_text())
                .collect::<Vec<_>>()
                .join(";")
        })
    })
    .collect()
}

/// A TFPB file imports to the example's figures; its bad twin records nothing and names
/// (`line`, `column`).
async fn tfpb_case(good: &[u8], bad: &[u8], line: usize, column: &str) {
    let reference = {
        let db = testing::sqlite();
        {
            let ledger = ledger(&db).await;
            let sheet = read_tfpb(TFPB_UTF8.as_bytes(), None).unwrap();
            import_tfpb_sheet(
                &ledger,
                &sheet,
                "maisons-et-cites",
                &bailleur(),
                &defaults(),
            )
            .await
            .unwrap();
            let signature = tfpb_signature(&ledger.projections().await.unwrap());
            ledger.store().shutdown().await;
            signature
        }
    };
    assert!(
        reference.iter().any(|r| r.contains("118000.00")),
        "{reference:#?}"
    );
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let before = head(&ledger).await;
        let sheet = read_tfpb(bad, None).unwrap();
        let error = import_tfpb_sheet(
            &ledger,
            &sheet,
            "maisons-et-cites",
            &bailleur(),
            &defaults(),
        )
        .await
        .unwrap_err();
        let TfpbImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        assert_one_problem(problems, line, column);
        assert_eq!(head(&ledger).await, before, "nothing recorded");

        let sheet = read_tfpb(good, None).unwrap();
        let report = import_tfpb_sheet(
            &ledger,
            &sheet,
            "maisons-et-cites",
            &bailleur(),
            &defaults(),
        )
        .await
        .unwrap();
        assert_eq!((report.rows, report.actions, report.spendings), (6, 6, 5));
        assert_eq!(
            tfpb_signature(&ledger.projections().await.unwrap()),
            reference
        );
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn tfpb_from_french_excel_csv_in_windows_1252() {
    let good = fixture("tfpb-excel-cp1252.csv");
    assert!(good.windows(2).any(|w| w == b"\r\n"));
    // Line 1 is a title, line 2 the header: the fourth action is physical line 6.
    let bad = one_bad_cell(&good, &cp1252("05/07/2025"), &cp1252("05/07/2024"));
    tfpb_case(&good, &bad, 6, "Date de dépense").await;
}

#[tokio::test]
async fn tfpb_from_a_workbook_with_a_title_row() {
    if std::env::var("UPDATE_FIXTURES").is_ok() {
        std::fs::write(fixture_path("tfpb-titre.xlsx"), tfpb_workbook()).unwrap();
    }
    let good = fixture("tfpb-titre.xlsx");
    let sheet = read_tfpb(&good, None).unwrap();
    assert_eq!((sheet.header_line, sheet.rows[0].line), (3, 4));
    // The same workbook with an unknown axis on the third action (row 6).
    let bad = {
        let text = TFPB_UTF8.replace(";axe-4;", ";axe-44;");
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet
            .write_string(0, 0, "Actions TFPB 2025 (fictif)")
            .unwrap();
        for (row, line) in text.lines().enumerate() {
            for (column, cell) in line.split(';').enumerate() {
                sheet
                    .write_string(row as u32 + 2, column as u16, cell)
                    .unwrap();
            }
        }
        book.save_to_buffer().unwrap()
    };
    tfpb_case(&good, &bad, 6, "axis").await;
}

async fn extract(
    ledger: &Ledger,
    kind: Extract,
    bytes: &[u8],
) -> Result<engagements_interop::import::etat::ExtractReport, ExtractImportError> {
    let options = ExtractOptions {
        exercice: Some(2025),
        contrat_ville: None,
    };
    let sheet = read_extract(kind, bytes, None).unwrap();
    import_extract(ledger, kind, &sheet, &options, &defaults()).await
}

#[tokio::test]
async fn gispro_in_capitals_without_accents_from_french_excel() {
    let good = fixture("gispro-2025-excel-cp1252.csv");
    let bad = one_bad_cell(&good, b"99900002000019", b"99900002000018");
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let sheet = read_programmation(PROGRAMMATION_UTF8.as_bytes(), None).unwrap();
        import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap();
        let before = head(&ledger).await;
        let error = extract(&ledger, Extract::Gispro, &bad).await.unwrap_err();
        let ExtractImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        assert_one_problem(problems, 3, "CODE SIRET");
        assert_eq!(head(&ledger).await, before, "nothing recorded");

        let report = extract(&ledger, Extract::Gispro, &good).await.unwrap();
        assert_eq!(
            (
                report.rows,
                report.matched,
                report.identifiers_recorded,
                report.unmatched.len()
            ),
            (3, 2, 4, 1)
        );
        assert_eq!(report.unmatched[0].line, 4);
        assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
        assert!(
            report.notes[0].message.contains("4500.00"),
            "{}",
            report.notes[0]
        );
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn anct_as_unicode_text_with_dauphin_statuses() {
    let good = fixture("anct-2025-texte-unicode.txt");
    let text = from_utf16(&good);
    let bad = [
        &good[..2],
        &utf16(&text.replacen("\t4500\t", "\t4 500,5O\t", 1))[..],
    ]
    .concat();
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let sheet = read_programmation(PROGRAMMATION_UTF8.as_bytes(), None).unwrap();
        import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap();
        let before = head(&ledger).await;
        let error = extract(&ledger, Extract::Anct, &bad).await.unwrap_err();
        let ExtractImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        assert_one_problem(problems, 3, "Mt engagé");
        assert_eq!(head(&ledger).await, before, "nothing recorded");

        let sheet = read_extract(Extract::Anct, &good, None).unwrap();
        assert_eq!(sheet.encoding, Some(TextEncoding::Utf16Le));
        let report = extract(&ledger, Extract::Anct, &good).await.unwrap();
        assert_eq!(
            (report.rows, report.matched, report.unmatched.len()),
            (3, 2, 1)
        );
        // Dauphin says « Attribué » for PROG-2025-002, on which the ledger has no decision yet;
        // and the State engaged 4,500 € on it: two notes, nothing blocked.
        let status: Vec<&RowProblem> = report
            .notes
            .iter()
            .filter(|n| n.column.as_deref() == Some("Statut du dossier"))
            .collect();
        assert_eq!(status.len(), 1, "{:#?}", report.notes);
        assert_eq!(status[0].line, 3);
        assert!(status[0].message.contains("'Attribué'"), "{}", status[0]);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn crf_figures_from_french_excel_csv() {
    use engagements_interop::import::crf::{import_crf, read_crf, CrfImportError};
    let good = fixture("crf-2025-excel-cp1252.csv");
    // The cabbalr part used is above the 4,000 € granted (line 4 of the file).
    let bad = one_bad_cell(&good, &cp1252("3\u{a0}800,00"), &cp1252("4\u{a0}800,00"));
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let sheet = read_programmation(PROGRAMMATION_UTF8.as_bytes(), None).unwrap();
        import_programmation(&ledger, &sheet, &defaults())
            .await
            .unwrap();
        let before = head(&ledger).await;
        let error = import_crf(&ledger, &read_crf(&bad, None).unwrap(), &defaults())
            .await
            .unwrap_err();
        let CrfImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        assert_one_problem(problems, 4, "Subvention utilisée");
        assert_eq!(head(&ledger).await, before, "nothing recorded");

        let sheet = read_crf(&good, None).unwrap();
        assert_eq!(sheet.encoding, Some(TextEncoding::Windows1252));
        let report = import_crf(&ledger, &sheet, &defaults()).await.unwrap();
        assert_eq!((report.rows, report.recorded, report.known), (2, 1, 0));
        {
            let projections = ledger.projections().await.unwrap();
            let dossier = projections
                .subsidy
                .dossier_by_external_id(
                    engagements_domain::dossier::ExternalIdKind::Programmation,
                    "PROG-2025-001",
                )
                .unwrap();
            let state = projections.subsidy.dossier(&dossier).unwrap();
            assert_eq!(state.crf_received_on, NaiveDate::from_ymd_opt(2026, 6, 15));
            let crf = state.crf.clone().unwrap();
            assert_eq!(crf.budget_realised.unwrap().to_string(), "19250.00");
            assert_eq!(crf.expenses.unwrap().to_string(), "18900.00");
            // The two financeurs' parts add up to the dossier's grant used.
            assert_eq!(crf.grant_used.unwrap().to_string(), "9800.00");
            assert!(crf.comment.unwrap().starts_with("Écart de 750 €"));
        }
        // The same file again records nothing.
        let again = import_crf(&ledger, &sheet, &defaults()).await.unwrap();
        assert_eq!((again.recorded, again.known), (0, 1));
        ledger.store().shutdown().await;
    }
}
