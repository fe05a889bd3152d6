//! `engagements export scdl --attribuant ORG --year Y`: the SCDL subventions v2.1.1 CSV.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use engagements_app::Ledger;
use engagements_interop::export::scdl::{
    publication_deadline, scdl_rows, scdl_rows_publishable, write_scdl_csv,
};
use engagements_interop::export::scdl_source::{attribuant, scdl_grants};

#[derive(Debug, Args)]
pub struct ScdlArgs {
    /// The financeur whose grants are published (an organisation id of the referential, e.g. cabbalr).
    #[arg(long)]
    pub attribuant: String,
    /// The attribuant's SIRET (14 digits, checksum verified): the contract does not give it.
    #[arg(long, env = "ENGAGEMENTS_ATTRIBUANT_SIRET")]
    pub attribuant_siret: Option<String>,
    /// The exercice.
    #[arg(long)]
    pub year: i32,
    /// The CSV file to write (standard output without it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Refuse to write anything if one grant cannot be published (no convention yet, no SIRET
    /// nor RNA…). Without it those grants are left out and listed on standard error.
    #[arg(long)]
    pub strict: bool,
}

pub async fn run(db: &str, args: ScdlArgs) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::open(db).await?;
    let attribuant = {
        let projections = ledger.projections().await?;
        attribuant(
            &projections,
            &args.attribuant,
            args.attribuant_siret.as_deref(),
        )?
    };
    let grants = scdl_grants(&ledger, &args.attribuant, args.year).await?;
    ledger.store().shutdown().await;
    let rows = if args.strict {
        scdl_rows(&attribuant, &grants)?
    } else {
        let (rows, problems) = scdl_rows_publishable(&attribuant, &grants)?;
        for problem in &problems {
            eprintln!("left out: {problem}");
        }
        rows
    };
    match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            write_scdl_csv(&rows, std::io::BufWriter::new(file))?;
            let due = grants
                .iter()
                .filter(|g| publication_deadline(g).is_some())
                .count();
            eprintln!(
                "{} rows written to {} ({due} above 23,000 €, to publish within 3 months of the convention)",
                rows.len(),
                path.display()
            );
        }
        None => write_scdl_csv(&rows, std::io::stdout().lock())?,
    }
    Ok(ExitCode::SUCCESS)
}
