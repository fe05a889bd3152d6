//! As-of latency before and after projection snapshots, on a ledger of N events (the seeded
//! workload):
//!
//! - **before**: the projections as of a random past position folded from position 1;
//! - **catch-up**: the live read model folding the whole log while saving a snapshot every
//!   `--every` events in the background;
//! - **open**: a new ledger on the same store, started from the latest snapshot;
//! - **after**: `Ledger::projections_as_of_shared` at random past positions, then the signatory
//!   report of a random exercice, from the nearest stored snapshot (a ledger without
//!   checkpoints), then from the nearest in-memory checkpoint (the ledger that folded the log);
//!   each question is asked once, so the answers kept in memory are bypassed.

use std::time::{Duration, Instant};

use std::sync::Arc;

use engagements_app::checkpoints::{Checkpoints, CHECKPOINTS_KEPT_DEFAULT};
use engagements_app::snapshots::{SnapshotPolicy, Snapshots};
use engagements_app::{Ledger, ReadModel};
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
    /// Questions answered from snapshots, and as many from in-memory checkpoints.
    pub after_samples: usize,
    /// In-memory checkpoint distance, in events.
    pub checkpoint_every: i64,
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
    let loading = ReadsideSettings::load_only(settings.events, settings.backend, settings.seed);
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

    // First the live read model alone (no snapshot saved), so that its peak memory is that of
    // the projections and the checkpoints, not of snapshots being encoded.
    progress("catch-up: folding the log, keeping checkpoints in memory");
    let started = Instant::now();
    let mut read_model = ReadModel::with_snapshots(
        Arc::new(Snapshots::new(store.clone(), SnapshotPolicy::NEVER)),
        store.clone(),
    );
    read_model.set_checkpoints(Checkpoints::new(
        settings.checkpoint_every,
        CHECKPOINTS_KEPT_DEFAULT,
    ));
    let live = Ledger::from_read_model(store.clone(), read_model).await?;
    let folded = started.elapsed();
    let (checkpoints, spacing) = live.read_model().checkpoints().extent();
    let mut memory = single(
        "memory",
        "peak RSS, projections + in-memory checkpoints",
        backend,
        Duration::ZERO,
        format!("{position_last} events; {checkpoints} checkpoints, one every {spacing} events"),
    );
    memory.value = crate::readside::peak_rss_mib();
    figures.push(memory);
    figures.push(single(
        "catch_up",
        "fold of the whole log, report totals and checkpoints kept",
        backend,
        folded,
        format!("{position_last} events; {checkpoints} checkpoints, one every {spacing} events"),
    ));

    progress("catch-up: folding the log, saving snapshots in the background");
    let policy = SnapshotPolicy::every(settings.every);
    let started = Instant::now();
    let mut read_model = ReadModel::with_snapshots(
        Arc::new(Snapshots::new(store.clone(), policy)),
        store.clone(),
    );
    read_model.set_checkpoints(Checkpoints::new(0, CHECKPOINTS_KEPT_DEFAULT));
    let saving = Ledger::from_read_model(store.clone(), read_model).await?;
    let folded = started.elapsed();
    saving.read_model().snapshots_saved().await;
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
    drop(saving);

    progress("open: a new ledger from the latest snapshot");
    let started = Instant::now();
    let mut read_model = ReadModel::with_snapshots(
        Arc::new(Snapshots::new(store.clone(), SnapshotPolicy::NEVER)),
        store.clone(),
    );
    read_model.set_checkpoints(Checkpoints::new(0, CHECKPOINTS_KEPT_DEFAULT));
    let opened = Ledger::from_read_model(store.clone(), read_model).await?;
    let opened_in = started.elapsed();
    figures.push(single(
        "open",
        "new ledger, from the latest snapshot",
        backend,
        opened_in,
        note.clone(),
    ));
    // Cold start as `serve` has it: open, then the first report (current state).
    {
        let projections = opened.projections().await?;
        let report = projections
            .subsidy
            .signatory_table(Some(2026), &projections.referential);
        std::hint::black_box(report);
    }
    figures.push(single(
        "cold_start",
        "new ledger from the latest snapshot, then its first signatory report",
        backend,
        started.elapsed(),
        format!(
            "{note}; opening {:.0} ms of it",
            opened_in.as_secs_f64() * 1000.0
        ),
    ));

    // A restart as `serve` has it: a new ledger from the latest snapshot, then the moments
    // before that snapshot folded again from position 1 into in-memory checkpoints (in the
    // background in `serve`; timed here).
    progress(
        "restart: a new ledger from the latest snapshot, then its history folded into checkpoints",
    );
    let mut read_model = ReadModel::with_snapshots(
        Arc::new(Snapshots::new(store.clone(), SnapshotPolicy::NEVER)),
        store.clone(),
    );
    read_model.set_checkpoints(Checkpoints::new(
        settings.checkpoint_every,
        CHECKPOINTS_KEPT_DEFAULT,
    ));
    let restarted = Ledger::from_read_model(store.clone(), read_model).await?;
    let started = Instant::now();
    let history = restarted.read_model().fold_history(None).await?;
    let (restarted_checkpoints, restarted_spacing) = restarted.read_model().checkpoints().extent();
    figures.push(single(
        "history",
        "fold from position 1 to the snapshot started from, checkpoints kept (background after a restart)",
        backend,
        started.elapsed(),
        format!("{history} events; {restarted_checkpoints} checkpoints, one every {restarted_spacing} events"),
    ));

    // Each question: the projections as of a random position, then the signatory report of a
    // random exercice from them (what an auditor asks). Each question is asked once, so the
    // answers kept in memory are bypassed.
    let systems = [
        (
            &opened,
            "random position + signatory report, from the nearest stored snapshot",
            format!("{note}; no checkpoint in memory"),
        ),
        (
            &live,
            "random position + signatory report, from the nearest in-memory checkpoint",
            format!("{position_last} events, a checkpoint every {spacing} events"),
        ),
        (
            &restarted,
            "random position + signatory report, after a restart, from the checkpoints of the history fold",
            format!("{position_last} events, a checkpoint every {restarted_spacing} events"),
        ),
        (
            &restarted,
            "random record time + signatory report, after a restart, from the checkpoints of the history fold",
            format!("{position_last} events, a checkpoint every {restarted_spacing} events; the record time of a random event"),
        ),
    ];
    for (ledger, system, note) in systems {
        let by_record_time = system.starts_with("random record time");
        progress(&format!("as-of: {system}"));
        let mut latencies = Latencies::default();
        let started = Instant::now();
        for _ in 0..settings.after_samples {
            let position = rng.between(1, position_last.max(1) as u64) as i64;
            let year = 2024 + rng.between(0, 6) as i32;
            let as_of = if by_record_time {
                let event = store.read_all(position, 1).await?;
                AsOf {
                    recorded_at: event.first().map(|e| e.recorded_at),
                    ..AsOf::default()
                }
            } else {
                AsOf {
                    position: Some(position),
                    ..AsOf::default()
                }
            };
            let begun = Instant::now();
            let projections = ledger.projections_as_of_shared(&as_of).await?;
            let report = projections
                .subsidy
                .signatory_table(Some(year), &projections.referential);
            std::hint::black_box(report);
            latencies.record(begun.elapsed());
        }
        let mut figure =
            Figure::throughput("as_of", system, backend, 1, latencies, started.elapsed());
        figure.note = note;
        figures.push(figure);
    }
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
