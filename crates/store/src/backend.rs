//! The two databases behind the store, with the same schema and the same operations.
//!
//! The operations are written once in [`backend_ops!`] and expanded for each sqlx driver, so the
//! SQL and the row handling cannot drift apart between SQLite and PostgreSQL.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::StoreError;
use crate::model::{ChainHead, EventRow};
use crate::snapshot::{NewSnapshot, SnapshotSaved, StoredSnapshot};
use crate::writer::{plan_batch, GroupOutcome, Pending};

/// First half of the advisory lock that serialises the writers of one chain, in every process;
/// the second half is the hash of the ledger's schema (`current_schema()`), so that ledgers kept
/// in different schemas of one database (one per contract, see `docs/adr/0002-scaling-writes.md`)
/// are different chains whose writers never wait for each other.
pub(crate) const CHAIN_LOCK_CLASS: i32 = 0x656e_6761; // "enga"
/// Channel notified after each committed batch, for followers in other processes.
pub(crate) const NOTIFY_CHANNEL: &str = "engagements_events";
/// Opens a writer's transaction and takes its chain's lock in one round trip (a simple query of
/// two statements): the lock comes first, so the head read by the next statement is current.
/// The class is [`CHAIN_LOCK_CLASS`], written out because a simple query takes no parameters.
pub(crate) const PG_BEGIN_AND_LOCK: &str = "BEGIN ISOLATION LEVEL READ COMMITTED; \
    SELECT pg_advisory_xact_lock(1701734241, hashtext(current_schema()))";
/// Turns a batch's INSERT into one statement that also NOTIFYs followers (delivered at commit),
/// saving the round trip of a separate `pg_notify`.
const PG_INSERT_NOTIFY_SUFFIX: &str = " RETURNING position) \
    SELECT pg_notify('engagements_events', MAX(position)::text) FROM inserted";
/// Most rows per INSERT statement: far below both drivers' bind-parameter limits (13 columns).
const INSERT_CHUNK_ROWS: usize = 512;

/// Splits `rows` into chunks whose sizes are powers of two, largest first, none above
/// [`INSERT_CHUNK_ROWS`]. A batch of any size then uses one of ten INSERT texts, each prepared
/// once per connection and kept in its statement cache; with one text per batch size, SQLite
/// prepared the INSERT again for most batches (a tenth of a command's instructions).
fn power_of_two_chunks<T>(mut rows: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let size = (1usize << rows.len().ilog2()).min(INSERT_CHUNK_ROWS);
        let (chunk, rest) = rows.split_at(size);
        rows = rest;
        Some(chunk)
    })
}

pub(crate) const COLUMNS: &str =
    "position, event_id, stream_type, stream_id, version, event_type, \
    schema_version, command_id, payload, metadata, recorded_at, prev_hash, hash";

