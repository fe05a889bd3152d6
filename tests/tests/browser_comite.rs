//! A person at a real browser (headless Chromium driven through WebDriver, Debian's
//! `chromium-driver`) against the real `engagements serve`: the comité's secretariat prepares a
//! session of three dossiers, records its decisions with one line above its envelope, reads the
//! error, corrects the line and records them all; the State's instructeur then signs a
//! convention, records an avance and receives the CRF on a dossier. Each step types into the
//! forms and clicks, and ends by reading the figures back from the pages and from
//! `engagements report`. Screenshots of each form (empty, with errors, done), cropped to the
//! form, go to `target/screenshots/` (to `docs/screenshots/` with `UPDATE_SCREENSHOTS=1`).
//! Without chromedriver the tests are skipped with a message, except under `CI=true`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use engagements_e2e::{run_json, run_ok, TestDb};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use support::browser::{browser_available, click, type_into, wait_for, WAIT_MAX};
use support::scene::{eur, plain, shot, text_of, Scene};

mod support;

const PDFTOTEXT: &str = "/usr/bin/pdftotext";
const PORTEUR: &str = "0190f2a0-0000-7000-8000-0000000000b9";
const D1: &str = "0190f2a0-0000-7000-8000-0000000000f5";
const D2: &str = "0190f2a0-0000-7000-8000-0000000000f6";
const D3: &str = "0190f2a0-0000-7000-8000-0000000000f7";

fn file(id: &str, title: &str, requests: Value) -> Value {
    json!({"command":"file_dossier","dossier_id":id,"porteur_id":PORTEUR,"exercice":2025,
        "title":title,"total_budget":"90000","quartiers":[{"quartier":"QN06209"}],
        "objectifs":[{"objectif":1}],"requests":requests})
}

fn avis(id: &str, financeur: &str, amount: &str) -> Value {
    json!({"command":"give_opinion","dossier_id":id,"financeur":financeur,"opinion":"favourable","proposed_amount":amount})
}

