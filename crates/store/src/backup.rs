//! Backup and restore of a whole ledger: schema, functions, triggers and rows.
//!
//! - **SQLite**: the backup is an SQLite file, a consistent online copy made by `VACUUM INTO`
//!   (readers and writers go on meanwhile), created with mode 0600. It carries the schema and
//!   the triggers with the rows. Restoring copies it into a new file and opens it, which runs the
//!   migrations the copy may lack, then recomputes the whole chain.
//! - **PostgreSQL**: the backup is a logical export, one JSON object a line, read in one
//!   `REPEATABLE READ` transaction: a header (format, migrations, head), then the rows of
//!   `events` in position order, `snapshots`, `api_tokens`, `relay_offsets` and `persons`, then a closing
//!   line with the counts, so that a truncated file is detected. Restoring runs this program's
//!   migrations on an empty database (which creates the tables, functions and triggers), then
//!   inserts the rows in one transaction, re-checking every hash of the chain as it goes; any
//!   problem rolls the whole restore back.
//!
//! Web sessions are not kept: after a restore, people log in again. A restore goes into an empty
//! database only and never overwrites anything.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{PgConnection, QueryBuilder};

use crate::backend::{Backend, COLUMNS, PG_BEGIN_AND_LOCK};
use crate::error::StoreError;
use crate::model::EventRow;
use crate::store::Store;
use crate::verify::ChainChecker;

/// The `format` of the first line of a logical backup.
pub const LOGICAL_FORMAT: &str = "engagements-backup";
/// The version of the logical backup's layout.
pub const LOGICAL_FORMAT_VERSION: u32 = 1;
/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// Event rows read or inserted per statement.
const PAGE_ROWS: usize = 1000;

/// Why a backup or a restore failed. A failed backup leaves no file behind; a failed restore
/// leaves the target as it was (no file for SQLite, no row for PostgreSQL).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: a backup never overwrites a file")]
    OutputExists(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not a path this program can hand to SQLite (not UTF-8)")]
    BadPath(PathBuf),
    #[error(
        "{0} is not a ledger backup (neither an SQLite file nor an engagements-backup export)"
    )]
    NotABackup(PathBuf),
    #[error("{0}")]
    WrongBackend(String),
    #[error(
        "the target database is not empty ({0}): a restore goes into a new, empty database only"
    )]
    TargetNotEmpty(String),
    #[error("the backup was made by a newer program (migrations {0:?} unknown here): restore it with that version")]
    NewerBackup(Vec<i64>),
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error("the restored log does not verify: position {position}: {what}")]
    ChainBroken { position: i64, what: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The kind of file a backup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupFormat {
    /// A copy of an SQLite database.
    SqliteFile,
    /// A logical export (JSON lines) of a PostgreSQL ledger.
    Logical,
}

/// What a backup or a restore holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The kind of backup file.
    pub format: BackupFormat,
    /// Events in the log.
    pub events: i64,
    /// The hash of the last event (`None` for an empty log).
    pub head_hash: Option<String>,
}

/// The first line of a logical backup.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    format_version: u32,
    /// The backend the rows were read from.
    source_backend: String,
    /// When the backup was made (RFC 3339, UTC).
    created_at: String,
    /// The migrations applied to the source database.
    migrations: Vec<i64>,
    events: i64,
    head_position: i64,
    head_hash: Option<String>,
}

/// Every line after the header: one row of one table, or the closing counts.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "table", content = "row", rename_all = "snake_case")]
enum Line {
    Events(EventRecord),
    Snapshots(SnapshotRecord),
    ApiTokens(TokenRecord),
    RelayOffsets(OffsetRecord),
    Persons(PersonRow),
    End(Counts),
}

