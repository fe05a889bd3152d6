//! TFPB through the application layer on both backends: references checked against the
//! referential, bailleur isolation (writes and reads), the CSV import (a good file, and a file with
//! several kinds of error that changes nothing), and the bilan's review. Every figure is fictitious.

mod support;

use chrono::NaiveDate;
use engagements_app::auth::{authorize, tfpb_read_filter, Principal, Role};
use engagements_app::{CommandError, CommandMeta, Ledger, MetaDefaults};
use engagements_domain::tfpb::programme::BilanStatus;
use engagements_domain::tfpb::TfpbProgrammeKey;
use engagements_domain::{Actor, Amount, LedgerCommand, Source};
use engagements_interop::import::tfpb::{import_tfpb, TfpbImportError};
use engagements_projections::tfpb::TfpbFilter;
use engagements_store::testing::{self, TestDb};
use serde_json::json;
use support::head;

const GOOD_FILE: &str = include_str!("../../../docs/examples/tfpb.csv");

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()
}

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent fictif", "cabbalr"),
        source: Source::Cli,
        today: today(),
    }
}

async fn ledger(db: &TestDb) -> Ledger {
    support::ledger_with_contract(db, &defaults()).await
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

fn principal(organisation: &str, role: Role) -> Principal {
    Principal {
        person: "Personne fictive".into(),
        organisation: organisation.into(),
        role,
    }
}

fn sign(bailleur: &str, quartiers: &[&str], signatories: &[&str]) -> serde_json::Value {
    json!({
        "command": "sign_tfpb_convention",
        "convention_id": uuid::Uuid::now_v7(),
        "bailleur": bailleur,
        "quartiers": quartiers,
        "year_first": 2025,
        "year_last": 2030,
        "signatories": signatories,
        "signed_on": "2025-02-10",
        "reference": "Convention TFPB (fictive)"
    })
}

fn programme(bailleur: &str, quartier: &str) -> serde_json::Value {
    json!({"bailleur": bailleur, "quartier": quartier, "year": 2025})
}

#[tokio::test]
async fn conventions_name_a_bailleur_qpv_and_the_state_epci_and_commune() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let signatories = ["etat", "cabbalr", "commune-bruay-la-buissiere"];
        let before = head(&ledger).await;
        let cases = [
            (sign("caf", &["QN06211"], &signatories), "not a bailleur"),
            (
                sign("maisons-et-cites", &["QN06299"], &signatories),
                "unknown quartier 'QN06299'",
            ),
            (
                sign("maisons-et-cites", &["QIC-catorive"], &signatories),
                "applies only in QPV",
            ),
            (
                sign("maisons-et-cites", &["QN06211"], &["etat", "cabbalr"]),
                "a commune is missing",
            ),
        ];
        for (value, expected) in cases {
            let error = run(&ledger, value).await.unwrap_err().to_string();
            assert!(error.contains(expected), "{}: {error}", db.backend);
        }
        assert_eq!(head(&ledger).await, before, "refusals record nothing");
        run(
            &ledger,
            sign("maisons-et-cites", &["QN06211"], &signatories),
        )
        .await
        .unwrap();
        let view = &ledger.projections().await.unwrap().tfpb;
        assert!(view.is_covered("maisons-et-cites", "QN06211", 2027));
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_bailleur_records_and_reads_only_its_own_tfpb_facts() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let signatories = ["etat", "cabbalr", "commune-bethune"];
        let sigh_convention = sign("sigh", &["QN06208"], &signatories);
        let sigh_convention_id = sigh_convention["convention_id"].clone();
        run(&ledger, sigh_convention).await.unwrap();
        let projections = ledger.projections().await.unwrap().clone();
        let sia = principal("sia-habitat", Role::Bailleur);
        let declare = |bailleur: &str| {
            command(json!({
                "command": "declare_tfpb_abatement",
                "programme": programme(bailleur, "QN06208"),
                "dwellings": 300,
                "abatement_eur": "30000.00"
            }))
        };
        assert!(authorize(&sia, &declare("sia-habitat"), &projections).is_ok());
        for refused in [
            declare("sigh"),
            command(sign("sigh", &["QN06208"], &signatories)),
            command(json!({
                "command": "terminate_tfpb_convention",
                "convention_id": sigh_convention_id,
                "terminated_on": "2026-01-01",
                "reason": "x"
            })),
            command(json!({
                "command": "accept_tfpb_bilan",
                "programme": programme("sia-habitat", "QN06208"),
                "reviewer": "etat",
                "reviewer_kind": "state",
                "reviewed_on": "2026-06-01"
            })),
        ] {
            let error = authorize(&sia, &refused, &projections).unwrap_err();
            assert_eq!(error.code(), "forbidden", "{}: {error}", refused.name());
        }
        // An instructeur reviews only in its own organisation's name.
        let accept_as = |reviewer: &str, kind: &str| {
            command(json!({
                "command": "accept_tfpb_bilan",
                "programme": programme("sigh", "QN06208"),
                "reviewer": reviewer,
                "reviewer_kind": kind,
                "reviewed_on": "2026-06-01"
            }))
        };
        let etat = principal("etat", Role::Instructeur);
        assert!(authorize(&etat, &accept_as("etat", "state"), &projections).is_ok());
        assert!(authorize(&etat, &accept_as("cabbalr", "epci"), &projections).is_err());
        assert!(authorize(&etat, &declare("sigh"), &projections).is_err());

        // Reads: a bailleur's filter is forced to itself; asking for another is refused.
        let own = tfpb_read_filter(&sia, TfpbFilter::default()).unwrap();
        assert_eq!(own.bailleur.as_deref(), Some("sia-habitat"));
        let other = tfpb_read_filter(&sia, TfpbFilter::bailleur("sigh")).unwrap_err();
        assert_eq!(other.code(), "forbidden");
        let auditor = principal("anct", Role::Auditeur);
        assert_eq!(
            tfpb_read_filter(&auditor, TfpbFilter::default()).unwrap(),
            TfpbFilter::default()
        );

        // A bailleur importing another bailleur's file is refused and nothing is recorded.
        let before = head(&ledger).await;
        let error = import_tfpb(&ledger, GOOD_FILE, "maisons-et-cites", &sia, &defaults())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("forbidden"), "{error}");
        assert_eq!(head(&ledger).await, before);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_good_csv_file_is_imported_whole() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let bailleur = principal("maisons-et-cites", Role::Bailleur);
        let report = import_tfpb(
            &ledger,
            GOOD_FILE,
            "maisons-et-cites",
            &bailleur,
            &defaults(),
        )
        .await
        .unwrap();
        assert_eq!(report.rows, 6);
        assert_eq!(report.actions, 6);
        assert_eq!(
            report.spendings, 5,
            "the row with no realised amount records no spending"
        );
        assert_eq!(report.abatements, 2);
        let projections = ledger.projections().await.unwrap();
        let key = TfpbProgrammeKey::new("maisons-et-cites", "QN06211", 2025);
        let state = projections.tfpb.programme(&key).unwrap();
        assert_eq!(state.abatement.unwrap().amount, Amount::euros(118_000));
        assert_eq!(state.live_actions().count(), 4);
        let realised: Amount = state.live_actions().map(|a| a.realised()).sum();
        assert_eq!(realised.to_string(), "93360.40");
        let fete = state
            .live_actions()
            .find(|a| a.spec.axis == "axe-7")
            .expect("axis given by its number");
        assert_eq!(fete.spec.partners.len(), 2);
        // Imported again: every row is now a duplicate, and nothing is recorded.
        let before = projections.position;
        drop(projections);
        let error = import_tfpb(
            &ledger,
            GOOD_FILE,
            "maisons-et-cites",
            &bailleur,
            &defaults(),
        )
        .await
        .unwrap_err();
        let TfpbImportError::Rows(problems) = error else {
            panic!("expected row problems, got {error}");
        };
        assert_eq!(problems.len(), 6);
        assert!(problems
            .iter()
            .all(|p| p.message.contains("already recorded")));
        assert_eq!(head(&ledger).await, before);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_csv_file_with_errors_reports_every_one_and_changes_nothing() {
    let bad = "\
qpv,year,axis,label,planned,realised,dwellings,abatement
QN06211,2025,axe-1,Gardiennage (fictif),1000.00,900.00,100,5000.00
QN06299,2025,axe-1,QPV inconnu (fictif),1000.00,,,
QN06211,2025,axe-12,Axe inconnu (fictif),1000.00,,,
QN06211,2025,axe-2,Montant faux (fictif),12.345,abc,,
QN06211,2025,axe-3,gardiennage (FICTIF),10.00,,,
QIC-catorive,2025,axe-3,Quartier d'intérêt communautaire (fictif),10.00,,,
QN06211,1925,axe-3,Année fausse (fictif),-5,,,
QN06211,2025,axe-4,Abattement contradictoire (fictif),10.00,,100,6000.00
";
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let before = head(&ledger).await;
        let admin = Principal::admin(&defaults().actor);
        let error = import_tfpb(&ledger, bad, "maisons-et-cites", &admin, &defaults())
            .await
            .unwrap_err();
        let TfpbImportError::Rows(problems) = &error else {
            panic!("expected row problems, got {error}");
        };
        let found: Vec<(usize, Option<&str>)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        for expected in [
            (3, Some("qpv")),
            (4, Some("axis")),
            (5, Some("planned")),
            (5, Some("realised")),
            (6, Some("label")),
            (7, Some("qpv")),
            (8, Some("year")),
            (8, Some("planned")),
            (9, Some("abatement")),
        ] {
            assert!(
                found.contains(&expected),
                "{expected:?} missing from {found:?}"
            );
        }
        let text = error.to_string();
        assert!(text.contains("unknown QPV 'QN06299'"), "{text}");
        assert!(text.contains("unknown TFPB axis 'axe-12'"), "{text}");
        assert!(text.contains("more than 2 decimals"), "{text}");
        assert!(text.contains("duplicate action: line 2"), "{text}");
        assert_eq!(head(&ledger).await, before, "nothing recorded");
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn the_bilan_is_submitted_then_reviewed_by_the_state_and_the_epci() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let bailleur = principal("maisons-et-cites", Role::Bailleur);
        import_tfpb(
            &ledger,
            GOOD_FILE,
            "maisons-et-cites",
            &bailleur,
            &defaults(),
        )
        .await
        .unwrap();
        let key = programme("maisons-et-cites", "QN06211");
        run(
            &ledger,
            json!({"command": "submit_tfpb_bilan", "programme": key, "submitted_on": "2026-05-20"}),
        )
        .await
        .unwrap();
        let wrong = run(
            &ledger,
            json!({"command": "accept_tfpb_bilan", "programme": key, "reviewer": "cabbalr",
                   "reviewer_kind": "state", "reviewed_on": "2026-06-02"}),
        )
        .await
        .unwrap_err();
        assert!(
            wrong.to_string().contains("cannot review a bilan as State"),
            "{wrong}"
        );
        for (reviewer, kind) in [("etat", "state"), ("cabbalr", "epci")] {
            run(
                &ledger,
                json!({"command": "accept_tfpb_bilan", "programme": key, "reviewer": reviewer,
                       "reviewer_kind": kind, "reviewed_on": "2026-06-02"}),
            )
            .await
            .unwrap();
        }
        let projections = ledger.projections().await.unwrap();
        let figures = projections
            .tfpb
            .year_figures(&TfpbFilter::default(), today());
        let qn06211 = figures.iter().find(|f| f.quartier == "QN06211").unwrap();
        assert_eq!(qn06211.bilan, BilanStatus::Accepted);
        let kinds: Vec<&str> = qn06211.flags.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec!["realised_below_abatement", "spending_not_covered"],
            "no convention was signed in this ledger"
        );
        let qn06213 = figures.iter().find(|f| f.quartier == "QN06213").unwrap();
        assert!(qn06213
            .flags
            .iter()
            .any(|f| f.kind.as_str() == "bilan_late"));
        drop(projections);
        ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn the_tfpb_demo_is_deterministic_shows_every_flag_and_runs_twice_harmlessly() {
    for db in testing::all().await {
        let ledger = ledger(&db).await;
        let first = engagements_app::demo_tfpb::record_tfpb_demo(&ledger, 42, &defaults())
            .await
            .unwrap();
        assert_eq!(
            first.conventions, 8,
            "one convention per bailleur of the contract"
        );
        assert_eq!(first.programmes, 8 * 2 * 2, "8 bailleurs × 2 QPV × 2 years");
        assert_eq!(first.commands_recorded_now, first.commands_total);
        let position = head(&ledger).await;
        let second = engagements_app::demo_tfpb::record_tfpb_demo(&ledger, 42, &defaults())
            .await
            .unwrap();
        assert_eq!(second.commands_recorded_now, 0);
        assert_eq!(head(&ledger).await, position, "nothing new the second time");
        let projections = ledger.projections().await.unwrap();
        let flags = projections
            .tfpb
            .flags_table(&TfpbFilter::default(), today());
        let kinds: std::collections::BTreeSet<String> =
            flags.rows.iter().map(|r| r[0].to_text()).collect();
        for kind in [
            "realised_below_abatement",
            "bilan_late",
            "spending_not_covered",
        ] {
            assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
        }
        let actions = projections.tfpb.actions_table(&TfpbFilter::default());
        assert!(actions
            .rows
            .iter()
            .all(|r| r[5].to_text().contains("(fictif)")));
        drop(projections);
        ledger.store().shutdown().await;
    }
}
