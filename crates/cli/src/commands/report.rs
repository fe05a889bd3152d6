//! `engagements report VIEW`: print a view of the ledger.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use engagements_app::Ledger;

use crate::asof::AsOfArgs;
use crate::output::{write_tables, Format};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum View {
    /// Per financeur × exercice × dispositif: envelope, requested, proposed, granted, refused,
    /// paid, reversed, left to pay, envelope left, CPO forecasts.
    Signatory,
    /// Per quartier × exercice × financeur × dispositif: the money reaching each quartier.
    Quartier,
    /// Per objectif (enjeu → ambition → objectif) × exercice.
    Objective,
    /// Per commune × exercice.
    Commune,
    /// Per porteur × exercice.
    Porteur,
    /// The dossiers, one row per dossier × financeur × dispositif, with their status.
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
    let (subsidy, referential) = (&projections.subsidy, &projections.referential);
    let table = match args.view {
        View::Signatory => subsidy.signatory_table(args.year, referential),
        View::Quartier => subsidy.quartier_table(args.year, referential),
        View::Objective => subsidy.objective_table(args.year, referential),
        View::Commune => subsidy.commune_table(args.year, referential),
        View::Porteur => subsidy.porteur_table(args.year, &projections.porteurs),
        View::Dossiers => subsidy.dossiers_table(args.year),
    };
    write_tables(&[&table], args.format, args.out.as_deref())?;
    ledger.store().shutdown().await;
    Ok(ExitCode::SUCCESS)
}
