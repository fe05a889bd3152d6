//! The commitments view folded from hand-made events (storage is tested in the app crate).

use chrono::{NaiveDate, Utc};
use engagements_domain::commitment::contribution::ContributionEvent;
use engagements_domain::commitment::{
    AmountPeriod, CommitmentEvent, CommitmentKind, CommitmentTerms, LineRange, ReportingPeriod,
    Scope, YearPeriod,
};
use engagements_domain::{Actor, Amount, DomainEvent, Metadata, RecordedEvent, Source};
use rust_decimal::Decimal;

use super::CommitmentsView;

fn recorded<E: DomainEvent>(position: i64, event: &E) -> RecordedEvent {
    RecordedEvent {
        position,
        event_id: uuid::Uuid::now_v7(),
        stream_type: E::STREAM_TYPE.into(),
        stream_id: "s".into(),
        version: 1,
        event_type: event.event_type().into(),
        schema_version: 1,
        payload: serde_json::to_string(event).unwrap(),
        metadata: Metadata::new(
            Actor::new("Test", "etat"),
            Source::Cli,
            NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
        ),
        recorded_at: Utc::now(),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

fn terms(kind: CommitmentKind, scope: Scope, scope_ref: Option<&str>) -> CommitmentTerms {
    CommitmentTerms {
        service: None,
        title: "Engagement fictif".into(),
        text: "Texte fictif.".into(),
        kind,
        programme: None,
        period: YearPeriod::default(),
        scope,
        scope_ref: scope_ref.map(str::to_string),
        enjeux: vec![],
        ambitions: vec![],
        objectifs: vec![14],
        quartiers: vec![],
        source_lines: vec![LineRange(3756, 3756)],
        carriers: vec![],
        targets: vec![],
        baselines: vec![],
        flags: vec![],
        objectif_links: vec![],
    }
}

fn money(euros: u64) -> CommitmentKind {
    CommitmentKind::Financial {
        amount_eur: Amount::euros(euros),
        amount_period: Some(AmountPeriod::PerYear),
    }
}

fn pledge(
    view: &mut CommitmentsView,
    position: i64,
    id: &str,
    signatory: &str,
    terms: CommitmentTerms,
) {
    let event = CommitmentEvent::CommitmentPledged {
        commitment_id: id.parse().unwrap(),
        signatory: signatory.into(),
        terms,
    };
    view.apply_commitment(&recorded(position, &event), &event);
}

#[test]
fn wider_scopes_are_never_added_to_local_totals() {
    let mut view = CommitmentsView::default();
    pledge(
        &mut view,
        1,
        "etat-05",
        "etat",
        terms(money(15_000_000), Scope::Departement, None),
    );
    pledge(
        &mut view,
        2,
        "ars-11",
        "ars",
        terms(money(2_500_000), Scope::Region, None),
    );
    pledge(
        &mut view,
        3,
        "caf-01",
        "caf",
        terms(money(40_000), Scope::Cabbalr, None),
    );
    pledge(
        &mut view,
        4,
        "commune-01",
        "commune-barlin",
        terms(money(10_000), Scope::Commune, Some("Barlin")),
    );
    assert_eq!(
        view.local_financial_total(Some(AmountPeriod::PerYear)),
        Amount::euros(50_000)
    );
    let totals = view.financial_totals();
    assert_eq!(totals.len(), 4, "one row per scope: {totals:?}");
    let table = view.totals_table();
    let local_row = table.rows.last().unwrap();
    assert_eq!(local_row[0].to_text(), "local total");
    assert_eq!(local_row[3].to_text(), "50000.00");
    let departement = table
        .rows
        .iter()
        .find(|r| r[0].to_text() == "departement")
        .unwrap();
    assert_eq!(departement[1].to_text(), "no");
    assert_eq!(departement[3].to_text(), "15000000.00");
}

#[test]
fn withdrawn_commitments_leave_the_totals_but_stay_listed() {
    let mut view = CommitmentsView::default();
    pledge(
        &mut view,
        1,
        "caf-01",
        "caf",
        terms(money(40_000), Scope::Cabbalr, None),
    );
    let withdrawn = CommitmentEvent::CommitmentWithdrawn {
        commitment_id: "caf-01".parse().unwrap(),
        reason: "Retrait fictif".into(),
    };
    view.apply_commitment(&recorded(2, &withdrawn), &withdrawn);
    assert_eq!(
        view.local_financial_total(Some(AmountPeriod::PerYear)),
        Amount::ZERO
    );
    let table = view.commitments_table(Some("caf"), None);
    assert_eq!(table.rows.len(), 1);
    let status = table.columns.iter().position(|c| c == "status").unwrap();
    assert_eq!(table.rows[0][status].to_text(), "withdrawn");
}

#[test]
fn per_quartier_view_keeps_only_quantified_local_commitments() {
    let mut view = CommitmentsView::default();
    let mut local = terms(
        CommitmentKind::Staffing {
            staff_count: Some(2),
            staff_unit: "médiateurs".into(),
        },
        Scope::Cabbalr,
        None,
    );
    local.quartiers = vec!["QN06208".into(), "QN06209".into()];
    pledge(&mut view, 1, "sigh-01", "sigh", local);
    let mut wide = terms(money(1_000_000), Scope::Departement, None);
    wide.quartiers = vec!["QN06208".into()];
    pledge(
        &mut view,
        2,
        "departement-01",
        "departement-pas-de-calais",
        wide,
    );
    let mut qualitative = terms(CommitmentKind::Qualitative, Scope::Cabbalr, None);
    qualitative.quartiers = vec!["QN06208".into()];
    pledge(&mut view, 3, "caf-01", "caf", qualitative);
    pledge(
        &mut view,
        4,
        "caf-02",
        "caf",
        terms(money(5_000), Scope::Quartier, Some("QN06208")),
    );
    let table = view.quartiers_table(Some("QN06208"));
    let ids: Vec<String> = table.rows.iter().map(|r| r[2].to_text()).collect();
    assert_eq!(ids, vec!["caf-02", "sigh-01"]);
    assert_eq!(table.rows[1][10].to_text(), "2", "shared by 2 quartiers");
    assert_eq!(view.quartiers_table(None).rows.len(), 3);
}

#[test]
fn objective_filter_and_pending_partners() {
    let mut view = CommitmentsView::default();
    pledge(
        &mut view,
        1,
        "caf-01",
        "caf",
        terms(CommitmentKind::Governance, Scope::Cabbalr, None),
    );
    let mut other = terms(CommitmentKind::Condition, Scope::Region, None);
    other.objectifs = vec![3];
    pledge(&mut view, 2, "region-01", "region-hauts-de-france", other);
    let pending = ContributionEvent::ContributionDeclaredPending {
        signatory: "procureur".into(),
        name_in_source: "Procureur de la République".into(),
        source_lines: vec![LineRange(4583, 4585)],
        note: Some("En attente".into()),
    };
    view.apply_contribution(&recorded(3, &pending), &pending);
    assert_eq!(view.commitments_table(None, Some(14)).rows.len(), 1);
    assert_eq!(view.commitments_table(None, Some(3)).rows.len(), 1);
    let all = view.commitments_table(None, None);
    assert_eq!(all.rows.len(), 3);
    assert_eq!(all.rows[2][16].to_text(), "pending");
    assert!(view.is_pending("procureur"));
    pledge(
        &mut view,
        4,
        "procureur-01",
        "procureur",
        terms(CommitmentKind::Qualitative, Scope::Departement, None),
    );
    assert!(!view.is_pending("procureur"));
    assert_eq!(
        view.commitments_table(Some("procureur"), None).rows.len(),
        1
    );
}

#[test]
fn latest_progress_is_the_latest_period_then_the_latest_report() {
    let mut view = CommitmentsView::default();
    pledge(
        &mut view,
        1,
        "caf-01",
        "caf",
        terms(money(40_000), Scope::Cabbalr, None),
    );
    let report = |no: u32, year: i32, value: i64| CommitmentEvent::CommitmentProgressReported {
        commitment_id: "caf-01".parse().unwrap(),
        report_no: no,
        period: ReportingPeriod {
            from: NaiveDate::from_ymd_opt(year, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
        },
        realised_value: Some(Decimal::from(value)),
        unit: None,
        comment: None,
        evidence_ref: None,
    };
    for (position, event) in [
        (2, report(1, 2025, 10)),
        (3, report(2, 2024, 20)),
        (4, report(3, 2025, 30)),
    ] {
        view.apply_commitment(&recorded(position, &event), &event);
    }
    let row = view.get(&"caf-01".parse().unwrap()).unwrap();
    assert_eq!(
        row.latest_progress().unwrap().realised_value,
        Some(Decimal::from(30))
    );
    assert_eq!(row.progress.len(), 3);
}
