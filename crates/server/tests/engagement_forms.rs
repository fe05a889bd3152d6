//! A signatory reports progress on its own droit-commun commitment from the commitment's page
//! (`/engagements/{id}`), posted as a browser posts it: recorded once in its name and read back;
//! wrong values said under their field with nothing recorded; no form and 403 for another
//! organisation and for a role that may not write; 403 without the CSRF token.

mod support;

use axum::http::{header, StatusCode};
use engagements_store::testing;
use serde_json::{json, Value};
use support::{eur, fields, form_part, hidden, Harness};

/// The State's commitment (financial), and the CABBALR's (counted in people).
const ETAT: &str = "etat-fictif-1";
const CABBALR: &str = "cabbalr-fictif-1";

fn pledge(id: &str, signatory: &str, kind: Value) -> Value {
    json!({"command":"pledge_commitment","commitment_id":id,"signatory":signatory,"terms":{
        "title":format!("Engagement {id} (fictif)"),"text":"Texte fictif, pour les tests.","kind":kind,
        "period":{"start_year":2024,"end_year":2027},"scope":"cabbalr","enjeux":[],"ambitions":[],
        "objectifs":[],"quartiers":[],"source_lines":[[3756,3756]]}})
}

fn fixture() -> Vec<Value> {
    vec![
        pledge(
            ETAT,
            "etat",
            json!({"type":"financial","amount_eur":"100000","amount_period":"per_year"}),
        ),
        pledge(
            CABBALR,
            "cabbalr",
            json!({"type":"staffing","staff_count":2,"staff_unit":"médiateurs"}),
        ),
    ]
}

fn page_of(id: &str) -> String {
    format!("/engagements/{id}")
}

fn post_to(id: &str) -> String {
    format!("/engagements/{id}/avancement")
}

