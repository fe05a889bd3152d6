//! The evaluation report of the demo for 2024-2026 reconciles to the cent with the views it
//! gathers, all computed from the same demo ledger: the signatory view (per financeur), the
//! quartier view, the objective view, the commitments view and the TFPB per-quartier view.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use engagements_app::demo::{self, DemoConfig};
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_projections::evaluation::{evaluation_report, Span};
use engagements_projections::tfpb::TfpbFilter;
use engagements_projections::{Cell, Table};
use engagements_store::testing;

fn index(table: &Table, column: &str) -> usize {
    table
        .columns
        .iter()
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("{}: no column {column}", table.name))
}

fn text(table: &Table, row: &[Cell], column: &str) -> String {
    row[index(table, column)].to_text()
}

fn cents(table: &Table, row: &[Cell], column: &str) -> i64 {
    match &row[index(table, column)] {
        Cell::Amount(amount) => amount.cents(),
        Cell::Empty => 0,
        other => panic!("{}: {column} is {other:?}", table.name),
    }
}

/// Sums of `columns` per key (the texts of `keys`), over `tables`, leaving out all-zero keys.
fn sums(tables: &[&Table], keys: &[&str], columns: &[&str]) -> BTreeMap<Vec<String>, Vec<i64>> {
    let mut out: BTreeMap<Vec<String>, Vec<i64>> = BTreeMap::new();
    for table in tables {
        for row in &table.rows {
            let key: Vec<String> = keys.iter().map(|k| text(table, row, k)).collect();
            let entry = out.entry(key).or_insert_with(|| vec![0; columns.len()]);
            for (slot, column) in entry.iter_mut().zip(columns) {
                *slot += cents(table, row, column);
            }
        }
    }
    out.retain(|_, v| v.iter().any(|c| *c != 0));
    out
}

