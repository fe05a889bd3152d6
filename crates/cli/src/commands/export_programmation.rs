//! `engagements export programmation [--year Y] [--out FILE]`: the programmation sheet in the
//! import's own columns, which `engagements import programmation` reads back.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use engagements_app::Ledger;
use engagements_interop::export::programmation::{programmation_export, write_programmation_csv};

#[derive(Debug, Args)]
pub struct ProgrammationExportArgs {
    /// Only this exercice.
    #[arg(long)]
    pub year: Option<i32>,
    /// The CSV file to write (standard output without it).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(db: &str, args: ProgrammationExportArgs) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::open(db).await?;
    let export = programmation_export(&ledger, args.year).await;
    ledger.store().shutdown().await;
    let export = export?;
    match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            write_programmation_csv(&export, std::io::BufWriter::new(file))?;
            eprintln!(
                "{} rows ({} dossiers) written to {}",
                export.rows.len(),
                export.dossiers,
                path.display()
            );
        }
        None => write_programmation_csv(&export, std::io::stdout().lock())?,
    }
    if export.withdrawn_left_out > 0 {
        eprintln!(
            "{} withdrawn dossiers are not part of the programmation and were left out",
            export.withdrawn_left_out
        );
    }
    Ok(ExitCode::SUCCESS)
}
