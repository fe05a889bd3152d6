//! As-of latency before and after projection snapshots, on a ledger of N events (the seeded
//! workload):
//!
//! - **before**: the projections as of a random past position folded from position 1;
//! - **catch-up**: the live read model folding the whole log while saving a snapshot every
//!   `--every` events in the background;
//! - **open**: a new ledger on the same store, started from the latest snapshot;
//! - **after**: `Ledger::projections_as_of` at random past positions, and at random effective
//!   dates, each from the nearest usable snapshot (the answers kept in memory are bypassed by
//!   asking each question once).

use std::time::{Duration, Instant};

use engagements_app::snapshots::SnapshotPolicy;
use engagements_app::Ledger;
use engagements_projections::AsOf;
use engagements_store::Store;

use crate::databases::{BackendKind, Databases};
use crate::readside::{fold_until, load, ReadsideSettings};
use crate::stats::{Figure, Latencies};
use crate::workload::Rng;

/// Settings of the as-of run.
#[derive(Debug, Clone)]
pub struct AsOfSettings {
    pub events: usize,
    pub backend: BackendKind,
    /// Snapshot distance, in events.
    pub every: i64,
    /// Questions folded from position 1 (slow: a few).
    pub before_samples: usize,
    /// Questions answered from snapshots.
    pub after_samples: usize,
    pub seed: u64,
}

/// Loads the ledger, then measures as-of before and after snapshots.
pub async fn run(
    settings: &AsOfSettings,
    databases: &Databases,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<Figure>> {
    let db = databases.fresh(settings.backend, "asof").await?;
    let store = Store::open(&db.url).await?;
    let result = measure(&store, settings, progress).await;
    store.shutdown().await;
    databases.remove(&db).await?;
    result
}

async fn measure(
    store: &Store,
    settings: &AsOfSettings,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<Figure>> {
    let backend = settings.backend.name();
    let loading = ReadsideSettings {
        events: settings.events,
        backend: settings.backend,
        as_of_samples: 0,
        report_samples: 0,
        seed: settings.seed,
    };
    load(store, &loading, progress).await?;
    let position_last = store.head().await?.map_or(0, |h| h.position);
    let note = format!(
        "{position_last} events, a snapshot every {} events",
        settings.every
    );
    let mut rng = Rng::new(settings.seed);
    let mut figures = Vec::new();

    progress("as-of before: folded from position 1");
    let mut latencies = Latencies::default();
    let started = Instant::now();
    for _ in 0..settings.before_samples {
        let position = rng.between(1, position_last.max(1) as u64) as i64;
        let begun = Instant::now();
        std::hint::black_box(fold_until(store, position).await?);
        latencies.record(begun.elapsed());
    }
    let mut before = Figure::throughput(
        "as_of",
        "random position, folded from position 1 (before)",
        backend,
        1,
        latencies,
        started.elapsed(),
    );
    before.note = note.clone();
    figures.push(before);

    progress("catch-up: folding the log, saving snapshots in the background");
    let policy = SnapshotPolicy {
        every: settings.every,
    };
    let started = Instant::now();
    let ledger = Ledger::from_store_with(store.clone(), policy).await?;
    let folded = started.elapsed();
    ledger.read_model().snapshots_saved().await;
    figures.push(single(
        "catch_up",
        "fold of the whole log, snapshots saved in the background",
        backend,
        folded,
        format!(
            "{note}; every snapshot stored after {:.1} s",
            started.elapsed().as_secs_f64()
        ),
    ));
    drop(ledger);

    progress("open: a new ledger from the latest snapshot");
    let started = Instant::now();
    let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER).await?;
    figures.push(single(
        "open",
        "new ledger, from the latest snapshot",
        backend,
        started.elapsed(),
        note.clone(),
    ));

    progress("as-of after: random positions, from snapshots");
    let mut latencies = Latencies::default();
    let started = Instant::now();
    for _ in 0..settings.after_samples {
        let position = rng.between(1, position_last.max(1) as u64) as i64;
        let as_of = AsOf {
            position: Some(position),
            ..AsOf::default()
        };
        let begun = Instant::now();
        std::hint::black_box(ledger.projections_as_of_shared(&as_of).await?);
        latencies.record(begun.elapsed());
    }
    let mut after = Figure::throughput(
        "as_of",
        "random position, from the nearest snapshot (after)",
        backend,
        1,
        latencies,
        started.elapsed(),
    );
    after.note = note.clone();
    figures.push(after);
    Ok(figures)
}

/// A figure of one timed operation.
fn single(bench: &str, system: &str, backend: &str, elapsed: Duration, note: String) -> Figure {
    let mut latencies = Latencies::default();
    latencies.record(elapsed);
    let mut figure = Figure::throughput(bench, system, backend, 1, latencies, elapsed);
    figure.note = note;
    figure
}
