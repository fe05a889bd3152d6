//! Every page, as every role, on the demo ledger (TFPB and commitments included), read as a
//! person reads it: the visible text (tags, scripts and attributes left out) must hold no
//! snake_case token, no raw JSON, no English status or finding, and no identifier that is not a
//! link to its page. Error pages (a role that may not open a page) are checked the same way.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Request};
use chrono::NaiveDate;
use engagements_app::demo::{self, DemoConfig};
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_server::{router, views, AppState, ServerConfig};
use engagements_store::testing;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// English words that would betray an untranslated value or message on a page.
const ENGLISH: &[&str] = &[
    "granted",
    "requested",
    "refused",
    "withdrawn",
    "paid",
    "due on",
    "not received",
    "submitted",
    "planned",
    "pending",
    "qualitative",
    "financial",
    "below the",
    "above the",
    "forbidden",
    "not found",
    "may not",
    "unknown",
    "the ",
];

/// The visible text of an HTML page, and the texts of its links.
fn visible_text(html: &str) -> (String, BTreeSet<String>) {
    let mut text = String::new();
    let mut links = BTreeSet::new();
    let mut rest = html;
    let mut in_link: Option<String> = None;
    let mut skip_depth = 0usize;
    while let Some(start) = rest.find('<') {
        let chunk = &rest[..start];
        if skip_depth == 0 {
            text.push_str(chunk);
            text.push(' ');
            if let Some(link) = in_link.as_mut() {
                link.push_str(chunk);
            }
        }
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start + 1..start + end];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '>')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        match (name.as_str(), closing) {
            ("style" | "script" | "title", false) => skip_depth += 1,
            ("style" | "script" | "title", true) => skip_depth = skip_depth.saturating_sub(1),
            ("a", false) => in_link = Some(String::new()),
            ("a", true) => {
                if let Some(link) = in_link.take() {
                    links.insert(link.trim().to_string());
                }
            }
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    text.push_str(rest);
    let text = text
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    (text, links)
}

