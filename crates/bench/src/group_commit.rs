//! The fair limit for the ledger's writes: what its writer must do at its best, with nothing of
//! the ledger's.
//!
//! The same clients as the ledger's (each decides its command with the domain over its cached
//! states, serialises the event and the metadata, sends the command and waits for its own
//! durable acknowledgement before the next), and **one writer task** that gathers what is
//! waiting (up to the ledger's batch limit) into **one multi-row INSERT per transaction** into
//! the same `events` table, then answers each client. No lookup (command ids, stream versions,
//! chain head), no hash, no checks: positions come from a counter, versions from the client.
//!
//! - PostgreSQL: one autocommitted `INSERT … SELECT FROM UNNEST(arrays)` per batch (one
//!   prepared statement for any batch size, one round trip), on a connection the writer keeps;
//! - SQLite: `BEGIN IMMEDIATE`, a multi-row `INSERT … VALUES` (chunks of 1,000 rows), `COMMIT`,
//!   on a connection the writer keeps, WAL with `synchronous=FULL` as the ledger.

use std::time::{Duration, Instant};

use anyhow::Context;
use engagements_store::{EventRow, ExpectedVersion, Store};
use sqlx::pool::PoolConnection;
use sqlx::{Postgres, QueryBuilder, Sqlite};
use tokio::sync::{mpsc, oneshot};

use crate::append::drive;
use crate::databases::{BackendKind, FreshDb};
use crate::decider::Decider;
use crate::stats::Latencies;
use crate::workload::Workload;

/// Commands gathered in one transaction at most: the ledger's own limit
/// (`Limits::batch_commands_max`).
const BATCH_COMMANDS_MAX: usize = 512;
/// Rows per INSERT statement on SQLite (the ledger's chunk).
const SQLITE_CHUNK_ROWS: usize = 1000;

const PG_INSERT: &str = "INSERT INTO events (position, event_id, stream_type, stream_id, version, \
    event_type, schema_version, command_id, payload, metadata, recorded_at, prev_hash, hash) \
    SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], \
    $6::TEXT[], $7::INTEGER[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::BIGINT[], \
    $12::TEXT[], $13::TEXT[])";

/// One client's command for the writer: its rows (position assigned by the writer).
struct Command {
    rows: Vec<EventRow>,
    reply: oneshot::Sender<Result<(), String>>,
}

