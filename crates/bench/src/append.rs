//! The append benchmark: commands per second and latency with N concurrent clients, for the
//! ledger's store and, in the same run, for its baselines on the same commands:
//!
//! - **ledger**: each client decides its command with the domain aggregate over its cached state
//!   and calls `Store::append` (group commit, hash chain, idempotency, expected versions);
//! - **esrs PgStore**: esrs 0.18's `PgStore` driven by `AggregateManager` (load the aggregate,
//!   `handle_command`, which persists), one table per aggregate — PostgreSQL only;
//! - **group commit INSERT**: the fair limit for the ledger's writer (`crate::group_commit`):
//!   the same clients, each waiting for its own durable acknowledgement, their rows gathered by
//!   one writer task into one multi-row INSERT per transaction, without lookup or hash;
//! - **raw INSERT ×100**: the same rows written with one multi-row INSERT of 100 rows per
//!   transaction into the same `events` table, without hash chain, checks or lookups: what the
//!   database and its disk can do, the ceiling for any design.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use engagements_domain::dossier::Dossier;
use engagements_domain::porteur::Porteur;
use engagements_store::{EventRow, Limits, Store};
use esrs::manager::AggregateManager;
use esrs::store::postgres::{PgStore, PgStoreBuilder};
use esrs::AggregateState;
use sqlx::QueryBuilder;

use crate::databases::{BackendKind, Databases, FreshDb};
use crate::decider::Decider;
use crate::stats::{Figure, Latencies};
use crate::workload::{WorkCommand, Workload};

/// Rows per transaction of the raw INSERT baseline.
pub const RAW_ROWS_PER_TRANSACTION: usize = 100;

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum System {
    Ledger,
    /// The ledger with the one-transaction-per-batch writer (before the pipeline).
    #[value(name = "serial")]
    LedgerSerial,
    Esrs,
    /// One writer task, one multi-row INSERT per transaction of what the clients sent.
    #[value(name = "group")]
    GroupCommit,
    Raw,
}

impl System {
    pub fn label(self) -> &'static str {
        match self {
            System::Ledger => "ledger (hash chain)",
            System::LedgerSerial => "ledger, serial writer",
            System::Esrs => "esrs 0.18 PgStore",
            System::GroupCommit => "group commit INSERT",
            System::Raw => "raw INSERT x100",
        }
    }
}

/// Settings of one append run.
#[derive(Debug, Clone)]
pub struct AppendSettings {
    pub clients: Vec<usize>,
    pub backends: Vec<BackendKind>,
    pub seconds: f64,
    pub seed: u64,
    /// The systems measured (each backend measures those it has).
    pub systems: Vec<System>,
    /// Stop each client of the ledger and of the group commit baseline after this many
    /// commands (a fixed amount of work, for instruction counts); the others ignore it.
    pub commands_per_client: Option<usize>,
}

/// Runs every (backend, clients, system) combination, systems side by side for each load.
pub async fn run(
    settings: &AppendSettings,
    databases: &Databases,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for &backend in &settings.backends {
        for &clients in &settings.clients {
            let systems: &[System] = match backend {
                BackendKind::Sqlite => &[System::Ledger, System::GroupCommit, System::Raw],
                BackendKind::Postgres => &[
                    System::Ledger,
                    System::LedgerSerial,
                    System::Esrs,
                    System::GroupCommit,
                    System::Raw,
                ],
            };
            for &system in systems.iter().filter(|s| settings.systems.contains(s)) {
                progress(&format!(
                    "append: {} {} clients {}",
                    backend.name(),
                    clients,
                    system.label()
                ));
                let db = databases.fresh(backend, "append").await?;
                let figure = measure(system, &db, clients, settings).await;
                databases.remove(&db).await?;
                figures.push(figure?);
            }
        }
    }
    Ok(figures)
}

async fn measure(
    system: System,
    db: &FreshDb,
    clients: usize,
    settings: &AppendSettings,
) -> anyhow::Result<Figure> {
    let duration = Duration::from_secs_f64(settings.seconds);
    let limit = settings.commands_per_client;
    let (latencies, elapsed) = match system {
        System::Ledger => run_ledger(db, clients, settings.seed, duration, true, limit).await?,
        System::LedgerSerial => {
            run_ledger(db, clients, settings.seed, duration, false, limit).await?
        }
        System::Esrs => run_esrs(db, clients, settings.seed, duration).await?,
        System::GroupCommit => {
            crate::group_commit::run(db, clients, settings.seed, duration, limit).await?
        }
        System::Raw => run_raw(db, clients, settings.seed, duration).await?,
    };
    Ok(Figure::throughput(
        "append",
        system.label(),
        db.kind.name(),
        clients,
        latencies,
        elapsed,
    ))
}

