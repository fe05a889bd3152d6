//! The forms of a grant's life on the dossier's page — convention, payment, CRF, change of the
//! grant, reversement ordered and received, CPO signed and a CPO year confirmed, withdrawal — and
//! the amendment of a dossier, posted as a browser posts them. For every form: recorded once in
//! the caller's name, no form and 403 for a role that may not write, 403 without the CSRF token,
//! the domain's refusals in French under their field.

mod support;

use axum::http::{header, StatusCode};
use engagements_store::testing;
use serde_json::{json, Value};
use support::{eur, fields, form_part, hidden, Harness};

const PORTEUR: &str = "0190f2a0-0000-7000-8000-0000000000b6";
/// Granted: the State 30 000 € (above the 23 000 € rule), the CABBALR 5 000 €.
const D1: &str = "0190f2a0-0000-7000-8000-0000000000e1";
/// Asked of the State, not decided.
const D2: &str = "0190f2a0-0000-7000-8000-0000000000e2";
/// Granted 8 000 € by the State; a CPO of the porteur plans its year.
const D3: &str = "0190f2a0-0000-7000-8000-0000000000e3";
const CPO: &str = "0190f2a0-0000-7000-8000-0000000000c6";

fn file(id: &str, requests: Value) -> Value {
    json!({"command":"file_dossier","dossier_id":id,"porteur_id":PORTEUR,"exercice":2025,
        "title":format!("Action {} (fictive)", &id[id.len() - 2..]),"total_budget":"90000",
        "quartiers":[{"quartier":"QN06209"}],"objectifs":[{"objectif":1}],"requests":requests})
}

fn grant(id: &str, financeur: &str, amount: &str) -> Value {
    json!({"command":"decide_subsidy","dossier_id":id,"financeur":financeur,
        "decision":{"outcome":"granted","amount":amount},"comite":"CF-2025-01","decided_on":"2025-04-15"})
}

