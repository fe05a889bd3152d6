//! Subsidy invariants through the whole command path, on SQLite and PostgreSQL: each rule refuses
//! the bad command with a clear error and leaves the log exactly as it was; two concurrent
//! decisions cannot both pass one envelope; an instructeur acts only for its own organisation.

use chrono::NaiveDate;
use engagements_app::auth::{authorize, Principal, Role};
use engagements_app::referential::LoadedContract;
use engagements_app::{CommandLine, CommandMeta, Ledger, MetaDefaults};
use engagements_domain::{Actor, LedgerCommand, Source};
use engagements_store::testing;
use serde_json::json;
use uuid::Uuid;

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent de test", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    }
}

fn command(value: serde_json::Value) -> LedgerCommand {
    CommandLine::parse(&value.to_string())
        .unwrap_or_else(|e| panic!("{value}: {e}"))
        .command
}

async fn run(ledger: &Ledger, value: serde_json::Value) -> Result<(), String> {
    ledger
        .execute(command(value), &CommandMeta::default(), &defaults())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn ok(ledger: &Ledger, value: serde_json::Value) {
    let text = value.to_string();
    run(ledger, value)
        .await
        .unwrap_or_else(|e| panic!("{text} refused: {e}"));
}

async fn head(ledger: &Ledger) -> i64 {
    ledger
        .store()
        .head()
        .await
        .unwrap()
        .map(|h| h.position)
        .unwrap_or(0)
}

/// Runs `value`, expects a refusal mentioning `expected`, and checks nothing was recorded.
async fn refused(ledger: &Ledger, value: serde_json::Value, expected: &str) {
    let before = head(ledger).await;
    let text = value.to_string();
    let error = run(ledger, value)
        .await
        .expect_err(&format!("{text} was accepted"));
    assert!(
        error.contains(expected),
        "{text}: error «{error}» does not mention «{expected}»"
    );
    assert_eq!(head(ledger).await, before, "{text} changed the log");
}

struct Setup {
    ledger: Ledger,
    porteur: Uuid,
}

async fn setup(url: &str) -> Setup {
    let ledger = Ledger::open(url).await.unwrap();
    LoadedContract::embedded()
        .unwrap()
        .publish(&ledger, &defaults())
        .await
        .unwrap();
    let porteur = Uuid::now_v7();
    ok(
        &ledger,
        json!({"command":"register_porteur","porteur_id":porteur,"name":"Association Test (fictive)","kind":"association"}),
    )
    .await;
    ok(
        &ledger,
        json!({"command":"open_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"50000"}),
    )
    .await;
    Setup { ledger, porteur }
}

fn file(dossier: Uuid, porteur: Uuid, etat: &str) -> serde_json::Value {
    json!({
        "command":"file_dossier","dossier_id":dossier,"porteur_id":porteur,"exercice":2025,
        "title":"Action test (fictive)","total_budget":"90000",
        "quartiers":[{"quartier":"QN06209","share_pct":"70"},{"quartier":"QN06211","share_pct":"30"}],
        "objectifs":[{"objectif":1},{"objectif":12}],
        "requests":[
            {"financeur":"etat","dispositif":"bop147-aap","amount":etat},
            {"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"5000"}
        ]
    })
}

fn grant(dossier: Uuid, financeur: &str, amount: &str) -> serde_json::Value {
    json!({"command":"decide_subsidy","dossier_id":dossier,"financeur":financeur,
        "decision":{"outcome":"granted","amount":amount},"comite":"CF-2025-01","decided_on":"2025-04-15"})
}

fn pay(dossier: Uuid, amount: &str) -> serde_json::Value {
    json!({"command":"record_payment","dossier_id":dossier,"financeur":"etat","kind":"avance",
        "amount":amount,"paid_on":"2025-06-01","mandate_reference":"MDT-1"})
}

#[tokio::test]
async fn each_invariant_refuses_the_bad_command_and_leaves_the_log_unchanged() {
    for db in testing::all().await {
        let Setup { ledger, porteur } = setup(&db.url).await;
        let dossier = Uuid::now_v7();

        // Every reference must exist.
        let mut bad = file(dossier, Uuid::now_v7(), "40000");
        refused(&ledger, bad.clone(), "unknown porteur").await;
        bad = file(dossier, porteur, "40000");
        bad["quartiers"][0]["quartier"] = json!("QN99999");
        refused(&ledger, bad, "unknown quartier 'QN99999'").await;
        bad = file(dossier, porteur, "40000");
        bad["objectifs"][0]["objectif"] = json!(99);
        refused(&ledger, bad, "unknown objectif '99'").await;
        bad = file(dossier, porteur, "40000");
        bad["requests"][0]["financeur"] = json!("etta");
        refused(&ledger, bad, "unknown organisation 'etta'").await;
        bad = file(dossier, porteur, "40000");
        bad["requests"][0]["dispositif"] = json!("bop-148");
        refused(&ledger, bad, "unknown dispositif 'bop-148'").await;
        // A dispositif belongs to its financeur: the CABBALR is not asked under the BOP 147.
        bad = file(dossier, porteur, "40000");
        bad["requests"][1]["dispositif"] = json!("bop147-aap");
        refused(&ledger, bad, "is funded by 'etat', not by 'cabbalr'").await;
        // Pistes d'action cited exist, and are of the dossier's objectifs (1 and 12).
        bad = file(dossier, porteur, "40000");
        bad["pistes"] = json!(["O1-I99"]);
        refused(&ledger, bad, "unknown piste d'action 'O1-I99'").await;
        bad = file(dossier, porteur, "40000");
        bad["pistes"] = json!(["O2-I1"]);
        refused(&ledger, bad, "belongs to objectif 2").await;
        // Amounts are euros ≥ 0 with at most 2 decimals: refused when read.
        for amount in ["-1", "10.001"] {
            let line = file(dossier, porteur, amount).to_string();
            assert!(CommandLine::parse(&line).is_err(), "{line} parsed");
        }
        // 60,000 € asked of the State, above its 50,000 € envelope.
        let mut with_pistes = file(dossier, porteur, "60000");
        with_pistes["pistes"] = json!(["O1-I1", "O12-C1"]);
        ok(&ledger, with_pistes).await;

        // A grant above the amount asked needs a majoration and its reason.
        refused(
            &ledger,
            grant(dossier, "etat", "60000.01"),
            "le montant accordé (60000.01 €) dépasse le montant demandé (60000.00 €)",
        )
        .await;

        // Decisions ≤ envelope unless an over-commitment is authorised.
        refused(
            &ledger,
            grant(dossier, "etat", "50000.01"),
            "above the envelope",
        )
        .await;
        refused(
            &ledger,
            grant(dossier, "cabbalr", "100"),
            "no envelope is open",
        )
        .await;
        ok(&ledger, json!({"command":"authorise_over_commitment","financeur":"etat","dispositif":"bop147-aap",
            "exercice":2025,"amount":"5000","justification":"décision du comité n°2 (test)"})).await;
        ok(&ledger, grant(dossier, "etat", "30000")).await;

        // No payment above 23,000 € without a signed convention.
        refused(
            &ledger,
            pay(dossier, "1000"),
            "a signed convention is required",
        )
        .await;
        ok(
            &ledger,
            json!({"command":"sign_convention","dossier_id":dossier,"financeur":"etat",
            "kind":"convention","number":"CONV-1","signed_on":"2025-05-02"}),
        )
        .await;

        // Payments ≤ granted.
        refused(
            &ledger,
            pay(dossier, "30000.01"),
            "above the 30000.00 € granted",
        )
        .await;
        ok(&ledger, pay(dossier, "20000")).await;

        // Reversement ≤ paid; received ≤ ordered.
        let order = |amount: &str| {
            json!({"command":"order_reversement","dossier_id":dossier,"financeur":"etat",
            "amount":amount,"reason":"trop-perçu","ordered_on":"2025-09-01"})
        };
        refused(&ledger, order("20000.01"), "above the 20000.00 € paid").await;
        ok(&ledger, order("1000")).await;
        refused(
            &ledger,
            json!({"command":"receive_reversement","dossier_id":dossier,"financeur":"etat",
            "amount":"1000.01","received_on":"2025-10-01"}),
            "above the 1000.00 € ordered",
        )
        .await;

        // A reduction cannot go below what is paid; a grant is never edited.
        refused(
            &ledger,
            json!({"command":"change_subsidy","dossier_id":dossier,"financeur":"etat",
            "change":"reduce","amount":"10000.01","reason":"x","decided_on":"2025-09-15"}),
            "already paid",
        )
        .await;
        refused(&ledger, grant(dossier, "etat", "1"), "already decided").await;

        // No decision on a withdrawn dossier.
        let other = Uuid::now_v7();
        ok(&ledger, file(other, porteur, "1000")).await;
        ok(
            &ledger,
            json!({"command":"withdraw_dossier","dossier_id":other,"reason":"abandon"}),
        )
        .await;
        refused(&ledger, grant(other, "etat", "100"), "withdrawn").await;

        let projections = ledger.projections().await.unwrap();
        let line = &projections.subsidy.dossiers[&engagements_domain::DossierId(dossier)].lines
            [&("etat".to_string(), "bop147-aap".to_string())];
        assert_eq!(line.granted.to_string(), "30000.00", "{}", db.backend);
        assert_eq!(line.paid.to_string(), "20000.00");
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn two_concurrent_decisions_cannot_both_pass_one_envelope() {
    for db in testing::all().await {
        let Setup { ledger, porteur } = setup(&db.url).await;
        for round in 0..3 {
            let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
            ok(&ledger, file(a, porteur, "40000")).await;
            ok(&ledger, file(b, porteur, "40000")).await;
            // A second handle on the same store: its own caches, as a second process would have.
            let other = Ledger::from_store(ledger.store().clone()).await.unwrap();
            let amount = if round == 0 { "30000" } else { "1" };
            let (first, second) = tokio::join!(
                run(&ledger, grant(a, "etat", amount)),
                run(&other, grant(b, "etat", amount))
            );
            let projections = ledger.projections().await.unwrap();
            let envelope = &projections.subsidy.envelopes
                [&engagements_domain::envelope::EnvelopeKey::new("etat", "bop147-aap", 2025)];
            assert!(envelope.committed <= envelope.ceiling(), "{}", db.backend);
            let granted = projections.subsidy.granted_total(Some(2025));
            assert_eq!(granted, envelope.committed, "{}", db.backend);
            if round == 0 {
                assert!(
                    first.is_ok() != second.is_ok(),
                    "exactly one of two 30,000 € grants on a 50,000 € envelope passes on {}: {first:?} {second:?}",
                    db.backend
                );
                let error = first.err().or(second.err()).unwrap();
                assert!(error.contains("above the envelope"), "{error}");
            }
        }
        ledger.store().shutdown().await;
    }
}

#[test]
fn an_instructeur_acts_only_for_its_own_organisation() {
    let projections = engagements_projections::Projections::default();
    let instructeur = |organisation: &str| Principal {
        person: "Instructrice (fictive)".into(),
        organisation: organisation.into(),
        role: Role::Instructeur,
    };
    let envelope = command(
        json!({"command":"open_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"1"}),
    );
    assert!(authorize(&instructeur("etat"), &envelope, &projections).is_ok());
    let error = authorize(&instructeur("caf"), &envelope, &projections).unwrap_err();
    assert!(error.to_string().contains("'caf'"), "{error}");
    let payment = command(pay(Uuid::now_v7(), "1"));
    assert!(authorize(&instructeur("etat"), &payment, &projections).is_ok());
    assert!(authorize(&instructeur("cabbalr"), &payment, &projections).is_err());
    let cpo = command(
        json!({"command":"sign_cpo","cpo_id":Uuid::now_v7(),"porteur_id":Uuid::now_v7(),
        "title":"CPO (fictive)","number":"CPO-1","signed_on":"2025-01-01","first_exercice":2025,
        "schedule":[{"exercice":2025,"financeur":"etat","dispositif":"bop147-aap","amount":"1"}]}),
    );
    assert!(authorize(&instructeur("etat"), &cpo, &projections).is_ok());
    assert!(authorize(&instructeur("caf"), &cpo, &projections).is_err());
}

#[test]
fn every_demo_command_matches_the_command_line_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("schemas/command-line.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let referential = LoadedContract::embedded().unwrap().referential;
    let commands = engagements_app::demo::generate(
        &engagements_app::demo::DemoConfig::default(),
        &referential,
    );
    assert!(commands.len() > 1_000);
    for demo in &commands {
        let mut line = serde_json::to_value(&demo.command).unwrap();
        let mut meta = serde_json::to_value(&demo.meta).unwrap();
        meta.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        line["meta"] = meta;
        let errors: Vec<String> = validator
            .iter_errors(&line)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{line}: {errors:?}");
        // And the ledger reads back what the schema accepts.
        CommandLine::parse(&line.to_string()).unwrap();
    }
    let bad = json!({"command":"record_payment","dossier_id":Uuid::now_v7(),"financeur":"etat",
        "kind":"avance","amount":"12.345","paid_on":"2025-06-01","mandate_reference":"M"});
    assert!(!validator.is_valid(&bad));
}

#[tokio::test]
async fn a_fact_takes_effect_on_its_own_date_and_a_payment_never_precedes_its_grant() {
    for db in testing::all().await {
        let Setup { ledger, porteur } = setup(&db.url).await;
        let dossier = Uuid::now_v7();
        ok(&ledger, file(dossier, porteur, "10000")).await;
        // Recorded on 1 June (the defaults' today) without meta: effective on its decision date.
        let mut decision = grant(dossier, "etat", "9000");
        decision["decided_on"] = json!("2025-03-12");
        let receipt = ledger
            .execute(
                command(decision.clone()),
                &CommandMeta::default(),
                &defaults(),
            )
            .await
            .unwrap();
        assert_eq!(
            receipt.events[0].metadata.effective_date,
            NaiveDate::from_ymd_opt(2025, 3, 12).unwrap(),
            "{}",
            db.backend
        );
        // What the ledger said in force on 15 June includes it.
        let as_of = engagements_projections::AsOf {
            effective_on: NaiveDate::from_ymd_opt(2025, 6, 15),
            ..Default::default()
        };
        let then = ledger.projections_as_of(&as_of).await.unwrap();
        assert_eq!(
            then.subsidy.granted_total(Some(2025)).to_string(),
            "9000.00"
        );

        // An explicit effective date that contradicts the command's own date is refused.
        let before = head(&ledger).await;
        let other = Uuid::now_v7();
        ok(&ledger, file(other, porteur, "1000")).await;
        let mut late = grant(other, "etat", "500");
        late["decided_on"] = json!("2025-03-12");
        let contradicting = CommandMeta {
            effective_date: NaiveDate::from_ymd_opt(2025, 9, 1),
            ..CommandMeta::default()
        };
        let error = ledger
            .execute(command(late), &contradicting, &defaults())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("contradicts"), "{error}");
        assert_eq!(
            head(&ledger).await,
            before + 1,
            "only the filing was recorded"
        );

        // A payment dated before the decision that granted it is refused.
        let mut early = pay(dossier, "100");
        early["paid_on"] = json!("2025-03-11");
        refused(&ledger, early, "precedes the decision").await;
        let mut on_time = pay(dossier, "100");
        on_time["paid_on"] = json!("2025-03-12");
        ok(&ledger, on_time).await;
        ledger.store().shutdown().await;
    }
}