/// Starts `clients` tasks running `client` until the deadline; returns their merged latencies
/// and the wall time from start to the last client's end.
pub(crate) async fn drive<F, Fut>(
    clients: usize,
    duration: Duration,
    client: F,
) -> anyhow::Result<(Latencies, Duration)>
where
    F: Fn(usize, Instant) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Latencies>> + Send + 'static,
{
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|index| tokio::spawn(client(index, deadline)))
        .collect();
    let mut merged = Latencies::default();
    for task in tasks {
        merged.merge(task.await.context("a client panicked")??);
    }
    Ok((merged, started.elapsed()))
}

async fn run_ledger(
    db: &FreshDb,
    clients: usize,
    seed: u64,
    duration: Duration,
    pipeline: bool,
    commands_per_client: Option<usize>,
) -> anyhow::Result<(Latencies, Duration)> {
    let limits = Limits {
        pipeline,
        ..Limits::default()
    };
    let store = Store::open_with(&db.url, limits).await?;
    let result = drive(clients, duration, |index, deadline| {
        ledger_client(
            store.clone(),
            seed,
            index as u64,
            deadline,
            commands_per_client.unwrap_or(usize::MAX),
        )
    })
    .await;
    store.shutdown().await;
    result
}

/// One client of the ledger: decides each command over its cached states and appends it,
/// waiting for the acknowledgement before the next, until the deadline or `commands_max`
/// commands.
pub(crate) async fn ledger_client(
    store: Store,
    seed: u64,
    client: u64,
    deadline: Instant,
    commands_max: usize,
) -> anyhow::Result<Latencies> {
    let mut decider = Decider::default();
    let mut latencies = Latencies::default();
    for item in Workload::new(seed, client).take(commands_max) {
        if Instant::now() >= deadline {
            break;
        }
        let started = Instant::now();
        decider.append(&store, item).await?;
        latencies.record(started.elapsed());
    }
    Ok(latencies)
}

async fn run_esrs(
    db: &FreshDb,
    clients: usize,
    seed: u64,
    duration: Duration,
) -> anyhow::Result<(Latencies, Duration)> {
    // Two connections per client at most (load, then persist's transaction), under the server's
    // connection limit.
    let pool = db.pg_pool((clients as u32 * 2 + 2).min(80)).await?;
    let porteurs: PgStore<Porteur> = PgStoreBuilder::new(pool.clone()).try_build().await?;
    let dossiers: PgStore<Dossier> = PgStoreBuilder::new(pool.clone()).try_build().await?;
    let result = drive(clients, duration, |index, deadline| {
        let porteurs = AggregateManager::new(porteurs.clone());
        let dossiers = AggregateManager::new(dossiers.clone());
        async move {
            let mut latencies = Latencies::default();
            for item in Workload::new(seed, index as u64) {
                if Instant::now() >= deadline {
                    break;
                }
                let started = Instant::now();
                match item.command {
                    WorkCommand::Porteur(id, command) => {
                        let state = porteurs
                            .load(id.0)
                            .await?
                            .unwrap_or_else(|| AggregateState::with_id(id.0));
                        porteurs
                            .handle_command(state, command)
                            .await?
                            .map_err(|e| anyhow!("esrs refused a porteur command: {e}"))?;
                    }
                    WorkCommand::Dossier(id, command) => {
                        let state = dossiers
                            .load(id.0)
                            .await?
                            .unwrap_or_else(|| AggregateState::with_id(id.0));
                        dossiers
                            .handle_command(state, command)
                            .await?
                            .map_err(|e| anyhow!("esrs refused a dossier command: {e}"))?;
                    }
                }
                latencies.record(started.elapsed());
            }
            Ok(latencies)
        }
    })
    .await;
    pool.close().await;
    result
}

/// The raw pool of either backend.
#[derive(Clone)]
enum RawPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

