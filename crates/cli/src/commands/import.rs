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
    /// The comité's programmation sheet, one row per dossier and financeur (CSV or XLSX;
    /// columns: docs/imports.md).
    Programmation(ProgrammationArgs),
}

#[derive(Debug, Args)]
pub struct ProgrammationArgs {
    /// The sheet: `.xlsx` (first sheet) or CSV (`;` or `,` separated, UTF-8).
    pub file: std::path::PathBuf,
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
        ImportKind::Programmation(args) => run_programmation(db, args, defaults).await,
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

async fn run_programmation(
    db: &str,
    args: ProgrammationArgs,
    defaults: &MetaDefaults,
) -> anyhow::Result<ExitCode> {
    use engagements_app::import::programmation::{
        import_programmation, read_csv, read_xlsx, ProgrammationImportError,
    };
    let file = args.file.display().to_string();
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {file}"))?
        .len();
    anyhow::ensure!(
        size <= FILE_BYTES_MAX as u64,
        "{file} is {size} bytes, above the limit of {FILE_BYTES_MAX}: split it by exercice"
    );
    let is_xlsx = args
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let sheet = if is_xlsx {
        read_xlsx(&std::fs::read(&args.file).with_context(|| format!("cannot read {file}"))?)
    } else {
        read_csv(
            &std::fs::read_to_string(&args.file)
                .with_context(|| format!("cannot read {file} as UTF-8 text"))?,
        )
    }
    .with_context(|| format!("cannot read {file}"))?;
    let ledger = Ledger::open(db).await?;
    let outcome = import_programmation(&ledger, &sheet, defaults).await;
    ledger.store().shutdown().await;
    match outcome {
        Ok(report) => {
            println!(
                "{file}: {} rows imported: {} porteurs registered, {} dossiers, {} opinions, {} decisions",
                report.rows,
                report.porteurs_registered,
                report.dossiers,
                report.opinions,
                report.decisions
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ProgrammationImportError::Rows(problems)) => {
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
