use engagements_domain::tfpb::programme::BilanStatus;
use engagements_domain::tfpb::{
    TfpbActionId, TfpbActionSpec, TfpbConventionEvent, TfpbConventionId, TfpbProgrammeEvent,
    TfpbProgrammeKey, TfpbReviewer, TfpbShare, TfpbSpendingId,
};
use engagements_domain::Amount;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::figures::{split_cents, FlagKind};
use super::{TfpbFilter, TfpbView};
use crate::test_log::{date, Log};
use crate::Projections;

impl Log {
    fn convention(&mut self, bailleur: &str, quartiers: &[&str], first: i32, last: i32) {
        let convention_id = TfpbConventionId::new();
        self.push(
            &convention_id.stream_id(),
            TfpbConventionEvent::TfpbConventionSigned {
                convention_id,
                bailleur: bailleur.into(),
                quartiers: quartiers.iter().map(|q| q.to_string()).collect(),
                year_first: first,
                year_last: last,
                signatories: vec!["etat".into(), "cabbalr".into()],
                signed_on: date(first, 1, 15),
                reference: "Convention (fictive)".into(),
            },
        );
    }

    fn programme(&mut self, key: &TfpbProgrammeKey, event: TfpbProgrammeEvent) {
        self.push(&key.stream_id(), event);
    }

    fn abatement(&mut self, key: &TfpbProgrammeKey, euros: u64) {
        self.programme(
            key,
            TfpbProgrammeEvent::TfpbAbatementDeclared {
                programme: key.clone(),
                dwellings: 100,
                abatement_eur: Amount::euros(euros),
            },
        );
    }

    fn action(
        &mut self,
        key: &TfpbProgrammeKey,
        axis: &str,
        planned: u64,
        shares: Vec<TfpbShare>,
    ) -> TfpbActionId {
        let action_id = TfpbActionId::new();
        self.programme(
            key,
            TfpbProgrammeEvent::TfpbActionPlanned {
                programme: key.clone(),
                action: TfpbActionSpec {
                    action_id,
                    axis: axis.into(),
                    label: format!("Action {action_id}"),
                    description: None,
                    planned_eur: Amount::euros(planned),
                    partners: vec![],
                    shares,
                },
            },
        );
        action_id
    }

    fn spend(&mut self, key: &TfpbProgrammeKey, action_id: TfpbActionId, amount: Amount) {
        self.programme(
            key,
            TfpbProgrammeEvent::TfpbSpendingReported {
                programme: key.clone(),
                action_id,
                spending_id: TfpbSpendingId::new(),
                amount_eur: amount,
                spent_on: date(key.year, 6, 1),
                evidence: "Facture (fictive)".into(),
            },
        );
    }

    fn view(&self) -> TfpbView {
        Projections::fold(&self.events).unwrap().tfpb
    }
}

fn key(bailleur: &str, quartier: &str, year: i32) -> TfpbProgrammeKey {
    TfpbProgrammeKey::new(bailleur, quartier, year)
}

#[test]
fn figures_ratio_gap_and_carry_over() {
    let mut log = Log::default();
    log.convention("sia-habitat", &["QN06208"], 2025, 2030);
    let y1 = key("sia-habitat", "QN06208", 2025);
    let y2 = key("sia-habitat", "QN06208", 2026);
    log.abatement(&y1, 10_000);
    let a = log.action(&y1, "axe-3", 6_000, vec![]);
    let b = log.action(&y1, "axe-7", 3_000, vec![]);
    log.spend(&y1, a, Amount::euros(5_000));
    log.spend(&y1, b, Amount::euros(2_500));
    log.abatement(&y2, 12_000);
    let c = log.action(&y2, "axe-3", 15_000, vec![]);
    log.spend(&y2, c, Amount::euros(14_000));
    let view = log.view();
    let rows = view.year_figures(&TfpbFilter::default(), date(2027, 1, 10));
    assert_eq!(rows.len(), 2);
    let first = &rows[0];
    assert_eq!(first.planned, Amount::euros(9_000));
    assert_eq!(first.realised, Amount::euros(7_500));
    assert_eq!(first.realised_ratio_pct(), Some(Decimal::new(750, 1)));
    assert_eq!(first.gap(), Some(Decimal::new(2_500, 0)));
    assert_eq!(first.carry_over, Decimal::ZERO);
    assert_eq!(first.by_axis["axe-3"].realised, Amount::euros(5_000));
    let second = &rows[1];
    assert_eq!(
        second.carry_over,
        Decimal::new(2_500, 0),
        "2025's unspent 2,500 €"
    );
    assert_eq!(second.gap(), Some(Decimal::new(-2_000, 0)));
    // The total row and the axis rows of the table.
    let table = view.bailleur_table(&TfpbFilter::default(), date(2027, 1, 10));
    let json = table.to_json_rows();
    assert_eq!(json[0]["axis"], "total");
    assert_eq!(json[0]["realised_ratio_pct"], "75.0");
    assert_eq!(json[0]["gap_eur"], "2500.00");
    assert_eq!(json[3]["carry_over_eur"], "2500.00");
    assert_eq!(json[3]["gap_eur"], "-2000.00");
}

