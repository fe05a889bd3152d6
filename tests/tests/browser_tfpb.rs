//! A person at a real browser (headless Chromium driven through WebDriver, Debian's
//! `chromium-driver`) against the real `engagements serve`: a bailleur's chargée TFPB declares
//! the abatement of a QPV (a wrong figure first, then corrected), adds an action, uploads its
//! usual file, reads the preview and confirms it; the State's service reports progress on one of
//! its droit-commun commitments. Each step types into the forms and clicks, and ends by reading
//! the figures back from the pages and from `engagements report`. Screenshots of each form
//! (empty, with errors, done, and the upload's preview), cropped to the form, go to
//! `target/screenshots/` (to `docs/screenshots/` with `UPDATE_SCREENSHOTS=1`). Without
//! chromedriver the tests are skipped with a message, except under `CI=true`.

use engagements_e2e::run_json;
use fantoccini::{Client, Locator};
use support::browser::{browser_available, click, type_into, wait_for};
use support::scene::{eur, shot, text_of, Scene};

mod support;

/// The file a bailleur keeps (Excel, Windows-1252, a title row): 6 actions in QN06211 and
/// QN06213, 5 spendings, 2 abatements.
const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/interop/tests/fixtures/tfpb-excel-cp1252.csv"
);

/// Picks the option of a drop-down list whose text contains `text`.
async fn choose(client: &Client, css: &str, text: &str) {
    let select = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    for option in select.find_all(Locator::Css("option")).await.unwrap() {
        if option.text().await.unwrap().contains(text) {
            option.click().await.unwrap();
            return;
        }
    }
    panic!("no option {text} in {css}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bailleur_enters_its_tfpb_and_uploads_its_file() {
    if !browser_available() {
        return;
    }
    let s = Scene::signed_in(
        &[],
        "Chargée TFPB (fictive)",
        "maisons-et-cites",
        "bailleur",
    )
    .await;
    let client = &s.client;

    // From the TFPB figures to the entry page.
    client.goto(&format!("{}/tfpb", s.base)).await.unwrap();
    click(client, "a[href='/tfpb/saisie']").await;
    wait_for(client, "#abattement").await;
    assert!(text_of(client, "h1")
        .await
        .contains("Saisie TFPB — Maisons & Cités"));

    // The abatement of QN06211: the amount typed wrong, said under it; then recorded.
    click(client, "#abattement summary").await;
    shot(client, "#abattement", "tfpb-abattement-vide.png").await;
    choose(client, "#abattement-qpv", "QN06211").await;
    type_into(client, "#abattement-annee", "2025").await;
    type_into(client, "#abattement-logements", "1 180").await;
    type_into(client, "#abattement-montant", "118.000,00").await;
    click(client, "#abattement button[type=submit]").await;
    let error = text_of(client, "#abattement-montant-erreur").await;
    assert!(error.contains("mélange virgule et point"), "{error}");
    shot(client, "#abattement", "tfpb-abattement-erreurs.png").await;
    type_into(client, "#abattement-montant", "118 000,00").await;
    click(client, "#abattement button[type=submit]").await;
    let done = text_of(client, "p.ok").await;
    assert!(done.contains("L'abattement est enregistré"), "{done}");
    let programmes = text_of(client, "#programmes").await;
    assert!(programmes.contains(&eur("118 000,00")), "{programmes}");
    shot(client, "#programmes", "tfpb-abattement-fait.png").await;

    // An action on QN06213, shared with another bailleur: the shares said wrong, then right.
    click(client, "#action summary").await;
    shot(client, "#action", "tfpb-action-vide.png").await;
    choose(client, "#action-qpv", "QN06213").await;
    type_into(client, "#action-annee", "2025").await;
    choose(client, "#action-axe", "5.").await;
    type_into(client, "#action-libelle", "Médiation de soirée (fictive)").await;
    type_into(client, "#action-prevu", "10 000").await;
    type_into(
        client,
        "#action-partenaires",
        "Association de médiation (fictive)",
    )
    .await;
    type_into(
        client,
        "#action-parts",
        "Maisons & Cités : 6 000\nPas-de-Calais habitat : 3 000",
    )
    .await;
    click(client, "#action button[type=submit]").await;
    let error = text_of(client, "#action-parts-erreur").await;
    assert!(error.contains("Les parts font"), "{error}");
    assert!(error.contains(&eur("9 000,00")), "{error}");
    shot(client, "#action", "tfpb-action-erreurs.png").await;
    type_into(
        client,
        "#action-parts",
        "Maisons & Cités : 7 000\nPas-de-Calais habitat : 3 000",
    )
    .await;
    click(client, "#action button[type=submit]").await;
    let done = text_of(client, "p.ok").await;
    assert!(done.contains("L'action est enregistrée"), "{done}");
    let actions = text_of(client, "#actions").await;
    assert!(
        actions.contains("Médiation de soirée (fictive)"),
        "{actions}"
    );
    shot(client, "#programmes", "tfpb-action-fait.png").await;

    // The usual file: uploaded, previewed, confirmed.
    click(client, "#fichier summary").await;
    shot(client, "#fichier", "tfpb-fichier-vide.png").await;
    client
        .find(Locator::Css("#fichier-fichier"))
        .await
        .unwrap()
        .send_keys(std::fs::canonicalize(FILE).unwrap().to_str().unwrap())
        .await
        .unwrap();
    click(client, "#fichier button[type=submit]").await;
    let preview = text_of(client, "#apercu").await;
    // QN06211's abatement is already declared with the same figures: only QN06213's is new.
    assert!(
        preview.contains("6 actions, 5 dépenses réalisées, 1 abattement, dans 2 programmes"),
        "{preview}"
    );
    assert!(preview.contains(&eur("135 000,00")), "{preview}");
    assert!(preview.contains(&eur("108 360,40")), "{preview}");
    assert!(preview.contains("Gardiens supplémentaires en soirée (fictif)"));
    shot(client, "#apercu", "tfpb-fichier-apercu.png").await;
    let before = run_json(
        &s.db,
        &["report", "tfpb", "--year", "2025", "--format", "json"],
    );
    click(client, "#apercu button[type=submit]").await;
    let done = text_of(client, "p.ok").await;
    assert!(done.contains("Le fichier est enregistré"), "{done}");
    shot(client, "#programmes", "tfpb-fichier-fait.png").await;
    assert_ne!(
        before,
        run_json(
            &s.db,
            &["report", "tfpb", "--year", "2025", "--format", "json"]
        )
    );

    // A wrong file: its problems with their line and column, nothing recorded.
    let bad = std::env::temp_dir().join(format!("tfpb-erreurs-{}.csv", uuid::Uuid::now_v7()));
    std::fs::write(
        &bad,
        "QPV;Année;Axe;Action;Prévu;Réalisé\nQN09999;2025;axe-2;Médiation (fictive);douze;0\n",
    )
    .unwrap();
    click(client, "#fichier summary").await;
    client
        .find(Locator::Css("#fichier-fichier"))
        .await
        .unwrap()
        .send_keys(bad.to_str().unwrap())
        .await
        .unwrap();
    click(client, "#fichier button[type=submit]").await;
    let problems = text_of(client, "#fichier-problemes").await;
    assert!(
        problems.contains("« QN09999 » n'est pas un QPV du contrat"),
        "{problems}"
    );
    assert!(
        problems.contains("« douze » n'est pas un montant"),
        "{problems}"
    );
    shot(client, "#fichier", "tfpb-fichier-erreurs.png").await;
    let _ = std::fs::remove_file(&bad);

    // The figures read back from the binary: QN06211 as the file says, QN06213 with the action
    // typed in (its 3 000 € share waits for the other bailleur's confirmation, so it counts here).
    let rows = run_json(
        &s.db,
        &[
            "report",
            "tfpb",
            "--bailleur",
            "maisons-et-cites",
            "--year",
            "2025",
            "--format",
            "json",
        ],
    );
    let rows = rows.as_array().unwrap();
    let total = |quartier: &str| {
        rows.iter()
            .find(|r| r["quartier"] == quartier && r["axis"] == "total")
            .unwrap_or_else(|| panic!("no total row for {quartier}: {rows:?}"))
            .clone()
    };
    let qn06211 = total("QN06211");
    assert_eq!(qn06211["abatement_eur"], "118000.00");
    assert_eq!(qn06211["planned_eur"], "97000.00");
    assert_eq!(qn06211["realised_eur"], "93360.40");
    let qn06213 = total("QN06213");
    assert_eq!(qn06213["abatement_eur"], "52000.00");
    assert_eq!(qn06213["planned_eur"], "48000.00");
    assert_eq!(qn06213["realised_eur"], "15000.00");
    // And from the page.
    let programmes = text_of(client, "#programmes").await;
    assert!(programmes.contains(&eur("170 000,00")), "{programmes}");
    let history = run_json(
        &s.db,
        &[
            "history",
            "tfpb-programme-maisons-et-cites:QN06213:2025",
            "--format",
            "json",
        ],
    );
    let text = history.to_string();
    assert!(text.contains("Chargée TFPB (fictive)"), "{text}");
    assert!(text.contains("Médiation de soirée (fictive)"));
    client.clone().close().await.unwrap();
    drop(s.server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signatory_reports_progress_on_its_commitment() {
    if !browser_available() {
        return;
    }
    let s = Scene::signed_in(&[], "Agent DDETS (fictif)", "etat", "instructeur").await;
    let client = &s.client;
    client
        .goto(&format!("{}/signataires/etat", s.base))
        .await
        .unwrap();
    click(client, "a[href='/engagements/etat-05']").await;
    wait_for(client, "#avancement").await;
    shot(client, "#saisie", "engagement-avancement-vide.png").await;

    // Neither a value nor a comment: said; then recorded.
    type_into(client, "#avancement-du", "01/01/2025").await;
    type_into(client, "#avancement-au", "31/12/2025").await;
    click(client, "#avancement button[type=submit]").await;
    let error = text_of(client, "#avancement-commentaire-erreur").await;
    assert!(error.contains("Indiquez une valeur réalisée"), "{error}");
    shot(client, "#saisie", "engagement-avancement-erreurs.png").await;
    type_into(client, "#avancement-valeur", "14 250 000").await;
    type_into(
        client,
        "#avancement-commentaire",
        "Offre de levée des freins, crédits 2025 (fictif)",
    )
    .await;
    type_into(
        client,
        "#avancement-justificatif",
        "Bilan DDETS 2025 (fictif)",
    )
    .await;
    click(client, "#avancement button[type=submit]").await;
    let done = text_of(client, "p.ok").await;
    assert!(done.contains("L'avancement est enregistré"), "{done}");
    let table = text_of(client, "#avancements").await;
    assert!(table.contains("du 01/01/2025 au 31/12/2025"), "{table}");
    assert!(table.contains(&eur("14 250 000,00")), "{table}");
    shot(client, "#avancements", "engagement-avancement-fait.png").await;

    // Read back from the binary.
    let rows = run_json(&s.db, &["report", "commitments", "--format", "json"]);
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["commitment_id"] == "etat-05")
        .expect("etat-05 in the report")
        .clone();
    assert_eq!(row["progress_reports"], 1, "{row}");
    assert_eq!(row["latest_period"], "2025-01-01..2025-12-31", "{row}");
    assert_eq!(row["latest_realised_value"], "14250000", "{row}");
    let history = run_json(
        &s.db,
        &["history", "commitment-etat-05", "--format", "json"],
    );
    assert!(history.to_string().contains("Agent DDETS (fictif)"));
    client.clone().close().await.unwrap();
    drop(s.server);
}
