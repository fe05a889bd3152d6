//! The read side at scale: a ledger of N events (the seeded workload), then
//!
//! - **replay**: events per second read from the log and folded into all projections, beside a
//!   baseline that reads and deserialises the same events (rows, metadata and payloads) only;
//! - **as-of**: latency of the projections as of a random past position, folded from the log as
//!   `Ledger::projections_at` does (p50/p99);
//! - **report**: latency of report tables built in process from caught-up projections (p50/p99);
//! - **memory**: peak resident memory of the process with the projections of N events in memory.

use std::time::{Duration, Instant};

use anyhow::Context;
use engagements_domain::dossier::DossierEvent;
use engagements_domain::porteur::PorteurEvent;
use engagements_domain::{DomainEvent, RecordedEvent};
use engagements_projections::Projections;
use engagements_store::{AppendRequest, Store};

use crate::databases::{BackendKind, Databases};
use crate::decider::Decider;
use crate::stats::{Figure, Latencies};
use crate::workload::{Rng, Workload};

/// Events read per page, as the live read model does.
const PAGE_EVENTS: i64 = 10_000;
/// Commands recorded per atomic group while loading the ledger.
const LOAD_GROUP_COMMANDS: usize = 1_000;

/// Settings of the read-side run.
#[derive(Debug, Clone)]
pub struct ReadsideSettings {
    pub events: usize,
    pub backend: BackendKind,
    pub as_of_samples: usize,
    pub report_samples: usize,
    pub seed: u64,
}

impl ReadsideSettings {
    /// Settings that only record the seeded workload's `events` (for the benches that measure
    /// something else on that ledger).
    pub fn load_only(events: usize, backend: BackendKind, seed: u64) -> ReadsideSettings {
        ReadsideSettings {
            events,
            backend,
            as_of_samples: 0,
            report_samples: 0,
            seed,
        }
    }
}

