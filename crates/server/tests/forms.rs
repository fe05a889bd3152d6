//! The forms that write, posted as a browser posts them (a web session's cookie, the CSRF token
//! and the form's own command id in the body) to the real router: what is recorded and by whom,
//! what is shown on error, and what is refused.

mod support;

use axum::http::{header, StatusCode};
use engagements_store::testing::{self, TestDb};
use serde_json::{json, Value};
use support::{hidden, Harness};
use uuid::Uuid;

const PORTEUR: &str = "0190f2a0-0000-7000-8000-0000000000b1";
const DOSSIER: &str = "0190f2a0-0000-7000-8000-0000000000d1";

/// The contract, a porteur, and a dossier asking the State (BOP 147) and the CABBALR.
async fn harness(db: TestDb) -> Harness {
    Harness::new(
        db,
        vec![
            json!({"command":"register_porteur","porteur_id":PORTEUR,"name":"Association Test (fictive)","kind":"association"}),
            json!({
                "command":"file_dossier","dossier_id":DOSSIER,"porteur_id":PORTEUR,"exercice":2025,
                "title":"Action test (fictive)","total_budget":"90000",
                "quartiers":[{"quartier":"QN06209"}],
                "objectifs":[{"objectif":1}],
                "requests":[
                    {"financeur":"etat","dispositif":"bop147-aap","amount":"20000"},
                    {"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"5000"}
                ]
            }),
        ],
    )
    .await
}

fn avis_uri() -> String {
    format!("/dossiers/{DOSSIER}/avis")
}

/// The fields of a good avis on the State's line, under `command_id`.
fn state_avis<'a>(command_id: &'a str, montant: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("command_id", command_id),
        ("financeur", "etat"),
        ("dispositif", "bop147-aap"),
        ("avis", "favorable"),
        ("montant", montant),
        ("commentaire", "Action utile au quartier"),
    ]
}