/// A row of `persons` (names outside the chain; an erased one has no name).
#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
struct PersonRow {
    person_id: String,
    name: Option<String>,
    name_key: Option<String>,
    created_at: i64,
    erased_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
struct EventRecord {
    position: i64,
    event_id: String,
    stream_type: String,
    stream_id: String,
    version: i64,
    event_type: String,
    schema_version: i32,
    command_id: String,
    payload: String,
    metadata: String,
    recorded_at: i64,
    prev_hash: String,
    hash: String,
}

impl From<EventRecord> for EventRow {
    fn from(r: EventRecord) -> Self {
        EventRow {
            position: r.position,
            event_id: r.event_id,
            stream_type: r.stream_type,
            stream_id: r.stream_id,
            version: r.version,
            event_type: r.event_type,
            schema_version: r.schema_version,
            command_id: r.command_id,
            payload: r.payload,
            metadata: r.metadata,
            recorded_at: r.recorded_at,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
struct SnapshotRecord {
    name: String,
    position: i64,
    payload: String,
    recorded_at: i64,
    head_hash: String,
    payload_sha256: String,
}

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
struct TokenRecord {
    token_id: String,
    secret_hash: String,
    person: String,
    organisation: String,
    role: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
struct OffsetRecord {
    relay_name: String,
    position_acknowledged: i64,
    updated_at: i64,
}

#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Counts {
    events: i64,
    snapshots: i64,
    api_tokens: i64,
    relay_offsets: i64,
    /// Absent from backups made before persons were kept apart.
    #[serde(default)]
    persons: i64,
}

impl Store {
    /// Writes a backup of the whole ledger to `out`, a new file (mode 0600): an SQLite copy for
    /// SQLite, a logical export for PostgreSQL (see [`crate::backup`]). An existing `out` is
    /// refused; on failure no file is left behind.
    pub async fn backup(&self, out: &Path) -> Result<BackupSummary, BackupError> {
        create_private(out)?;
        let result = match self.backend() {
            Backend::Sqlite(pool) => backup_sqlite(pool, out).await,
            Backend::Postgres(pool) => backup_postgres(pool, out).await,
        };
        if result.is_err() {
            // The partial file is worthless, and a later attempt must be able to use the name.
            let _ = std::fs::remove_file(out);
        }
        result
    }
}

/// Restores the backup `from` into the empty database at `url` and recomputes its chain; see
/// [`crate::backup`]. An SQLite file restores into a new SQLite file, a logical export into an
/// empty PostgreSQL database (or schema).
pub async fn restore(url: &str, from: &Path) -> Result<BackupSummary, BackupError> {
    let mut magic = [0u8; 16];
    let read = {
        use std::io::Read;
        let mut file = std::fs::File::open(from).map_err(|source| io_error(from, source))?;
        file.read(&mut magic)
            .map_err(|source| io_error(from, source))?
    };
    if read == magic.len() && magic == SQLITE_MAGIC {
        restore_sqlite(url, from).await
    } else if magic.starts_with(b"{") {
        restore_logical(url, from).await
    } else {
        Err(BackupError::NotABackup(from.to_path_buf()))
    }
}

fn io_error(path: &Path, source: std::io::Error) -> BackupError {
    BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `path` empty with mode 0600, refusing an existing file.
fn create_private(path: &Path) -> Result<std::fs::File, BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            BackupError::OutputExists(path.to_path_buf())
        } else {
            io_error(path, source)
        }
    })
}

fn utf8(path: &Path) -> Result<&str, BackupError> {
    path.to_str()
        .ok_or_else(|| BackupError::BadPath(path.to_path_buf()))
}

async fn backup_sqlite(pool: &SqlitePool, out: &Path) -> Result<BackupSummary, BackupError> {
    // VACUUM INTO writes into the existing empty file, which keeps the mode it was created with.
    sqlx::query("VACUUM INTO ?")
        .bind(utf8(out)?)
        .execute(pool)
        .await?;
    let copy = open_sqlite_read_only(out).await?;
    let summary = sqlite_summary(&copy).await;
    copy.close().await;
    summary
}

async fn open_sqlite_read_only(path: &Path) -> Result<SqlitePool, BackupError> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?)
}

async fn sqlite_summary(pool: &SqlitePool) -> Result<BackupSummary, BackupError> {
    let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
        .fetch_one(pool)
        .await?;
    let head: Option<(String,)> =
        sqlx::query_as("SELECT hash FROM events ORDER BY position DESC LIMIT 1")
            .fetch_optional(pool)
            .await?;
    Ok(BackupSummary {
        format: BackupFormat::SqliteFile,
        events,
        head_hash: head.map(|(hash,)| hash),
    })
}