macro_rules! insert_rows {
    ($db:ty, $pool:expr, $begin:expr, $rows:expr) => {{
        let mut tx = $pool.begin_with($begin).await?;
        let mut query = QueryBuilder::<$db>::new(
            "INSERT INTO events (position, event_id, stream_type, stream_id, version, event_type, \
             schema_version, command_id, payload, metadata, recorded_at, prev_hash, hash) ",
        );
        query.push_values($rows, |mut values, row| {
            values
                .push_bind(row.position)
                .push_bind(&row.event_id)
                .push_bind(&row.stream_type)
                .push_bind(&row.stream_id)
                .push_bind(row.version)
                .push_bind(&row.event_type)
                .push_bind(row.schema_version)
                .push_bind(&row.command_id)
                .push_bind(&row.payload)
                .push_bind(&row.metadata)
                .push_bind(row.recorded_at)
                .push_bind(&row.prev_hash)
                .push_bind(&row.hash);
        });
        query.build().execute(&mut *tx).await?;
        tx.commit().await?;
    }};
}

impl RawPool {
    async fn insert(&self, rows: &[EventRow]) -> anyhow::Result<()> {
        match self {
            RawPool::Sqlite(pool) => insert_rows!(sqlx::Sqlite, pool, "BEGIN IMMEDIATE", rows),
            RawPool::Postgres(pool) => {
                insert_rows!(sqlx::Postgres, pool, "BEGIN", rows)
            }
        }
        Ok(())
    }

    async fn close(&self) {
        match self {
            RawPool::Sqlite(pool) => pool.close().await,
            RawPool::Postgres(pool) => pool.close().await,
        }
    }
}

async fn run_raw(
    db: &FreshDb,
    clients: usize,
    seed: u64,
    duration: Duration,
) -> anyhow::Result<(Latencies, Duration)> {
    // The same table as the ledger's, created by the store's own migrations.
    Store::open(&db.url).await?.shutdown().await;
    let pool = match db.kind {
        BackendKind::Sqlite => RawPool::Sqlite(db.sqlite_pool(8).await?),
        BackendKind::Postgres => RawPool::Postgres(db.pg_pool(clients.min(80) as u32).await?),
    };
    let next_position = Arc::new(AtomicI64::new(1));
    let result = drive(clients, duration, |index, deadline| {
        let pool = pool.clone();
        let next_position = next_position.clone();
        async move {
            let mut decider = Decider::default();
            let mut workload = Workload::new(seed, index as u64);
            let mut latencies = Latencies::default();
            let mut rows = Vec::with_capacity(RAW_ROWS_PER_TRANSACTION);
            while Instant::now() < deadline {
                let started = Instant::now();
                rows.clear();
                while rows.len() < RAW_ROWS_PER_TRANSACTION {
                    let item = workload.next().context("the workload never ends")?;
                    let (stream, decided) = decider.decide(&item.command)?;
                    let metadata = serde_json::to_string(&serde_json::to_value(&item.metadata)?)?;
                    let expected_version = match stream.expected {
                        engagements_store::ExpectedVersion::Exact(v) => v,
                        _ => 0,
                    };
                    for (offset, event) in stream.events.iter().enumerate() {
                        rows.push(EventRow {
                            position: 0, // assigned below, once the batch's size is known
                            event_id: uuid::Uuid::now_v7().to_string(),
                            stream_type: stream.stream_type.clone(),
                            stream_id: stream.stream_id.clone(),
                            version: expected_version + 1 + offset as i64,
                            event_type: event.event_type.clone(),
                            schema_version: event.schema_version,
                            command_id: item.metadata.command_id.to_string(),
                            payload: event.payload.clone(),
                            metadata: metadata.clone(),
                            recorded_at: chrono::Utc::now().timestamp_micros(),
                            prev_hash: engagements_store::hash::GENESIS_HASH.to_string(),
                            hash: engagements_store::hash::GENESIS_HASH.to_string(),
                        });
                    }
                    decider.recorded(decided);
                }
                let first = next_position.fetch_add(rows.len() as i64, Ordering::Relaxed);
                for (offset, row) in rows.iter_mut().enumerate() {
                    row.position = first + offset as i64;
                }
                pool.insert(&rows).await?;
                latencies.record_many(started.elapsed(), rows.len());
            }
            Ok(latencies)
        }
    })
    .await;
    pool.close().await;
    result
}
