//! `engagements backup` and `engagements restore`: the whole ledger (schema, functions,
//! triggers, rows) to one file and back, one procedure per backend (see `deploy/README.md`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use engagements_store::backup::restore;
use engagements_store::{BackupFormat, BackupSummary, Store};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to write (a new file, mode 0600; an existing one is refused). SQLite: a
    /// copy of the database; PostgreSQL: a logical export, one JSON object a line.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file made by `engagements backup`. It is restored into `--db`, which must be
    /// empty: a new SQLite file, or a PostgreSQL database (or schema) without the ledger's rows.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
}

pub async fn backup(db: &str, args: BackupArgs) -> anyhow::Result<ExitCode> {
    // A backup reads: it neither creates a database nor migrates one.
    let store = Store::open_existing(db).await?;
    let summary = store.backup(&args.out).await;
    store.shutdown().await;
    let summary = summary?;
    println!("backup:  {}", args.out.display());
    print_summary(&summary);
    Ok(ExitCode::SUCCESS)
}

pub async fn run_restore(db: &str, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let summary = restore(db, &args.from).await?;
    println!("restored from {}", args.from.display());
    print_summary(&summary);
    println!("chain:   OK (every hash recomputed)");
    Ok(ExitCode::SUCCESS)
}

fn print_summary(summary: &BackupSummary) {
    let format = match summary.format {
        BackupFormat::SqliteFile => "SQLite file",
        BackupFormat::Logical => "logical export (JSON lines)",
    };
    println!("format:  {format}");
    println!("events:  {}", summary.events);
    println!(
        "head:    {}",
        summary.head_hash.as_deref().unwrap_or("(empty log)")
    );
}
