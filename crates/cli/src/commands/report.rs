//! `engagements report VIEW`: print a view of the ledger.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use engagements_app::Ledger;

use crate::asof::AsOfArgs;
use crate::output::{write_tables, Format};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum View {
    /// The dossiers, one row per dossier and financeur asked.
    Dossiers,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    pub view: View,
    /// Only this exercice.
    #[arg(long)]
    pub year: Option<i32>,
    #[command(flatten)]
    pub when: AsOfArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Write to this file instead of standard output (required for xlsx on a terminal).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

pub async fn run(db: &str, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::open(db).await?;
    let projections = ledger.projections_as_of(&args.when.as_of()).await?;
    let table = match args.view {
        View::Dossiers => projections.subsidy.dossiers_table(args.year),
    };
    write_tables(&[&table], args.format, args.out.as_deref())?;
    ledger.store().shutdown().await;
    Ok(ExitCode::SUCCESS)
}
