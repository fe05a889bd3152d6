//! The PostgreSQL writer: a lease on the chain, and a two-stage pipeline.
//!
//! While it has work, the writer holds its chain's advisory lock at session level (the
//! *lease*), so it knows the chain's head without reading it again, and:
//!
//! - it plans batch n+1 (looks up its command ids, and the versions of the streams it has not
//!   seen under this lease, in one statement; assigns positions, hashes the chain) while batch n
//!   is being committed on another connection;
//! - it writes each batch with **one autocommitted statement** (an INSERT from `UNNEST` arrays,
//!   which also NOTIFYs followers), sent only once the previous batch is durable, so that a later
//!   batch is never durable before an earlier one and the chain has no gap.
//!
//! The lease is given back when the writer has been idle for the rest of its turn
//! ([`LEASE_HOLD_MAX`]), and at the end of a turn under load if another process's writer waits
//! for it (PostgreSQL grants a released lock to the waiters first), so that writers of several
//! processes on one chain take turns. The chain's integrity does not rest on the lease:
//! positions and (stream, version) are unique in the table, so a writer that lost its lease
//! fails its INSERT instead of forking the chain, gives the lease back and plans again.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::model::{ChainHead, EventRow};
use crate::writer::{deliver, fail, gather, plan_batch, GroupOutcome, Outcome, Pending};

/// A writer's turn with the lease: at its end, the lease is given back if another process's
/// writer waits for it, kept for another turn otherwise.
pub(crate) const LEASE_HOLD_MAX: Duration = Duration::from_millis(25);

/// Takes the chain's lease (session-level: it outlives transactions). Same key as every writer
/// of the chain: [`crate::backend::CHAIN_LOCK_CLASS`] and the schema.
///
/// While the lease is held, its connection plans without sequential scans: every lookup it runs
/// has an index, but on a table without statistics yet (a new ledger, until autovacuum analyses
/// it) PostgreSQL's default estimate for `IN` with 15 keys is 7.5% of the table, and it chose a
/// sequential scan: 8-10 ms per batch of 15 at 15,000 rows, against 0.5 ms through the index
/// (measured: `pg_stat_user_tables.seq_scan` and the writer's `plan_us`).
const TAKE_LEASE: &str = "SELECT pg_advisory_lock(1701734241, hashtext(current_schema())), \
    set_config('enable_seqscan', 'off', false)";
/// Gives the lease back, and the connection its planner setting as configured.
const GIVE_LEASE: &str = "SELECT pg_advisory_unlock(1701734241, hashtext(current_schema())), \
    set_config('enable_seqscan', \
        (SELECT reset_val FROM pg_settings WHERE name = 'enable_seqscan'), false)";

const OTHERS_WAIT: &str = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
    AND NOT granted AND classid = 1701734241::OID AND objid = hashtext(current_schema())::OID \
    AND objsubid = 2)";

const HEAD: &str = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1";

/// One statement for any batch size (so PostgreSQL prepares it once), committed on its own.
const INSERT: &str = "WITH inserted AS (\
    INSERT INTO events (position, event_id, stream_type, stream_id, version, event_type, \
        schema_version, command_id, payload, metadata, recorded_at, prev_hash, hash) \
    SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], \
        $6::TEXT[], $7::INTEGER[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::BIGINT[], \
        $12::TEXT[], $13::TEXT[]) \
    RETURNING position) \
    SELECT pg_notify('engagements_events', MAX(position)::TEXT) FROM inserted";

/// The chain, held by this writer.
struct Lease {
    /// Holds the lock; also runs the lookups (the writer's own connections skip the pool's
    /// check before each use, a round trip).
    connection: PoolConnection<Postgres>,
    /// Runs the INSERTs; away in the task of the batch in flight.
    inserter: Option<PoolConnection<Postgres>>,
    taken_at: Instant,
    /// The head as planned: the last row of the batch in flight, if any.
    head: Option<ChainHead>,
    /// Versions of the streams seen under this lease (`None`: no such stream), as planned,
    /// the batch in flight included. Nobody else writes the chain while the lease is held, so
    /// they stay true until it is given back, and a stream seen once is not looked up again.
    versions: HashMap<String, Option<i64>>,
}