/// Loads the ledger, then measures replay, as-of, reports and memory.
pub async fn run(
    settings: &ReadsideSettings,
    databases: &Databases,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<Figure>> {
    let db = databases.fresh(settings.backend, "readside").await?;
    let store = Store::open(&db.url).await?;
    let result = measure(&store, settings, progress).await;
    store.shutdown().await;
    databases.remove(&db).await?;
    result
}

async fn measure(
    store: &Store,
    settings: &ReadsideSettings,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<Figure>> {
    let backend = settings.backend.name();
    load(store, settings, progress).await?;
    let position_last = store.head().await?.map_or(0, |h| h.position);
    let mut figures = Vec::new();

    progress("replay: read and deserialise only");
    let started = Instant::now();
    let decoded = read_and_decode(store, position_last).await?;
    figures.push(rate_figure(
        "read + deserialise only",
        backend,
        decoded,
        started.elapsed(),
    ));

    progress("replay: fold into all projections");
    let started = Instant::now();
    let projections = fold_until(store, position_last).await?;
    figures.push(rate_figure(
        "fold into all projections",
        backend,
        position_last as u64,
        started.elapsed(),
    ));
    let mut memory = rate_figure(
        "peak RSS, projections in memory",
        backend,
        position_last as u64,
        Duration::ZERO,
    );
    memory.bench = "memory".into();
    memory.value = peak_rss_mib();
    memory.note = format!(
        "{} MiB peak resident memory with the projections of {position_last} events",
        memory.value.unwrap_or(0.0).round()
    );
    figures.push(memory);

    drop(projections);

    // The live read model keeps the report totals up to date as it folds: the same fold with
    // them, stopped `report_samples` events before the end, whose events then come one by one.
    progress("replay: fold into all projections, report totals kept (the live read model)");
    let samples = settings.report_samples as i64;
    let stop = (position_last - samples).max(0);
    let started = Instant::now();
    let mut projections = Projections::default();
    projections.prepare_report_totals();
    fold_into(store, &mut projections, stop).await?;
    figures.push(rate_figure(
        "fold into all projections, report totals kept",
        backend,
        stop as u64,
        started.elapsed(),
    ));

    progress("report: in-process report tables after each event");
    // Each of the last events is folded, then the views are asked: the first request after an
    // event (every event empties the cache of built tables), then the same again (served from
    // that cache).
    let views = |p: &Projections, year: Option<i32>| {
        let signatories = p.tables.get_or_build("signataires", year, || {
            p.subsidy.signatory_table(year, &p.referential)
        });
        let quartiers = p.tables.get_or_build("quartiers", year, || {
            p.subsidy.quartier_table(year, &p.referential)
        });
        let objectifs = p.tables.get_or_build("objectifs", year, || {
            p.subsidy.objective_table(year, &p.referential)
        });
        std::hint::black_box((signatories, quartiers, objectifs));
    };
    let listing = |p: &Projections, year: Option<i32>| {
        let dossiers = p
            .tables
            .get_or_build("dossiers", year, || p.subsidy.dossiers_table(year));
        std::hint::black_box(dossiers);
    };
    let tail = store.read_all(stop + 1, samples).await?;
    let mut first = Latencies::default();
    let mut repeated = Latencies::default();
    let mut listed = Latencies::default();
    let started = Instant::now();
    for (sample, event) in tail.iter().enumerate() {
        projections.apply(event)?;
        let year = Some(2024 + (sample % 7) as i32);
        let begun = Instant::now();
        views(&projections, year);
        first.record(begun.elapsed());
        let begun = Instant::now();
        views(&projections, year);
        repeated.record(begun.elapsed());
        if sample % 10 == 0 {
            let begun = Instant::now();
            listing(&projections, year);
            listed.record(begun.elapsed());
        }
    }
    let elapsed = started.elapsed();
    for (system, latencies) in [
        (
            "signatory + quartier + objective tables of one exercice, first after an event",
            first,
        ),
        (
            "signatory + quartier + objective tables, repeated at one position (cached)",
            repeated,
        ),
        (
            "list of the dossiers of one exercice (a row per dossier and financeur), first after an event",
            listed,
        ),
    ] {
        figures.push(Figure::throughput(
            "report", system, backend, 1, latencies, elapsed,
        ));
    }

    progress("as-of: projections at random past positions");
    let mut rng = Rng::new(settings.seed);
    let mut latencies = Latencies::default();
    let started = Instant::now();
    for _ in 0..settings.as_of_samples {
        let position = rng.between(1, position_last.max(1) as u64) as i64;
        let begun = Instant::now();
        std::hint::black_box(fold_until(store, position).await?);
        latencies.record(begun.elapsed());
    }
    let mut as_of = Figure::throughput(
        "as_of",
        "projections at a random position (fold from the log)",
        backend,
        1,
        latencies,
        started.elapsed(),
    );
    as_of.note = format!("{position_last} events in the log");
    figures.push(as_of);
    Ok(figures)
}

/// Records `settings.events` events of the seeded workload, in atomic groups.
pub(crate) async fn load(
    store: &Store,
    settings: &ReadsideSettings,
    progress: &dyn Fn(&str),
) -> anyhow::Result<()> {
    let mut decider = Decider::default();
    let mut workload = Workload::new(settings.seed, 0);
    let mut recorded = 0;
    while recorded < settings.events {
        let mut group = Vec::with_capacity(LOAD_GROUP_COMMANDS);
        while group.len() < LOAD_GROUP_COMMANDS && recorded + group.len() < settings.events {
            let item = workload.next().context("the workload never ends")?;
            let (stream, decided) = decider.decide(&item.command)?;
            // Later commands of the group build on earlier ones' states.
            decider.recorded(decided);
            group.push(AppendRequest {
                metadata: item.metadata,
                streams: vec![stream],
            });
        }
        recorded += group.len();
        store.append_group(group).await?;
        progress(&format!(
            "loading the ledger: {recorded} / {} events",
            settings.events
        ));
    }
    Ok(())
}

/// Reads every event and deserialises its payload into its domain event, folding nothing.
async fn read_and_decode(store: &Store, position_last: i64) -> anyhow::Result<u64> {
    let mut from = 1;
    let mut decoded = 0u64;
    while from <= position_last {
        let page = store.read_all(from, PAGE_EVENTS).await?;
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        for event in &page {
            decode(event)?;
            decoded += 1;
        }
    }
    Ok(decoded)
}

fn decode(event: &RecordedEvent) -> anyhow::Result<()> {
    match event.stream_type.as_str() {
        PorteurEvent::STREAM_TYPE => {
            std::hint::black_box(event.decode::<PorteurEvent>()?);
        }
        DossierEvent::STREAM_TYPE => {
            std::hint::black_box(event.decode::<DossierEvent>()?);
        }
        _ => {
            std::hint::black_box(serde_json::from_str::<serde_json::Value>(&event.payload)?);
        }
    }
    Ok(())
}

/// The projections as of `position`, folded from the log page by page.
pub(crate) async fn fold_until(store: &Store, position: i64) -> anyhow::Result<Projections> {
    let mut projections = Projections::default();
    fold_into(store, &mut projections, position).await?;
    Ok(projections)
}

/// Folds the events after `projections.position` up to `position` into `projections`.
async fn fold_into(
    store: &Store,
    projections: &mut Projections,
    position: i64,
) -> anyhow::Result<()> {
    let mut from = projections.position + 1;
    while from <= position {
        let limit = PAGE_EVENTS.min(position - from + 1);
        let page = store.read_all(from, limit).await?;
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        for event in &page {
            projections.apply(event)?;
        }
    }
    Ok(())
}

fn rate_figure(system: &str, backend: &str, events: u64, elapsed: Duration) -> Figure {
    let seconds = elapsed.as_secs_f64();
    Figure {
        bench: "replay".into(),
        system: system.into(),
        backend: backend.into(),
        clients: 1,
        operations: events,
        seconds,
        operations_per_second: if seconds > 0.0 {
            events as f64 / seconds
        } else {
            0.0
        },
        latency_ms_p50: 0.0,
        latency_ms_p99: 0.0,
        value: None,
        note: String::new(),
    }
}

/// Peak resident set size of this process (VmHWM), in MiB.
pub(crate) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}
