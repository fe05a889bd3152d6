//! Every table a person can read, on the demo ledger (TFPB and findings included), has a French
//! header for each column and a French label for each coded value: a new column or status
//! cannot reach a page or a spreadsheet untranslated.

mod support;

use chrono::NaiveDate;
use engagements_app::demo::{self, DemoConfig};
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_projections::labels;
use engagements_projections::tfpb::TfpbFilter;
use engagements_server::views;
use engagements_store::testing;

#[tokio::test]
async fn every_column_and_coded_value_of_the_demo_has_a_french_label() {
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
    let projections = ledger.projections().await.unwrap();
    let mut tables = Vec::new();
    for spec in views::VIEWS {
        for year in [None, Some(2025)] {
            tables.push(
                views::report(&projections, spec.name, year)
                    .unwrap()
                    .as_ref()
                    .clone(),
            );
        }
    }
    // The dashboard's « Par financeur », as its workbook gives it.
    {
        use engagements_projections::subsidy::to_do::FinanceurSummary;
        let signatories = views::report(&projections, "signataires", Some(2025)).unwrap();
        let (summaries, total) = FinanceurSummary::of_signatory_table(&signatories);
        tables.push(views::with_names(
            FinanceurSummary::table(&summaries, &total),
            &projections,
        ));
    }
    for spec in views::TFPB_VIEWS {
        tables.push(
            views::tfpb_report(&projections.tfpb, spec.name, &TfpbFilter::default(), today)
                .unwrap(),
        );
    }
    // The evaluation report of the contract's first three exercices, every part.
    let span = engagements_projections::evaluation::Span::new(2024, 2026).unwrap();
    let evaluation =
        engagements_projections::evaluation::evaluation_report(&projections, span, today);
    for table in evaluation.tables() {
        tables.push(views::with_names(table.clone(), &projections));
    }
    // The referential, as `engagements referential SECTION` prints it.
    {
        use engagements_projections::referential::tables;
        let view = &projections.referential;
        let r = view.current().expect("the demo's contract");
        tables.extend([
            tables::summary(r, view.content_hash.as_deref()),
            tables::quartiers(r),
            tables::communes(r),
            tables::organisations(r),
            tables::objectifs(r),
            tables::dispositifs(r),
            tables::tfpb_axes(r),
            tables::transversaux(r),
            tables::governance(r),
            view.meetings_table(),
            view.amendments_table(),
        ]);
    }
    // The trail of a paid dossier, as `engagements history` and its workbook print it.
    let paid = projections
        .subsidy
        .dossiers
        .iter()
        .find(|(_, d)| d.lines.values().any(|l| !l.paid.is_zero()))
        .map(|(id, _)| id.to_string())
        .expect("the demo pays dossiers");
    drop(projections);
    let trail = engagements_audit::history::history(
        ledger.store(),
        &paid,
        &engagements_projections::AsOf::default(),
    )
    .await
    .unwrap();
    tables.push(trail.to_table());
    let events = ledger.store().read_all(1, i64::MAX).await.unwrap();
    let as_of = engagements_projections::AsOf::default();
    let found = engagements_audit::findings::findings(&events, &as_of, today, None);
    assert!(!found.is_empty(), "the demo has findings");
    tables.push(engagements_audit::findings::findings_table(&found));

    let mut missing = Vec::new();
    for table in &tables {
        // Indicators are the users' own, and no commitment of Annex 3 names a quartier: the
        // demo has no rows there (their columns are still checked).
        if ![
            "indicators",
            "commitments-quartiers",
            "evaluation-sans-moyens",
            "governance_meetings",
            "avenants",
        ]
        .contains(&table.name.as_str())
        {
            assert!(
                !table.rows.is_empty(),
                "table {} is empty on the demo",
                table.name
            );
        }
        for what in labels::missing_labels(table) {
            missing.push(format!("{}: {what}", table.name));
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "without a French label:\n{}",
        missing.join("\n")
    );
    // Every kind of event reads in French in a trail: one trail per event type of the demo (the
    // stream of its first event), its descriptions and acts free of field keys, codes, ISO dates,
    // English, and referential ids where a name belongs.
    let mut first_of_type = std::collections::BTreeMap::new();
    for event in &events {
        first_of_type
            .entry(event.event_type.clone())
            .or_insert_with(|| event.stream_id.clone());
    }
    let mut unreadable = Vec::new();
    for (event_type, stream) in &first_of_type {
        let trail = engagements_audit::history::history(
            ledger.store(),
            stream,
            &engagements_projections::AsOf::default(),
        )
        .await
        .unwrap();
        for entry in trail.entries.iter().filter(|e| &e.event_type == event_type) {
            let text = format!(
                "{} {}",
                entry.description,
                entry.act.as_deref().unwrap_or_default()
            );
            let at = format!("{event_type} at {}", entry.position);
            // A trail names dossiers by the id `engagements history` takes next.
            unreadable.extend(
                support::text::problems_in(&at, &text, &Default::default())
                    .into_iter()
                    .filter(|p| !p.contains("not linked")),
            );
            // The act's reference is the recorded text of the act; its date is checked.
            if let Some(iso) = format!(
                "{} {}",
                entry.description,
                entry
                    .act
                    .as_deref()
                    .and_then(|a| a.rsplit_once(" ("))
                    .map(|(_, date)| date)
                    .unwrap_or_default()
            )
            .split_whitespace()
            .find(|w| {
                chrono::NaiveDate::parse_from_str(
                    w.trim_matches(|c: char| !c.is_ascii_digit()),
                    "%Y-%m-%d",
                )
                .is_ok()
            }) {
                unreadable.push(format!("{at}: ISO date « {iso} »"));
            }
            if text.contains("(s)") || text.contains("{…}") {
                unreadable.push(format!("{at}: « {text} »"));
            }
        }
    }
    unreadable.sort();
    unreadable.dedup();
    assert!(
        unreadable.is_empty(),
        "{} trail entries that do not read in French:\n{}",
        unreadable.len(),
        unreadable.join("\n")
    );
    // Every field of every payload of the demo has a French name (two levels deep, ids aside):
    // what a trail shows of an event without a sentence of its own.
    let mut unnamed = std::collections::BTreeSet::new();
    for event in &events {
        let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        let mut fields: Vec<(&str, &serde_json::Value)> = Vec::new();
        if let Some(object) = payload.as_object() {
            for (key, value) in object {
                fields.push((key, value));
                if let Some(inner) = value.as_object() {
                    fields.extend(inner.iter().map(|(k, v)| (k.as_str(), v)));
                }
            }
        }
        for (key, _) in fields {
            if key != "type" && !key.ends_with("_id") && labels::field(key).is_none() {
                unnamed.insert(format!("{key} ({})", event.event_type));
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "payload fields without a French name: {unnamed:?}"
    );
    // Findings read in French, with French amounts.
    let descriptions: Vec<&str> = found.iter().map(|f| f.description.as_str()).collect();
    assert!(
        descriptions
            .iter()
            .all(|d| !d.contains(" due on ") && !d.contains(" paid ")),
        "{descriptions:?}"
    );
    ledger.store().shutdown().await;
}
