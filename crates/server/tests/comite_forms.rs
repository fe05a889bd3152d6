//! The comité des financeurs' pages, posted as a browser posts them: the secretariat prepares a
//! session from the lines awaiting a decision, then records all its decisions at once — refused
//! whole while a line is above its envelope, recorded whole once corrected — and the session's
//! page becomes its procès-verbal. Roles that may not write see no form and get 403.

mod support;

use axum::http::{header, StatusCode};
use engagements_store::testing;
use serde_json::{json, Value};
use support::{eur, fields, form_part, hidden, Harness};

const PORTEUR: &str = "0190f2a0-0000-7000-8000-0000000000b5";
const D1: &str = "0190f2a0-0000-7000-8000-0000000000d5";
const D2: &str = "0190f2a0-0000-7000-8000-0000000000d6";
const D3: &str = "0190f2a0-0000-7000-8000-0000000000d7";

fn file(id: &str, title: &str, requests: Value) -> Value {
    json!({"command":"file_dossier","dossier_id":id,"porteur_id":PORTEUR,"exercice":2025,
        "title":title,"total_budget":"90000","quartiers":[{"quartier":"QN06209"}],
        "objectifs":[{"objectif":1}],"requests":requests})
}

fn avis(id: &str, financeur: &str, amount: &str) -> Value {
    json!({"command":"give_opinion","dossier_id":id,"financeur":financeur,"opinion":"favourable","proposed_amount":amount})
}