/// Stream versions kept under one lease at most (then forgotten, and looked up again).
const KNOWN_STREAMS_MAX: usize = 200_000;

/// A batch whose INSERT was sent and is not acknowledged yet.
struct InFlight {
    batch: Vec<Pending>,
    outcomes: Vec<GroupOutcome>,
    /// Where each command this batch writes has its rows in `outcomes` (group, command): a
    /// retry planned meanwhile is a duplicate of them.
    commands: HashMap<String, (usize, usize)>,
    insert: JoinHandle<(PoolConnection<Postgres>, Result<(), sqlx::Error>)>,
}

impl InFlight {
    /// The rows this batch writes for `command_id`, if it writes that command.
    fn rows_of(&self, command_id: &str) -> Option<&[EventRow]> {
        let &(group, index) = self.commands.get(command_id)?;
        match self.outcomes.get(group)?.as_ref().ok()?.get(index)? {
            Outcome::Written(rows) => Some(rows),
            Outcome::Duplicate(_) => None,
        }
    }
}

/// Runs until every sender is dropped.
pub(crate) async fn run(
    pool: PgPool,
    mut receiver: mpsc::Receiver<Pending>,
    last_position: watch::Sender<i64>,
    batch_max_commands: usize,
) {
    let mut lease: Option<Lease> = None;
    let mut in_flight: Option<InFlight> = None;
    // Commands planned on top of a batch that then failed: planned again first.
    let mut carried: Vec<Pending> = Vec::new();
    loop {
        // Under load, let the other processes' writers in from time to time: at the end of
        // each turn, keep the lease only if nobody waits for it.
        let turn_over = match lease.as_mut() {
            Some(held) if held.taken_at.elapsed() >= LEASE_HOLD_MAX => {
                match others_wait(&mut held.connection).await {
                    Ok(false) => {
                        held.taken_at = Instant::now();
                        false
                    }
                    Ok(true) | Err(_) => true,
                }
            }
            _ => false,
        };
        if turn_over {
            if let Some(done) = in_flight.take() {
                finish(done, &last_position, &mut lease).await;
            }
            if let Some(held) = lease.take() {
                give_back(held).await;
            }
        }
        let mut batch = std::mem::take(&mut carried);
        if batch.is_empty() && in_flight.is_none() {
            // Idle: keep the lease until its time is up (a client often sends its next
            // command at once), then give it back and wait.
            let remaining = lease
                .as_ref()
                .map(|held| LEASE_HOLD_MAX.saturating_sub(held.taken_at.elapsed()));
            let next = match remaining {
                Some(remaining) => match tokio::time::timeout(remaining, receiver.recv()).await {
                    Ok(next) => next,
                    Err(_) => {
                        if let Some(held) = lease.take() {
                            give_back(held).await;
                        }
                        receiver.recv().await
                    }
                },
                None => receiver.recv().await,
            };
            match next {
                Some(pending) => batch.push(pending),
                None => break,
            }
        }
        gather(&mut receiver, &mut batch, batch_max_commands);
        let worth_a_turn = in_flight
            .as_ref()
            .is_none_or(|flying| batch.len() * 2 >= flying.batch.len());
        if !worth_a_turn {
            // Few commands while the previous batch commits (its callers are still waiting):
            // a batch of its own would cost a whole round of statements and a flush for them.
            // Let the previous batch finish first, and gather what its callers send next.
            if let Some(done) = in_flight.take() {
                finish(done, &last_position, &mut lease).await;
            }
            gather(&mut receiver, &mut batch, batch_max_commands);
        }
        if batch.is_empty() {
            // Nothing new while the previous batch commits: wait for it.
            if let Some(done) = in_flight.take() {
                finish(done, &last_position, &mut lease).await;
            }
            continue;
        }
        if lease.is_none() {
            match take_lease(&pool).await {
                Ok(taken) => lease = Some(taken),
                Err(error) => {
                    fail(batch, error);
                    continue;
                }
            }
        }
        let held = lease.as_mut().expect("taken above");
        let planning = Instant::now();
        let planned = plan(held, in_flight.as_ref(), &batch).await;
        let planned_in = planning.elapsed();
        let waiting = Instant::now();
        if let Some(done) = in_flight.take() {
            if !finish(done, &last_position, &mut lease).await {
                // Planned on top of a batch that was not recorded: plan it again.
                carried = batch;
                continue;
            }
        }
        tracing::debug!(
            commands = batch.len(),
            plan_us = planned_in.as_micros() as u64,
            wait_us = waiting.elapsed().as_micros() as u64,
            "batch planned"
        );
        match planned {
            Ok(planned) => {
                let held = lease.as_mut().expect("kept while the batch was planned");
                let inserter = match held.inserter.take() {
                    Some(inserter) => inserter,
                    None => match pool.acquire().await {
                        Ok(inserter) => inserter,
                        Err(error) => {
                            fail(batch, error);
                            continue;
                        }
                    },
                };
                if let Some(last) = planned.rows.last() {
                    held.head = Some(ChainHead {
                        position: last.position,
                        hash: last.hash.clone(),
                        recorded_at: last.recorded_at,
                    });
                }
                if held.versions.len() > KNOWN_STREAMS_MAX {
                    held.versions.clear();
                }
                for row in &planned.rows {
                    held.versions
                        .insert(row.stream_id.clone(), Some(row.version));
                }
                in_flight = Some(send(inserter, batch, planned));
            }
            Err(error) => {
                if let Some(held) = lease.take() {
                    give_back(held).await;
                }
                fail(batch, error);
            }
        }
    }
    if let Some(done) = in_flight.take() {
        finish(done, &last_position, &mut lease).await;
    }
    if let Some(held) = lease.take() {
        give_back(held).await;
    }
}