/// The writer's own connection.
enum Connection {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Connection {
    async fn insert(&mut self, rows: &[EventRow]) -> Result<(), sqlx::Error> {
        match self {
            Connection::Sqlite(connection) => {
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut **connection)
                    .await?;
                for chunk in rows.chunks(SQLITE_CHUNK_ROWS) {
                    let mut query = QueryBuilder::<Sqlite>::new(
                        "INSERT INTO events (position, event_id, stream_type, stream_id, \
                         version, event_type, schema_version, command_id, payload, metadata, \
                         recorded_at, prev_hash, hash) ",
                    );
                    query.push_values(chunk, |mut values, row| {
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
                    if let Err(error) = query.build().execute(&mut **connection).await {
                        let _ = sqlx::query("ROLLBACK").execute(&mut **connection).await;
                        return Err(error);
                    }
                }
                sqlx::query("COMMIT").execute(&mut **connection).await?;
                Ok(())
            }
            Connection::Postgres(connection) => {
                let column = |f: fn(&EventRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
                sqlx::query(PG_INSERT)
                    .bind(rows.iter().map(|r| r.position).collect::<Vec<_>>())
                    .bind(column(|r| r.event_id.clone()))
                    .bind(column(|r| r.stream_type.clone()))
                    .bind(column(|r| r.stream_id.clone()))
                    .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
                    .bind(column(|r| r.event_type.clone()))
                    .bind(rows.iter().map(|r| r.schema_version).collect::<Vec<_>>())
                    .bind(column(|r| r.command_id.clone()))
                    .bind(column(|r| r.payload.clone()))
                    .bind(column(|r| r.metadata.clone()))
                    .bind(rows.iter().map(|r| r.recorded_at).collect::<Vec<_>>())
                    .bind(column(|r| r.prev_hash.clone()))
                    .bind(column(|r| r.hash.clone()))
                    .execute(&mut **connection)
                    .await?;
                Ok(())
            }
        }
    }
}

/// Gathers what is waiting, writes it in one transaction, answers, until every client is done.
async fn writer(mut connection: Connection, mut receiver: mpsc::Receiver<Command>) {
    let mut position = 0_i64;
    let mut batch: Vec<Command> = Vec::with_capacity(BATCH_COMMANDS_MAX);
    let mut rows: Vec<EventRow> = Vec::new();
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        while batch.len() < BATCH_COMMANDS_MAX {
            match receiver.try_recv() {
                Ok(command) => batch.push(command),
                Err(_) => break,
            }
        }
        rows.clear();
        for command in &mut batch {
            for mut row in command.rows.drain(..) {
                position += 1;
                row.position = position;
                rows.push(row);
            }
        }
        let result = connection
            .insert(&rows)
            .await
            .map_err(|error| error.to_string());
        for command in batch.drain(..) {
            let _ = command.reply.send(result.clone());
        }
    }
}

/// Runs the baseline with `clients` clients for `duration` (or `commands_per_client` commands
/// each); returns the clients' latencies and the wall time.
pub async fn run(
    db: &FreshDb,
    clients: usize,
    seed: u64,
    duration: Duration,
    commands_per_client: Option<usize>,
) -> anyhow::Result<(Latencies, Duration)> {
    // The same table as the ledger's, created by the store's own migrations.
    Store::open(&db.url).await?.shutdown().await;
    let connection = match db.kind {
        BackendKind::Sqlite => {
            let pool = db.sqlite_pool(1).await?;
            Connection::Sqlite(pool.acquire().await?)
        }
        BackendKind::Postgres => {
            let pool = db.pg_pool(1).await?;
            Connection::Postgres(pool.acquire().await?)
        }
    };
    let (sender, receiver) = mpsc::channel(8192);
    let writer = tokio::spawn(writer(connection, receiver));
    let result = drive(clients, duration, |index, deadline| {
        client(
            sender.clone(),
            seed,
            index as u64,
            deadline,
            commands_per_client.unwrap_or(usize::MAX),
        )
    })
    .await;
    drop(sender);
    writer.await.context("the baseline's writer panicked")?;
    result
}

/// One client: decides each command as the ledger's client does, sends its rows to the writer
/// and waits for their durable acknowledgement before the next.
async fn client(
    sender: mpsc::Sender<Command>,
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
        let (stream, decided) = decider.decide(&item.command)?;
        // The metadata's JSON, as `Store::append` makes it (compact, keys sorted).
        let metadata = serde_json::to_string(&serde_json::to_value(&item.metadata)?)?;
        let version = match stream.expected {
            ExpectedVersion::Exact(version) => version,
            _ => 0,
        };
        let command_id = item.metadata.command_id.to_string();
        let recorded_at = chrono::Utc::now().timestamp_micros();
        let rows = stream
            .events
            .into_iter()
            .enumerate()
            .map(|(offset, event)| EventRow {
                position: 0,
                event_id: uuid::Uuid::now_v7().to_string(),
                stream_type: stream.stream_type.clone(),
                stream_id: stream.stream_id.clone(),
                version: version + 1 + offset as i64,
                event_type: event.event_type,
                schema_version: event.schema_version,
                command_id: command_id.clone(),
                payload: event.payload,
                metadata: metadata.clone(),
                recorded_at,
                // A hash's size, not a hash: the rows weigh what the ledger's weigh.
                prev_hash: engagements_store::hash::GENESIS_HASH.to_string(),
                hash: engagements_store::hash::GENESIS_HASH.to_string(),
            })
            .collect();
        let (reply, answer) = oneshot::channel();
        sender
            .send(Command { rows, reply })
            .await
            .map_err(|_| anyhow::anyhow!("the baseline's writer stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the baseline's writer stopped"))?
            .map_err(|error| anyhow::anyhow!("the baseline's INSERT failed: {error}"))?;
        decider.recorded(decided);
        latencies.record(started.elapsed());
    }
    Ok(latencies)
}