/// A connected database.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Backend {
    /// Opens (and for SQLite creates) the database at `url` and runs the migrations.
    pub(crate) async fn connect(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|_| StoreError::BadUrl(url.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // An acknowledged command must survive a power cut.
                .synchronous(SqliteSynchronous::Full)
                // Deleted and overwritten bytes are zeroed: an erased person's name must not
                // linger in free pages of the file.
                .pragma("secure_delete", "on")
                .busy_timeout(Duration::from_secs(30));
            if !url.contains("memory") {
                create_private_file(options.get_filename()).map_err(StoreError::Connect)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?;
            let backend = Backend::Sqlite(pool);
            backend.migrate().await?;
            Ok(backend)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut options =
                PgConnectOptions::from_str(url).map_err(|_| StoreError::BadUrl(url.to_string()))?;
            if !url.contains("sslmode=") && is_loopback(options.get_host()) {
                // TLS on loopback only costs: it divided throughput by ten in measurements.
                options = options.ssl_mode(PgSslMode::Disable);
            }
            let options = options.options([("synchronous_commit", "on")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?;
            let backend = Backend::Postgres(pool);
            backend.migrate().await?;
            // The lock class and channel are written out in the batch's SQL; keep them in step.
            debug_assert!(PG_BEGIN_AND_LOCK.contains(&CHAIN_LOCK_CLASS.to_string()));
            debug_assert!(PG_INSERT_NOTIFY_SUFFIX.contains(NOTIFY_CHANNEL));
            Ok(backend)
        } else {
            Err(StoreError::BadUrl(url.to_string()))
        }
    }

    /// Opens an existing ledger without creating or migrating anything: a missing database, or
    /// one without the ledger's tables, is [`StoreError::NoLedger`]; a schema older than this
    /// program is [`StoreError::SchemaOutdated`]. Used by commands that must write nothing.
    pub(crate) async fn connect_existing(url: &str) -> Result<Backend, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|_| StoreError::BadUrl(url.to_string()))?;
            if !options.get_filename().is_file() {
                return Err(StoreError::NoLedger(url.to_string()));
            }
            // No journal mode is set: the file already has one, and setting it may write.
            let options = options
                .create_if_missing(false)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?;
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut options =
                PgConnectOptions::from_str(url).map_err(|_| StoreError::BadUrl(url.to_string()))?;
            if !url.contains("sslmode=") && is_loopback(options.get_host()) {
                options = options.ssl_mode(PgSslMode::Disable);
            }
            let options = options.options([("synchronous_commit", "on")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?;
            Backend::Postgres(pool)
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        let migrator = match &backend {
            Backend::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        let applied = match backend.applied_migrations().await {
            Ok(applied) => applied,
            Err(_) => {
                backend.close().await;
                return Err(StoreError::NoLedger(url.to_string()));
            }
        };
        let missing: Vec<i64> = migrator
            .iter()
            .map(|m| m.version)
            .filter(|version| !applied.contains(version))
            .collect();
        if !missing.is_empty() {
            backend.close().await;
            return Err(StoreError::SchemaOutdated(missing));
        }
        Ok(backend)
    }

    /// Brings the schema up to date, and touches nothing when it already is: every migration of
    /// this program applied with the same checksum. Running the migrator even then would need
    /// rights the application role of `deploy/postgres-roles.sql` does not have (creating the
    /// migrations table "if not exists" asks for CREATE on the schema).
    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self {
            Backend::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        const QUERY: &str = "SELECT version, checksum FROM _sqlx_migrations WHERE success";
        let applied: Result<Vec<(i64, Vec<u8>)>, sqlx::Error> = match self {
            Backend::Sqlite(pool) => sqlx::query_as(QUERY).fetch_all(pool).await,
            Backend::Postgres(pool) => sqlx::query_as(QUERY).fetch_all(pool).await,
        };
        let current = applied.is_ok_and(|applied| {
            migrator.iter().all(|migration| {
                applied.iter().any(|(version, checksum)| {
                    *version == migration.version && checksum[..] == migration.checksum[..]
                })
            })
        });
        if current {
            return Ok(());
        }
        match self {
            Backend::Sqlite(pool) => migrator.run(pool).await?,
            Backend::Postgres(pool) => migrator.run(pool).await?,
        }
        Ok(())
    }

    /// The versions of the migrations applied to this database (an error when there are none:
    /// the database holds no ledger).
    async fn applied_migrations(&self) -> Result<Vec<i64>, sqlx::Error> {
        const QUERY: &str = "SELECT version FROM _sqlx_migrations WHERE success";
        let rows: Vec<(i64,)> = match self {
            Backend::Sqlite(pool) => sqlx::query_as(QUERY).fetch_all(pool).await?,
            Backend::Postgres(pool) => sqlx::query_as(QUERY).fetch_all(pool).await?,
        };
        Ok(rows.into_iter().map(|(version,)| version).collect())
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Backend::Sqlite(pool) => pool.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// Creates a new SQLite file readable by its owner only (mode 0600): it holds the hashes of the
/// API tokens and of the web sessions. SQLite gives its `-wal` and `-shm` files the mode of the
/// database file. An existing file is left as it is.
fn create_private_file(path: &std::path::Path) -> Result<(), sqlx::Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(sqlx::Error::Io(error)),
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]") || host.starts_with('/')
}

macro_rules! dispatch {
    ($backend:expr, $module:ident :: $function:ident ( $($arg:expr),* )) => {
        match $backend {
            Backend::Sqlite(pool) => sqlite_ops::$function(pool, $($arg),*).await,
            Backend::Postgres(pool) => postgres_ops::$function(pool, $($arg),*).await,
        }
    };
}

impl Backend {
    pub(crate) async fn write_batch(
        &self,
        batch: &[Pending],
    ) -> Result<Vec<GroupOutcome>, sqlx::Error> {
        dispatch!(self, ops::write_batch(batch))
    }
    pub(crate) async fn head(&self) -> Result<Option<ChainHead>, sqlx::Error> {
        dispatch!(self, ops::head())
    }
    pub(crate) async fn read_range(
        &self,
        from_position: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        dispatch!(self, ops::read_range(from_position, limit))
    }
    pub(crate) async fn read_stream(
        &self,
        stream_id: &str,
        up_to_version: Option<i64>,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        dispatch!(self, ops::read_stream(stream_id, up_to_version))
    }
    pub(crate) async fn read_command(
        &self,
        command_id: &str,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        dispatch!(self, ops::read_command(command_id))
    }
    pub(crate) async fn stream_version(&self, stream_id: &str) -> Result<Option<i64>, sqlx::Error> {
        dispatch!(self, ops::stream_version(stream_id))
    }
    pub(crate) async fn save_snapshot(
        &self,
        snapshot: &NewSnapshot<'_>,
    ) -> Result<SnapshotSaved, sqlx::Error> {
        dispatch!(self, ops::save_snapshot(snapshot))
    }
    pub(crate) async fn snapshot_at_or_before(
        &self,
        name: &str,
        at_or_before: i64,
    ) -> Result<Option<StoredSnapshot>, sqlx::Error> {
        dispatch!(self, ops::snapshot_at_or_before(name, at_or_before))
    }
    pub(crate) async fn snapshot_index(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        dispatch!(self, ops::snapshot_index())
    }
}

macro_rules! backend_ops {
    ($module:ident, $db:ty, $pool:ty, begin: $begin:expr, insert_prefix: $prefix:expr, insert_suffix: $suffix:expr, lookup: $lookup:expr, list: $list:expr) => {
        mod $module {
            use super::*;
            use sqlx::QueryBuilder;

            /// Writes one batch in one transaction: lock, read the head, plan, insert, commit.
            pub(super) async fn write_batch(
                pool: &$pool,
                batch: &[Pending],
            ) -> Result<Vec<GroupOutcome>, sqlx::Error> {
                // One round trip opens the transaction and, on PostgreSQL, takes the chain lock.
                let mut tx = pool.begin_with($begin).await?;
                let commands = batch.iter().flat_map(|p| p.commands.iter());
                let command_ids: Vec<String> = commands
                    .clone()
                    .map(|c| c.request.metadata.command_id.to_string())
                    .collect();
                let stream_ids: Vec<String> = commands
                    .flat_map(|c| c.request.streams.iter().map(|s| s.stream_id.clone()))
                    .collect();
                let (head, recorded, versions) =
                    batch_lookup(&mut *tx, &command_ids, &stream_ids).await?;
                // Rows of commands already recorded: only for a retried command, seldom.
                let existing = if recorded.is_empty() {
                    Vec::new()
                } else {
                    rows_of_commands(&mut *tx, &recorded).await?
                };
                let now = chrono::Utc::now().timestamp_micros();
                let (rows, outcomes) = plan_batch(head, existing, versions, batch, now);
                for chunk in power_of_two_chunks(&rows) {
                    insert_rows(&mut *tx, chunk).await?;
                }
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn insert_rows(
                conn: &mut <$db as sqlx::Database>::Connection,
                rows: &[EventRow],
            ) -> Result<(), sqlx::Error> {
                let mut query =
                    QueryBuilder::<$db>::new(format!("{}INSERT INTO events ({COLUMNS}) ", $prefix));
                query.push_values(rows, |mut values, row| {
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
                query.push($suffix);
                query.build().execute(&mut *conn).await?;
                Ok(())
            }

            /// The chain head, the command ids already recorded and the streams' versions, in
            /// one statement (one round trip; on SQLite, one trip to its worker thread).
            async fn batch_lookup(
                conn: &mut <$db as sqlx::Database>::Connection,
                command_ids: &[String],
                stream_ids: &[String],
            ) -> Result<(Option<ChainHead>, Vec<String>, HashMap<String, i64>), sqlx::Error> {
                let found: Vec<(String, String, i64, i64)> = sqlx::query_as($lookup)
                    .bind($list(stream_ids))
                    .bind($list(command_ids))
                    .fetch_all(&mut *conn)
                    .await?;
                let mut head = None;
                let mut recorded = Vec::new();
                let mut versions = HashMap::new();
                for (kind, key, number, extra) in found {
                    match kind.as_str() {
                        "h" => {
                            head = Some(ChainHead {
                                position: number,
                                hash: key,
                                recorded_at: extra,
                            })
                        }
                        "v" => {
                            versions.insert(key, number);
                        }
                        _ => recorded.push(key),
                    }
                }
                Ok((head, recorded, versions))
            }

            async fn head_in(
                conn: &mut <$db as sqlx::Database>::Connection,
            ) -> Result<Option<ChainHead>, sqlx::Error> {
                let row: Option<(i64, String, i64)> = sqlx::query_as(
                    "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1",
                )
                .fetch_optional(&mut *conn)
                .await?;
                Ok(row.map(|(position, hash, recorded_at)| ChainHead {
                    position,
                    hash,
                    recorded_at,
                }))
            }

            pub(super) async fn rows_of_commands(
                conn: &mut <$db as sqlx::Database>::Connection,
                command_ids: &[String],
            ) -> Result<Vec<EventRow>, sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(format!(
                    "SELECT {COLUMNS} FROM events WHERE command_id IN ("
                ));
                let mut list = query.separated(", ");
                for id in command_ids {
                    list.push_bind(id);
                }
                query.push(") ORDER BY position");
                query.build_query_as().fetch_all(&mut *conn).await
            }

            pub(super) async fn head(pool: &$pool) -> Result<Option<ChainHead>, sqlx::Error> {
                let mut conn = pool.acquire().await?;
                head_in(&mut conn).await
            }

            pub(super) async fn read_range(
                pool: &$pool,
                from_position: i64,
                limit: i64,
            ) -> Result<Vec<EventRow>, sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(format!(
                    "SELECT {COLUMNS} FROM events WHERE position >= "
                ));
                query.push_bind(from_position);
                query.push(" ORDER BY position LIMIT ");
                query.push_bind(limit);
                query.build_query_as().fetch_all(pool).await
            }

            pub(super) async fn read_stream(
                pool: &$pool,
                stream_id: &str,
                up_to_version: Option<i64>,
            ) -> Result<Vec<EventRow>, sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(format!(
                    "SELECT {COLUMNS} FROM events WHERE stream_id = "
                ));
                query.push_bind(stream_id);
                query.push(" AND version <= ");
                query.push_bind(up_to_version.unwrap_or(i64::MAX));
                query.push(" ORDER BY version");
                query.build_query_as().fetch_all(pool).await
            }

            pub(super) async fn read_command(
                pool: &$pool,
                command_id: &str,
            ) -> Result<Vec<EventRow>, sqlx::Error> {
                let mut conn = pool.acquire().await?;
                rows_of_commands(&mut conn, &[command_id.to_string()]).await
            }

            pub(super) async fn stream_version(
                pool: &$pool,
                stream_id: &str,
            ) -> Result<Option<i64>, sqlx::Error> {
                let mut query =
                    QueryBuilder::<$db>::new("SELECT MAX(version) FROM events WHERE stream_id = ");
                query.push_bind(stream_id);
                let row: (Option<i64>,) = query.build_query_as().fetch_one(pool).await?;
                Ok(row.0)
            }

            /// Inserts a snapshot bound to the hash of the event at its position, read in the
            /// same statement: no event there, no snapshot.
            pub(super) async fn save_snapshot(
                pool: &$pool,
                snapshot: &NewSnapshot<'_>,
            ) -> Result<SnapshotSaved, sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(
                    "INSERT INTO snapshots \
                     (name, position, payload, recorded_at, head_hash, payload_sha256) SELECT ",
                );
                let mut values = query.separated(", ");
                values.push_bind(snapshot.name);
                values.push_bind(snapshot.position);
                values.push_bind(snapshot.payload);
                values.push_bind(snapshot.recorded_at);
                values.push("hash");
                values.push_bind(&snapshot.payload_sha256);
                // The WHERE clause also keeps SQLite from reading ON CONFLICT as a join clause.
                query.push(" FROM events WHERE position = ");
                query.push_bind(snapshot.position);
                query.push(" ON CONFLICT (name, position) DO NOTHING");
                let inserted = query.build().execute(pool).await?.rows_affected();
                if inserted > 0 {
                    return Ok(SnapshotSaved::Saved);
                }
                let mut query =
                    QueryBuilder::<$db>::new("SELECT COUNT(*) FROM events WHERE position = ");
                query.push_bind(snapshot.position);
                let (events,): (i64,) = query.build_query_as().fetch_one(pool).await?;
                Ok(if events == 0 {
                    SnapshotSaved::NoEventThere
                } else {
                    SnapshotSaved::AlreadyThere
                })
            }

            /// The latest row named `name` at or before a position, with the hash the log now
            /// has at that position (empty when the log has no event there).
            pub(super) async fn snapshot_at_or_before(
                pool: &$pool,
                name: &str,
                at_or_before: i64,
            ) -> Result<Option<StoredSnapshot>, sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(
                    "SELECT s.name, s.position, s.payload, s.head_hash, s.payload_sha256, \
                     COALESCE(e.hash, '') FROM snapshots s \
                     LEFT JOIN events e ON e.position = s.position WHERE s.name = ",
                );
                query.push_bind(name);
                query.push(" AND s.position <= ");
                query.push_bind(at_or_before);
                query.push(" ORDER BY s.position DESC LIMIT 1");
                let row: Option<(String, i64, String, String, String, String)> =
                    query.build_query_as().fetch_optional(pool).await?;
                Ok(row.map(
                    |(name, position, payload, head_hash, payload_sha256, event_hash)| {
                        StoredSnapshot {
                            name,
                            position,
                            payload,
                            head_hash,
                            payload_sha256,
                            event_hash,
                        }
                    },
                ))
            }

            pub(super) async fn snapshot_index(
                pool: &$pool,
            ) -> Result<Vec<(String, i64)>, sqlx::Error> {
                sqlx::query_as("SELECT name, position FROM snapshots ORDER BY position, name")
                    .fetch_all(pool)
                    .await
            }
        }
    };
}

/// The serial writer's one lookup statement: the chain head, the versions of the streams in the
/// first list, the command ids of the second already recorded. Each list is one parameter (a
/// JSON array on SQLite, an array on PostgreSQL), so the text, and its prepared statement, is
/// the same for any batch.
macro_rules! batch_lookup_sql {
    ($streams_in:literal, $commands_in:literal) => {
        concat!(
            "SELECT CAST('h' AS TEXT), hash, position, recorded_at FROM ",
            "(SELECT hash, position, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS head ",
            "UNION ALL SELECT CAST('v' AS TEXT), stream_id, MAX(version), CAST(0 AS BIGINT) ",
            "FROM events WHERE stream_id ", $streams_in, " GROUP BY stream_id ",
            "UNION ALL SELECT DISTINCT CAST('c' AS TEXT), command_id, CAST(0 AS BIGINT), ",
            "CAST(0 AS BIGINT) FROM events WHERE command_id ", $commands_in
        )
    };
}

// SQLite: BEGIN IMMEDIATE takes the database's write lock up front, which serialises writers
// of several processes and avoids deadlock-prone lock upgrades.
backend_ops!(sqlite_ops, sqlx::Sqlite, SqlitePool,
    begin: "BEGIN IMMEDIATE",
    insert_prefix: "",
    insert_suffix: "",
    lookup: batch_lookup_sql!("IN (SELECT value FROM json_each(?1))", "IN (SELECT value FROM json_each(?2))"),
    list: |ids: &[String]| serde_json::to_string(ids).expect("a list of strings is JSON"));

// PostgreSQL: a transaction-scoped advisory lock, keyed by the ledger's schema, serialises the
// writers of every process on the chain head; NOTIFY wakes followers in other processes once the
// batch commits.
backend_ops!(postgres_ops, sqlx::Postgres, PgPool,
    begin: PG_BEGIN_AND_LOCK,
    insert_prefix: "WITH inserted AS (",
    insert_suffix: PG_INSERT_NOTIFY_SUFFIX,
    lookup: batch_lookup_sql!("= ANY($1::TEXT[])", "= ANY($2::TEXT[])"),
    list: |ids: &[String]| ids.to_vec());

/// One round trip for the pipelined writer's two questions: which of `command_ids` are already
/// recorded, and the versions of `stream_ids`. One prepared statement for any batch size (arrays).
const PG_ONE_TRIP_LOOKUP: &str = "SELECT DISTINCT command_id, -1::BIGINT FROM events \
        WHERE command_id = ANY($1::TEXT[]) \
    UNION ALL \
    SELECT stream_id, MAX(version) FROM events WHERE stream_id = ANY($2::TEXT[]) GROUP BY stream_id";

/// The rows already recorded for `command_ids` and the versions of `stream_ids`, on a
/// PostgreSQL connection: one statement, and a second only if a command was already recorded
/// (a retry), to read its rows.
pub(crate) async fn postgres_lookups(
    connection: &mut sqlx::PgConnection,
    command_ids: &[String],
    stream_ids: &[String],
) -> Result<(Vec<EventRow>, HashMap<String, i64>), sqlx::Error> {
    let found: Vec<(String, i64)> = sqlx::query_as(PG_ONE_TRIP_LOOKUP)
        .bind(command_ids)
        .bind(stream_ids)
        .fetch_all(&mut *connection)
        .await?;
    let mut recorded = Vec::new();
    let mut versions = HashMap::new();
    for (key, version) in found {
        if version < 0 {
            recorded.push(key);
        } else {
            versions.insert(key, version);
        }
    }
    let existing = if recorded.is_empty() {
        Vec::new()
    } else {
        postgres_ops::rows_of_commands(&mut *connection, &recorded).await?
    };
    Ok((existing, versions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_in_power_of_two_chunks_in_order() {
        let mut texts = std::collections::BTreeSet::new();
        for n in 0..2_000usize {
            let rows: Vec<usize> = (0..n).collect();
            let chunks: Vec<&[usize]> = power_of_two_chunks(&rows).collect();
            assert_eq!(chunks.concat(), rows, "{n} rows");
            for chunk in &chunks {
                assert!(chunk.len().is_power_of_two() && chunk.len() <= INSERT_CHUNK_ROWS);
                texts.insert(chunk.len());
            }
            if n <= INSERT_CHUNK_ROWS {
                assert_eq!(chunks.len(), n.count_ones() as usize, "{n} rows");
            }
        }
        assert_eq!(texts.len(), 10);
    }

    #[test]
    fn the_sql_names_the_chain_lock_class_and_the_channel() {
        assert!(PG_BEGIN_AND_LOCK.contains(&format!("pg_advisory_xact_lock({CHAIN_LOCK_CLASS},")));
        assert!(PG_INSERT_NOTIFY_SUFFIX.contains(&format!("'{NOTIFY_CHANNEL}'")));
    }
}
