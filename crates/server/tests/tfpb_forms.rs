//! A bailleur's TFPB entered in the browser (`/tfpb/saisie`), posted as a browser posts it: the
//! abatement, an action, a spending and the bilan by form, and its usual file uploaded, previewed
//! and confirmed. For every form: recorded once in the bailleur's name, read back from the log
//! and the page; wrong values said under their field with nothing recorded; no form and 403 for
//! a role that may not write and for another bailleur; 403 without the CSRF token.

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use engagements_store::testing;
use serde_json::{json, Value};
use support::{eur, fields, form_part, hidden, Answer, Harness};

const PAGE: &str = "/tfpb/saisie";
const STREAM: &str = "tfpb-programme-pas-de-calais-habitat:QN06211:2025";
/// The CSV a bailleur keeps (Excel, Windows-1252, a title row): 6 actions in 2 QPV, 5 spendings,
/// 2 abatements.
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../interop/tests/fixtures/tfpb-excel-cp1252.csv"
);
const XLSX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../interop/tests/fixtures/tfpb-titre.xlsx"
);

/// Another bailleur's programme, recorded by the contract's team.
fn fixture() -> Vec<Value> {
    vec![
        json!({"command":"declare_tfpb_abatement","programme":{"bailleur":"maisons-et-cites","quartier":"QN06213","year":2025},
            "dwellings":640,"abatement_eur":"52000"}),
    ]
}

/// The hidden fields of form `form_id` on the page as `role` sees it, plus `values`.
async fn form_fields(
    h: &Harness,
    role: &str,
    form_id: &str,
    values: &[(&str, &str)],
) -> Vec<(String, String)> {
    let page = h.page(role, PAGE).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let part = form_part(&page.text, form_id);
    let mut out = Vec::new();
    for name in ["command_id", "bailleur", "action_id", "spending_id"] {
        if part.contains(&format!("name=\"{name}\" value=\"")) {
            out.push((name.to_string(), hidden(part, name)));
        }
    }
    out.extend(fields(values));
    out
}

fn post_to(form: &str) -> String {
    format!("{PAGE}/{form}")
}

/// The value of the first option of list `name` in `html` whose text contains `text`.
fn option_value(html: &str, name: &str, text: &str) -> String {
    let start = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no list {name}"));
    let list = &html[start..html[start..].find("</select>").unwrap() + start];
    list.split("<option value=\"")
        .skip(1)
        .find(|o| o.contains(text))
        .and_then(|o| o.split('"').next())
        .unwrap_or_else(|| panic!("no option {text} in {list}"))
        .to_string()
}

/// Posts a file as a browser posts the upload form.
async fn upload(
    h: &Harness,
    role: &str,
    csrf: Option<&str>,
    bailleur: &str,
    file_name: &str,
    bytes: &[u8],
) -> Answer {
    let boundary = "----formulaireTFPB7MA4YWxkTrZu0gW";
    let mut body: Vec<u8> = Vec::new();
    let mut text = |name: &str, value: &str| {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    };
    if let Some(csrf) = csrf {
        text("csrf", csrf);
    }
    text("bailleur", bailleur);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{PAGE}/fichier"))
        .header(
            header::COOKIE,
            format!("engagements_session={}", h.sessions[role].id),
        )
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    h.send(request).await
}

fn csrf(h: &Harness, role: &str) -> String {
    h.sessions[role].csrf_token.clone()
}