#[test]
fn flag_realised_below_abatement_only_once_the_year_is_over() {
    let mut log = Log::default();
    log.convention("sigh", &["QN06212"], 2025, 2030);
    let k = key("sigh", "QN06212", 2025);
    log.abatement(&k, 10_000);
    let a = log.action(&k, "axe-5", 10_000, vec![]);
    log.spend(&k, a, Amount::euros(9_999));
    let view = log.view();
    let during = view.year_figures(&TfpbFilter::default(), date(2025, 12, 31));
    assert!(during[0].flags.is_empty(), "{:?}", during[0].flags);
    let after = view.year_figures(&TfpbFilter::default(), date(2026, 1, 1));
    let kinds: Vec<FlagKind> = after[0].flags.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec![FlagKind::RealisedBelowAbatement]);
}

#[test]
fn flag_bilan_late_when_not_submitted_by_30_june_or_submitted_after() {
    let mut log = Log::default();
    log.convention("sigh", &["QN06212"], 2025, 2030);
    let k = key("sigh", "QN06212", 2025);
    log.abatement(&k, 0);
    let view = log.view();
    let kinds = |view: &TfpbView, today| -> Vec<FlagKind> {
        view.year_figures(&TfpbFilter::default(), today)[0]
            .flags
            .iter()
            .map(|f| f.kind)
            .collect()
    };
    assert!(kinds(&view, date(2026, 6, 30)).is_empty());
    assert_eq!(kinds(&view, date(2026, 7, 1)), vec![FlagKind::BilanLate]);
    log.programme(
        &k,
        TfpbProgrammeEvent::TfpbBilanSubmitted {
            programme: k.clone(),
            submission: 1,
            submitted_on: date(2026, 7, 2),
            comment: None,
        },
    );
    let view = log.view();
    let flags = &view.year_figures(&TfpbFilter::default(), date(2026, 9, 1))[0].flags;
    assert_eq!(flags.len(), 1);
    assert!(
        flags[0].detail.contains("remis le 02/07/2026"),
        "{}",
        flags[0].detail
    );
    // On time: no flag; accepted by both: status accepted.
    let mut log = Log::default();
    log.convention("sigh", &["QN06212"], 2025, 2030);
    log.abatement(&k, 0);
    log.programme(
        &k,
        TfpbProgrammeEvent::TfpbBilanSubmitted {
            programme: k.clone(),
            submission: 1,
            submitted_on: date(2026, 6, 30),
            comment: None,
        },
    );
    for (kind, reviewer) in [
        (TfpbReviewer::State, "etat"),
        (TfpbReviewer::Epci, "cabbalr"),
    ] {
        log.programme(
            &k,
            TfpbProgrammeEvent::TfpbBilanAccepted {
                programme: k.clone(),
                submission: 1,
                reviewer: reviewer.into(),
                reviewer_kind: kind,
                reviewed_on: date(2026, 7, 15),
            },
        );
    }
    let rows = log
        .view()
        .year_figures(&TfpbFilter::default(), date(2027, 1, 1));
    assert!(rows[0].flags.is_empty());
    assert_eq!(rows[0].bilan, BilanStatus::Accepted);
}

#[test]
fn flag_spending_on_a_quartier_no_convention_covers() {
    let mut log = Log::default();
    log.convention("icf-habitat", &["QN06208"], 2025, 2026);
    let covered = key("icf-habitat", "QN06208", 2026);
    let outside_years = key("icf-habitat", "QN06208", 2027);
    let outside_quartier = key("icf-habitat", "QN06209", 2026);
    for k in [&covered, &outside_years, &outside_quartier] {
        let a = log.action(k, "axe-7", 100, vec![]);
        log.spend(k, a, Amount::euros(100));
    }
    let planned_only = key("icf-habitat", "QN06210", 2026);
    log.action(&planned_only, "axe-7", 100, vec![]);
    let view = log.view();
    let flags = view.flags_table(&TfpbFilter::default(), date(2026, 3, 1));
    let flagged: Vec<(String, i64)> = flags
        .rows
        .iter()
        .map(|r| (r[2].to_text(), r[3].to_text().parse().unwrap()))
        .collect();
    assert_eq!(
        flagged,
        vec![("QN06208".to_string(), 2027), ("QN06209".to_string(), 2026)]
    );
    assert!(flags
        .rows
        .iter()
        .all(|r| r[0].to_text() == "spending_not_covered"));
}