async fn form_fields(
    h: &Harness,
    role: &str,
    id: &str,
    values: &[(&str, &str)],
) -> Vec<(String, String)> {
    let page = h.page(role, &page_of(id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let part = form_part(&page.text, "avancement");
    let mut out = vec![("command_id".to_string(), hidden(part, "command_id"))];
    out.extend(fields(values));
    out
}

#[tokio::test]
async fn a_signatory_records_progress_once_in_its_name() {
    for db in testing::all().await {
        let backend = db.backend;
        let h = Harness::new(db, fixture()).await;
        let signatory = h.page("instructeur", "/signataires/etat").await;
        assert!(
            signatory
                .text
                .contains(&format!("href=\"/engagements/{ETAT}\"")),
            "the signatory's page links its commitments"
        );
        let page = h.page("instructeur", &page_of(ETAT)).await;
        assert!(page.text.contains("Déclarer un avancement"));
        assert!(page.text.contains(&eur("100 000,00")));
        assert!(page
            .text
            .contains("Sera enregistré au nom de <strong>Agent DDETS</strong>"));
        let fields = form_fields(
            &h,
            "instructeur",
            ETAT,
            &[
                ("du", "01/01/2025"),
                ("au", "31/12/2025"),
                ("valeur", "82 500,50"),
                ("commentaire", "Crédits délégués en 2025 (fictif)"),
                ("justificatif", "Bilan DDETS 2025 (fictif)"),
            ],
        )
        .await;
        let answer = h
            .submit_recorded_once("instructeur", &post_to(ETAT), &fields)
            .await;
        assert_eq!(
            answer.headers[header::LOCATION],
            format!("/engagements/{ETAT}?enregistre=1#avancements").as_str(),
            "{backend}"
        );

        let history = h.history(&format!("commitment-{ETAT}")).await;
        let report = history.last().unwrap();
        assert_eq!(report["event_type"], "CommitmentProgressReported");
        assert_eq!(report["payload"]["realised_value"], "82500.5");
        assert_eq!(report["payload"]["period"]["from"], "2025-01-01");
        assert_eq!(
            report["payload"]["comment"],
            "Crédits délégués en 2025 (fictif)"
        );
        assert_eq!(
            report["payload"]["evidence_ref"],
            "Bilan DDETS 2025 (fictif)"
        );
        assert_eq!(report["actor_name"], "Agent DDETS");
        let page = h.page("lecteur", &page_of(ETAT)).await;
        let table = form_part(&page.text, "avancements");
        assert!(table.contains("du 01/01/2025 au 31/12/2025"), "{table}");
        assert!(table.contains(&eur("82 500,50")), "{table}");

        // A count of people, by the CABBALR's staff.
        let fields = form_fields(
            &h,
            "instructeur-cabbalr",
            CABBALR,
            &[
                ("du", "01/01/2025"),
                ("au", "30/06/2025"),
                ("valeur", "2"),
                ("commentaire", ""),
            ],
        )
        .await;
        let answer = h
            .submit("instructeur-cabbalr", &post_to(CABBALR), &fields)
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
        let page = h.page("admin", &page_of(CABBALR)).await;
        assert!(form_part(&page.text, "avancements").contains("2 médiateurs"));
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn wrong_values_are_said_under_their_field_and_nothing_is_recorded() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let before = h.head().await;
    let fields = form_fields(
        &h,
        "instructeur",
        ETAT,
        &[
            ("du", "31/12/2025"),
            ("au", "01/01/2025"),
            ("valeur", ""),
            ("commentaire", ""),
        ],
    )
    .await;
    let answer = h.submit("instructeur", &post_to(ETAT), &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer
        .text
        .contains("id=\"avancement-au-erreur\">La fin de la période est avant son début."));
    assert!(answer
        .text
        .contains("id=\"avancement-commentaire-erreur\">Indiquez une valeur réalisée"));
    assert!(answer.text.contains("value=\"31/12/2025\""), "values kept");
    let fields = form_fields(
        &h,
        "instructeur",
        ETAT,
        &[
            ("du", "01/01/2030"),
            ("au", "31/12/2030"),
            ("valeur", "douze"),
        ],
    )
    .await;
    let answer = h.submit("instructeur", &post_to(ETAT), &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer
        .text
        .contains("id=\"avancement-valeur-erreur\">« douze » n'est pas un montant"));
    // The ledger's own rule: a period outside the commitment's years.
    let fields = form_fields(
        &h,
        "instructeur",
        ETAT,
        &[("du", "01/01/2030"), ("au", "31/12/2030"), ("valeur", "10")],
    )
    .await;
    let answer = h.submit("instructeur", &post_to(ETAT), &fields).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains(
            "id=\"avancement-du-erreur\">Cette période n'est pas dans les années de l'engagement"
        ),
        "{}",
        answer.text
    );
    // A count that is not whole.
    let fields = form_fields(
        &h,
        "instructeur-cabbalr",
        CABBALR,
        &[
            ("du", "01/01/2025"),
            ("au", "31/12/2025"),
            ("valeur", "1,5"),
        ],
    )
    .await;
    let answer = h
        .submit("instructeur-cabbalr", &post_to(CABBALR), &fields)
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer
        .text
        .contains("id=\"avancement-valeur-erreur\">Indiquez un nombre entier"));
    assert_eq!(h.head().await, before, "a refused form recorded something");
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn another_organisation_and_roles_that_may_not_write_get_no_form_and_403() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let before = h.head().await;
    let good = form_fields(
        &h,
        "instructeur",
        ETAT,
        &[
            ("du", "01/01/2025"),
            ("au", "31/12/2025"),
            ("valeur", "1 000"),
        ],
    )
    .await;
    for role in ["instructeur-cabbalr", "bailleur", "auditeur", "lecteur"] {
        let page = h.page(role, &page_of(ETAT)).await;
        assert_eq!(page.status, StatusCode::OK, "{role}");
        assert!(!page.text.contains("/avancement\""), "{role} sees the form");
        assert!(!page.text.contains("name=\"command_id\""), "{role}");
        let answer = h.submit(role, &post_to(ETAT), &good).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{role}: {}",
            answer.text
        );
        assert!(answer.text.contains("Votre rôle ne permet pas"), "{role}");
    }
    for token in [None, Some("0000")] {
        let answer = h.post("instructeur", &post_to(ETAT), token, &good).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(answer.text.contains("<html lang=\"fr\""));
    }
    assert_eq!(h.head().await, before, "something was recorded");
    let unknown = h.page("admin", "/engagements/inconnu-1").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    h.ledger.store().shutdown().await;
}