/// Three dossiers of 2025 with their avis: the State is asked 20 000 + 15 000 + 8 000 € and its
/// service proposes 15 000 + 12 000 + 6 000 € on an envelope of 30 000 €.
fn fixture() -> Vec<Value> {
    vec![
        json!({"command":"register_porteur","porteur_id":PORTEUR,"name":"Association Test (fictive)","kind":"association"}),
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

const NEW: &str = "/comite/nouvelle";

/// The preparation form's fields as drawn for 2025 (lines with an avis checked, amounts filled).
async fn prepared_fields(h: &Harness) -> Vec<(String, String)> {
    let page = h.page("admin", &format!("{NEW}?exercice=2025")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let mut out = fields(&[
        ("command_id", &hidden(&page.text, "command_id")),
        ("session_id", &hidden(&page.text, "session_id")),
        ("exercice", "2025"),
        ("reference", "CF-2025-01"),
        ("date", "15/04/2025"),
    ]);
    for (dossier, financeur, dispositif) in [
        (D1, "cabbalr", "fonds-cohesion-sociale"),
        (D1, "etat", "bop147-aap"),
        (D2, "etat", "bop147-aap"),
        (D3, "etat", "bop147-aap"),
    ] {
        let key = format!("{dossier}|{financeur}|{dispositif}");
        assert!(
            page.text.contains(&format!("value=\"{key}\" checked")),
            "{key} not checked"
        );
        let amount = hidden(&page.text, &format!("propose|{key}"));
        out.push(("ligne".into(), key.clone()));
        out.push((format!("propose|{key}"), amount));
    }
    out
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    let pair = fields
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    pair.1 = value.to_string();
}

/// The decision form's fields as drawn.
fn decision_fields(page: &str) -> Vec<(String, String)> {
    let mut out = fields(&[("command_id", &hidden(page, "command_id"))]);
    for index in 0..4 {
        out.push((
            format!("command_id_{index}"),
            hidden(page, &format!("command_id_{index}")),
        ));
        out.push((format!("decision_{index}"), "accorde".into()));
        out.push((
            format!("montant_{index}"),
            hidden(page, &format!("montant_{index}")),
        ));
    }
    out
}

#[tokio::test]
async fn a_session_is_prepared_then_its_decisions_recorded_all_or_nothing() {
    for db in testing::all().await {
        let backend = db.backend;
        let h = Harness::new(db, fixture()).await;

        // The preparation form: every line with an avis, its proposed amount filled in.
        let page = h.page("admin", &format!("{NEW}?exercice=2025")).await;
        assert!(page
            .text
            .contains("Préparer une séance du comité des financeurs"));
        assert!(page.text.contains("Sera enregistré au nom de"));
        assert!(page.text.contains("Ateliers du mercredi (fictif)"));
        let good = prepared_fields(&h).await;

        // Errors under their fields, nothing recorded.
        let before = h.head().await;
        let mut bad = good.clone();
        set(&mut bad, "reference", "");
        set(&mut bad, "date", "31/02/2025");
        let key = format!("propose|{D3}|etat|bop147-aap");
        set(&mut bad, &key, "six mille");
        let answer = h.submit("admin", NEW, &bad).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.text
        );
        assert!(answer
            .text
            .contains("id=\"reference-erreur\">Indiquez la référence"));
        assert!(
            answer.text.contains("id=\"date-erreur\">« 31/02/2025 » n"),
            "{}",
            answer.text
        );
        assert!(answer.text.contains(&format!(
            "id=\"propose-{D3}-etat-bop147-aap-erreur\">« six mille » n"
        )));
        assert!(answer.text.contains("value=\"six mille\""));
        assert_eq!(h.head().await, before);
        let no_line: Vec<(String, String)> =
            good.iter().filter(|(n, _)| n != "ligne").cloned().collect();
        let answer = h.submit("admin", NEW, &no_line).await;
        assert!(answer
            .text
            .contains("id=\"lignes-erreur\">Cochez au moins une ligne"));
        assert_eq!(h.head().await, before);

        // Recorded once, however often it is sent.
        let answer = h.submit_recorded_once("admin", NEW, &good).await;
        let location = answer.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        assert!(location.starts_with("/comite/"), "{backend}: {location}");
        let list = h.page("admin", "/comite").await;
        assert!(list.text.contains("CF-2025-01"), "{}", list.text);
        assert!(list.text.contains("15/04/2025"));

        // The decisions as proposed: the third State line is above what the envelope has left.
        let page = h.page("admin", &location).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("Enregistrer les décisions de la séance"));
        assert!(
            page.text.contains(&eur("30 000,00")),
            "the envelope left before the session"
        );
        let proposed = decision_fields(&page.text);
        let answer = h
            .submit("admin", &format!("{location}/decisions"), &proposed)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.text
        );
        let error = answer
            .text
            .split("id=\"montant_3-erreur\">")
            .nth(1)
            .unwrap_or_else(|| panic!("no error on the fourth line: {}", answer.text));
        assert!(
            error.starts_with("Au-delà de l&#39;enveloppe")
                || error.starts_with("Au-delà de l'enveloppe"),
            "{error}"
        );
        assert!(error.contains(&eur("3 000,00")), "what is left: {error}");
        assert!(!answer.text.contains("montant_2-erreur"));
        assert!(
            answer.text.contains("dépassement de"),
            "the envelopes' summary"
        );
        assert_eq!(h.head().await, before + 1, "nothing recorded");

        // No decision on a line.
        let mut undecided = proposed.clone();
        undecided.retain(|(n, _)| n != "decision_1");
        let answer = h
            .submit("admin", &format!("{location}/decisions"), &undecided)
            .await;
        assert!(answer
            .text
            .contains("id=\"decision_1-erreur\">Choisissez la décision"));
        assert_eq!(h.head().await, before + 1);

        // Corrected: the last line reduced to what is left, the CABBALR's line refused.
        let mut corrected = proposed.clone();
        set(&mut corrected, "montant_3", "3 000");
        set(&mut corrected, "decision_0", "refuse");
        let answer = h
            .submit("admin", &format!("{location}/decisions"), &corrected)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            answer.text
        );
        // Three grants (dossier and envelope each), a refusal, the session held.
        assert_eq!(h.head().await, before + 1 + 3 * 2 + 1 + 1);
        let again = h
            .submit("admin", &format!("{location}/decisions"), &corrected)
            .await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(
            h.head().await,
            before + 9,
            "{backend}: double submit recorded twice"
        );

        // Each decision carries the session: its reference, its date, as its act.
        let history = h.history(&format!("dossier-{D3}")).await;
        let grant = history
            .iter()
            .find(|e| e["event_type"] == "SubsidyGranted")
            .expect("the grant");
        assert_eq!(grant["payload"]["comite"], "CF-2025-01");
        assert_eq!(grant["payload"]["decided_on"], "2025-04-15");
        assert_eq!(grant["payload"]["amount"], "3000.00");
        assert_eq!(grant["metadata"]["act"]["kind"], "comite");
        assert_eq!(grant["metadata"]["act"]["reference"], "CF-2025-01");
        assert_eq!(grant["metadata"]["effective_date"], "2025-04-15");
        assert_eq!(grant["actor_name"], "Équipe CABBALR");

        // The procès-verbal: decisions per financeur, totals, the envelopes after the session.
        let pv = h.page("admin", &location).await;
        assert!(
            pv.text.contains("Procès-verbal du comité des financeurs"),
            "{}",
            pv.text
        );
        assert!(!pv.text.contains("Enregistrer les décisions"));
        assert!(
            pv.text
                .contains("3 accordée(s), 1 refusée(s), 0 ajournée(s)"),
            "{}",
            pv.text
        );
        assert!(
            pv.text.contains("Total Préfecture du Pas-de-Calais"),
            "{}",
            pv.text
        );
        let state_total = format!("<td class=\"num\">{}</td></tr></tfoot>", eur("30 000,00"));
        assert!(
            pv.text.contains(&state_total),
            "the State's total granted: {}",
            pv.text
        );
        assert!(pv.text.contains("Reste après la séance"));
        assert!(
            pv.text
                .contains("décisions enregistrées par Équipe CABBALR"),
            "the PV names who recorded the decisions, not a pseudonymous id: {}",
            pv.text
        );
        assert!(!pv.text.contains("person-"), "{}", pv.text);
        let state_envelope = format!(
            "<td class=\"num\">{0}</td><td class=\"num\">{0}</td><td class=\"num\">{0}</td><td class=\"num\">{1}</td></tr>",
            eur("30 000,00"),
            eur("0,00")
        );
        assert!(
            pv.text.contains(&state_envelope),
            "nothing left on the State's envelope: {}",
            pv.text
        );
        assert!(
            pv.text.contains(&eur("10 000,00")),
            "the CABBALR's envelope untouched"
        );

        // A later decision under the held session's reference is refused.
        let late = json!({"command":"decide_subsidy","dossier_id":D1,"financeur":"cabbalr",
            "decision":{"outcome":"granted","amount":"1000"},"comite":"CF-2025-01","decided_on":"2025-04-15"});
        let line = engagements_app::CommandLine::parse(&late.to_string()).unwrap();
        let defaults = engagements_app::MetaDefaults {
            actor: engagements_domain::Actor::new("Équipe CABBALR", "cabbalr"),
            source: engagements_domain::Source::Cli,
            today: chrono::NaiveDate::from_ymd_opt(2025, 5, 1).unwrap(),
        };
        let refused = h.ledger.execute(line.command, &line.meta, &defaults).await;
        assert!(refused.is_err(), "a decision after the session was held");
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn roles_that_may_not_record_see_no_form_and_get_403() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let good = prepared_fields(&h).await;
    let before = h.head().await;
    for role in ["instructeur", "auditeur", "bailleur", "lecteur"] {
        let page = h.page(role, NEW).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{role}");
        assert!(page.text.contains("Votre rôle ne permet pas"), "{role}");
        let answer = h.submit(role, NEW, &good).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{role}");
        assert_eq!(h.head().await, before, "{role} recorded something");
    }
    // The menu leads to the sessions for the roles that may open them.
    for (role, opens) in [
        ("admin", true),
        ("instructeur", true),
        ("auditeur", true),
        ("bailleur", false),
        ("lecteur", false),
    ] {
        let page = h.page(role, "/comite").await;
        let dashboard = h.page(role, "/tableau-de-bord").await;
        assert_eq!(
            page.status == StatusCode::OK,
            opens,
            "{role}: {}",
            page.status
        );
        assert_eq!(
            dashboard.text.contains("href=\"/comite\""),
            opens,
            "{role}'s menu"
        );
        assert_eq!(
            page.text.contains("href=\"/comite/nouvelle\""),
            role == "admin",
            "{role} sees the link to prepare"
        );
    }

    // The session prepared, the instructeur reads its agenda without a form.
    let answer = h.submit("admin", NEW, &good).await;
    let location = answer.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let admin_page = h.page("admin", &location).await;
    let decisions = decision_fields(&admin_page.text);
    let before = h.head().await;
    for role in ["instructeur", "auditeur"] {
        let page = h.page(role, &location).await;
        assert_eq!(page.status, StatusCode::OK, "{role}");
        assert!(page.text.contains("Ordre du jour"), "{role}");
        assert!(!page.text.contains("/decisions\""), "{role} sees the form");
        assert!(!page.text.contains("name=\"command_id\""), "{role}");
    }
    for role in ["instructeur", "auditeur", "bailleur", "lecteur"] {
        let answer = h
            .submit(role, &format!("{location}/decisions"), &decisions)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{role}: {}",
            answer.text
        );
        assert!(answer.text.contains("<html lang=\"fr\""));
    }
    assert_eq!(h.head().await, before);
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let good = prepared_fields(&h).await;
    let before = h.head().await;
    for csrf in [None, Some("0000"), Some("")] {
        let answer = h.post("admin", NEW, csrf, &good).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{csrf:?}");
        assert!(answer
            .text
            .contains("<h1>Cette page ne peut pas être affichée</h1>"));
    }
    assert_eq!(h.head().await, before);
    let answer = h.submit("admin", NEW, &good).await;
    let location = answer.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let page = h.page("admin", &location).await;
    let decisions = decision_fields(&page.text);
    let part = form_part(&page.text, "decisions");
    assert!(part.contains("name=\"csrf\""), "the form carries its token");
    let before = h.head().await;
    for csrf in [None, Some("0000")] {
        let answer = h
            .post("admin", &format!("{location}/decisions"), csrf, &decisions)
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{csrf:?}");
    }
    assert_eq!(h.head().await, before);
    h.ledger.store().shutdown().await;
}