async fn restore_sqlite(url: &str, from: &Path) -> Result<BackupSummary, BackupError> {
    if !url.starts_with("sqlite:") {
        return Err(BackupError::WrongBackend(
            "an SQLite backup restores into an SQLite database (sqlite://PATH)".into(),
        ));
    }
    let options =
        SqliteConnectOptions::from_str(url).map_err(|_| StoreError::BadUrl(url.to_string()))?;
    let target = options.get_filename().to_path_buf();
    if url.contains("memory") || target.as_os_str().is_empty() {
        return Err(BackupError::WrongBackend(
            "a restore needs a database file (sqlite://PATH)".into(),
        ));
    }
    if target.exists() {
        return Err(BackupError::TargetNotEmpty(format!(
            "{} exists",
            target.display()
        )));
    }
    // Check that the backup is a ledger before creating anything.
    let source = open_sqlite_read_only(from).await?;
    let checked = sqlite_summary(&source).await;
    let checked = match checked {
        Ok(summary) => summary,
        Err(_) => {
            source.close().await;
            return Err(BackupError::NotABackup(from.to_path_buf()));
        }
    };
    let copied = match create_private(&target) {
        Ok(_) => sqlx::query("VACUUM INTO ?")
            .bind(utf8(&target)?)
            .execute(&source)
            .await
            .map(|_| ())
            .map_err(BackupError::from),
        Err(error) => Err(error),
    };
    source.close().await;
    let result = match copied {
        Ok(()) => reopen_and_verify(url, checked).await,
        Err(error) => Err(error),
    };
    if result.is_err() {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = target.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

/// Opens the restored ledger (running the migrations a copy made by an older program lacks) and
/// recomputes its chain, which must end where the backup said.
async fn reopen_and_verify(
    url: &str,
    expected: BackupSummary,
) -> Result<BackupSummary, BackupError> {
    let store = Store::open(url).await?;
    let report = store.verify(|_| {}).await;
    store.shutdown().await;
    let report = report?;
    if let Some(problem) = report.problem {
        return Err(BackupError::ChainBroken {
            position: problem.position,
            what: problem.what,
        });
    }
    let head_hash = (report.events > 0).then_some(report.head_hash);
    if report.events != expected.events || head_hash != expected.head_hash {
        return Err(BackupError::Damaged(format!(
            "the restored log has {} events ending with {:?}, the backup {} ending with {:?}",
            report.events, head_hash, expected.events, expected.head_hash
        )));
    }
    Ok(expected)
}

async fn backup_postgres(pool: &PgPool, out: &Path) -> Result<BackupSummary, BackupError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(out)
        .map_err(|source| io_error(out, source))?;
    let mut writer = BufWriter::new(file);
    // One snapshot of the database for every table: rows committed during the backup are in
    // none of them.
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let migrations: Vec<(i64,)> =
        sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut *tx)
            .await?;
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let header = Header {
        format: LOGICAL_FORMAT.into(),
        format_version: LOGICAL_FORMAT_VERSION,
        source_backend: "postgres".into(),
        created_at: chrono::Utc::now().to_rfc3339(),
        migrations: migrations.into_iter().map(|(v,)| v).collect(),
        events: head.as_ref().map_or(0, |(position, _)| *position),
        head_position: head.as_ref().map_or(0, |(position, _)| *position),
        head_hash: head.map(|(_, hash)| hash),
    };
    write_line(&mut writer, out, &header)?;
    let mut counts = Counts::default();
    let mut from = 1_i64;
    loop {
        let rows: Vec<EventRecord> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM events WHERE position >= $1 ORDER BY position LIMIT $2"
        ))
        .bind(from)
        .bind(PAGE_ROWS as i64)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else { break };
        from = last.position + 1;
        for row in rows {
            counts.events += 1;
            write_line(&mut writer, out, &Line::Events(row))?;
        }
    }
    let snapshots: Vec<SnapshotRecord> = sqlx::query_as(
        "SELECT name, position, payload, recorded_at, head_hash, payload_sha256 \
         FROM snapshots ORDER BY position, name",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in snapshots {
        counts.snapshots += 1;
        write_line(&mut writer, out, &Line::Snapshots(row))?;
    }
    let tokens: Vec<TokenRecord> = sqlx::query_as(
        "SELECT token_id, secret_hash, person, organisation, role, created_at, revoked_at \
         FROM api_tokens ORDER BY created_at, token_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in tokens {
        counts.api_tokens += 1;
        write_line(&mut writer, out, &Line::ApiTokens(row))?;
    }
    let offsets: Vec<OffsetRecord> = sqlx::query_as(
        "SELECT relay_name, position_acknowledged, updated_at FROM relay_offsets \
         ORDER BY relay_name",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in offsets {
        counts.relay_offsets += 1;
        write_line(&mut writer, out, &Line::RelayOffsets(row))?;
    }
    let persons: Vec<PersonRow> = sqlx::query_as(
        "SELECT person_id, name, name_key, created_at, erased_at FROM persons \
         ORDER BY created_at, person_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in persons {
        counts.persons += 1;
        write_line(&mut writer, out, &Line::Persons(row))?;
    }
    tx.commit().await?;
    let summary = BackupSummary {
        format: BackupFormat::Logical,
        events: counts.events,
        head_hash: header.head_hash.clone(),
    };
    write_line(&mut writer, out, &Line::End(counts))?;
    let file = writer
        .into_inner()
        .map_err(|error| io_error(out, error.into_error()))?;
    file.sync_all().map_err(|source| io_error(out, source))?;
    Ok(summary)
}

fn write_line(
    writer: &mut impl Write,
    path: &Path,
    value: &impl Serialize,
) -> Result<(), BackupError> {
    serde_json::to_writer(&mut *writer, value).map_err(StoreError::from)?;
    writer
        .write_all(b"\n")
        .map_err(|source| io_error(path, source))
}

async fn restore_logical(url: &str, from: &Path) -> Result<BackupSummary, BackupError> {
    let file = std::fs::File::open(from).map_err(|source| io_error(from, source))?;
    let mut lines = BufReader::new(file).lines();
    let header: Header = match lines.next() {
        Some(Ok(line)) => {
            serde_json::from_str(&line).map_err(|_| BackupError::NotABackup(from.to_path_buf()))?
        }
        Some(Err(source)) => return Err(io_error(from, source)),
        None => return Err(BackupError::NotABackup(from.to_path_buf())),
    };
    if header.format != LOGICAL_FORMAT {
        return Err(BackupError::NotABackup(from.to_path_buf()));
    }
    if header.format_version != LOGICAL_FORMAT_VERSION {
        return Err(BackupError::Damaged(format!(
            "format version {} (this program reads {LOGICAL_FORMAT_VERSION})",
            header.format_version
        )));
    }
    if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
        return Err(BackupError::WrongBackend(
            "a logical backup restores into PostgreSQL (postgres://USER@HOST/DB)".into(),
        ));
    }
    let known: Vec<i64> = sqlx::migrate!("./migrations/postgres")
        .iter()
        .map(|m| m.version)
        .collect();
    let unknown: Vec<i64> = header
        .migrations
        .iter()
        .copied()
        .filter(|v| !known.contains(v))
        .collect();
    if !unknown.is_empty() {
        return Err(BackupError::NewerBackup(unknown));
    }
    // Opening runs this program's migrations: tables, functions and triggers as they are now.
    let store = Store::open(url).await?;
    let result = match store.backend() {
        Backend::Postgres(pool) => insert_logical(pool, &header, &mut lines, from).await,
        Backend::Sqlite(_) => Err(BackupError::WrongBackend(
            "a logical backup restores into PostgreSQL".into(),
        )),
    };
    store.shutdown().await;
    result
}