fn is_snake_case(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
    word.contains('_')
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

fn is_uuid(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_ascii_hexdigit() && c != '-');
    word.len() == 36
        && word.chars().filter(|c| *c == '-').count() == 4
        && word.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// What is wrong with a page's visible text.
fn problems(path: &str, html: &str) -> Vec<String> {
    let (text, links) = visible_text(html);
    let mut found = Vec::new();
    for word in text.split_whitespace() {
        if is_snake_case(word) {
            found.push(format!("{path}: snake_case « {word} »"));
        }
        if is_uuid(word) && !links.iter().any(|l| l.contains(word)) {
            found.push(format!("{path}: identifier « {word} » not linked"));
        }
    }
    if text.contains("{\"") || text.contains("\":") {
        found.push(format!("{path}: raw JSON"));
    }
    let lower = format!(" {} ", text.to_lowercase());
    for english in ENGLISH {
        if lower.contains(&format!(" {english}")) {
            found.push(format!("{path}: English « {english} »"));
        }
    }
    found.sort();
    found.dedup();
    found
}

#[tokio::test]
async fn every_page_reads_in_french_for_every_role() {
    let db = testing::sqlite();
    let ledger = Ledger::open(&db.url).await.unwrap();
    let defaults = MetaDefaults {
        actor: Actor::new("Équipe démo (fictive)", "cabbalr"),
        source: Source::Demo,
        today: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
    };
    demo::run(&ledger, &DemoConfig::default(), &defaults, |_, _| {})
        .await
        .unwrap();
    engagements_app::commitments_seed::record_initial_commitments(&ledger, None, &defaults)
        .await
        .unwrap();
    engagements_app::demo_tfpb::record_tfpb_demo(&ledger, DemoConfig::default().seed, &defaults)
        .await
        .unwrap();
    let dossier = {
        let projections = ledger.projections().await.unwrap();
        let granted = projections
            .subsidy
            .filed(None)
            .find(|d| !d.granted_total().is_zero() && d.lines.len() > 1)
            .expect("a granted dossier in the demo");
        granted.filed.as_ref().unwrap().dossier_id.to_string()
    };
    // A dossier just filed, whose lines await their avis: its page has forms.
    let open_dossier = uuid::Uuid::now_v7();
    let porteur = {
        let projections = ledger.projections().await.unwrap();
        *projections
            .porteurs
            .by_id
            .keys()
            .next()
            .expect("a porteur in the demo")
    };
    let filing = serde_json::json!({
        "command": "file_dossier", "dossier_id": open_dossier, "porteur_id": porteur,
        "exercice": 2026, "title": "Action en attente d'avis (fictive)", "total_budget": "30000",
        "quartiers": [{"quartier": "QN06204"}], "objectifs": [{"objectif": 1}],
        "requests": [
            {"financeur": "etat", "dispositif": "bop147-aap", "amount": "10000"},
            {"financeur": "cabbalr", "dispositif": "fonds-cohesion-sociale", "amount": "5000"}
        ]
    });
    let line = engagements_app::CommandLine::parse(&filing.to_string()).unwrap();
    ledger
        .execute(line.command, &line.meta, &defaults)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for (person, organisation, role) in [
        ("Équipe CABBALR (fictive)", "cabbalr", "admin"),
        ("Agent DDETS (fictif)", "etat", "instructeur"),
        (
            "Chargée TFPB (fictive)",
            "pas-de-calais-habitat",
            "bailleur",
        ),
        ("Magistrate CRC (fictive)", "etat", "auditeur"),
        ("Habitant (fictif)", "cabbalr", "lecteur"),
    ] {
        let token = ledger
            .store()
            .create_token(person, organisation, role)
            .await
            .unwrap();
        tokens.push((role, token.secret));
    }
    let app = router(AppState::new(ledger.clone(), ServerConfig::default()));
    let mut pages: Vec<String> = [
        "/tableau-de-bord",
        "/tableau-de-bord?exercice=2026",
        "/dossiers",
        "/signataires",
        "/signataires/etat",
        "/quartiers",
        "/quartiers/QN06204",
        "/objectifs",
        "/objectifs/1",
        "/tfpb",
        "/audit",
        "/quartiers/INCONNU",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    pages.push(format!("/dossiers/{dossier}"));
    pages.push(format!("/dossiers/{open_dossier}"));
    for spec in views::VIEWS {
        pages.push(format!("/vues/{}", spec.name));
    }
    let mut all = Vec::new();
    for (role, token) in &tokens {
        for path in &pages {
            let request = Request::builder()
                .uri(path.as_str())
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let html = String::from_utf8_lossy(&bytes);
            assert!(
                html.contains("<html lang=\"fr\""),
                "{path} as {role}: {status}"
            );
            all.extend(problems(&format!("{path} ({role}, {status})"), &html));
        }
    }
    // The pages with forms, as a browser with a web session sees them (a token in a header gets
    // no form: it has no CSRF token).
    let form_pages = [
        format!("/dossiers/{open_dossier}"),
        "/dossiers/nouveau".to_string(),
        "/dossiers".to_string(),
    ];
    for (role, token) in &tokens {
        let store = ledger.store();
        let record = store.find_token(token).await.unwrap().unwrap();
        let limits = ServerConfig::default().sessions.limits();
        let session = store.open_session(record.token_id, limits).await.unwrap();
        for path in &form_pages {
            let request = Request::builder()
                .uri(path.as_str())
                .header(
                    header::COOKIE,
                    format!("engagements_session={}", session.id),
                )
                .body(Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let html = String::from_utf8_lossy(&bytes);
            assert!(
                html.contains("<html lang=\"fr\""),
                "{path} as {role}: {status}"
            );
            let form = if path.ends_with("/nouveau") {
                "Déposer le dossier"
            } else if path.starts_with("/dossiers/") {
                "Donner un avis"
            } else {
                "Déposer un dossier"
            };
            assert_eq!(
                html.contains(form),
                matches!(*role, "admin" | "instructeur"),
                "{path} as {role}: « {form} »"
            );
            all.extend(problems(
                &format!("{path} ({role}, session, {status})"),
                &html,
            ));
        }
    }
    assert!(
        all.is_empty(),
        "{} problems:\n{}",
        all.len(),
        all.join("\n")
    );
    ledger.store().shutdown().await;
}

#[test]
fn the_checks_see_what_a_person_would() {
    let bad = "<p>status: granted_eur {\"a\":1} 0190f2a0-0000-7000-8000-000000000001</p>";
    let found = problems("/x", bad);
    assert!(found.iter().any(|p| p.contains("snake_case")), "{found:?}");
    assert!(found.iter().any(|p| p.contains("raw JSON")), "{found:?}");
    assert!(found.iter().any(|p| p.contains("not linked")), "{found:?}");
    let good = "<title>granted_eur</title><p>Accordé : <a href=\"/dossiers/x\">0190f2a0-0000-7000-8000-000000000001</a></p>";
    assert!(
        problems("/y", good).is_empty(),
        "{:?}",
        problems("/y", good)
    );
}
