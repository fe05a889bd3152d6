//! Every CSV meant for people, as French Excel and LibreOffice open it: UTF-8 with a BOM,
//! `;` between cells, French headers, amounts with a decimal comma and dates `15/04/2025` that a
//! spreadsheet reads as numbers and dates, names beside the ids, and a file name that says what
//! and when. The machine CSV (`format=csv`) keeps `,`, dots and the stable keys.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
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

#[tokio::test]
async fn every_csv_for_people_opens_in_a_french_spreadsheet() {
    let demo = support::demo::demo().await;
    let app = router(AppState::new(demo.ledger.clone(), ServerConfig::default()));
    let (_, admin) = demo.tokens.iter().find(|(r, _)| *r == "admin").unwrap();
    let mut paths: Vec<String> = views::VIEWS
        .iter()
        .map(|v| format!("/api/v1/reports/{}?format=csv-fr&year=2025", v.name))
        .collect();
    paths.extend(
        views::TFPB_VIEWS
            .iter()
            .map(|v| format!("/api/v1/reports/tfpb/{}?format=csv-fr", v.name)),
    );
    paths.push("/api/v1/findings?format=csv-fr".to_string());
    let today = chrono::Local::now().date_naive();
    let mut problems = Vec::new();
    for path in &paths {
        let request = Request::builder()
            .uri(path.as_str())
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let disposition = response.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            disposition.ends_with(&format!("-au-{today}.csv\"")),
            "{path}: {disposition}"
        );
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
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