#[tokio::test]
async fn every_form_records_once_in_the_bailleurs_name() {
    for db in testing::all().await {
        let backend = db.backend;
        let h = Harness::new(db, fixture()).await;
        let page = h.page("bailleur", PAGE).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(
            page.text.contains("Saisie TFPB — Pas-de-Calais habitat"),
            "{}",
            page.text
        );
        assert!(page
            .text
            .contains("Sera enregistré au nom de <strong>Chargée TFPB</strong>"));
        assert!(
            !page.text.contains(&eur("52 000,00")),
            "another bailleur's figures"
        );

        let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "abattement",
                vec![
                    ("qpv", "QN06211"),
                    ("annee", "2025"),
                    ("logements", "1 180"),
                    ("montant", "118 000,00"),
                ],
            ),
            (
                "action",
                vec![
                    ("qpv", "QN06211"),
                    ("annee", "2025"),
                    ("axe", "axe-5"),
                    ("libelle", "Médiation résidentielle (fictive)"),
                    ("description", ""),
                    ("prevu", "18 000"),
                    (
                        "partenaires",
                        "Association de médiation (fictive)\nConseil citoyen (fictif)",
                    ),
                    ("parts", ""),
                    ("motif", ""),
                ],
            ),
        ];
        for (form, values) in &cases {
            let fields = form_fields(&h, "bailleur", form, values).await;
            let answer = h
                .submit_recorded_once("bailleur", &post_to(form), &fields)
                .await;
            assert_eq!(
                answer.headers[header::LOCATION],
                format!("{PAGE}?enregistre={form}#programmes").as_str(),
                "{backend}"
            );
        }

        // The spending and the bilan name what the earlier forms recorded.
        let page = h.page("bailleur", PAGE).await;
        let action = option_value(&page.text, "action", "Médiation résidentielle (fictive)");
        let programme = option_value(&page.text, "programme", "QN06211");
        assert_eq!(programme, "QN06211|2025");
        let later: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "depense",
                vec![
                    ("action", action.as_str()),
                    ("montant", "15 000,50"),
                    ("date", "30/11/2025"),
                    ("justificatif", "Facture 2025-M-11 (fictive)"),
                ],
            ),
            (
                "bilan",
                vec![
                    ("programme", programme.as_str()),
                    ("date", "15/03/2026"),
                    ("commentaire", "Bilan de l'année (fictif)"),
                ],
            ),
        ];
        for (form, values) in &later {
            let fields = form_fields(&h, "bailleur", form, values).await;
            h.submit_recorded_once("bailleur", &post_to(form), &fields)
                .await;
        }

        // What the log says.
        let history = h.history(STREAM).await;
        let types: Vec<&str> = history
            .iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "TfpbAbatementDeclared",
                "TfpbActionPlanned",
                "TfpbSpendingReported",
                "TfpbBilanSubmitted"
            ]
        );
        assert_eq!(history[0]["payload"]["dwellings"], 1180);
        assert_eq!(history[0]["payload"]["abatement_eur"], "118000.00");
        assert_eq!(history[1]["payload"]["action"]["planned_eur"], "18000.00");
        assert_eq!(history[1]["payload"]["action"]["axis"], "axe-5");
        assert_eq!(
            history[1]["payload"]["action"]["partners"],
            json!([
                "Association de médiation (fictive)",
                "Conseil citoyen (fictif)"
            ])
        );
        assert_eq!(history[2]["payload"]["amount_eur"], "15000.50");
        assert_eq!(history[2]["metadata"]["effective_date"], "2025-11-30");
        assert_eq!(history[3]["payload"]["submitted_on"], "2026-03-15");
        for event in &history {
            assert_eq!(event["actor_name"], "Chargée TFPB");
        }

        // What the pages say.
        let page = h
            .page("bailleur", &format!("{PAGE}?enregistre=bilan"))
            .await;
        assert!(page.text.contains("Le bilan est transmis"));
        let programmes = form_part(&page.text, "programmes");
        for figure in ["118 000,00", "18 000,00", "15 000,50"] {
            assert!(programmes.contains(&eur(figure)), "{figure}: {programmes}");
        }
        assert!(programmes.contains("transmis le 15/03/2026"));
        let figures = h.page("bailleur", "/tfpb?exercice=2025").await;
        assert!(figures.text.contains(&eur("15 000,50")), "{}", figures.text);
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn wrong_values_are_said_under_their_field_and_nothing_is_recorded() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let before = h.head().await;
    let fields = form_fields(
        &h,
        "bailleur",
        "abattement",
        &[
            ("qpv", ""),
            ("annee", "25"),
            ("logements", "beaucoup"),
            ("montant", "12,345"),
        ],
    )
    .await;
    let answer = h.submit("bailleur", &post_to("abattement"), &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (field, message) in [
        ("abattement-qpv", "Choisissez le quartier prioritaire"),
        ("abattement-annee", "Indiquez l'année fiscale"),
        ("abattement-logements", "Indiquez le nombre de logements"),
        ("abattement-montant", "Un montant a au plus deux décimales"),
    ] {
        assert!(
            answer
                .text
                .contains(&format!("id=\"{field}-erreur\">{message}")),
            "{field}: {}",
            answer.text
        );
    }
    assert!(answer.text.contains("Le formulaire contient 4 erreurs"));
    assert!(answer.text.contains("value=\"beaucoup\""), "values kept");

    // Shares that do not add up, and a QIC.
    let fields = form_fields(
        &h,
        "bailleur",
        "action",
        &[
            ("qpv", "QN06211"),
            ("annee", "2025"),
            ("axe", "axe-3"),
            ("libelle", "Sur-entretien (fictif)"),
            ("prevu", "10 000"),
            (
                "parts",
                "Pas-de-Calais habitat : 6 000\nMaisons & Cités : 3 000",
            ),
        ],
    )
    .await;
    let answer = h.submit("bailleur", &post_to("action"), &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer
            .text
            .contains("id=\"action-parts-erreur\">Les parts font"),
        "{}",
        answer.text
    );
    assert!(answer.text.contains(&eur("9 000,00")));

    // A spending outside the action's tax year.
    let fields = form_fields(
        &h,
        "bailleur",
        "action",
        &[
            ("qpv", "QN06211"),
            ("annee", "2025"),
            ("axe", "axe-3"),
            ("libelle", "Sur-entretien (fictif)"),
            ("prevu", "10 000"),
            (
                "parts",
                "Pas-de-Calais habitat : 7 000\nmaisons-et-cites : 3 000",
            ),
        ],
    )
    .await;
    let answer = h.submit("bailleur", &post_to("action"), &fields).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    let recorded = h.head().await;
    assert_eq!(recorded, before + 1);
    let page = h.page("bailleur", PAGE).await;
    let action = option_value(&page.text, "action", "Sur-entretien (fictif)");
    let fields = form_fields(
        &h,
        "bailleur",
        "depense",
        &[
            ("action", action.as_str()),
            ("montant", "500"),
            ("date", "02/01/2026"),
            ("justificatif", ""),
        ],
    )
    .await;
    let answer = h.submit("bailleur", &post_to("depense"), &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer
        .text
        .contains("id=\"depense-date-erreur\">Cette date n'est pas dans l'année fiscale 2025"));
    assert!(answer
        .text
        .contains("id=\"depense-justificatif-erreur\">Indiquez la référence du justificatif"));

    // The same label twice in a programme; a bilan without an abatement (the ledger's rule).
    let fields = form_fields(
        &h,
        "bailleur",
        "action",
        &[
            ("qpv", "QN06211"),
            ("annee", "2025"),
            ("axe", "axe-1"),
            ("libelle", "sur-entretien (fictif)"),
            ("prevu", "1 000"),
        ],
    )
    .await;
    let answer = h.submit("bailleur", &post_to("action"), &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer
        .text
        .contains("id=\"action-libelle-erreur\">Une action porte déjà cet intitulé"));
    let fields = form_fields(
        &h,
        "bailleur",
        "bilan",
        &[("programme", "QN06211|2025"), ("date", "15/03/2026")],
    )
    .await;
    let answer = h.submit("bailleur", &post_to("bilan"), &fields).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(
        answer
            .text
            .contains("id=\"bilan-programme-erreur\">Déclarez d'abord l'abattement"),
        "{}",
        answer.text
    );
    assert_eq!(
        h.head().await,
        recorded,
        "a refused form recorded something"
    );
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn roles_that_may_not_write_and_other_bailleurs_get_no_form_and_403() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let before = h.head().await;
    let good = form_fields(
        &h,
        "bailleur",
        "abattement",
        &[
            ("qpv", "QN06211"),
            ("annee", "2025"),
            ("logements", "10"),
            ("montant", "1 000"),
        ],
    )
    .await;
    let lecteur = h.page("lecteur", PAGE).await;
    assert_eq!(lecteur.status, StatusCode::FORBIDDEN);
    for role in ["instructeur", "auditeur"] {
        let page = h
            .page(role, &format!("{PAGE}?bailleur=pas-de-calais-habitat"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{role}");
        assert!(
            !page.text.contains("method=\"post\" action=\"/tfpb/saisie"),
            "{role} sees a form"
        );
        assert!(page.text.contains("Votre rôle permet de lire ces chiffres"));
    }
    for role in ["instructeur", "auditeur", "lecteur"] {
        for form in ["abattement", "action", "depense", "bilan"] {
            let answer = h.submit(role, &post_to(form), &good).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{role} {form}");
            assert!(answer.text.contains("Votre rôle ne permet pas"), "{role}");
        }
        let bytes = std::fs::read(FIXTURE).unwrap();
        let answer = upload(
            &h,
            role,
            Some(&csrf(&h, role)),
            "pas-de-calais-habitat",
            "f.csv",
            &bytes,
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{role} upload");
        let answer = h
            .submit(
                role,
                &format!("{PAGE}/fichier/confirmer"),
                &fields(&[
                    ("depot", &uuid::Uuid::new_v4().to_string()),
                    ("bailleur", "pas-de-calais-habitat"),
                ]),
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{role} confirm");
    }

    // Another bailleur's programme: no page, and its posts refused.
    let other = h
        .page("bailleur", &format!("{PAGE}?bailleur=maisons-et-cites"))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let mut theirs = good.clone();
    theirs.retain(|(n, _)| n != "bailleur");
    theirs.push(("bailleur".into(), "maisons-et-cites".into()));
    let answer = h.submit("bailleur", &post_to("abattement"), &theirs).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    let bytes = std::fs::read(FIXTURE).unwrap();
    let answer = upload(
        &h,
        "bailleur",
        Some(&csrf(&h, "bailleur")),
        "maisons-et-cites",
        "f.csv",
        &bytes,
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    // Without the CSRF token, or with another.
    for token in [None, Some("0000")] {
        let answer = h
            .post("bailleur", &post_to("abattement"), token, &good)
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(answer.text.contains("<html lang=\"fr\""));
        let answer = upload(
            &h,
            "bailleur",
            token,
            "pas-de-calais-habitat",
            "f.csv",
            &bytes,
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "upload {token:?}");
        let answer = h
            .post(
                "bailleur",
                &format!("{PAGE}/fichier/confirmer"),
                token,
                &fields(&[
                    ("depot", &uuid::Uuid::new_v4().to_string()),
                    ("bailleur", "pas-de-calais-habitat"),
                ]),
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "confirm {token:?}");
    }
    assert_eq!(h.head().await, before, "something was recorded");

    // The contract's team enters for a bailleur it picks.
    let page = h.page("admin", PAGE).await;
    assert!(page.text.contains("Choisissez le bailleur"));
    let page = h
        .page("admin", &format!("{PAGE}?bailleur=maisons-et-cites"))
        .await;
    assert!(
        page.text.contains("Saisie TFPB — Maisons &amp; Cités"),
        "{}",
        page.text
    );
    assert!(page.text.contains("COTEAU STADE PARC CITE 34 (QN06213)"));
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn an_uploaded_file_is_previewed_then_recorded_all_at_once_and_once() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let before = h.head().await;
    let bytes = std::fs::read(FIXTURE).unwrap();
    let token = csrf(&h, "bailleur");
    let preview = upload(
        &h,
        "bailleur",
        Some(&token),
        "pas-de-calais-habitat",
        "tfpb-2025.csv",
        &bytes,
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(h.head().await, before, "the preview recorded something");
    let text = &preview.text;
    assert!(text.contains("Aperçu du fichier « tfpb-2025.csv »"));
    assert!(
        text.contains("6 actions, 5 dépenses réalisées, 2 abattements, dans 2 programmes"),
        "{text}"
    );
    let actions = form_part(text, "apercu-actions");
    assert!(actions.contains("Gardiens supplémentaires en soirée (fictif)"));
    assert!(actions.contains("LE CENTRE (QN06211)"));
    assert!(
        actions.contains("7. "),
        "the axis given by its number is named"
    );
    for total in ["135 000,00", "108 360,40"] {
        assert!(actions.contains(&eur(total)), "{total}: {actions}");
    }
    assert!(form_part(text, "apercu-abattements").contains(&eur("170 000,00")));
    let depot = hidden(text, "depot");

    // Another session may not confirm it.
    let answer = h
        .submit(
            "admin",
            &format!("{PAGE}/fichier/confirmer"),
            &fields(&[("depot", &depot), ("bailleur", "pas-de-calais-habitat")]),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);

    let confirm = fields(&[("depot", &depot), ("bailleur", "pas-de-calais-habitat")]);
    let answer = h
        .submit("bailleur", &format!("{PAGE}/fichier/confirmer"), &confirm)
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(
        answer.headers[header::LOCATION],
        format!("{PAGE}?enregistre=fichier#programmes").as_str()
    );
    assert_eq!(
        h.head().await,
        before + 13,
        "2 abatements, 6 actions, 5 spendings"
    );
    let again = h
        .submit("bailleur", &format!("{PAGE}/fichier/confirmer"), &confirm)
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text);
    assert_eq!(
        h.head().await,
        before + 13,
        "confirmed twice, recorded twice"
    );

    let history = h.history(STREAM).await;
    assert!(history.iter().all(|e| e["actor_name"] == "Chargée TFPB"));
    let spending = history
        .iter()
        .find(|e| {
            e["event_type"] == "TfpbSpendingReported" && e["payload"]["amount_eur"] == "36210.40"
        })
        .expect("the spending of line 4");
    assert_eq!(spending["metadata"]["effective_date"], "2025-11-30");
    let page = h
        .page("bailleur", &format!("{PAGE}?enregistre=fichier"))
        .await;
    assert!(
        page.text.contains("Le fichier est enregistré"),
        "{} {}",
        page.status,
        page.text
    );
    let programmes = form_part(&page.text, "programmes");
    assert!(programmes.contains(&eur("135 000,00")), "{programmes}");
    assert!(programmes.contains(&eur("108 360,40")));

    // The same file again: every action is already there, said per line; nothing kept.
    let refused = upload(
        &h,
        "bailleur",
        Some(&token),
        "pas-de-calais-habitat",
        "tfpb-2025.csv",
        &bytes,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text
            .contains("contient 6 problèmes : rien n'a été enregistré"),
        "{}",
        refused.text
    );
    assert!(refused
        .text
        .contains("est déjà enregistrée pour ce QPV et cette année"));
    assert_eq!(h.head().await, before + 13);
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn a_wrong_file_is_refused_with_its_lines_and_columns_in_french() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let before = h.head().await;
    let token = csrf(&h, "bailleur");
    let csv = "QPV;Année;Axe;Action;Prévu;Réalisé\n\
QN06211;2025;axe-1;Gardiens (fictif);1 000,00;500\n\
QN09999;2025;axe-2;Médiation (fictive);douze;0\n\
QN06211;2025;axe-12;Gardiens (fictif);1 000;0\n";
    let answer = upload(
        &h,
        "bailleur",
        Some(&token),
        "pas-de-calais-habitat",
        "erreurs.csv",
        csv.as_bytes(),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    let problems = form_part(&answer.text, "fichier-problemes");
    assert!(problems.contains("contient 4 problèmes"), "{problems}");
    for (line, column, message) in [
        ("3", "QPV", "« QN09999 » n'est pas un QPV du contrat"),
        ("3", "Prévu", "« douze » n'est pas un montant"),
        ("4", "Axe", "« axe-12 » n'est pas un axe du cadre national"),
        ("4", "Action", "Action en double : la ligne 2"),
    ] {
        let row = format!("<td class=\"num\">{line}</td><td>{column}</td><td>{message}");
        assert!(problems.contains(&row), "{row}: {problems}");
    }
    // No file, an empty one: said, nothing kept.
    let answer = upload(
        &h,
        "bailleur",
        Some(&token),
        "pas-de-calais-habitat",
        "",
        b"",
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text.contains("aucun fichier n'a été reçu"));
    // A workbook is read as well.
    let xlsx = std::fs::read(XLSX).unwrap();
    let answer = upload(
        &h,
        "bailleur",
        Some(&token),
        "pas-de-calais-habitat",
        "tfpb.xlsx",
        &xlsx,
    )
    .await;
    assert!(
        answer.status == StatusCode::OK || answer.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(answer.text.contains("Aperçu du fichier") || answer.text.contains("fichier-problemes"));
    assert_eq!(h.head().await, before);
    h.ledger.store().shutdown().await;
}
