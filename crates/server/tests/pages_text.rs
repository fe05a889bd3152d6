//! Every page, as every role, on the demo ledger (TFPB and commitments included), read as a
//! person reads it: the visible text (tags, scripts and attributes left out) must hold no
//! snake_case token, no raw JSON, no English status or finding, and no identifier that is not a
//! link to its page. Error pages (a role that may not open a page) are checked the same way.

mod support;

use axum::body::Body;
use axum::http::{header, Request};
use engagements_server::{router, views, AppState, ServerConfig};
use http_body_util::BodyExt;
use support::text::problems;
use tower::ServiceExt;

#[tokio::test]
async fn every_page_reads_in_french_for_every_role() {
    let support::demo::Demo {
        db: _db,
        ledger,
        dossier,
        open_dossier,
        tokens,
    } = support::demo::demo().await;
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
        "/evaluation",
        "/evaluation?du=2025&au=2025",
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
    // A comité session on the dossier awaiting its avis: its page has the decisions' form.
    let comite_session = uuid::Uuid::now_v7();
    let prepare = serde_json::json!({
        "command": "prepare_comite_session", "session_id": comite_session, "reference": "CF-2026-01",
        "held_on": "2026-04-15", "exercice": 2026,
        "agenda": [{"dossier_id": open_dossier, "financeur": "etat", "dispositif": "bop147-aap",
                    "proposed_amount": "9000"}]
    });
    let line = engagements_app::CommandLine::parse(&prepare.to_string()).unwrap();
    ledger
        .execute(line.command, &line.meta, &support::demo::defaults())
        .await
        .unwrap();
    // The pages with forms, as a browser with a web session sees them (a token in a header gets
    // no form: it has no CSRF token).
    let form_pages = [
        format!("/dossiers/{open_dossier}"),
        "/dossiers/nouveau".to_string(),
        "/dossiers".to_string(),
    ];
    // Pages whose forms the comité's own tests follow role by role; read here as text.
    let comite_pages = [
        "/comite".to_string(),
        "/comite/nouvelle".to_string(),
        format!("/comite/{comite_session}"),
        format!("/dossiers/{open_dossier}/modifier"),
        format!("/dossiers/{dossier}"),
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
        for path in &comite_pages {
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
            if *role == "admin" && path.ends_with(&comite_session.to_string()) {
                assert!(
                    html.contains("Enregistrer toutes les décisions de la séance"),
                    "the secretariat sees the session's form"
                );
            }
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