#[test]
fn cross_landlord_action_is_attributed_by_share_and_reconciles() {
    let mut log = Log::default();
    let k = key("sia-habitat", "QN06211", 2025);
    log.abatement(&k, 5_000);
    let shared = log.action(
        &k,
        "axe-7",
        3_000,
        vec![
            TfpbShare {
                bailleur: "sia-habitat".into(),
                planned_eur: Amount::euros(2_000),
            },
            TfpbShare {
                bailleur: "maisons-et-cites".into(),
                planned_eur: Amount::euros(1_000),
            },
        ],
    );
    log.spend(&k, shared, Amount::from_cents(100_001).unwrap());
    // Until Maisons & Cités confirms its share, the whole action counts for the lead bailleur.
    let rows = log
        .view()
        .year_figures(&TfpbFilter::default(), date(2025, 7, 1));
    assert!(rows.iter().all(|r| r.bailleur == "sia-habitat"), "{rows:?}");
    assert_eq!(rows[0].planned, Amount::euros(3_000));
    assert_eq!(rows[0].realised, Amount::from_cents(100_001).unwrap());
    log.programme(
        &k,
        TfpbProgrammeEvent::TfpbShareConfirmed {
            programme: k.clone(),
            action_id: shared,
            bailleur: "maisons-et-cites".into(),
        },
    );
    let view = log.view();
    let rows = view.year_figures(&TfpbFilter::default(), date(2025, 7, 1));
    let mc = rows
        .iter()
        .find(|r| r.bailleur == "maisons-et-cites")
        .unwrap();
    let sia = rows.iter().find(|r| r.bailleur == "sia-habitat").unwrap();
    assert_eq!(mc.planned, Amount::euros(1_000));
    assert_eq!(sia.planned, Amount::euros(2_000));
    assert_eq!(mc.realised.cents() + sia.realised.cents(), 100_001);
    // 2/3 of 1,000.01 € is 666.673…, 1/3 is 333.336…: the cent left goes to the larger remainder.
    assert_eq!(sia.realised, Amount::from_cents(66_667).unwrap());
    assert_eq!(mc.realised, Amount::from_cents(33_334).unwrap());
    // The partner's own view shows its share only, and nothing of the lead's abatement.
    let only_mc = view.bailleur_table(&TfpbFilter::bailleur("maisons-et-cites"), date(2025, 7, 1));
    assert!(only_mc
        .rows
        .iter()
        .all(|r| r[0].to_text() == "maisons-et-cites"));
    assert_eq!(
        only_mc.rows[0][5].to_text(),
        "",
        "no abatement of another bailleur"
    );
}

#[test]
fn a_bailleur_filter_hides_every_other_bailleur_in_every_table() {
    let mut log = Log::default();
    for bailleur in ["sigh", "sia-habitat"] {
        log.convention(bailleur, &["QN06212"], 2025, 2030);
        let k = key(bailleur, "QN06212", 2025);
        log.abatement(&k, 1_000);
        let a = log.action(&k, "axe-1", 1_000, vec![]);
        log.spend(&k, a, Amount::euros(400));
    }
    let view = log.view();
    let filter = TfpbFilter::bailleur("sigh");
    let today = date(2026, 8, 1);
    let quartiers = view.quartier_table(&filter, today);
    assert_eq!(quartiers.rows[0][2].to_text(), "1", "one bailleur counted");
    assert_eq!(quartiers.rows[0][3].to_text(), "1000.00");
    let axes = view.axis_table(&filter, today);
    assert_eq!(axes.rows[0][4].to_text(), "400.00");
    for table in [
        view.bailleur_table(&filter, today),
        view.flags_table(&filter, today),
        view.actions_table(&filter),
    ] {
        assert!(!table.rows.is_empty());
        assert!(
            table
                .rows
                .iter()
                .all(|r| r[1].to_text() == "sigh" || r[0].to_text() == "sigh"),
            "{}",
            table.name
        );
    }
    let everyone = view.quartier_table(&TfpbFilter::default(), today);
    assert_eq!(everyone.rows[0][3].to_text(), "2000.00");
}

proptest! {
    /// The parts of a split always add up to the total, to the cent, and each part is within a
    /// cent of its exact proportion.
    #[test]
    fn split_reconciles_to_the_cent(
        total in 0i64..10_000_000_000,
        weights in proptest::collection::vec(0i64..1_000_000_000, 1..8),
    ) {
        let total = Amount::from_cents(total).unwrap();
        let weights: Vec<Amount> = weights.into_iter().map(|w| Amount::from_cents(w).unwrap()).collect();
        let parts = split_cents(total, &weights);
        prop_assert_eq!(parts.len(), weights.len());
        prop_assert_eq!(parts.iter().map(|p| p.cents()).sum::<i64>(), total.cents());
        let weight_total: i128 = weights.iter().map(|w| i128::from(w.cents())).sum();
        if weight_total > 0 {
            for (part, weight) in parts.iter().zip(&weights) {
                let exact = i128::from(total.cents()) * i128::from(weight.cents());
                let diff = i128::from(part.cents()) * weight_total - exact;
                prop_assert!(diff.abs() < weight_total, "part {} weight {}", part, weight);
            }
        }
    }
}