/// Inserts the rows of a logical backup in one transaction, holding the chain lock so that no
/// writer appends meanwhile, and commits only if every line read well, the chain verified row by
/// row, and the counts and head match the file's own.
async fn insert_logical(
    pool: &PgPool,
    header: &Header,
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    from: &Path,
) -> Result<BackupSummary, BackupError> {
    let mut tx = pool.begin_with(PG_BEGIN_AND_LOCK).await?;
    let (rows,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM snapshots) \
         + (SELECT COUNT(*) FROM api_tokens) + (SELECT COUNT(*) FROM relay_offsets) \
         + (SELECT COUNT(*) FROM persons)",
    )
    .fetch_one(&mut *tx)
    .await?;
    if rows > 0 {
        return Err(BackupError::TargetNotEmpty(format!(
            "{rows} rows in events, snapshots, api_tokens, relay_offsets and persons"
        )));
    }
    let mut checker = ChainChecker::default();
    let mut counts = Counts::default();
    let mut pending: Vec<EventRow> = Vec::with_capacity(PAGE_ROWS);
    let mut end = None;
    for (number, line) in lines.enumerate() {
        let line = line.map_err(|source| io_error(from, source))?;
        if end.is_some() {
            return Err(BackupError::Damaged("lines after the closing line".into()));
        }
        let line: Line = serde_json::from_str(&line)
            .map_err(|error| BackupError::Damaged(format!("line {}: {error}", number + 2)))?;
        if !matches!(line, Line::Events(_)) {
            insert_events(&mut tx, &mut pending).await?;
        }
        match line {
            Line::Events(record) => {
                let row = EventRow::from(record);
                checker
                    .check(&row)
                    .map_err(|what| BackupError::ChainBroken {
                        position: row.position,
                        what,
                    })?;
                counts.events += 1;
                pending.push(row);
                if pending.len() == PAGE_ROWS {
                    insert_events(&mut tx, &mut pending).await?;
                }
            }
            Line::Snapshots(s) => {
                counts.snapshots += 1;
                sqlx::query(
                    "INSERT INTO snapshots (name, position, payload, recorded_at, head_hash, \
                     payload_sha256) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(s.name)
                .bind(s.position)
                .bind(s.payload)
                .bind(s.recorded_at)
                .bind(s.head_hash)
                .bind(s.payload_sha256)
                .execute(&mut *tx)
                .await?;
            }
            Line::ApiTokens(t) => {
                counts.api_tokens += 1;
                sqlx::query(
                    "INSERT INTO api_tokens (token_id, secret_hash, person, organisation, role, \
                     created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(t.token_id)
                .bind(t.secret_hash)
                .bind(t.person)
                .bind(t.organisation)
                .bind(t.role)
                .bind(t.created_at)
                .bind(t.revoked_at)
                .execute(&mut *tx)
                .await?;
            }
            Line::RelayOffsets(o) => {
                counts.relay_offsets += 1;
                sqlx::query(
                    "INSERT INTO relay_offsets (relay_name, position_acknowledged, updated_at) \
                     VALUES ($1, $2, $3)",
                )
                .bind(o.relay_name)
                .bind(o.position_acknowledged)
                .bind(o.updated_at)
                .execute(&mut *tx)
                .await?;
            }
            Line::Persons(p) => {
                counts.persons += 1;
                sqlx::query(
                    "INSERT INTO persons (person_id, name, name_key, created_at, erased_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(p.person_id)
                .bind(p.name)
                .bind(p.name_key)
                .bind(p.created_at)
                .bind(p.erased_at)
                .execute(&mut *tx)
                .await?;
            }
            Line::End(closing) => end = Some(closing),
        }
    }
    let Some(end) = end else {
        return Err(BackupError::Damaged(
            "the file ends before its closing line (truncated)".into(),
        ));
    };
    if end != counts {
        return Err(BackupError::Damaged(format!(
            "the closing line counts {end:?}, the file holds {counts:?}"
        )));
    }
    let report = checker.report(None);
    let head_hash = (report.events > 0).then_some(report.head_hash);
    if report.events != header.events || head_hash != header.head_hash {
        return Err(BackupError::Damaged(format!(
            "the header announces {} events ending with {:?}, the file holds {} ending with {:?}",
            header.events, header.head_hash, report.events, head_hash
        )));
    }
    tx.commit().await?;
    Ok(BackupSummary {
        format: BackupFormat::Logical,
        events: report.events,
        head_hash,
    })
}

async fn insert_events(
    conn: &mut PgConnection,
    pending: &mut Vec<EventRow>,
) -> Result<(), BackupError> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<sqlx::Postgres>::new(format!("INSERT INTO events ({COLUMNS}) "));
    query.push_values(pending.iter(), |mut values, row| {
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
    query.build().execute(&mut *conn).await?;
    pending.clear();
    Ok(())
}
