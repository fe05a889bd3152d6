//! Every CSV meant for people, as French Excel and LibreOffice open it: UTF-8 with a BOM,
//! `;` between cells, French headers, amounts with a decimal comma and dates `15/04/2025` that a
//! spreadsheet reads as numbers and dates, names beside the ids, and a file name that says what
//! and when. The machine CSV (`format=csv`) keeps `,`, dots and the stable keys. Every workbook
//! for people, read back as a spreadsheet reads it: French sheets and headers, amounts as numbers,
//! dates as dates.

mod support;

use axum::body::Body;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use engagements_server::{router, views, AppState, ServerConfig};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A cell French Excel reads as a number: digits, an optional minus, a comma before 2 decimals.
fn is_french_amount(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    match digits.split_once(',') {
        Some((units, cents)) => {
            !units.is_empty()
                && units.chars().all(|c| c.is_ascii_digit())
                && cents.len() == 2
                && cents.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

fn is_french_date(cell: &str) -> bool {
    chrono::NaiveDate::parse_from_str(cell, "%d/%m/%Y").is_ok()
}

/// Every report of the API, its TFPB views and the findings, asked in `format`.
fn api_paths(format: &str) -> Vec<String> {
    let mut paths: Vec<String> = views::VIEWS
        .iter()
        .map(|v| format!("/api/v1/reports/{}?format={format}&year=2025", v.name))
        .collect();
    paths.extend(
        views::TFPB_VIEWS
            .iter()
            .map(|v| format!("/api/v1/reports/tfpb/{}?format={format}", v.name)),
    );
    paths.push(format!("/api/v1/findings?format={format}"));
    paths
}

/// `path` downloaded with `token`: its status, headers and bytes.
async fn download(app: &Router, token: &str, path: &str) -> (StatusCode, HeaderMap, Bytes) {
    let request = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, bytes)
}

/// The downloaded file is named after what it holds and today (`…-au-2026-12-07.xlsx`).
fn assert_named_for_today(path: &str, headers: &HeaderMap, extension: &str) {
    let today = chrono::Local::now().date_naive();
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.ends_with(&format!("-au-{today}.{extension}\"")),
        "{path}: {disposition}"
    );
}

#[tokio::test]
async fn every_csv_for_people_opens_in_a_french_spreadsheet() {
    let demo = support::demo::demo().await;
    let app = router(AppState::new(demo.ledger.clone(), ServerConfig::default()));
    let (_, admin) = demo.tokens.iter().find(|(r, _)| *r == "admin").unwrap();
    let mut paths = api_paths("csv-fr");
    paths.push("/tableau-de-bord?format=csv&exercice=2025".to_string());
    let mut problems = Vec::new();
    for path in &paths {
        let (status, headers, bytes) = download(&app, admin, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_named_for_today(path, &headers, "csv");
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{path}: no BOM");
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(&bytes[3..]);
        let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        for h in &headers {
            if h.contains('_') || h.chars().next().is_some_and(|c| c.is_lowercase()) {
                problems.push(format!("{path}: header « {h} » is not French"));
            }
        }
        // Every id column comes with its name beside it.
        for (id, name) in [
            ("Financeur (identifiant)", "Financeur"),
            ("Dispositif (identifiant)", "Dispositif"),
            ("Porteur (identifiant)", "Porteur"),
            ("Bailleur (identifiant)", "Bailleur"),
        ] {
            if headers.iter().any(|h| h == id) && !headers.iter().any(|h| h == name) {
                problems.push(format!("{path}: « {id} » without « {name} »"));
            }
        }
        let mut rows = 0;
        for record in reader.records() {
            let record = record.unwrap_or_else(|e| panic!("{path}: {e}"));
            rows += 1;
            for (h, cell) in headers.iter().zip(record.iter()) {
                if cell.is_empty() {
                    continue;
                }
                if h.ends_with("(€)") && !is_french_amount(cell) {
                    problems.push(format!("{path}: « {h} » holds « {cell} », not an amount"));
                }
                let dated = h.ends_with(" le") || h.starts_with("Date");
                if dated && !is_french_date(cell) {
                    problems.push(format!("{path}: « {h} » holds « {cell} », not a date"));
                }
            }
        }
        let main_view = [
            "signataires",
            "quartiers",
            "objectifs",
            "dossiers",
            "tfpb/actions",
        ]
        .iter()
        .any(|v| path.contains(&format!("/{v}?")));
        assert!(rows > 0 || !main_view, "{path}: no row on the demo");
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    demo.ledger.store().shutdown().await;
}

/// What a spreadsheet finds wrong in a workbook for people: a sheet or header that is not
/// French, an amount column holding text, a date column holding anything but dates, a code left
/// raw. Each is described with the file, sheet and cell. Also says how many sheets it has.
fn workbook_problems(what: &str, bytes: &[u8]) -> (usize, Vec<String>) {
    use calamine::{Data, Reader, Xlsx};
    let mut problems = Vec::new();
    let mut book = Xlsx::new(std::io::Cursor::new(bytes))
        .unwrap_or_else(|e| panic!("{what}: not a workbook: {e}"));
    let sheets = book.sheet_names();
    assert!(!sheets.is_empty(), "{what}: no sheet");
    let count = sheets.len();
    for sheet in sheets {
        if sheet.contains('_') || sheet.starts_with("evaluation") {
            problems.push(format!("{what}: sheet « {sheet} » is not French"));
        }
        let range = book.worksheet_range(&sheet).unwrap();
        let mut rows = range.rows();
        let Some(header) = rows.next() else { continue };
        let headers: Vec<String> = header.iter().map(|c| c.to_string()).collect();
        for h in &headers {
            if h.contains('_') || h.chars().next().is_some_and(|c| c.is_lowercase()) {
                problems.push(format!("{what} / {sheet}: header « {h} » is not French"));
            }
        }
        for (line, row) in rows.enumerate() {
            for (h, cell) in headers.iter().zip(row) {
                let at = format!("{what} / {sheet}, line {}, « {h} »", line + 2);
                match cell {
                    Data::Empty => {}
                    _ if h.ends_with("(€)") && !matches!(cell, Data::Float(_) | Data::Int(_)) => {
                        problems.push(format!("{at}: {cell:?} is not a number"));
                    }
                    _ if (h.ends_with(" le") || h.starts_with("Date"))
                        && !matches!(cell, Data::DateTime(_)) =>
                    {
                        problems.push(format!("{at}: {cell:?} is not a date"));
                    }
                    Data::String(text)
                        if support::text::problems_in(&at, text, &Default::default())
                            .iter()
                            .any(|p| p.contains("snake_case") || p.contains("English")) =>
                    {
                        problems.push(format!("{at}: « {text} » is a raw code or English"));
                    }
                    _ => {}
                }
            }
        }
    }
    (count, problems)
}

#[tokio::test]
async fn every_workbook_for_people_opens_with_french_sheets_headers_and_typed_cells() {
    let demo = support::demo::demo().await;
    let app = router(AppState::new(demo.ledger.clone(), ServerConfig::default()));
    let (_, admin) = demo.tokens.iter().find(|(r, _)| *r == "admin").unwrap();
    let mut paths = api_paths("xlsx");
    // The pages' own downloads: an entity's table, and the evaluation report's every part.
    paths.push("/quartiers/QN06204?format=xlsx&exercice=2025".to_string());
    paths.push("/signataires/etat?format=xlsx".to_string());
    paths.push("/evaluation?format=xlsx&du=2024&au=2026".to_string());
    // The dashboard's « Par financeur » and its detail per dispositif, two sheets.
    paths.push("/tableau-de-bord?format=xlsx&exercice=2025".to_string());
    let mut problems = Vec::new();
    let mut sheets = 0;
    for path in &paths {
        let (status, headers, bytes) = download(&app, admin, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "{path}"
        );
        assert_named_for_today(path, &headers, "xlsx");
        let (count, found) = workbook_problems(path, &bytes);
        sheets += count;
        problems.extend(found);
    }
    // The evaluation workbook holds each of its 8 parts on a sheet, the dashboard's its 2 tables.
    assert!(sheets >= paths.len() + 8, "{sheets} sheets");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // A format nobody asked for is refused in French, not answered with the page.
    let (status, _, page) = download(&app, admin, "/quartiers/QN06204?format=pdf").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&page).contains("Format inconnu"));
    demo.ledger.store().shutdown().await;
}

/// A workbook's amounts are numbers and its dates dates: the reader sees a number where the
/// check wants one, and says so when a text takes its place.
#[test]
fn the_workbook_check_sees_a_text_where_an_amount_belongs() {
    let mut table = engagements_projections::Table::new("dossiers", &["granted_eur", "title"]);
    table.push(vec!["douze euros".into(), "Atelier".into()]);
    let bytes = engagements_interop::export::xlsx::workbook_bytes(&[&table]).unwrap();
    let (_, problems) = workbook_problems("test", &bytes);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("is not a number"), "{problems:?}");
}