#[tokio::test]
async fn an_instructeur_gives_an_avis_recorded_once_in_its_name() {
    for db in testing::all().await {
        let backend = db.backend;
        let h = harness(db).await;
        let page = h.page("instructeur", &format!("/dossiers/{DOSSIER}")).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        assert!(page.text.contains("Donner un avis"), "{}", page.text);
        assert!(page.text.contains("Sera enregistré au nom de"));
        assert!(page.text.contains("<strong>Agent DDETS</strong>"));
        assert!(page.text.contains(&format!("action=\"{}\"", avis_uri())));
        // Only the State's line: the CABBALR's is another financeur's.
        assert!(page.text.contains("name=\"financeur\" value=\"etat\""));
        assert!(!page.text.contains("name=\"financeur\" value=\"cabbalr\""));
        assert!(page.text.contains("<label for=\"avis-0-montant\">"));
        let command_id = hidden(&page.text, "command_id");
        assert!(command_id.parse::<Uuid>().is_ok());

        let before = h.head().await;
        let fields = state_avis(&command_id, "12 345,50");
        let answer = h
            .submit("instructeur", &avis_uri(), &support::fields(&fields))
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
        assert_eq!(
            answer.headers[header::LOCATION],
            format!("/dossiers/{DOSSIER}").as_str()
        );
        assert_eq!(h.head().await, before + 1);
        // The same form sent again (a double click, a reload): nothing new.
        let again = h
            .submit("instructeur", &avis_uri(), &support::fields(&fields))
            .await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text);
        assert_eq!(
            h.head().await,
            before + 1,
            "{backend}: double submit recorded twice"
        );

        let page = h.page("instructeur", &format!("/dossiers/{DOSSIER}")).await;
        assert!(page.text.contains("Avis du service instructeur"));
        assert!(page.text.contains("12\u{202f}345,50 €"));
        assert!(page.text.contains("par Agent DDETS (etat)"));
        assert!(page.text.contains("Action utile au quartier"));
        // A new form, with a new command id.
        assert_ne!(hidden(&page.text, "command_id"), command_id);

        let history = h.history(&format!("dossier-{DOSSIER}")).await;
        let opinions: Vec<&Value> = history
            .iter()
            .filter(|e| e["event_type"] == "OpinionGiven")
            .collect();
        assert_eq!(opinions.len(), 1, "{backend}");
        let opinion = opinions[0];
        // The API joins the name to the pseudonymous id the event carries.
        assert_eq!(opinion["actor_name"], "Agent DDETS");
        assert!(opinion["metadata"]["actor"]["person"]
            .as_str()
            .unwrap()
            .starts_with("person-"));
        assert_eq!(opinion["metadata"]["actor"]["organisation"], "etat");
        assert_eq!(opinion["metadata"]["command_id"], command_id.as_str());
        assert_eq!(opinion["payload"]["financeur"], "etat");
        assert_eq!(opinion["payload"]["opinion"], "favourable");
        assert_eq!(opinion["payload"]["proposed_amount"], "12345.50");
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn an_admin_sees_a_form_on_every_open_line() {
    let h = harness(testing::sqlite()).await;
    let page = h.page("admin", &format!("/dossiers/{DOSSIER}")).await;
    assert!(page.text.contains("name=\"financeur\" value=\"etat\""));
    assert!(page.text.contains("name=\"financeur\" value=\"cabbalr\""));
    let command_id = hidden(&page.text, "command_id");
    let fields = [
        ("command_id", command_id.as_str()),
        ("financeur", "cabbalr"),
        ("dispositif", "fonds-cohesion-sociale"),
        ("avis", "reserve"),
        ("montant", "4000.00"),
        ("commentaire", ""),
    ];
    let answer = h
        .submit("admin", &avis_uri(), &support::fields(&fields))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    let page = h.page("admin", &format!("/dossiers/{DOSSIER}")).await;
    assert!(page.text.contains("réservé"));
    assert!(page.text.contains("4\u{202f}000,00 €"));

    // A dossier of an already registered porteur: one command.
    let ids = filing_ids(&h, "admin").await;
    let mut fields: Vec<(String, String)> = filing(&ids, "3 000")
        .into_iter()
        .filter(|(name, _)| !name.starts_with("porteur"))
        .collect();
    fields.push(("porteur".into(), PORTEUR.into()));
    let before = h.head().await;
    let answer = h.submit("admin", NEW_DOSSIER_URI, &fields).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(h.head().await, before + 1);
    let page = h.page("admin", &format!("/dossiers/{}", ids[1].1)).await;
    assert!(
        page.text.contains("porteur : Association Test (fictive)"),
        "{}",
        page.text
    );
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn a_bad_avis_records_nothing_and_shows_the_error_under_its_field() {
    let h = harness(testing::sqlite()).await;
    let before = h.head().await;
    let command_id = Uuid::now_v7().to_string();

    // A bad amount: the French message under the amount, the values kept.
    let answer = h
        .submit(
            "instructeur",
            &avis_uri(),
            &support::fields(&state_avis(&command_id, "12,3,4")),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(answer.text.contains("<html lang=\"fr\""));
    assert!(answer.text.contains("class=\"error-summary\""));
    assert!(answer.text.contains("href=\"#montant\""));
    assert!(
        answer.text.contains(
            "<p class=\"field-error\" id=\"montant-erreur\">« 12,3,4 » n&#39;est pas un montant"
        ) || answer.text.contains(
            "<p class=\"field-error\" id=\"montant-erreur\">« 12,3,4 » n'est pas un montant"
        ),
        "{}",
        answer.text
    );
    assert!(answer.text.contains("value=\"12,3,4\""));
    assert!(answer.text.contains(">Action utile au quartier</textarea>"));
    assert!(answer.text.contains("value=\"favorable\" checked"));
    assert!(answer
        .text
        .contains(&format!("name=\"command_id\" value=\"{command_id}\"")));
    assert_eq!(h.head().await, before);

    // No avis chosen.
    let mut fields = state_avis(&command_id, "100");
    fields.retain(|(name, _)| *name != "avis");
    let answer = h
        .submit("instructeur", &avis_uri(), &support::fields(&fields))
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer
        .text
        .contains("id=\"avis-erreur\">Choisissez un avis"));
    assert_eq!(h.head().await, before);

    // Another financeur's line: refused, said next to the line, the values kept.
    let fields = [
        ("command_id", command_id.as_str()),
        ("financeur", "cabbalr"),
        ("dispositif", "fonds-cohesion-sociale"),
        ("avis", "defavorable"),
        ("montant", "1 000"),
        ("commentaire", "Hors de notre ligne"),
    ];
    let answer = h
        .submit("instructeur", &avis_uri(), &support::fields(&fields))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    assert!(answer
        .text
        .contains("id=\"financeur-erreur\">Votre organisation ne peut pas agir pour ce financeur"));
    assert!(answer.text.contains("value=\"1 000\""));
    assert!(answer.text.contains(">Hors de notre ligne</textarea>"));
    assert!(!answer.text.contains("may not"), "English on the page");
    assert_eq!(h.head().await, before);

    // The form refused, then corrected under the same command id: recorded.
    let answer = h
        .submit(
            "instructeur",
            &avis_uri(),
            &support::fields(&state_avis(&command_id, "12 000")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(h.head().await, before + 1);
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn a_post_without_the_csrf_token_or_from_a_role_that_may_not_is_refused() {
    let h = harness(testing::sqlite()).await;
    let before = h.head().await;
    let command_id = Uuid::now_v7().to_string();
    let fields = state_avis(&command_id, "100");
    for csrf in [None, Some("0000"), Some("")] {
        let answer = h
            .post("instructeur", &avis_uri(), csrf, &support::fields(&fields))
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{csrf:?}");
        assert!(answer.text.contains("<html lang=\"fr\""));
        assert!(answer
            .text
            .contains("<h1>Cette page ne peut pas être affichée</h1>"));
    }
    // Another role's CSRF token is not this session's.
    let other = h.sessions["admin"].csrf_token.clone();
    let answer = h
        .post(
            "instructeur",
            &avis_uri(),
            Some(&other),
            &support::fields(&fields),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(h.head().await, before);

    for role in ["lecteur", "auditeur", "bailleur"] {
        let page = h.page(role, &format!("/dossiers/{DOSSIER}")).await;
        assert_eq!(page.status, StatusCode::OK, "{role}");
        assert!(
            !page.text.contains("Donner un avis"),
            "{role} sees the form"
        );
        assert!(!page.text.contains("/avis\""), "{role} sees the form");
        assert!(!page.text.contains("name=\"command_id\""), "{role}");
        let answer = h.submit(role, &avis_uri(), &support::fields(&fields)).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{role}: {}",
            answer.text
        );
        assert!(answer.text.contains("<html lang=\"fr\""));
        assert!(answer.text.contains("Votre rôle ne permet pas"), "{role}");
        assert_eq!(h.head().await, before, "{role} recorded something");
    }
    h.ledger.store().shutdown().await;
}

const NEW_DOSSIER_URI: &str = "/dossiers/nouveau";

/// The hidden ids of a freshly drawn filing form, as `(name, value)` pairs.
async fn filing_ids(h: &Harness, role: &str) -> Vec<(String, String)> {
    let page = h.page(role, NEW_DOSSIER_URI).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    [
        "command_id",
        "dossier_id",
        "porteur_command_id",
        "porteur_id",
    ]
    .iter()
    .map(|name| (name.to_string(), hidden(&page.text, name)))
    .collect()
}

/// A filing by the State's instructeur for a new porteur, with two lines, two quartiers with
/// shares, and two objectifs.
fn filing(ids: &[(String, String)], etat_amount: &str) -> Vec<(String, String)> {
    let mut fields = ids.to_vec();
    for (name, value) in [
        ("porteur", "nouveau"),
        ("porteur_nom", "Les Amis du Quartier (fictive)"),
        ("porteur_nature", "association"),
        ("porteur_siret", "442 019 870 00017"),
        ("porteur_rna", "W621000123"),
        ("exercice", "2025"),
        ("intitule", "Ateliers du mercredi (fictif)"),
        ("description", "Soutien scolaire et sorties"),
        ("budget", "40 000,00"),
        ("ligne_0", "etat/bop147-aap"),
        ("montant_0", etat_amount),
        ("ligne_1", "cabbalr/fonds-cohesion-sociale"),
        ("montant_1", "5000.50"),
        ("ligne_2", ""),
        ("montant_2", ""),
        ("quartier", "QN06209"),
        ("part_QN06209", "60"),
        ("quartier", "QN06211"),
        ("part_QN06211", "40,0"),
        ("objectif", "1"),
        ("objectif", "12"),
    ] {
        fields.push((name.to_string(), value.to_string()));
    }
    fields
}

#[tokio::test]
async fn an_instructeur_files_a_dossier_with_a_new_porteur_recorded_once() {
    for db in testing::all().await {
        let backend = db.backend;
        let h = harness(db).await;
        let page = h.page("instructeur", NEW_DOSSIER_URI).await;
        assert!(page.text.contains("Déposer un dossier"));
        assert!(page.text.contains("<strong>Agent DDETS</strong>"));
        assert!(page.text.contains("<label for=\"budget\">"));
        assert!(page.text.contains("<label for=\"ligne_0\">"));
        assert!(
            page.text.contains("Association Test (fictive)"),
            "registered porteurs offered"
        );
        let list = h.page("instructeur", "/dossiers").await;
        assert!(list.text.contains("href=\"/dossiers/nouveau\""));

        let ids = filing_ids(&h, "instructeur").await;
        let dossier_id = ids[1].1.clone();
        let porteur_id = ids[3].1.clone();
        let fields = filing(&ids, "12 000");
        let before = h.head().await;
        let answer = h.submit("instructeur", NEW_DOSSIER_URI, &fields).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            answer.text
        );
        assert_eq!(
            answer.headers[header::LOCATION],
            format!("/dossiers/{dossier_id}").as_str()
        );
        assert_eq!(h.head().await, before + 2, "porteur and dossier");
        let again = h.submit("instructeur", NEW_DOSSIER_URI, &fields).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text);
        assert_eq!(
            h.head().await,
            before + 2,
            "{backend}: double submit recorded twice"
        );

        let page = h
            .page("instructeur", &format!("/dossiers/{dossier_id}"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("Ateliers du mercredi (fictif)"));
        assert!(page.text.contains("Les Amis du Quartier (fictive)"));
        assert!(page.text.contains("40\u{202f}000,00 €"));
        assert!(page.text.contains("12\u{202f}000,00 €"));
        assert!(page.text.contains("5\u{202f}000,50 €"));
        assert!(page.text.contains("par Agent DDETS (etat)"));

        let history = h.history(&format!("dossier-{dossier_id}")).await;
        assert_eq!(history.len(), 1);
        assert_eq!(history[0]["event_type"], "DossierFiled");
        assert_eq!(history[0]["actor_name"], "Agent DDETS");
        assert_eq!(history[0]["payload"]["porteur_id"], porteur_id.as_str());
        assert_eq!(history[0]["payload"]["quartiers"][1]["share_pct"], "40.0");
        let porteur = h.history(&format!("porteur-{porteur_id}")).await;
        assert_eq!(porteur[0]["event_type"], "PorteurRegistered");
        assert_eq!(porteur[0]["payload"]["siret"], "44201987000017");
        assert_eq!(porteur[0]["payload"]["rna"], "W621000123");
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_bad_filing_records_nothing_and_shows_the_errors_under_their_fields() {
    let h = harness(testing::sqlite()).await;
    let ids = filing_ids(&h, "instructeur").await;
    let before = h.head().await;

    // A bad amount in the plan and a bad SIRET: both said, the values kept, nothing recorded.
    let mut fields = filing(&ids, "douze mille");
    for (name, value) in fields.iter_mut() {
        if name == "porteur_siret" {
            *value = "123".to_string();
        }
    }
    let answer = h.submit("instructeur", NEW_DOSSIER_URI, &fields).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(answer.text.contains("class=\"error-summary\""));
    assert!(
        answer
            .text
            .contains("id=\"montant_0-erreur\">« douze mille » n"),
        "{}",
        answer.text
    );
    assert!(answer
        .text
        .contains("id=\"porteur_siret-erreur\">Ce SIRET n"));
    assert!(answer.text.contains("value=\"douze mille\""));
    assert!(answer
        .text
        .contains("value=\"Ateliers du mercredi (fictif)\""));
    assert!(answer.text.contains("value=\"etat/bop147-aap\" selected"));
    assert!(answer.text.contains("value=\"QN06211\" checked"));
    assert!(answer.text.contains("value=\"40,0\""));
    assert!(answer
        .text
        .contains(&format!("name=\"command_id\" value=\"{}\"", ids[0].1)));
    assert_eq!(h.head().await, before);

    // A plan that asks nothing of the caller's organisation: refused, said under the plan.
    let mut fields = filing(&ids, "");
    fields.retain(|(name, _)| name != "ligne_0" && name != "montant_0");
    let answer = h.submit("instructeur", NEW_DOSSIER_URI, &fields).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    assert!(
        answer
            .text
            .contains("id=\"plan-erreur\">Votre organisation doit être l&#39;un des financeurs")
            || answer
                .text
                .contains("id=\"plan-erreur\">Votre organisation doit être l'un des financeurs"),
        "{}",
        answer.text
    );
    assert!(!answer.text.contains("may not"), "English on the page");
    assert_eq!(
        h.head().await,
        before,
        "the new porteur was recorded without its dossier"
    );

    // Shares that do not make 100: the domain refuses, said under the quartiers, in French.
    let mut fields = filing(&ids, "12 000");
    for (name, value) in fields.iter_mut() {
        if name == "part_QN06211" {
            *value = "30".to_string();
        }
    }
    let answer = h.submit("instructeur", NEW_DOSSIER_URI, &fields).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("id=\"quartiers-erreur\">"),
        "{}",
        answer.text
    );
    assert_eq!(h.head().await, before);
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn filing_is_refused_without_the_csrf_token_and_to_roles_that_may_not() {
    let h = harness(testing::sqlite()).await;
    let ids = filing_ids(&h, "admin").await;
    let fields = filing(&ids, "12 000");
    let before = h.head().await;
    for csrf in [None, Some("0000")] {
        let answer = h.post("instructeur", NEW_DOSSIER_URI, csrf, &fields).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{csrf:?}");
        assert!(answer.text.contains("<html lang=\"fr\""));
    }
    for role in ["lecteur", "auditeur", "bailleur"] {
        let page = h.page(role, NEW_DOSSIER_URI).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{role}");
        assert!(page.text.contains("Votre rôle ne permet pas"), "{role}");
        assert!(
            !page.text.contains("name=\"command_id\""),
            "{role} sees the form"
        );
        let list = h.page(role, "/dossiers").await;
        assert!(
            !list.text.contains("/dossiers/nouveau"),
            "{role} sees the link"
        );
        let answer = h.submit(role, NEW_DOSSIER_URI, &fields).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{role}");
        assert!(answer.text.contains("<html lang=\"fr\""));
    }
    assert_eq!(h.head().await, before);
    h.ledger.store().shutdown().await;
}