/// Three dossiers of 2025 with their avis; the State's service proposes 15 000 + 12 000 +
/// 6 000 € on an envelope of 30 000 €.
fn three_dossiers() -> Vec<Value> {
    vec![
        json!({"command":"register_porteur","porteur_id":PORTEUR,"name":"Association Les Jardins (fictive)","kind":"association"}),
        json!({"command":"open_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"30000"}),
        json!({"command":"open_envelope","financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","exercice":2025,"amount":"10000"}),
        file(
            D1,
            "Ateliers du mercredi (fictif)",
            json!([
            {"financeur":"etat","dispositif":"bop147-aap","amount":"20000"},
            {"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"5000"}]),
        ),
        file(
            D2,
            "Médiation de rue (fictive)",
            json!([{"financeur":"etat","dispositif":"bop147-aap","amount":"15000"}]),
        ),
        file(
            D3,
            "Jardins partagés (fictifs)",
            json!([{"financeur":"etat","dispositif":"bop147-aap","amount":"8000"}]),
        ),
        avis(D1, "etat", "15000"),
        avis(D1, "cabbalr", "4000"),
        avis(D2, "etat", "12000"),
        avis(D3, "etat", "6000"),
    ]
}

/// The rows of `engagements report VIEW --year 2025 --format json`.
fn report(db: &TestDb, view: &str) -> Vec<Value> {
    run_json(db, &["report", view, "--year", "2025", "--format", "json"])
        .as_array()
        .cloned()
        .unwrap()
}

fn report_line<'a>(rows: &'a [Value], dossier: &str, financeur: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["dossier_id"] == dossier && r["financeur"] == financeur)
        .unwrap_or_else(|| panic!("no row {dossier} {financeur} in {rows:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secretariat_runs_a_comite_session_in_the_browser() {
    if !browser_available() {
        return;
    }
    let s = Scene::signed_in(
        &three_dossiers(),
        "Secrétariat du comité (fictif)",
        "cabbalr",
        "admin",
    )
    .await;
    let client = &s.client;

    // The menu leads to the sessions, the sessions to the preparation form.
    client
        .goto(&format!("{}/tableau-de-bord", s.base))
        .await
        .unwrap();
    click(client, "nav a[href='/comite']").await;
    wait_for(client, "a[href='/comite/nouvelle']").await;
    click(client, "a[href='/comite/nouvelle']").await;
    wait_for(client, "#reference").await;
    let form = text_of(client, "form.entry").await;
    assert!(form.contains("Ateliers du mercredi (fictif)"), "{form}");
    assert!(form.contains("Jardins partagés (fictifs)"));
    shot(client, "main", "comite-preparer-vide.png").await;

    // Sent without a reference nor a date: both said under their field.
    type_into(client, "#date", "15/13/2025").await;
    click(client, "form.entry button[type=submit]").await;
    let error = text_of(client, "#reference-erreur").await;
    assert!(error.contains("Indiquez la référence"), "{error}");
    assert!(text_of(client, "#date-erreur")
        .await
        .contains("n'est pas une date"));
    shot(client, "form.entry", "comite-preparer-erreurs.png").await;

    // Corrected: the session's page, its agenda, the decision form drawn from the avis.
    type_into(client, "#reference", "CF-2025-01").await;
    type_into(client, "#date", "15/04/2025").await;
    click(client, "form.entry button[type=submit]").await;
    wait_for(client, "#decisions").await;
    let url = client.current_url().await.unwrap();
    assert!(url.path().starts_with("/comite/"), "{url}");
    assert!(text_of(client, "h1").await.contains("Séance CF-2025-01"));
    shot(client, "main", "comite-preparer-fait.png").await;
    shot(client, "#decisions", "comite-decisions-vide.png").await;

    // As proposed, the State's lines ask 33 000 € of a 30 000 € envelope: the fourth line is
    // named, with what is left, and nothing is recorded.
    let head_before = run_json(&s.db, &["report", "signatory", "--format", "json"]);
    click(client, "#decisions button[type=submit]").await;
    let error = text_of(client, "#montant_3-erreur").await;
    assert!(error.contains("Au-delà de l'enveloppe"), "{error}");
    assert!(error.contains(&eur("3 000,00")), "{error}");
    assert_eq!(
        run_json(&s.db, &["report", "signatory", "--format", "json"]),
        head_before,
        "nothing recorded"
    );
    shot(client, "#decisions", "comite-decisions-erreurs.png").await;

    // Corrected: the fourth line to what is left, the CABBALR's line refused.
    type_into(client, "#montant_3", "3 000").await;
    click(client, "label[for='decision_0-refuse']").await;
    click(client, "#decisions button[type=submit]").await;
    wait_for(client, "article.pv").await;
    let pv = text_of(client, "article.pv").await;
    assert!(
        pv.contains("Procès-verbal du comité des financeurs"),
        "{pv}"
    );
    assert!(
        pv.contains("3 accordée(s), 1 refusée(s), 0 ajournée(s)"),
        "{pv}"
    );
    assert!(
        pv.contains(&format!("total accordé {}", eur("30 000,00"))),
        "{pv}"
    );
    assert!(pv.contains("Reste après la séance"));
    shot(
        client,
        "article.pv",
        "comite-decisions-fait-proces-verbal.png",
    )
    .await;

    // The procès-verbal prints on A4, without the menu.
    if Path::new(PDFTOTEXT).exists() {
        let config = fantoccini::wd::PrintConfiguration::builder()
            .build()
            .unwrap();
        let pdf = client.print(config).await.unwrap();
        let path = std::env::temp_dir().join(format!("pv-{}.pdf", uuid::Uuid::now_v7()));
        std::fs::write(&path, &pdf).unwrap();
        let text = Command::new(PDFTOTEXT)
            .args(["-layout"])
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout).to_string();
        let _ = std::fs::remove_file(&path);
        for word in [
            "Procès-verbal",
            "CF-2025-01",
            "Enveloppes après la séance",
            "Total Préfecture du Pas-de-Calais",
            "30 000,00",
            "Pour l'État",
        ] {
            assert!(text.contains(word), "'{word}' not printed:\n{text}");
        }
        assert!(
            !text.contains("Tableau de bord"),
            "the menu is printed:\n{text}"
        );
        assert!(
            !text.contains("Ctrl+P"),
            "the printing hint is printed:\n{text}"
        );
    }

    // The figures read back from the binary.
    let dossiers = report(&s.db, "dossiers");
    assert_eq!(report_line(&dossiers, D3, "etat")["granted_eur"], "3000.00");
    assert_eq!(
        report_line(&dossiers, D2, "etat")["granted_eur"],
        "12000.00"
    );
    assert_eq!(
        report_line(&dossiers, D1, "etat")["granted_eur"],
        "15000.00"
    );
    assert_eq!(report_line(&dossiers, D1, "cabbalr")["status"], "refused");
    let signatories = report(&s.db, "signatory");
    let state = signatories
        .iter()
        .find(|r| r["financeur"] == "etat" && r["dispositif"] == "bop147-aap")
        .expect("the State's envelope");
    assert_eq!(state["granted_eur"], "30000.00");
    assert_eq!(state["envelope_left_eur"], "0.00");
    let history = run_ok(&s.db, &["history", &format!("dossier-{D3}")]);
    let history = String::from_utf8_lossy(&history.stdout);
    assert!(history.contains("CF-2025-01"), "{history}");
    client.clone().close().await.unwrap();
    drop(s.server);
}

/// A dossier the comité granted 30 000 € by the State, above the 23 000 € rule.
fn granted_dossier() -> Vec<Value> {
    let mut commands = three_dossiers();
    commands.push(json!({"command":"decide_subsidy","dossier_id":D1,"financeur":"etat",
        "decision":{"outcome":"granted","amount":"15000"},"comite":"CF-2025-01","decided_on":"2025-04-15"}));
    commands.push(
        json!({"command":"change_subsidy","dossier_id":D1,"financeur":"etat","change":"increase",
        "amount":"15000","reason":"Second volet de l'action (fictif)","decided_on":"2025-04-16"}),
    );
    commands
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instructeur_signs_a_convention_pays_an_avance_and_receives_the_crf() {
    if !browser_available() {
        return;
    }
    let mut commands = granted_dossier();
    // The envelope must hold the increase.
    commands.insert(
        3,
        json!({"command":"raise_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"10000","reason":"Dotation complémentaire (fictive)"}),
    );
    let s = Scene::signed_in(&commands, "Agent DDETS (fictif)", "etat", "instructeur").await;
    let client = &s.client;
    let dossier = format!("{}/dossiers/{D1}", s.base);
    client.goto(&dossier).await.unwrap();
    let due = text_of(client, "#du").await;
    assert!(
        due.contains("Convention requise avant tout paiement"),
        "{due}"
    );

    // The convention: the 23 000 € rule on the form; an empty number refused, then signed.
    click(client, "#convention-etat summary").await;
    let rule = text_of(client, "#convention-etat").await;
    assert!(
        rule.contains("une convention est obligatoire avant tout paiement"),
        "{rule}"
    );
    shot(client, "#convention-etat", "suivi-convention-vide.png").await;
    click(client, "label[for='convention-etat-nature-convention']").await;
    type_into(client, "#convention-etat-signe_le", "20/04/2025").await;
    click(client, "#convention-etat button[type=submit]").await;
    let error = text_of(client, "#convention-etat-numero-erreur").await;
    assert!(error.contains("Indiquez le numéro"), "{error}");
    shot(client, "#convention-etat", "suivi-convention-erreurs.png").await;
    type_into(client, "#convention-etat-numero", "CONV-2025-014").await;
    click(client, "#convention-etat button[type=submit]").await;
    wait_for(client, "#du").await;
    let due = wait_text(client, "#du", "CONV-2025-014").await;
    assert!(
        due.contains("convention n° CONV-2025-014 signée le 20/04/2025"),
        "{due}"
    );
    assert!(!due.contains("Convention requise"), "{due}");
    shot(client, "#du", "suivi-convention-fait.png").await;

    // The avance: a wrong amount said under it, then recorded.
    click(client, "#paiement-etat-bop147-aap summary").await;
    shot(
        client,
        "#paiement-etat-bop147-aap",
        "suivi-paiement-vide.png",
    )
    .await;
    click(
        client,
        "label[for='paiement-etat-bop147-aap-nature-avance']",
    )
    .await;
    type_into(client, "#paiement-etat-bop147-aap-montant", "quinze mille").await;
    type_into(client, "#paiement-etat-bop147-aap-paye_le", "25/04/2025").await;
    type_into(client, "#paiement-etat-bop147-aap-mandat", "M-2025-0042").await;
    click(client, "#paiement-etat-bop147-aap button[type=submit]").await;
    let error = text_of(client, "#paiement-etat-bop147-aap-montant-erreur").await;
    assert!(error.contains("n'est pas un montant"), "{error}");
    shot(
        client,
        "#paiement-etat-bop147-aap",
        "suivi-paiement-erreurs.png",
    )
    .await;
    type_into(client, "#paiement-etat-bop147-aap-montant", "15 000").await;
    click(client, "#paiement-etat-bop147-aap button[type=submit]").await;
    let due = wait_text(client, "#du", &eur("15 000,00")).await;
    assert!(
        due.contains(&format!(
            "Reste à payer sur ce dossier : {}",
            eur("15 000,00")
        )),
        "{due}"
    );
    shot(client, "#du", "suivi-paiement-fait.png").await;
    let plan = text_of(client, "table.report").await;
    assert!(plan.contains(&eur("15 000,00")), "{plan}");

    // The CRF: a part used above the grant refused by the ledger, then received with its figures.
    click(client, "#crf summary").await;
    shot(client, "#crf", "suivi-crf-vide.png").await;
    type_into(client, "#crf-recu_le", "01/03/2026").await;
    type_into(client, "#crf-budget_realise", "88 000").await;
    type_into(client, "#crf-depenses", "87 500,50").await;
    type_into(client, "#crf-part_utilisee", "40 000").await;
    type_into(client, "#crf-commentaire", "Bilan conforme (fictif)").await;
    click(client, "#crf button[type=submit]").await;
    let error = text_of(client, "#crf-part_utilisee-erreur").await;
    assert!(error.contains("La part utilisée dépasse"), "{error}");
    shot(client, "#crf", "suivi-crf-erreurs.png").await;
    type_into(client, "#crf-part_utilisee", "14 500").await;
    click(client, "#crf button[type=submit]").await;
    let due = wait_text(client, "#du", "reçu le 01/03/2026").await;
    assert!(
        due.contains(&format!(
            "Part de la subvention utilisée : {}",
            eur("14 500,00")
        )),
        "{due}"
    );
    assert!(
        due.contains(&format!("Non utilisé : {}", eur("500,00"))),
        "{due}"
    );
    shot(client, "#du", "suivi-crf-fait.png").await;

    // The figures read back from the binary, and the facts in the instructeur's name.
    let dossiers = report(&s.db, "dossiers");
    let line = report_line(&dossiers, D1, "etat");
    assert_eq!(line["paid_eur"], "15000.00");
    assert_eq!(line["granted_eur"], "30000.00");
    assert_eq!(line["convention"], "convention CONV-2025-014");
    assert_eq!(line["crf_received_on"], "2026-03-01");
    let history = run_json(
        &s.db,
        &["history", &format!("dossier-{D1}"), "--format", "json"],
    );
    let text = history.to_string();
    assert!(text.contains("Agent DDETS (fictif)"), "{text}");
    assert!(text.contains("M-2025-0042"));
    client.clone().close().await.unwrap();
    drop(s.server);
}

/// Waits until the element shows `text` (after a form posted, the page reloads).
async fn wait_text(client: &Client, css: &str, text: &str) -> String {
    let started = Instant::now();
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if let Ok(shown) = element.text().await {
                let shown = plain(&shown);
                if shown.contains(text) {
                    return shown;
                }
            }
        }
        if started.elapsed() > WAIT_MAX {
            let source = client.source().await.unwrap_or_default();
            panic!("'{text}' never showed in {css}:\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const CPO: &str = "0190f2a0-0000-7000-8000-0000000000c9";

/// The dossiers of [`three_dossiers`] after the comité: the first granted (the State 15 000 €,
/// an avance of 5 000 € paid; the CABBALR 4 000 €), and a CPO of the porteur planning 2024-2026.
fn after_the_comite() -> Vec<Value> {
    let mut commands = three_dossiers();
    for (financeur, amount) in [("etat", "15000"), ("cabbalr", "4000")] {
        commands.push(json!({"command":"decide_subsidy","dossier_id":D1,"financeur":financeur,
            "decision":{"outcome":"granted","amount":amount},"comite":"CF-2025-01","decided_on":"2025-04-15"}));
    }
    commands.push(
        json!({"command":"record_payment","dossier_id":D1,"financeur":"etat","kind":"avance",
        "amount":"5000","paid_on":"2025-05-02","mandate_reference":"M-2025-0007"}),
    );
    commands.push(json!({"command":"sign_cpo","cpo_id":CPO,"porteur_id":PORTEUR,"title":"CPO médiation (fictive)",
        "number":"CPO-2024-07","signed_on":"2024-02-01","first_exercice":2024,"schedule":[
        {"exercice":2024,"financeur":"etat","dispositif":"bop147-aap","amount":"12000"},
        {"exercice":2025,"financeur":"etat","dispositif":"bop147-aap","amount":"12000"},
        {"exercice":2026,"financeur":"etat","dispositif":"bop147-aap","amount":"12000"}]}));
    commands
}

/// One form of the dossier's page typed in twice: first with `wrong` (its error read under
/// `error_field`), then with `right`; screenshots empty, with the error, and of `done_css` after.
struct Typed<'a> {
    form: &'a str,
    shots: &'a str,
    wrong: Vec<(&'a str, &'a str)>,
    error_field: &'a str,
    error: &'a str,
    right: Vec<(&'a str, &'a str)>,
    done_css: &'a str,
    done_text: &'a str,
}

async fn type_form(client: &Client, typed: Typed<'_>) {
    let form = typed.form;
    click(client, &format!("#{form} summary")).await;
    shot(
        client,
        &format!("#{form}"),
        &format!("{}-vide.png", typed.shots),
    )
    .await;
    fill(client, form, &typed.wrong).await;
    click(client, &format!("#{form} button[type=submit]")).await;
    let error = text_of(client, &format!("#{form}-{}-erreur", typed.error_field)).await;
    assert!(error.contains(typed.error), "{form}: {error}");
    shot(
        client,
        &format!("#{form}"),
        &format!("{}-erreurs.png", typed.shots),
    )
    .await;
    fill(client, form, &typed.right).await;
    click(client, &format!("#{form} button[type=submit]")).await;
    wait_text(client, typed.done_css, typed.done_text).await;
    shot(client, typed.done_css, &format!("{}-fait.png", typed.shots)).await;
}

/// Types values into a form's fields: a choice is clicked by its label, a text is typed.
async fn fill(client: &Client, form: &str, values: &[(&str, &str)]) {
    for (name, value) in values {
        let choice = format!("label[for='{form}-{name}-{value}']");
        if client.find(Locator::Css(&choice)).await.is_ok() {
            click(client, &choice).await;
        } else {
            type_into(client, &format!("#{form}-{name}"), value).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_forms_of_a_grants_life_are_typed_in_the_browser() {
    if !browser_available() {
        return;
    }
    let s = Scene::signed_in(
        &after_the_comite(),
        "Équipe du contrat (fictive)",
        "cabbalr",
        "admin",
    )
    .await;
    let client = &s.client;
    client
        .goto(&format!("{}/dossiers/{D1}", s.base))
        .await
        .unwrap();
    type_form(
        client,
        Typed {
            form: "modification-cabbalr-fonds-cohesion-sociale",
            shots: "suivi-modification",
            wrong: vec![
                ("nature", "reduce"),
                ("montant", ""),
                ("decide_le", "02/05/2025"),
                ("motif", "Action réduite de moitié (fictif)"),
            ],
            error_field: "montant",
            error: "Indiquez un montant",
            right: vec![("montant", "2 000")],
            done_css: "ol.timeline > li:last-child",
            done_text: "Subvention réduite",
        },
    )
    .await;
    type_form(
        client,
        Typed {
            form: "reversement-etat-bop147-aap",
            shots: "suivi-reversement",
            wrong: vec![
                ("montant", "6 000"),
                ("demande_le", "01/09/2025"),
                ("motif", "Sorties annulées (fictif)"),
            ],
            error_field: "montant",
            error: "dépasse ce qui a été payé",
            right: vec![("montant", "1 000")],
            done_css: "ol.timeline > li:last-child",
            done_text: "Reversement demandé",
        },
    )
    .await;
    type_form(
        client,
        Typed {
            form: "reversement-recu-etat-bop147-aap",
            shots: "suivi-reversement-recu",
            wrong: vec![("montant", "2 000"), ("recu_le", "01/10/2025")],
            error_field: "montant",
            error: "dépasse le reversement demandé",
            right: vec![("montant", "1 000")],
            done_css: "ol.timeline > li:last-child",
            done_text: "Reversement reçu",
        },
    )
    .await;
    type_form(
        client,
        Typed {
            form: "cpo-cabbalr-fonds-cohesion-sociale",
            shots: "suivi-cpo",
            wrong: vec![
                ("intitule", "CPO ateliers (fictive)"),
                ("numero", "CPO-2025-03"),
                ("signe_le", "03/05/2025"),
                ("annee_1", ""),
            ],
            error_field: "annee_1",
            error: "Indiquez un montant",
            right: vec![
                ("annee_1", "2 000"),
                ("annee_2", "4 000"),
                ("annee_3", "4 000"),
            ],
            done_css: "#du",
            done_text: "CPO « CPO ateliers (fictive) »",
        },
    )
    .await;

    // A later year of a CPO already signed, confirmed with this dossier: a button, nothing to
    // get wrong.
    client
        .goto(&format!("{}/dossiers/{D2}", s.base))
        .await
        .unwrap();
    let form = format!("cpo-annee-{CPO}");
    click(client, &format!("#{form} summary")).await;
    shot(client, &format!("#{form}"), "suivi-cpo-annee-vide.png").await;
    click(client, &format!("#{form} button[type=submit]")).await;
    wait_text(client, "#du", "CPO-2024-07").await;
    shot(client, "#du", "suivi-cpo-annee-fait.png").await;

    // The dossier amended with the filing form's fields: a wrong budget, then a new title.
    click(client, &format!("a[href='/dossiers/{D2}/modifier']")).await;
    wait_for(client, "#motif").await;
    shot(client, "form.entry", "dossier-modifier-vide.png").await;
    type_into(client, "#budget", "beaucoup").await;
    click(client, "form.entry button[type=submit]").await;
    assert!(text_of(client, "#budget-erreur")
        .await
        .contains("n'est pas un montant"));
    assert!(text_of(client, "#motif-erreur")
        .await
        .contains("Indiquez le motif"));
    shot(client, "form.entry", "dossier-modifier-erreurs.png").await;
    type_into(client, "#budget", "95 000").await;
    type_into(client, "#intitule", "Médiation de rue et de nuit (fictive)").await;
    type_into(client, "#motif", "Extension aux soirées (fictif)").await;
    click(client, "form.entry button[type=submit]").await;
    wait_text(client, "h1", "Médiation de rue et de nuit (fictive)").await;
    shot(
        client,
        "ol.timeline > li:last-child",
        "dossier-modifier-fait.png",
    )
    .await;

    // The third dossier withdrawn: a reason is required.
    client
        .goto(&format!("{}/dossiers/{D3}", s.base))
        .await
        .unwrap();
    type_form(
        client,
        Typed {
            form: "retrait",
            shots: "dossier-retrait",
            wrong: vec![],
            error_field: "motif",
            error: "Indiquez le motif du retrait",
            right: vec![("motif", "Le porteur renonce (fictif)")],
            done_css: "p.banner",
            done_text: "Ce dossier est retiré",
        },
    )
    .await;

    // The figures read back from the binary.
    let dossiers = report(&s.db, "dossiers");
    assert_eq!(
        report_line(&dossiers, D1, "cabbalr")["granted_eur"],
        "2000.00"
    );
    assert_eq!(
        report_line(&dossiers, D1, "etat")["reversed_eur"],
        "1000.00"
    );
    assert_eq!(
        report_line(&dossiers, D3, "etat")["dossier_status"],
        "withdrawn"
    );
    let d2 = report_line(&dossiers, D2, "etat");
    assert_eq!(d2["title"], "Médiation de rue et de nuit (fictive)");
    let history = run_ok(&s.db, &["history", &format!("cpo-{CPO}")]);
    let history = String::from_utf8_lossy(&history.stdout);
    assert!(
        history.contains(D2),
        "the CPO year confirmed with the second dossier: {history}"
    );
    client.clone().close().await.unwrap();
    drop(s.server);
}
