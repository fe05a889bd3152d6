//! Fresh databases for each measured system: a new SQLite file, or a new schema on PostgreSQL,
//! removed afterwards unless asked to keep them.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Connection;

/// Which database a figure is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

/// Where fresh databases are made.
#[derive(Debug, Clone)]
pub struct Databases {
    /// Base PostgreSQL URL (a database in which schemas are created).
    pub postgres: String,
    /// Directory for SQLite files.
    pub sqlite_dir: PathBuf,
    /// Keep the databases after the run (for inspection).
    pub keep: bool,
}

/// One fresh database.
#[derive(Debug, Clone)]
pub struct FreshDb {
    pub kind: BackendKind,
    /// The URL for `Store::open` and for the baselines' pools.
    pub url: String,
    schema: Option<String>,
    file: Option<PathBuf>,
}

impl Databases {
    /// A new, empty database of `kind`.
    pub async fn fresh(&self, kind: BackendKind, label: &str) -> anyhow::Result<FreshDb> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        match kind {
            BackendKind::Sqlite => {
                let file = self.sqlite_dir.join(format!("bench-{label}-{id}.db"));
                Ok(FreshDb {
                    kind,
                    url: format!("sqlite://{}", file.display()),
                    schema: None,
                    file: Some(file),
                })
            }
            BackendKind::Postgres => {
                let base = with_sslmode(&self.postgres);
                let mut connection = sqlx::PgConnection::connect(&base)
                    .await
                    .with_context(|| format!("connect to PostgreSQL at {}", self.postgres))?;
                let schema = format!("bench_{}_{}", label.replace(['-', ' '], "_"), &id[..16]);
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut connection)
                    .await
                    .with_context(|| format!("create schema {schema}"))?;
                let separator = if base.contains('?') { '&' } else { '?' };
                Ok(FreshDb {
                    kind,
                    url: format!("{base}{separator}options=-csearch_path%3D{schema}"),
                    schema: Some(schema),
                    file: None,
                })
            }
        }
    }

    /// Removes a database made by [`Databases::fresh`] (unless `keep`).
    pub async fn remove(&self, db: &FreshDb) -> anyhow::Result<()> {
        if self.keep {
            eprintln!("kept {}", db.url);
            return Ok(());
        }
        if let Some(schema) = &db.schema {
            let mut connection = sqlx::PgConnection::connect(&with_sslmode(&self.postgres)).await?;
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut connection)
                .await
                .with_context(|| format!("drop schema {schema}"))?;
        }
        if let Some(file) = &db.file {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = file.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
        Ok(())
    }
}

impl FreshDb {
    /// A PostgreSQL pool on this database, durable commits, no TLS on loopback.
    pub async fn pg_pool(&self, connections_max: u32) -> anyhow::Result<PgPool> {
        let options =
            PgConnectOptions::from_str(&self.url)?.options([("synchronous_commit", "on")]);
        Ok(PgPoolOptions::new()
            .max_connections(connections_max)
            .connect_with(options)
            .await?)
    }

    /// A SQLite pool on this database with the ledger's durability settings.
    pub async fn sqlite_pool(&self, connections_max: u32) -> anyhow::Result<SqlitePool> {
        let options = SqliteConnectOptions::from_str(&self.url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(60));
        Ok(SqlitePoolOptions::new()
            .max_connections(connections_max)
            .connect_with(options)
            .await?)
    }
}

/// Loopback benchmarks run without TLS unless the URL says otherwise (TLS only costs there).
pub fn with_sslmode(url: &str) -> String {
    if url.contains("sslmode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}