/// Waits for a batch in flight and answers its callers. `false` if it was not recorded (the
/// lease is then given back, so the head is read again).
async fn finish(
    done: InFlight,
    last_position: &watch::Sender<i64>,
    lease: &mut Option<Lease>,
) -> bool {
    let result = match done.insert.await {
        Ok((inserter, Ok(()))) => {
            if let Some(held) = lease.as_mut() {
                held.inserter = Some(inserter);
            }
            Ok(())
        }
        Ok((mut inserter, Err(error))) => {
            inserter.close_on_drop();
            Err(error)
        }
        Err(join) => Err(sqlx::Error::Protocol(format!(
            "the insert task failed: {join}"
        ))),
    };
    match result {
        Ok(()) => {
            deliver(done.batch, done.outcomes, last_position);
            true
        }
        Err(error) => {
            if let Some(held) = lease.take() {
                give_back(held).await;
            }
            fail(done.batch, error);
            false
        }
    }
}

/// What planning a batch produced.
struct Planned {
    rows: Vec<EventRow>,
    outcomes: Vec<GroupOutcome>,
}

/// Plans a batch on top of the database and of the batch in flight (whose rows the database
/// may not show yet).
async fn plan(
    lease: &mut Lease,
    in_flight: Option<&InFlight>,
    batch: &[Pending],
) -> Result<Planned, sqlx::Error> {
    let commands = || batch.iter().flat_map(|p| p.commands.iter());
    let command_ids: Vec<String> =
        unique(commands().map(|c| c.request.metadata.command_id.to_string()));
    let stream_ids: Vec<String> =
        unique(commands().flat_map(|c| c.request.streams.iter().map(|s| s.stream_id.clone())));
    // Streams written under this lease (the batch in flight included) are known already.
    let unknown: Vec<String> = stream_ids
        .iter()
        .filter(|id| !lease.versions.contains_key(*id))
        .cloned()
        .collect();
    let (mut existing, found) =
        crate::backend::postgres_lookups(&mut lease.connection, &command_ids, &unknown).await?;
    for id in unknown {
        let version = found.get(&id).copied();
        lease.versions.insert(id, version);
    }
    let versions: HashMap<String, i64> = stream_ids
        .iter()
        .filter_map(|id| Some((id.clone(), (*lease.versions.get(id)?)?)))
        .collect();
    let recorded: HashSet<String> = existing.iter().map(|r| r.command_id.clone()).collect();
    if let Some(previous) = in_flight {
        for id in &command_ids {
            if let Some(rows) = previous.rows_of(id) {
                if !recorded.contains(id) {
                    existing.extend(rows.iter().cloned());
                }
            }
        }
    }
    let now = chrono::Utc::now().timestamp_micros();
    let (rows, outcomes) = plan_batch(lease.head.clone(), existing, versions, batch, now);
    Ok(Planned { rows, outcomes })
}

