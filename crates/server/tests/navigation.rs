//! Finding one's way on the demo ledger over HTTP: the dossiers list paginates, sorts and
//! filters as its headers and fields say; the moment chosen stays in every link; an unknown
//! address parameter or filter is refused in French; pages travel compressed.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use engagements_server::{router, AppState, ServerConfig};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(app: &Router, token: &str, path: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The cells of the dossiers table's body, row by row (text only).
fn rows(html: &str) -> Vec<Vec<String>> {
    let Some(start) = html.find("<tbody>") else {
        return Vec::new();
    };
    let body = &html[start
        ..html[start..]
            .find("</tbody>")
            .map_or(html.len(), |e| start + e)];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').unwrap() + 1..];
                    let mut text = String::new();
                    let mut in_tag = false;
                    for c in cell.split("</td>").next().unwrap().chars() {
                        match c {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.replace("&#39;", "'").replace("&amp;", "&")
                })
                .collect()
        })
        .collect()
}

/// `12 345,50 €` as cents.
fn cents(text: &str) -> i64 {
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    digits.parse().unwrap()
}

#[tokio::test]
async fn the_dossiers_list_pages_sorts_and_filters() {
    let demo = support::demo::demo().await;
    let app = router(AppState::new(demo.ledger.clone(), ServerConfig::default()));
    let (_, admin) = demo.tokens.iter().find(|(r, _)| *r == "admin").unwrap();
    let projections = demo.ledger.projections().await.unwrap();
    let filed_2025 = projections.subsidy.filed(Some(2025)).count();
    assert!(
        filed_2025 > 50,
        "the demo has {filed_2025} dossiers in 2025"
    );

    // 50 a page, the count of all of them, and a link to the next page.
    let (status, page1) = get(&app, admin, "/dossiers?exercice=2025").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&page1).len(), 50);
    assert!(page1.contains(&format!("— 50 sur {filed_2025}")), "{page1}");
    assert!(page1.contains("rel=\"next\""));
    let last_page = filed_2025.div_ceil(50);
    let (status, last) = get(
        &app,
        admin,
        &format!("/dossiers?exercice=2025&page={last_page}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&last).len(), filed_2025 - 50 * (last_page - 1));
    let (status, beyond) = get(
        &app,
        admin,
        &format!("/dossiers?exercice=2025&page={}", last_page + 1),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(beyond.contains("la liste n'en compte que"), "{beyond}");

    // Sorted by the amount granted, largest first: the column (8th cell) never grows.
    let (_, sorted) = get(&app, admin, "/dossiers?exercice=2025&tri=accorde-desc").await;
    let granted: Vec<i64> = rows(&sorted).iter().map(|r| cents(&r[7])).collect();
    assert!(granted.windows(2).all(|w| w[0] >= w[1]), "{granted:?}");
    let largest = projections
        .subsidy
        .filed(Some(2025))
        .map(|d| d.granted_total().cents())
        .max()
        .unwrap();
    assert_eq!(granted[0], largest);

    // Status filter: only the dossiers in that status, each said so, as many as the ledger has.
    for (key, label) in [
        ("accorde", "Accordé"),
        ("refuse", "Refusé"),
        ("depose", "Déposé"),
    ] {
        let expected = projections
            .subsidy
            .filed(Some(2025))
            .filter(|d| engagements_server::pages::dossier_list::ListStatus::of(d).key() == key)
            .count();
        let (_, page) = get(
            &app,
            admin,
            &format!("/dossiers?exercice=2025&statut={key}"),
        )
        .await;
        let shown = rows(&page);
        assert!(shown.iter().all(|r| r[3] == label), "{shown:?}");
        assert_eq!(shown.len(), expected.min(50), "{key}");
    }

    // Quartier filter: the dossiers reaching it, as the ledger counts them.
    let reaching = projections
        .subsidy
        .filed(Some(2025))
        .filter_map(|d| d.filed.as_ref())
        .filter(|f| f.quartiers.iter().any(|q| q.quartier == "QN06204"))
        .count();
    let (_, by_quartier) = get(&app, admin, "/dossiers?exercice=2025&quartier=QN06204").await;
    assert!(
        by_quartier.contains(&format!("sur {reaching}")),
        "{reaching} dossiers reach QN06204"
    );

    // Unknown filters, orders and parameters are said in French, not ignored.
    for (path, said) in [
        ("/dossiers?quartier=NOPE", "Aucun quartier « NOPE »"),
        ("/dossiers?objectif=99", "Aucun objectif n° « 99 »"),
        ("/dossiers?statut=paye", "Statut inconnu : « paye »"),
        ("/dossiers?tri=montant", "Tri inconnu : « montant »"),
        (
            "/dossiers?annee=2025",
            "paramètre que les pages ne connaissent pas : « annee »",
        ),
        ("/tableau-de-bord?annee=2025", "« annee »"),
    ] {
        let (status, page) = get(&app, admin, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.contains(said), "{path}: {page}");
    }
    demo.ledger.store().shutdown().await;
}

#[tokio::test]
async fn the_moment_stays_in_every_link_and_an_empty_past_is_explained() {
    let demo = support::demo::demo().await;
    let app = router(AppState::new(demo.ledger.clone(), ServerConfig::default()));
    let (_, admin) = demo.tokens.iter().find(|(r, _)| *r == "admin").unwrap();
    let (status, page) = get(
        &app,
        admin,
        "/tableau-de-bord?exercice=2025&effective_on=2025-06-30",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("faits en vigueur au 30/06/2025"));
    for link in ["/dossiers", "/signataires", "/quartiers", "/objectifs"] {
        assert!(
            page.contains(&format!(
                "href=\"{link}?exercice=2025&amp;effective_on=2025-06-30\""
            )),
            "menu link {link} without the moment"
        );
    }
    // The CSV link keeps its own query, untouched.
    assert!(page.contains("href=\"/api/v1/"));
    // Before the first event: said, not zeros without a word.
    let (_, empty) = get(&app, admin, "/tableau-de-bord?as_of=2000-01-01").await;
    assert!(
        empty.contains("Rien n'était encore enregistré à ce moment"),
        "{empty}"
    );
    let (_, now) = get(&app, admin, "/tableau-de-bord").await;
    assert!(!now.contains("Rien n'était encore enregistré"));
    demo.ledger.store().shutdown().await;
}

#[tokio::test]
async fn pages_travel_compressed() {
    let demo = support::demo::demo().await;
    let app = router(AppState::new(demo.ledger.clone(), ServerConfig::default()));
    let (_, admin) = demo.tokens.iter().find(|(r, _)| *r == "admin").unwrap();
    let (_, plain) = get(&app, admin, "/dossiers").await;
    let request = Request::builder()
        .uri("/dossiers")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(
        response.headers().get(header::CONTENT_ENCODING).unwrap(),
        "gzip"
    );
    let compressed = response.into_body().collect().await.unwrap().to_bytes();
    assert!(
        compressed.len() * 4 < plain.len(),
        "{} bytes compressed for {} plain",
        compressed.len(),
        plain.len()
    );
    demo.ledger.store().shutdown().await;
}

/// Who is signed in reads as people name it: the organisation by its name in the referential.
#[tokio::test]
async fn the_page_says_who_is_signed_in_with_the_organisation_by_its_name() {
    let demo = support::demo::demo().await;
    let app = router(AppState::new(demo.ledger.clone(), ServerConfig::default()));
    let projections = demo.ledger.projections().await.unwrap();
    let name = |id: &str| {
        projections
            .referential
            .organisation(id)
            .map(|o| o.name.clone())
            .unwrap()
    };
    for (role, organisation) in [("admin", "cabbalr"), ("bailleur", "pas-de-calais-habitat")] {
        let (_, token) = demo.tokens.iter().find(|(r, _)| *r == role).unwrap();
        let (status, page) = get(&app, token, "/tableau-de-bord").await;
        assert_eq!(status, StatusCode::OK);
        let who = page
            .split_once("class=\"who\">")
            .and_then(|(_, rest)| rest.split_once("</span>"))
            .map(|(who, _)| who.to_string())
            .unwrap();
        let expected = maud::html! { (name(organisation)) }.into_string();
        assert!(
            who.contains(&expected),
            "{role}: « {who} » lacks « {expected} »"
        );
    }
    drop(projections);
    demo.ledger.store().shutdown().await;
}
