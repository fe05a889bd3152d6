//! Droit-commun commitments on both backends: Annex 3 recorded at init (idempotent, pending
//! partners listed), each kind, the scope rule, revisions, progress reports, indicators, and who
//! may record them. Every figure not taken from the contract is fictitious.

use chrono::NaiveDate;
use engagements_app::auth::{authorize, Principal, Role};
use engagements_app::commitments_seed::record_initial_commitments;
use engagements_app::referential::LoadedContract;
use engagements_app::{CommandError, CommandMeta, Ledger, MetaDefaults};
use engagements_domain::commitment::{AmountPeriod, CommitmentStatus};
use engagements_domain::{Actor, Amount, LedgerCommand, Source};
use engagements_store::testing::{self, TestDb};
use serde_json::json;

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent fictif", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    }
}

/// A ledger with the CABBALR referential published.
async fn ledger(db: &TestDb) -> Ledger {
    let ledger = Ledger::open(&db.url).await.unwrap();
    LoadedContract::embedded()
        .unwrap()
        .publish(&ledger, &defaults())
        .await
        .unwrap();
    ledger
}

fn command(value: serde_json::Value) -> LedgerCommand {
    serde_json::from_value(value).unwrap()
}

async fn run(ledger: &Ledger, value: serde_json::Value) -> Result<i64, CommandError> {
    ledger
        .execute(command(value), &CommandMeta::default(), &defaults())
        .await
        .map(|r| r.position_last())
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

fn pledge(
    id: &str,
    signatory: &str,
    kind: serde_json::Value,
    scope: &str,
    scope_ref: Option<&str>,
) -> serde_json::Value {
    json!({
        "command": "pledge_commitment",
        "commitment_id": id,
        "signatory": signatory,
        "terms": {
            "title": format!("Engagement fictif {id}"),
            "text": "Texte fictif, pour les tests.",
            "kind": kind,
            "programme": "Dispositif fictif",
            "period": {"start_year": 2024, "end_year": 2027},
            "scope": scope,
            "scope_ref": scope_ref,
            "enjeux": ["E2"],
            "ambitions": ["A5"],
            "objectifs": [14],
            "quartiers": [],
            "source_lines": [[3756, 3756]]
        }
    })
}

#[tokio::test]
async fn annex_3_is_recorded_once_with_pending_partners() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let report = record_initial_commitments(&ledger, None, &defaults())
            .await
            .unwrap();
        assert_eq!(
            (
                report.pledged,
                report.pending_declared,
                report.pending_partners
            ),
            (293, 5, 5),
            "{}",
            db.backend
        );
        let position = head(&ledger).await;
        let again = record_initial_commitments(&ledger, None, &defaults())
            .await
            .unwrap();
        assert_eq!(
            (again.pledged, again.pending_declared, again.unchanged),
            (0, 0, 293),
            "{}",
            db.backend
        );
        assert_eq!(
            head(&ledger).await,
            position,
            "{}: a second init records nothing",
            db.backend
        );

        let projections = ledger.projections().await.unwrap();
        let view = &projections.commitments;
        assert_eq!(view.commitments.len(), 293);
        for pending in [
            "procureur",
            "flandre-opale-habitat",
            "habitat-hauts-de-france",
            "icf-habitat",
            "soliha",
        ] {
            assert!(view.is_pending(pending), "{pending}");
        }
        assert_eq!(
            view.commitments_table(Some("france-travail"), None)
                .rows
                .len(),
            31
        );
        let soliha = view.commitments_table(Some("soliha"), None);
        assert_eq!(soliha.rows.len(), 1);
        let status = soliha.columns.iter().position(|c| c == "status").unwrap();
        assert_eq!(soliha.rows[0][status].to_text(), "pending");
        // 15 M€ a year for the whole Pas-de-Calais (l.3756) is not a local figure.
        let etat_05 = view.get(&"etat-05".parse().unwrap()).unwrap();
        assert!(!etat_05.terms.scope.is_local());
        let local = view.local_financial_total(Some(AmountPeriod::PerYear));
        assert!(local < Amount::euros(15_000_000), "{local}");
        let row = &view.commitments_table(Some("etat"), None).rows[4];
        assert_eq!(row[1].to_text(), "etat-05");
        let event = ledger
            .store()
            .read_stream("commitment-etat-05", None)
            .await
            .unwrap();
        assert_eq!(
            event[0].metadata.effective_date,
            NaiveDate::from_ymd_opt(2024, 4, 15).unwrap()
        );
        drop(projections);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn each_kind_is_recorded_and_bad_input_changes_nothing() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let kinds = [
            json!({"type": "financial", "amount_eur": "40000.00", "amount_period": "per_year"}),
            json!({"type": "staffing", "staff_count": 3, "staff_unit": "conseillers dédiés"}),
            json!({"type": "programme"}),
            json!({"type": "qualitative"}),
            json!({"type": "governance"}),
            json!({"type": "condition"}),
        ];
        for (n, kind) in kinds.iter().enumerate() {
            run(
                &ledger,
                pledge(&format!("caf-9{n}"), "caf", kind.clone(), "cabbalr", None),
            )
            .await
            .unwrap();
        }
        let before = head(&ledger).await;
        let refusals = [
            (
                pledge(
                    "caf-80",
                    "caf-fictive",
                    json!({"type": "qualitative"}),
                    "cabbalr",
                    None,
                ),
                "caf-fictive",
            ),
            (
                pledge(
                    "caf-81",
                    "caf",
                    json!({"type": "staffing", "staff_count": 2}),
                    "cabbalr",
                    None,
                ),
                "staff_unit",
            ),
            (
                pledge(
                    "caf-82",
                    "caf",
                    json!({"type": "financial", "amount_eur": "10.001"}),
                    "cabbalr",
                    None,
                ),
                "10.001",
            ),
            (
                pledge(
                    "caf-83",
                    "caf",
                    json!({"type": "qualitative"}),
                    "quartier",
                    Some("QN99999"),
                ),
                "QN99999",
            ),
            (
                pledge(
                    "caf-84",
                    "caf",
                    json!({"type": "qualitative"}),
                    "region",
                    Some("Hauts-de-France"),
                ),
                "Hauts-de-France",
            ),
            (
                pledge(
                    "caf-85",
                    "caf",
                    json!({"type": "qualitative"}),
                    "commune",
                    None,
                ),
                "scope_ref",
            ),
            (
                pledge(
                    "caf-90",
                    "caf",
                    json!({"type": "qualitative"}),
                    "cabbalr",
                    None,
                ),
                "already pledged",
            ),
        ];
        for (value, named) in refusals {
            let error = match serde_json::from_value::<LedgerCommand>(value.clone()) {
                Err(error) => error.to_string(),
                Ok(command) => ledger
                    .execute(command, &CommandMeta::default(), &defaults())
                    .await
                    .unwrap_err()
                    .to_string(),
            };
            assert!(
                error.contains(named),
                "{}: « {error} » should name {named}",
                db.backend
            );
        }
        let mut bad_objectif = pledge(
            "caf-86",
            "caf",
            json!({"type": "qualitative"}),
            "cabbalr",
            None,
        );
        bad_objectif["terms"]["objectifs"] = json!([36]);
        let error = run(&ledger, bad_objectif).await.unwrap_err();
        assert!(
            matches!(
                error,
                CommandError::UnknownReference {
                    kind: "objectif",
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(
            head(&ledger).await,
            before,
            "{}: refusals record nothing",
            db.backend
        );
        let projections = ledger.projections().await.unwrap();
        let kinds: Vec<&str> = projections
            .commitments
            .select(Some("caf"), Some(14))
            .map(|c| c.terms.kind.name())
            .collect();
        assert_eq!(
            kinds,
            [
                "financial",
                "staffing",
                "programme",
                "qualitative",
                "governance",
                "condition"
            ]
        );
        drop(projections);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn wider_scopes_stay_out_of_local_totals_and_quartier_views() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let money = |euros: &str| json!({"type": "financial", "amount_eur": euros, "amount_period": "per_year"});
        let mut local = pledge(
            "caf-01",
            "caf",
            money("40000.00"),
            "quartier",
            Some("QN06208"),
        );
        local["terms"]["quartiers"] = json!(["QN06208"]);
        run(&ledger, local).await.unwrap();
        run(
            &ledger,
            pledge(
                "caf-02",
                "caf",
                money("10000.00"),
                "commune",
                Some("Béthune"),
            ),
        )
        .await
        .unwrap();
        let mut departement = pledge(
            "departement-pas-de-calais-90",
            "departement-pas-de-calais",
            money("1000000.00"),
            "departement",
            None,
        );
        departement["terms"]["quartiers"] = json!(["QN06208"]);
        run(&ledger, departement).await.unwrap();
        run(
            &ledger,
            pledge(
                "region-hauts-de-france-90",
                "region-hauts-de-france",
                money("2500000.00"),
                "region",
                None,
            ),
        )
        .await
        .unwrap();
        let projections = ledger.projections().await.unwrap();
        let view = &projections.commitments;
        assert_eq!(
            view.local_financial_total(Some(AmountPeriod::PerYear)),
            Amount::euros(50_000)
        );
        let totals = view.totals_table();
        let local_total = totals
            .rows
            .iter()
            .find(|r| r[0].to_text() == "local total")
            .unwrap();
        assert_eq!(local_total[3].to_text(), "50000.00", "{}", db.backend);
        let quartier = view.quartiers_table(Some("QN06208"));
        let ids: Vec<String> = quartier.rows.iter().map(|r| r[2].to_text()).collect();
        assert_eq!(
            ids,
            ["caf-01"],
            "{}: the departmental figure is not a quartier's",
            db.backend
        );
        drop(projections);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn revisions_and_progress_are_new_facts_and_the_past_stays_readable() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let kind =
            json!({"type": "staffing", "staff_count": 37, "staff_unit": "conseillers dédiés"});
        let pledged_at = run(
            &ledger,
            pledge("france-travail-90", "france-travail", kind, "cabbalr", None),
        )
        .await
        .unwrap();
        let mut revised = pledge(
            "france-travail-90",
            "france-travail",
            json!({"type": "staffing", "staff_count": 40, "staff_unit": "conseillers dédiés"}),
            "cabbalr",
            None,
        );
        revised["command"] = json!("revise_commitment");
        revised.as_object_mut().unwrap().remove("signatory");
        revised["reason"] = json!("Renfort décidé en comité (fictif)");
        run(&ledger, revised.clone()).await.unwrap();
        let error = run(&ledger, revised).await.unwrap_err().to_string();
        assert!(error.contains("same as the current"), "{error}");
        let progress = |value: serde_json::Value, year: i32| {
            json!({
                "command": "report_commitment_progress",
                "commitment_id": "france-travail-90",
                "period": {"from": format!("{year}-01-01"), "to": format!("{year}-12-31")},
                "realised_value": value,
                "comment": "Bilan annuel fictif",
                "evidence_ref": format!("BILAN-{year}-FICTIF")
            })
        };
        run(&ledger, progress(json!("38"), 2025)).await.unwrap();
        run(&ledger, progress(json!("35"), 2024)).await.unwrap();
        let error = run(&ledger, progress(json!("38.5"), 2026))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("38.5"), "{error}");
        let error = run(&ledger, progress(json!("10"), 2031))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("2024-2027"), "{error}");
        run(&ledger, json!({"command": "fulfil_commitment", "commitment_id": "france-travail-90", "evidence_ref": "Bilan final fictif"})).await.unwrap();
        let error = run(&ledger, progress(json!("1"), 2026))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("fulfilled"), "{error}");

        let now = ledger.projections().await.unwrap().clone();
        let row = now
            .commitments
            .get(&"france-travail-90".parse().unwrap())
            .unwrap();
        assert_eq!(row.status, CommitmentStatus::Fulfilled);
        assert_eq!(row.revisions.len(), 1);
        assert_eq!(
            row.latest_progress().unwrap().realised_value,
            Some("38".parse().unwrap())
        );
        let then = ledger.projections_at(pledged_at).await.unwrap();
        let row = then
            .commitments
            .get(&"france-travail-90".parse().unwrap())
            .unwrap();
        assert_eq!(row.terms.kind.name(), "staffing");
        assert!(
            format!("{:?}", row.terms.kind).contains("37"),
            "{}: the pledge as it was",
            db.backend
        );
        assert_eq!(row.status, CommitmentStatus::Active);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn indicators_on_commitments_and_objectifs() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        run(
            &ledger,
            pledge(
                "caf-01",
                "caf",
                json!({"type": "programme"}),
                "cabbalr",
                None,
            ),
        )
        .await
        .unwrap();
        run(
            &ledger,
            json!({
                "command": "define_indicator", "indicator_id": "caf-familles-qpv",
                "subject": {"type": "commitment", "commitment_id": "caf-01"},
                "name": "Familles QPV accompagnées (fictif)", "unit": "familles",
                "baseline": {"on": "2024-01-01", "value": "120"}
            }),
        )
        .await
        .unwrap();
        run(
            &ledger,
            json!({
                "command": "define_indicator", "indicator_id": "emploi-jeunes-qpv",
                "subject": {"type": "objectif", "objectif": 14},
                "name": "Jeunes QPV en emploi (fictif)", "unit": "%"
            }),
        )
        .await
        .unwrap();
        for (value, year) in [("31.5", 2024), ("33.0", 2025)] {
            run(
                &ledger,
                json!({
                    "command": "report_indicator_value", "indicator_id": "emploi-jeunes-qpv",
                    "period": {"from": format!("{year}-01-01"), "to": format!("{year}-12-31")},
                    "value": value
                }),
            )
            .await
            .unwrap();
        }
        let error = run(&ledger, json!({
            "command": "define_indicator", "indicator_id": "x-1",
            "subject": {"type": "commitment", "commitment_id": "caf-99"}, "name": "X", "unit": "u"
        })).await.unwrap_err();
        assert!(error.to_string().contains("caf-99"), "{error}");
        let error = run(
            &ledger,
            json!({
                "command": "define_indicator", "indicator_id": "x-2",
                "subject": {"type": "objectif", "objectif": 99}, "name": "X", "unit": "u"
            }),
        )
        .await
        .unwrap_err();
        assert!(error.to_string().contains("99"), "{error}");
        let projections = ledger.projections().await.unwrap();
        let table = projections.commitments.indicators_table(None, Some(14));
        assert_eq!(
            table.rows.len(),
            2,
            "{}: one on objectif 14, one on a commitment linked to it",
            db.backend
        );
        let row = projections
            .commitments
            .indicators
            .get(&"emploi-jeunes-qpv".parse().unwrap())
            .unwrap();
        assert_eq!(row.latest().unwrap().value, "33".parse().unwrap());
        drop(projections);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_signatory_records_only_its_own_commitments() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        run(
            &ledger,
            pledge(
                "etat-90",
                "etat",
                json!({"type": "qualitative"}),
                "departement",
                None,
            ),
        )
        .await
        .unwrap();
        let projections = ledger.projections().await.unwrap();
        let caf = Principal {
            person: "Instructeur fictif".into(),
            organisation: "caf".into(),
            role: Role::Instructeur,
        };
        let own = command(pledge(
            "caf-90",
            "caf",
            json!({"type": "qualitative"}),
            "cabbalr",
            None,
        ));
        assert!(authorize(&caf, &own, &projections).is_ok());
        let other = command(pledge(
            "etat-91",
            "etat",
            json!({"type": "qualitative"}),
            "cabbalr",
            None,
        ));
        assert!(matches!(
            authorize(&caf, &other, &projections),
            Err(CommandError::Forbidden(_))
        ));
        let progress = command(json!({
            "command": "report_commitment_progress", "commitment_id": "etat-90",
            "period": {"from": "2025-01-01", "to": "2025-12-31"}, "comment": "fictif"
        }));
        let error = authorize(&caf, &progress, &projections)
            .unwrap_err()
            .to_string();
        assert!(error.contains("etat"), "{error}");
        let etat = Principal {
            organisation: "etat".into(),
            ..caf.clone()
        };
        assert!(authorize(&etat, &progress, &projections).is_ok());
        let auditeur = Principal {
            role: Role::Auditeur,
            ..etat
        };
        assert!(authorize(&auditeur, &progress, &projections).is_err());
        drop(projections);
        ledger.store().shutdown().await;
    }
}