fn unique(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(id.clone())).collect()
}

/// Sends a planned batch's INSERT on its own connection and returns at once.
fn send(mut inserter: PoolConnection<Postgres>, batch: Vec<Pending>, planned: Planned) -> InFlight {
    let mut commands = HashMap::new();
    for (group, outcome) in planned.outcomes.iter().enumerate() {
        for (index, command) in outcome.iter().flatten().enumerate() {
            if let Outcome::Written(rows) = command {
                if let Some(first) = rows.first() {
                    commands.insert(first.command_id.clone(), (group, index));
                }
            }
        }
    }
    let rows = planned.rows;
    let insert = tokio::spawn(async move {
        if rows.is_empty() {
            return (inserter, Ok(())); // only duplicates or conflicts: nothing to write
        }
        let result = insert_rows(&mut inserter, &rows).await;
        (inserter, result)
    });
    InFlight {
        batch,
        outcomes: planned.outcomes,
        commands,
        insert,
    }
}

async fn insert_rows(
    connection: &mut PoolConnection<Postgres>,
    rows: &[EventRow],
) -> Result<(), sqlx::Error> {
    fn column<'r, T: 'r>(rows: &'r [EventRow], field: impl Fn(&'r EventRow) -> T) -> Vec<T> {
        rows.iter().map(field).collect()
    }
    sqlx::query(INSERT)
        .bind(column(rows, |r| r.position))
        .bind(column(rows, |r| r.event_id.as_str()))
        .bind(column(rows, |r| r.stream_type.as_str()))
        .bind(column(rows, |r| r.stream_id.as_str()))
        .bind(column(rows, |r| r.version))
        .bind(column(rows, |r| r.event_type.as_str()))
        .bind(column(rows, |r| r.schema_version))
        .bind(column(rows, |r| r.command_id.as_str()))
        .bind(column(rows, |r| r.payload.as_str()))
        .bind(column(rows, |r| r.metadata.as_str()))
        .bind(column(rows, |r| r.recorded_at))
        .bind(column(rows, |r| r.prev_hash.as_str()))
        .bind(column(rows, |r| r.hash.as_str()))
        .execute(&mut **connection)
        .await?;
    Ok(())
}

/// Waits for the chain's lease, then reads its head (another process may have written).
async fn take_lease(pool: &PgPool) -> Result<Lease, sqlx::Error> {
    let mut connection = pool.acquire().await?;
    sqlx::query(TAKE_LEASE).execute(&mut *connection).await?;
    let inserter = pool.acquire().await?;
    let head: Option<(i64, String, i64)> = sqlx::query_as(HEAD)
        .fetch_optional(&mut *connection)
        .await?;
    Ok(Lease {
        connection,
        inserter: Some(inserter),
        taken_at: Instant::now(),
        versions: HashMap::new(),
        head: head.map(|(position, hash, recorded_at)| ChainHead {
            position,
            hash,
            recorded_at,
        }),
    })
}

/// Whether another session waits for this chain's lock.
async fn others_wait(connection: &mut PoolConnection<Postgres>) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(OTHERS_WAIT)
        .fetch_one(&mut **connection)
        .await
}

async fn give_back(mut lease: Lease) {
    if let Err(error) = sqlx::query(GIVE_LEASE)
        .execute(&mut *lease.connection)
        .await
    {
        // A connection that cannot unlock must not go back to the pool still holding the lock:
        // closing it ends the session, which releases the lock.
        tracing::warn!(%error, "could not give the chain's lease back; closing its connection");
        lease.connection.close_on_drop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_uses_the_chain_lock_of_every_writer() {
        let key = format!(
            "{}, hashtext(current_schema())",
            crate::backend::CHAIN_LOCK_CLASS
        );
        assert!(TAKE_LEASE.contains(&key));
        assert!(GIVE_LEASE.contains(&key));
        let class = crate::backend::CHAIN_LOCK_CLASS;
        assert!(OTHERS_WAIT.contains(&format!("classid = {class}::OID")));
        assert!(INSERT.contains(&format!("'{}'", crate::backend::NOTIFY_CHANNEL)));
    }
}