fn fixture() -> Vec<Value> {
    vec![
        json!({"command":"register_porteur","porteur_id":PORTEUR,"name":"Association Suivi (fictive)","kind":"association"}),
        json!({"command":"open_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"100000"}),
        json!({"command":"open_envelope","financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","exercice":2025,"amount":"50000"}),
        file(
            D1,
            json!([
            {"financeur":"etat","dispositif":"bop147-aap","amount":"30000"},
            {"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"5000"}]),
        ),
        file(
            D2,
            json!([{"financeur":"etat","dispositif":"bop147-aap","amount":"4000"}]),
        ),
        file(
            D3,
            json!([{"financeur":"etat","dispositif":"bop147-aap","amount":"8000"}]),
        ),
        grant(D1, "etat", "30000"),
        grant(D1, "cabbalr", "5000"),
        grant(D3, "etat", "8000"),
        json!({"command":"sign_cpo","cpo_id":CPO,"porteur_id":PORTEUR,"title":"CPO médiation (fictive)",
            "number":"CPO-2024-07","signed_on":"2024-02-01","first_exercice":2024,"schedule":[
            {"exercice":2024,"financeur":"etat","dispositif":"bop147-aap","amount":"8000"},
            {"exercice":2025,"financeur":"etat","dispositif":"bop147-aap","amount":"8000"},
            {"exercice":2026,"financeur":"etat","dispositif":"bop147-aap","amount":"8000"}]}),
    ]
}

fn suivi(dossier: &str, form: &str) -> String {
    format!("/dossiers/{dossier}/suivi/{form}")
}

/// The hidden fields of form `form_id` on the dossier's page as `role` sees it, plus `values`.
async fn form_fields(
    h: &Harness,
    role: &str,
    dossier: &str,
    form_id: &str,
    values: &[(&str, &str)],
) -> Vec<(String, String)> {
    let page = h.page(role, &format!("/dossiers/{dossier}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let part = form_part(&page.text, form_id);
    let mut out = Vec::new();
    for name in [
        "command_id",
        "financeur",
        "dispositif",
        "cpo",
        "cpo_id",
        "confirm_command_id",
    ] {
        if part.contains(&format!("name=\"{name}\" value=\"")) {
            out.push((name.to_string(), hidden(part, name)));
        }
    }
    out.extend(fields(values));
    out
}

/// One form: the dossier, its form id in the page, its address, and good values.
struct Case {
    dossier: &'static str,
    form_id: &'static str,
    slug: &'static str,
    values: Vec<(&'static str, &'static str)>,
    /// Events recorded (a grant change also moves its envelope; a CPO is signed and confirmed).
    events: i64,
}

/// Every form, in an order in which each is accepted.
fn cases() -> Vec<Case> {
    let case = |dossier, form_id, slug, values, events| Case {
        dossier,
        form_id,
        slug,
        values,
        events,
    };
    vec![
        case(
            D1,
            "convention-etat",
            "convention",
            vec![
                ("nature", "convention"),
                ("numero", "CONV-2025-014"),
                ("signe_le", "20/04/2025"),
            ],
            1,
        ),
        case(
            D1,
            "paiement-etat-bop147-aap",
            "paiement",
            vec![
                ("nature", "avance"),
                ("montant", "15 000"),
                ("paye_le", "25/04/2025"),
                ("mandat", "M-2025-0042"),
            ],
            1,
        ),
        case(
            D1,
            "modification-cabbalr-fonds-cohesion-sociale",
            "modification",
            vec![
                ("nature", "reduce"),
                ("montant", "1 000,00"),
                ("decide_le", "02/05/2025"),
                ("motif", "Action réduite (fictif)"),
            ],
            2,
        ),
        case(
            D1,
            "reversement-etat-bop147-aap",
            "reversement",
            vec![
                ("montant", "500"),
                ("demande_le", "01/09/2025"),
                ("motif", "Sorties annulées (fictif)"),
            ],
            1,
        ),
        case(
            D1,
            "reversement-recu-etat-bop147-aap",
            "reversement-recu",
            vec![("montant", "500"), ("recu_le", "01/10/2025")],
            1,
        ),
        case(
            D1,
            "crf",
            "crf",
            vec![
                ("recu_le", "01/03/2026"),
                ("budget_realise", "88 000"),
                ("depenses", "87 500,50"),
                ("part_utilisee", "14 500"),
                ("commentaire", "Bilan conforme (fictif)"),
            ],
            1,
        ),
        case(
            D1,
            "cpo-cabbalr-fonds-cohesion-sociale",
            "cpo",
            vec![
                ("intitule", "CPO ateliers (fictive)"),
                ("numero", "CPO-2025-03"),
                ("signe_le", "03/05/2025"),
                ("annee_1", "4 000"),
                ("annee_2", "4 000"),
                ("annee_3", ""),
            ],
            2,
        ),
        case(D3, "cpo-annee", "cpo-annee", vec![], 1),
        case(
            D2,
            "retrait",
            "retrait",
            vec![("motif", "Le porteur renonce (fictif)")],
            1,
        ),
    ]
}

/// The form id of a case as drawn (the CPO year form carries the CPO's id).
fn form_id(case: &Case) -> String {
    if case.slug == "cpo-annee" {
        format!("cpo-annee-{CPO}")
    } else {
        case.form_id.to_string()
    }
}

#[tokio::test]
async fn every_form_records_once_in_the_callers_name() {
    for db in testing::all().await {
        let backend = db.backend;
        let h = Harness::new(db, fixture()).await;
        for case in cases() {
            let id = form_id(&case);
            let page = h
                .page("admin", &format!("/dossiers/{}", case.dossier))
                .await;
            assert!(page.text.contains("Suivi du dossier"), "{}", case.slug);
            assert!(
                page.text
                    .contains(&format!("action=\"{}\"", suivi(case.dossier, case.slug))),
                "{}: no form",
                case.slug
            );
            let part = form_part(&page.text, &id);
            assert!(part.contains("name=\"csrf\""), "{}", case.slug);
            let fields = form_fields(&h, "admin", case.dossier, &id, &case.values).await;
            let before = h.head().await;
            let answer = h
                .submit("admin", &suivi(case.dossier, case.slug), &fields)
                .await;
            assert_eq!(
                answer.status,
                StatusCode::SEE_OTHER,
                "{backend} {}: {}",
                case.slug,
                answer.text
            );
            assert_eq!(
                answer.headers[header::LOCATION],
                format!("/dossiers/{}", case.dossier).as_str()
            );
            assert_eq!(h.head().await, before + case.events, "{}", case.slug);
            let again = h
                .submit("admin", &suivi(case.dossier, case.slug), &fields)
                .await;
            assert!(
                again.status == StatusCode::SEE_OTHER,
                "{} again: {}",
                case.slug,
                again.text
            );
            assert_eq!(
                h.head().await,
                before + case.events,
                "{backend} {}: double submit recorded twice",
                case.slug
            );
        }

        // What the pages and the log say now.
        let page = h.page("admin", &format!("/dossiers/{D1}")).await;
        let text = &page.text;
        assert!(
            text.contains("convention n° CONV-2025-014 signée le 20/04/2025"),
            "{text}"
        );
        assert!(text.contains("Compte rendu financier reçu le 01/03/2026"));
        assert!(text.contains(&format!(
            "Budget réalisé : <strong>{}</strong>",
            eur("88 000,00")
        )));
        assert!(text.contains(&format!(
            "Part de la subvention utilisée : <strong>{}</strong>",
            eur("14 500,00")
        )));
        // Paid 15 000, 500 back: 14 500 held, all used. Left to pay: 15 500 (State) + 4 000 (CABBALR).
        assert!(
            text.contains(&format!(
                "Reste à payer sur ce dossier : <strong>{}</strong>",
                eur("19 500,00")
            )),
            "{text}"
        );
        let history = h.history(&format!("dossier-{D1}")).await;
        let payment = history
            .iter()
            .find(|e| e["event_type"] == "PaymentRecorded")
            .unwrap();
        assert_eq!(payment["payload"]["kind"], "avance");
        assert_eq!(payment["payload"]["amount"], "15000.00");
        assert_eq!(payment["payload"]["mandate_reference"], "M-2025-0042");
        assert_eq!(payment["metadata"]["act"]["kind"], "mandat");
        assert_eq!(payment["metadata"]["effective_date"], "2025-04-25");
        assert_eq!(payment["actor_name"], "Équipe CABBALR");
        let crf = history
            .iter()
            .find(|e| e["event_type"] == "CrfReceived")
            .unwrap();
        assert_eq!(crf["payload"]["expenses"], "87500.50");
        assert_eq!(crf["payload"]["grant_used"], "14500.00");
        assert_eq!(crf["payload"]["comment"], "Bilan conforme (fictif)");
        let cpo = h.history(&format!("cpo-{CPO}")).await;
        assert!(cpo
            .iter()
            .any(|e| e["event_type"] == "CpoYearConfirmed" && e["payload"]["dossier_id"] == D3));
        let withdrawn = h.history(&format!("dossier-{D2}")).await;
        assert_eq!(withdrawn.last().unwrap()["event_type"], "DossierWithdrawn");
        let page = h.page("admin", &format!("/dossiers/{D2}")).await;
        assert!(page.text.contains("Ce dossier est retiré"));
        assert!(
            !page.text.contains("Suivi du dossier"),
            "no form on a withdrawn dossier"
        );
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn roles_that_may_not_write_see_no_form_and_get_403_and_the_csrf_token_is_required() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let before = h.head().await;
    for case in cases() {
        // Forms whose line has nothing to act on yet are not drawn: their fields are typed in.
        let page = h
            .page("admin", &format!("/dossiers/{}", case.dossier))
            .await;
        let fields = if page.text.contains(&format!("id=\"{}\"", form_id(&case))) {
            form_fields(&h, "admin", case.dossier, &form_id(&case), &case.values).await
        } else {
            let mut typed = fields(&[("command_id", &uuid::Uuid::now_v7().to_string())]);
            typed.extend(fields(&case.values));
            typed
        };
        for role in ["lecteur", "auditeur", "bailleur"] {
            let page = h.page(role, &format!("/dossiers/{}", case.dossier)).await;
            assert_eq!(page.status, StatusCode::OK, "{role}");
            assert!(!page.text.contains("/suivi/"), "{role} sees a form");
            assert!(!page.text.contains("name=\"command_id\""), "{role}");
            let answer = h
                .submit(role, &suivi(case.dossier, case.slug), &fields)
                .await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{role} {}: {}",
                case.slug,
                answer.text
            );
            assert!(answer.text.contains("Votre rôle ne permet pas"), "{role}");
        }
        for csrf in [None, Some("0000")] {
            let answer = h
                .post("admin", &suivi(case.dossier, case.slug), csrf, &fields)
                .await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{} {csrf:?}",
                case.slug
            );
            assert!(answer.text.contains("<html lang=\"fr\""));
        }
    }
    assert_eq!(h.head().await, before, "something was recorded");

    // The State's instructeur sees the State's lines only, and is refused the CABBALR's.
    let page = h.page("instructeur", &format!("/dossiers/{D1}")).await;
    assert!(page.text.contains("id=\"paiement-etat-bop147-aap\""));
    assert!(!page
        .text
        .contains("id=\"paiement-cabbalr-fonds-cohesion-sociale\""));
    let fields = form_fields(
        &h,
        "admin",
        D1,
        "paiement-cabbalr-fonds-cohesion-sociale",
        &[
            ("nature", "avance"),
            ("montant", "1 000"),
            ("paye_le", "25/04/2025"),
            ("mandat", "M-1"),
        ],
    )
    .await;
    let answer = h
        .submit("instructeur", &suivi(D1, "paiement"), &fields)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    assert!(answer.text.contains("id=\"paiement-cabbalr-fonds-cohesion-sociale-ligne-erreur\">Votre organisation ne peut pas agir pour ce financeur"), "{}", answer.text);
    assert!(answer.text.contains("value=\"M-1\""), "values kept");
    assert_eq!(h.head().await, before);
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn the_rules_refuse_in_french_under_the_field() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let before = h.head().await;
    let post =
        |form_id: &'static str, slug: &'static str, values: Vec<(&'static str, &'static str)>| {
            let h = &h;
            async move {
                let fields = form_fields(h, "instructeur", D1, form_id, &values).await;
                h.submit("instructeur", &suivi(D1, slug), &fields).await
            }
        };
    // The 23 000 € rule: shown on the form, and a payment refused without a convention.
    let page = h.page("instructeur", &format!("/dossiers/{D1}")).await;
    let convention = form_part(&page.text, "convention-etat");
    assert!(
        convention.contains(
            "Au-delà de 23 000 € par an, une convention est obligatoire avant tout paiement"
        ),
        "{convention}"
    );
    assert!(page.text.contains("Convention requise avant tout paiement"));
    assert!(
        page.text
            .contains("au plus tard le <strong>30/06/2026</strong>")
            || page
                .text
                .contains("en retard : attendu au plus tard le 30/06/2026")
    );
    let payment = vec![
        ("nature", "avance"),
        ("montant", "10 000"),
        ("paye_le", "25/04/2025"),
        ("mandat", "M-7"),
    ];
    let answer = post("paiement-etat-bop147-aap", "paiement", payment.clone()).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains(
            "id=\"paiement-etat-bop147-aap-ligne-erreur\">Une convention signée est requise"
        ),
        "{}",
        answer.text
    );
    // Bad values: each under its field, values kept.
    let answer = post(
        "paiement-etat-bop147-aap",
        "paiement",
        vec![("montant", "dix"), ("paye_le", "hier"), ("mandat", "")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["nature", "montant", "paye_le", "mandat"] {
        assert!(
            answer
                .text
                .contains(&format!("id=\"paiement-etat-bop147-aap-{field}-erreur\"")),
            "{field}: {}",
            answer.text
        );
    }
    assert!(answer.text.contains("value=\"dix\""));
    assert!(
        answer
            .text
            .contains("<details id=\"paiement-etat-bop147-aap\" open"),
        "the refused form is open"
    );
    // The convention signed, a payment above the grant.
    let signed = post(
        "convention-etat",
        "convention",
        vec![
            ("nature", "convention"),
            ("numero", "C-1"),
            ("signe_le", "20/04/2025"),
        ],
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
    let answer = post(
        "paiement-etat-bop147-aap",
        "paiement",
        vec![
            ("nature", "acompte"),
            ("montant", "30 000,01"),
            ("paye_le", "25/04/2025"),
            ("mandat", "M-8"),
        ],
    )
    .await;
    assert!(
        answer.text.contains(
            "id=\"paiement-etat-bop147-aap-montant-erreur\">Ce paiement dépasse le reste à payer"
        ),
        "{}",
        answer.text
    );
    // A payment before the decision.
    let answer = post(
        "paiement-etat-bop147-aap",
        "paiement",
        vec![
            ("nature", "avance"),
            ("montant", "100"),
            ("paye_le", "01/04/2025"),
            ("mandat", "M-9"),
        ],
    )
    .await;
    assert!(
        answer.text.contains(
            "id=\"paiement-etat-bop147-aap-paye_le-erreur\">Un paiement ne peut pas précéder"
        ),
        "{}",
        answer.text
    );
    // A CRF using more than was granted.
    let answer = post(
        "crf",
        "crf",
        vec![("recu_le", "01/03/2026"), ("part_utilisee", "40 000")],
    )
    .await;
    assert!(
        answer
            .text
            .contains("id=\"crf-part_utilisee-erreur\">La part utilisée dépasse"),
        "{}",
        answer.text
    );
    // A reduction below what is paid.
    assert_eq!(
        post("paiement-etat-bop147-aap", "paiement", payment)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let answer = post(
        "modification-etat-bop147-aap",
        "modification",
        vec![
            ("nature", "reduce"),
            ("montant", "25 000"),
            ("decide_le", "02/05/2025"),
            ("motif", "r"),
        ],
    )
    .await;
    assert!(
        answer.text.contains(
            "id=\"modification-etat-bop147-aap-montant-erreur\">Cette réduction laisserait"
        ),
        "{}",
        answer.text
    );
    assert_eq!(
        h.head().await,
        before + 2,
        "only the convention and the payment"
    );
    h.ledger.store().shutdown().await;
}

const AMEND_D2: &str = "/dossiers/0190f2a0-0000-7000-8000-0000000000e2/modifier";

#[tokio::test]
async fn a_dossier_is_amended_with_the_filing_forms_errors() {
    let h = Harness::new(testing::sqlite(), fixture()).await;
    let page = h.page("instructeur", AMEND_D2).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Modifier le dossier"));
    assert!(page.text.contains("<strong>Agent DDETS</strong>"));
    assert!(page.text.contains("value=\"Action e2 (fictive)\""));
    assert!(page.text.contains("value=\"etat/bop147-aap\" selected"));
    assert!(page
        .text
        .contains(&format!("value=\"{}\"", "4\u{202f}000,00")));
    assert!(page.text.contains("value=\"QN06209\" checked"));
    let mut filled: Vec<(String, String)> = Vec::new();
    for name in ["command_id", "intitule", "budget", "montant_0"] {
        filled.push((name.into(), hidden(&page.text, name)));
    }
    filled.extend(fields(&[
        ("ligne_0", "etat/bop147-aap"),
        ("description", ""),
        ("quartier", "QN06209"),
        ("objectif", "1"),
    ]));
    let before = h.head().await;

    // The filing form's errors, under the same fields.
    let mut bad = filled.clone();
    bad.iter_mut().find(|(n, _)| n == "montant_0").unwrap().1 = "quatre mille".into();
    let answer = h.submit("instructeur", AMEND_D2, &bad).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(
        answer
            .text
            .contains("id=\"montant_0-erreur\">« quatre mille » n"),
        "{}",
        answer.text
    );
    assert!(answer
        .text
        .contains("id=\"motif-erreur\">Indiquez le motif"));
    // Nothing changed.
    let mut same = filled.clone();
    same.push(("motif".into(), "Relecture".into()));
    let answer = h.submit("instructeur", AMEND_D2, &same).await;
    assert!(
        answer
            .text
            .contains("id=\"intitule-erreur\">Rien n&#39;a changé")
            || answer
                .text
                .contains("id=\"intitule-erreur\">Rien n'a changé"),
        "{}",
        answer.text
    );
    // Another financeur's line added: refused to the State's instructeur.
    let mut other = same.clone();
    other.extend(fields(&[
        ("ligne_1", "cabbalr/fonds-cohesion-sociale"),
        ("montant_1", "1 000"),
    ]));
    let answer = h.submit("instructeur", AMEND_D2, &other).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    assert!(answer
        .text
        .contains("id=\"plan-erreur\">Votre organisation ne peut changer que sa propre ligne"));
    assert_eq!(h.head().await, before);

    // A new title and amount: recorded once.
    let mut good = same.clone();
    good.iter_mut().find(|(n, _)| n == "intitule").unwrap().1 =
        "Action e2 élargie (fictive)".into();
    good.iter_mut().find(|(n, _)| n == "montant_0").unwrap().1 = "4 500".into();
    let answer = h.submit("instructeur", AMEND_D2, &good).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(h.head().await, before + 1);
    assert_eq!(
        h.submit("instructeur", AMEND_D2, &good).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(h.head().await, before + 1, "double submit recorded twice");
    let history = h.history(&format!("dossier-{D2}")).await;
    let amended = history.last().unwrap();
    assert_eq!(amended["event_type"], "DossierAmended");
    assert_eq!(amended["payload"]["title"], "Action e2 élargie (fictive)");
    assert_eq!(amended["payload"]["requests"][0]["amount"], "4500.00");
    assert_eq!(amended["payload"]["reason"], "Relecture");
    assert_eq!(amended["actor_name"], "Agent DDETS");

    // Roles that may not: no link, 403 on the page and on a post; no CSRF token: 403.
    for role in ["lecteur", "auditeur", "bailleur"] {
        assert_eq!(
            h.page(role, AMEND_D2).await.status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
        let dossier = h.page(role, &format!("/dossiers/{D2}")).await;
        assert!(!dossier.text.contains("/modifier"), "{role} sees the link");
        assert_eq!(
            h.submit(role, AMEND_D2, &good).await.status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
    }
    for csrf in [None, Some("0000")] {
        assert_eq!(
            h.post("instructeur", AMEND_D2, csrf, &good).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(h.head().await, before + 1);
    h.ledger.store().shutdown().await;
}