#[tokio::test]
async fn the_evaluation_of_the_demo_reconciles_with_every_view() {
    let db = testing::sqlite();
    let ledger = Ledger::open(&db.url).await.unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let defaults = MetaDefaults {
        actor: Actor::new("Équipe démo (fictive)", "cabbalr"),
        source: Source::Demo,
        today,
    };
    demo::run(&ledger, &DemoConfig::default(), &defaults, |_, _| {})
        .await
        .unwrap();
    engagements_app::commitments_seed::record_initial_commitments(&ledger, None, &defaults)
        .await
        .unwrap();
    engagements_app::demo_tfpb::record_tfpb_demo(&ledger, DemoConfig::default().seed, &defaults)
        .await
        .unwrap();
    let p = ledger.projections().await.unwrap();
    let span = Span::new(2024, 2026).unwrap();
    let report = evaluation_report(&p, span, today);
    let (s, r) = (&p.subsidy, &p.referential);
    let years = [Some(2024), Some(2025), Some(2026)];

    // Per financeur: the signatory view's granted, and its paid less reversements received.
    let signatory: Vec<Table> = years.iter().map(|y| s.signatory_table(*y, r)).collect();
    let signatory_refs: Vec<&Table> = signatory.iter().collect();
    let by_financeur = sums(
        &signatory_refs,
        &["financeur"],
        &["granted_eur", "paid_eur", "reversed_eur"],
    );
    let by_financeur: BTreeMap<Vec<String>, Vec<i64>> = by_financeur
        .into_iter()
        .map(|(k, v)| (k, vec![v[0], v[1] - v[2]]))
        .filter(|(_, v)| v.iter().any(|c| *c != 0))
        .collect();
    assert!(
        !by_financeur.is_empty(),
        "the demo grants money in 2024-2026"
    );
    for part in [&report.objectifs_financeurs, &report.quartiers_financeurs] {
        assert_eq!(
            sums(&[part], &["financeur"], &["granted_eur", "paid_eur"]),
            by_financeur,
            "{} against the signatory view",
            part.name
        );
    }

    // Per quartier (and financeur): the quartier view over the three exercices.
    let quartier: Vec<Table> = years.iter().map(|y| s.quartier_table(*y, r)).collect();
    let quartier_refs: Vec<&Table> = quartier.iter().collect();
    assert_eq!(
        sums(
            &[&report.quartiers],
            &["quartier"],
            &["granted_eur", "paid_eur"]
        ),
        sums(&quartier_refs, &["quartier"], &["granted_eur", "paid_eur"]),
    );
    assert_eq!(
        sums(
            &[&report.quartiers_financeurs],
            &["quartier", "financeur"],
            &["granted_eur", "paid_eur"]
        ),
        sums(
            &quartier_refs,
            &["quartier", "financeur"],
            &["granted_eur", "paid_eur"]
        ),
    );

    // Per objectif: the objective view over the three exercices.
    let objective: Vec<Table> = years.iter().map(|y| s.objective_table(*y, r)).collect();
    let objective_refs: Vec<&Table> = objective.iter().collect();
    let by_objectif = sums(&objective_refs, &["objectif"], &["granted_eur", "paid_eur"]);
    assert_eq!(
        sums(
            &[&report.objectifs],
            &["objectif"],
            &["granted_eur", "paid_eur"]
        ),
        by_objectif
    );
    assert_eq!(
        sums(
            &[&report.objectifs_financeurs],
            &["objectif"],
            &["granted_eur", "paid_eur"]
        ),
        by_objectif
    );
    assert_eq!(report.objectifs.rows.len(), r.objectifs().count());
    assert_eq!(report.quartiers.rows.len(), r.quartiers().count());

    // The commitments: the same rows as the commitments view, and per objectif its filter.
    let commitments = p.commitments.commitments_table(None, None);
    assert!(!report.engagements.rows.is_empty());
    assert_eq!(report.engagements.columns, commitments.columns);
    assert_eq!(
        report.engagements.rows[..],
        commitments.rows[..report.engagements.rows.len()]
    );
    assert_eq!(
        report.engagements.rows.len(),
        p.commitments.commitments.len()
    );
    for row in &report.objectifs.rows {
        let number: u16 = text(&report.objectifs, row, "objectif").parse().unwrap();
        let linked = p
            .commitments
            .commitments_table(None, Some(number))
            .rows
            .len() as i64;
        assert_eq!(
            row[index(&report.objectifs, "commitments")],
            Cell::Int(linked)
        );
    }

    // TFPB: the per-quartier view's rows of 2024-2026, and their sums per quartier.
    let tfpb = p.tfpb.quartier_table(&TfpbFilter::default(), today);
    let tfpb_rows: Vec<Vec<Cell>> = tfpb
        .rows
        .iter()
        .filter(|row| {
            let year: i32 = text(&tfpb, row, "year").parse().unwrap();
            span.contains(year)
        })
        .cloned()
        .collect();
    let tfpb_in_span = Table {
        rows: tfpb_rows,
        ..tfpb.clone()
    };
    assert!(
        !tfpb_in_span.rows.is_empty(),
        "the demo has TFPB in 2024-2026"
    );
    let money = ["abatement_eur", "planned_eur", "realised_eur"];
    assert_eq!(
        sums(&[&report.tfpb], &["quartier", "year"], &money),
        sums(&[&tfpb_in_span], &["quartier", "year"], &money)
    );
    assert_eq!(
        sums(&[&report.quartiers], &["quartier"], &money),
        sums(&[&tfpb_in_span], &["quartier"], &money)
    );

    // Pistes d'action: every piste of the contract, some served by the demo's dossiers; what has
    // nothing is listed with a reason.
    let pistes: usize = r
        .objectifs()
        .map(|o| o.objectif.pistes_intercommunales.len() + o.objectif.pistes_communales.len())
        .sum();
    assert_eq!(report.pistes.rows.len(), pistes);
    let served = report
        .pistes
        .rows
        .iter()
        .filter(|row| row[index(&report.pistes, "dossiers")] != Cell::Int(0))
        .count();
    assert!(served > 0, "the demo's dossiers cite pistes");
    for row in &report.sans_moyens.rows {
        let kind = text(&report.sans_moyens, row, "kind");
        let subject = text(&report.sans_moyens, row, "subject");
        let (table, key) = match kind.as_str() {
            "objectif" => (&report.objectifs, "objectif"),
            _ => (&report.quartiers, "quartier"),
        };
        let line = table
            .rows
            .iter()
            .find(|r| text(table, r, key) == subject)
            .unwrap();
        assert_eq!(text(table, line, "coverage"), "nothing", "{kind} {subject}");
    }
    drop(p);
    ledger.store().shutdown().await;
}
