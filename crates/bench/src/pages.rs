//! The pages a comité member and an auditor open, over HTTP, one request at a time, on the demo
//! ledger (`--events 0`) or on a ledger of N events (the seeded workload):
//!
//! - the dashboard **now** (the baseline of this run: the live read model);
//! - the dashboard with **facts in force on** a random date, first load of each date, then the
//!   same page loaded again at once;
//! - the dashboard **after event n°** for distinct random positions (each asked once);
//! - the **audit page**, loaded again and again (its chain check is incremental).
//!
//! The server is `engagements serve`'s (`engagements_server::serve`); the caller is an admin
//! token sent as `Authorization: Bearer`, as a browser's session would be.

use std::time::{Duration, Instant};

use anyhow::Context;
use engagements_app::snapshots::SnapshotPolicy;
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_server::ServerConfig;
use engagements_store::Store;
use tokio::io::BufReader;
use tokio::net::TcpStream;

use crate::databases::{BackendKind, Databases};
use crate::http::{get, Served};
use crate::readside::{self, ReadsideSettings};
use crate::stats::{Figure, Latencies};
use crate::workload::Rng;

/// Settings of the pages run.
#[derive(Debug, Clone)]
pub struct PagesSettings {
    /// Events of the seeded workload; 0 for the demo ledger (`engagements demo`).
    pub events: usize,
    pub backend: BackendKind,
    /// Distinct past positions asked (each once).
    pub positions: usize,
    /// Distinct effective dates asked (each once, then once again).
    pub dates: usize,
    /// Loads of the dashboard now and of the audit page.
    pub repeats: usize,
    pub seed: u64,
}

/// Records the ledger, serves it on a local port, then loads each page.
pub async fn run(
    settings: &PagesSettings,
    databases: &Databases,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<Figure>> {
    let db = databases.fresh(settings.backend, "pages").await?;
    let store = Store::open(&db.url).await?;
    let ledger_name = if settings.events == 0 {
        progress("pages: recording the demo ledger");
        record_demo(&store).await?;
        "the demo ledger".to_string()
    } else {
        let loading = ReadsideSettings::load_only(settings.events, settings.backend, settings.seed);
        readside::load(&store, &loading, progress).await?;
        format!("{} events of the seeded workload", settings.events)
    };
    let head = store.head().await?.map_or(0, |h| h.position);
    let token = store
        .create_token("Banc d'essai (fictif)", "cabbalr", "admin")
        .await?
        .secret;
    progress("pages: folding the ledger into the server's read model");
    let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER).await?;
    let server = Served::start(ledger, ServerConfig::default()).await?;
    let address = server.address;
    let mut connection = BufReader::new(TcpStream::connect(address).await?);
    let auth = format!("Authorization: Bearer {token}\r\n");
    let mut rng = Rng::new(settings.seed);
    let backend = settings.backend.name();
    let note = format!("{ledger_name}, {head} events");
    let mut figures = Vec::new();
    let mut measure = |system: &str, latencies: Latencies, elapsed: Duration, note: String| {
        let mut figure = Figure::throughput("pages", system, backend, 1, latencies, elapsed);
        figure.note = note;
        figures.push(figure);
    };

    // The first load of each page warms the server (tables built once per position).
    for path in ["/tableau-de-bord?exercice=2025", "/audit"] {
        get(&mut connection, path, &auth).await?;
    }

    progress("pages: the dashboard now");
    let (latencies, elapsed) = load_each(
        &mut connection,
        &auth,
        (0..settings.repeats).map(|i| format!("/tableau-de-bord?exercice={}", 2024 + i % 3)),
    )
    .await?;
    measure(
        "dashboard now (live read model)",
        latencies,
        elapsed,
        note.clone(),
    );

    progress("pages: the dashboard with facts in force on random dates");
    let first = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).context("a date")?;
    let dates: Vec<String> = (0..settings.dates)
        .map(|_| {
            let day = first + chrono::Days::new(rng.between(0, 3 * 365));
            day.format("%Y-%m-%d").to_string()
        })
        .collect();
    // Each date loaded, then loaded again at once (a reload, or the next person of the comité).
    let mut first_loads = Latencies::default();
    let mut reloads = Latencies::default();
    let started = Instant::now();
    for date in &dates {
        let path = format!("/tableau-de-bord?exercice=2025&effective_on={date}");
        for latencies in [&mut first_loads, &mut reloads] {
            let begun = Instant::now();
            get(&mut connection, &path, &auth).await?;
            latencies.record(begun.elapsed());
        }
    }
    let elapsed = started.elapsed();
    measure(
        "dashboard, facts in force on a random date: first load of each date",
        first_loads,
        elapsed,
        format!("{note}; {} dates in 2024-2026", dates.len()),
    );
    measure(
        "dashboard, facts in force on a random date: the same page loaded again",
        reloads,
        elapsed,
        format!(
            "{note}; each of the {} dates reloaded right after its first load",
            dates.len()
        ),
    );

    progress("pages: the dashboard after distinct past positions");
    let mut positions: Vec<i64> = Vec::new();
    while positions.len() < settings.positions.min(head.max(0) as usize) {
        let position = rng.between(1, head.max(1) as u64) as i64;
        if !positions.contains(&position) {
            positions.push(position);
        }
    }
    let (latencies, elapsed) = load_each(
        &mut connection,
        &auth,
        positions
            .iter()
            .map(|p| format!("/tableau-de-bord?exercice=2025&at_position={p}")),
    )
    .await?;
    measure(
        "dashboard after event n°, distinct random positions",
        latencies,
        elapsed,
        format!("{note}; {} distinct positions, each once", positions.len()),
    );

    progress("pages: the audit page");
    let (latencies, elapsed) = load_each(
        &mut connection,
        &auth,
        (0..settings.repeats).map(|_| "/audit".to_string()),
    )
    .await?;
    measure(
        "audit page (chain checked from the last verified position)",
        latencies,
        elapsed,
        note.clone(),
    );

    drop(connection);
    server.stop().await?;
    store.shutdown().await;
    databases.remove(&db).await?;
    Ok(figures)
}

/// Loads each path in turn on one kept-alive connection; their latencies and the whole time.
async fn load_each(
    connection: &mut BufReader<TcpStream>,
    auth: &str,
    paths: impl Iterator<Item = String>,
) -> anyhow::Result<(Latencies, Duration)> {
    let mut latencies = Latencies::default();
    let started = Instant::now();
    for path in paths {
        let begun = Instant::now();
        get(connection, &path, auth).await?;
        latencies.record(begun.elapsed());
    }
    Ok((latencies, started.elapsed()))
}

/// The ledger of `engagements demo`: the referential, dossiers of three exercices, the
/// signatories' commitments and the bailleurs' TFPB.
async fn record_demo(store: &Store) -> anyhow::Result<()> {
    let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER).await?;
    let defaults = MetaDefaults {
        actor: Actor::new("Équipe démo (fictive)", "cabbalr"),
        source: Source::Demo,
        today: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).context("a date")?,
    };
    let config = engagements_app::demo::DemoConfig::default();
    engagements_app::demo::run(&ledger, &config, &defaults, |_, _| {}).await?;
    engagements_app::commitments_seed::record_initial_commitments(&ledger, None, &defaults).await?;
    engagements_app::demo_tfpb::record_tfpb_demo(&ledger, config.seed, &defaults).await?;
    Ok(())
}
