//! Every page, as every role, in a real browser (headless Chromium through WebDriver), signed in
//! through the login form: the text the browser shows must hold no snake_case token, no raw
//! JSON, no English value or message, and no identifier outside a link. Then, as a comité member
//! would: a past moment chosen on the dashboard stays chosen when the menu is clicked, and on a
//! phone-width window no page scrolls sideways (wide tables scroll inside their box).

mod support;

use fantoccini::{Client, Locator};
use serde_json::Value;
use support::browser;

/// What the browser shows of the page: its visible text and the texts of its links.
async fn shown(client: &Client) -> (String, std::collections::BTreeSet<String>) {
    let text = client
        .execute("return document.body.innerText;", vec![])
        .await
        .unwrap();
    let links = client
        .execute(
            "return Array.from(document.querySelectorAll('a')).map(a => a.innerText);",
            vec![],
        )
        .await
        .unwrap();
    let links = links
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .map(|s| s.trim().to_string())
        .collect();
    (text.as_str().unwrap_or_default().to_string(), links)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_reads_in_french_in_a_browser_for_every_role() {
    if !browser::available() {
        return;
    }
    let demo = support::demo::demo().await;
    let server = support::demo::serve(&demo).await;
    let driver = browser::start_driver().await;
    let client = browser::open(&driver, 1280, 1000).await;
    let base = format!("http://{server}");
    let mut pages: Vec<String> = [
        "/tableau-de-bord",
        "/tableau-de-bord?exercice=2026&effective_on=2026-06-30",
        "/dossiers",
        "/dossiers?statut=accorde&tri=accorde-desc",
        "/dossiers?page=2",
        "/signataires",
        "/signataires/etat",
        "/quartiers",
        "/quartiers/QN06204",
        "/objectifs",
        "/objectifs/1",
        "/tfpb",
        "/evaluation",
        "/evaluation?du=2025&au=2026&effective_on=2026-06-30",
        "/audit",
        "/quartiers/INCONNU",
        "/dossiers?annee=2025",
        "/tableau-de-bord?as_of=2000-01-01",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    pages.push(format!("/dossiers/{}", demo.dossier));
    pages.push(format!("/dossiers/{}", demo.open_dossier));
    for spec in engagements_server::views::VIEWS {
        pages.push(format!("/vues/{}", spec.name));
    }
    let mut problems = Vec::new();
    for (role, token) in &demo.tokens {
        browser::sign_in(&client, &base, token).await;
        for path in &pages {
            client.goto(&format!("{base}{path}")).await.unwrap();
            let lang = client
                .find(Locator::Css("html"))
                .await
                .unwrap()
                .attr("lang")
                .await
                .unwrap();
            assert_eq!(lang.as_deref(), Some("fr"), "{path} as {role}");
            let (text, links) = shown(&client).await;
            problems.extend(support::text::problems_in(
                &format!("{path} ({role})"),
                &text,
                &links,
            ));
        }
        browser::sign_out(&client).await;
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    client.close().await.unwrap();
    demo.ledger.store().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_moment_chosen_stays_across_the_menu_and_phones_scroll_tables_not_pages() {
    if !browser::available() {
        return;
    }
    let demo = support::demo::demo().await;
    let server = support::demo::serve(&demo).await;
    let driver = browser::start_driver().await;
    let base = format!("http://{server}");
    let (_, admin) = demo.tokens.iter().find(|(r, _)| *r == "admin").unwrap();

    let client = browser::open(&driver, 1280, 1000).await;
    browser::sign_in(&client, &base, admin).await;
    // The comité member types a business date into the dashboard's selector…
    client
        .goto(&format!("{base}/tableau-de-bord?exercice=2025"))
        .await
        .unwrap();
    let field = client
        .find(Locator::Css("form.asof input[name=effective_on]"))
        .await
        .unwrap();
    // A date input takes the digits of the browser's locale (en-US: month, day, year).
    field.send_keys("06302025").await.unwrap();
    client
        .find(Locator::Css("form.asof button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser::url_once_it_holds(&client, "effective_on=2025-06-30").await;
    // …then opens the dossiers from the menu: the same moment, said in French.
    client
        .find(Locator::LinkText("Dossiers"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let url = browser::url_once_it_holds(&client, "/dossiers?").await;
    assert!(url.starts_with(&format!("{base}/dossiers?")), "{url}");
    assert!(url.contains("effective_on=2025-06-30"), "{url}");
    assert!(url.contains("exercice=2025"), "{url}");
    let (text, _) = shown(&client).await;
    assert!(text.contains("faits en vigueur au 30/06/2025"), "{text}");
    // « Aujourd'hui » leaves the past.
    client
        .find(Locator::LinkText("Aujourd'hui"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let (text, _) = shown(&client).await;
    assert!(!text.contains("Vue du passé"), "{text}");
    client.close().await.unwrap();

    // A phone: 390 px wide. The page itself never scrolls sideways.
    let phone = browser::open(&driver, 390, 844).await;
    browser::sign_in(&phone, &base, admin).await;
    for path in [
        "/tableau-de-bord?exercice=2025".to_string(),
        "/dossiers?exercice=2025".to_string(),
        format!("/dossiers/{}", demo.dossier),
        "/tfpb".to_string(),
        "/signataires/etat?exercice=2025".to_string(),
    ] {
        phone.goto(&format!("{base}{path}")).await.unwrap();
        let widths = phone
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, inner) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
        assert!(
            scroll <= inner + 1.0,
            "{path} is {scroll} px wide on a {inner} px phone"
        );
    }
    phone
        .goto(&format!("{base}/tableau-de-bord?exercice=2025"))
        .await
        .unwrap();
    browser::screenshot(&phone, "telephone-tableau-de-bord.png").await;
    phone.close().await.unwrap();
    demo.ledger.store().shutdown().await;
}

/// Pages of a PDF, as `pdfinfo` (poppler-utils) counts them.
fn pdf_pages(pdf: &std::path::Path) -> usize {
    let info = std::process::Command::new("/usr/bin/pdfinfo")
        .arg(pdf)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo: {info}"))
}

/// What a comité, an auditor and a bailleur print, printed by the browser on A4 (the
/// WebDriver print command): each page whole (its totals and last columns in the text of the
/// PDF, read back with `pdftotext`), without the menu or the forms, on a sensible number of
/// sheets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_people_print_come_out_whole_on_a4() {
    if !browser::available() {
        return;
    }
    let demo = support::demo::demo().await;
    let server = support::demo::serve(&demo).await;
    let driver = browser::start_driver().await;
    let client = browser::open(&driver, 1280, 1000).await;
    let base = format!("http://{server}");
    let dir = tempfile::tempdir().unwrap();
    let token = |role: &str| {
        demo.tokens
            .iter()
            .find(|(r, _)| *r == role)
            .unwrap()
            .1
            .clone()
    };
    let printed: [(&str, String, &str, &[&str], usize); 7] = [
        (
            "tableau-de-bord",
            "/tableau-de-bord?exercice=2025".into(),
            "admin",
            &["Taux", "Reste", "disponible", "Total", "Dossiers"],
            4,
        ),
        (
            "signataire",
            "/signataires/etat?exercice=2025".into(),
            "admin",
            &["Préfecture", "Total", "Reste"],
            4,
        ),
        (
            "dossiers",
            "/dossiers?exercice=2025".into(),
            "admin",
            &["Total des", "Reste", "Compte", "page 1 sur"],
            4,
        ),
        (
            "dossier",
            format!("/dossiers/{}", demo.dossier),
            "admin",
            &["Plan de financement", "Sollicité", "Accordé", "Chronologie"],
            6,
        ),
        (
            "tfpb",
            "/tfpb".into(),
            "bailleur",
            &["Total", "Abattement", "programmé"],
            8,
        ),
        // The evaluation report of the contract's first three exercices: every part, the pistes
        // served by a dossier (the others are counted, listed on screen and in the CSV).
        (
            "evaluation",
            "/evaluation".into(),
            "admin",
            &[
                "Évaluation du contrat de ville",
                "Total",
                "Pistes servies",
                "ne sont citées par aucun dossier",
                "Sans crédit ni engagement",
            ],
            36,
        ),
        // The auditor's print holds every finding of the demo (about 150), grouped by rule.
        (
            "audit",
            "/audit".into(),
            "auditeur",
            &["Chaîne intègre", "Constats par règle", "Fondement"],
            20,
        ),
    ];
    let mut signed_in = "";
    for (name, path, role, expected, sheets_max) in printed {
        if role != signed_in {
            if !signed_in.is_empty() {
                browser::sign_out(&client).await;
            }
            browser::sign_in(&client, &base, &token(role)).await;
            signed_in = role;
        }
        client.goto(&format!("{base}{path}")).await.unwrap();
        let a4 = fantoccini::wd::PrintConfiguration::builder()
            .build()
            .unwrap();
        let pdf = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&pdf, client.print(a4).await.unwrap()).unwrap();
        let text = std::process::Command::new("/usr/bin/pdftotext")
            .args(["-layout"])
            .arg(&pdf)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        for word in expected {
            assert!(
                text.contains(word),
                "{name}: « {word} » not printed:\n{text}"
            );
        }
        assert!(
            !text.contains("Se déconnecter"),
            "{name}: the menu is printed"
        );
        assert!(
            !text.contains("Afficher"),
            "{name}: the date selector is printed"
        );
        // The dashboard's PDF is kept as the example of a printed page.
        if name == "tableau-de-bord" && std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1")
        {
            std::fs::copy(&pdf, browser::screenshots_dir().join("tableau-de-bord.pdf")).unwrap();
        }
        let sheets = pdf_pages(&pdf);
        eprintln!("{name}: {sheets} A4 sheets");
        assert!(
            sheets <= sheets_max,
            "{name} prints on {sheets} sheets (at most {sheets_max})"
        );
    }
    client.close().await.unwrap();
    demo.ledger.store().shutdown().await;
}
