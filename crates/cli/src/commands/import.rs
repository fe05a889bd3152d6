//! `engagements import KIND FILE`: record a file users already keep, all or nothing.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use engagements_app::auth::Principal;
use engagements_app::import::tfpb::{import_tfpb, TfpbImportError, FILE_BYTES_MAX};
use engagements_app::{Ledger, MetaDefaults};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub kind: ImportKind,
}

/// What the file holds.
#[derive(Debug, Subcommand)]
pub enum ImportKind {
    /// A bailleur's TFPB actions, one row per action (columns: docs/imports.md).
    Tfpb(TfpbArgs),
}

#[derive(Debug, Args)]
pub struct TfpbArgs {
    /// The CSV file (`;` or `,` separated, UTF-8).
    pub file: std::path::PathBuf,
    /// The bailleur whose actions these are (an organisation id of the referential).
    #[arg(long)]
    pub bailleur: String,
}

pub async fn run(db: &str, args: ImportArgs, defaults: &MetaDefaults) -> anyhow::Result<ExitCode> {
    match args.kind {
        ImportKind::Tfpb(args) => run_tfpb(db, args, defaults).await,
    }
}

async fn run_tfpb(db: &str, args: TfpbArgs, defaults: &MetaDefaults) -> anyhow::Result<ExitCode> {
    let file = args.file.display().to_string();
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {file}"))?
        .len();
    anyhow::ensure!(
        size <= FILE_BYTES_MAX as u64,
        "{file} is {size} bytes, above the limit of {FILE_BYTES_MAX}: split it by year"
    );
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {file} as UTF-8 text"))?;
    let ledger = Ledger::open(db).await?;
    // Whoever runs the command line has the database: it acts as an administrator.
    let principal = Principal::admin(&defaults.actor);
    let outcome = import_tfpb(&ledger, &text, &args.bailleur, &principal, defaults).await;
    ledger.store().shutdown().await;
    match outcome {
        Ok(report) => {
            println!(
                "{file}: {} rows imported for {}: {} actions, {} spendings, {} abatements, {} programmes (bailleur × QPV × year)",
                report.rows,
                args.bailleur,
                report.actions,
                report.spendings,
                report.abatements,
                report.programmes.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(TfpbImportError::Rows(problems)) => {
            for problem in &problems {
                eprintln!("{file}: {problem}");
            }
            eprintln!("{file}: {} problem(s), nothing recorded", problems.len());
            Ok(ExitCode::from(1))
        }
        Err(error) => {
            eprintln!("{file}: {error}");
            Ok(ExitCode::from(1))
        }
    }
}
