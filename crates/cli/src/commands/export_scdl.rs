//! `engagements export scdl --attribuant ORG --year Y`: the SCDL subventions v2.1.1 CSV.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use engagements_app::Ledger;
use engagements_domain::Amount;
use engagements_interop::export::datasubvention::write_datasubvention_csv;
use engagements_interop::export::scdl::{
    publication_deadline, scdl_rows, scdl_rows_publishable, write_left_out_csv, write_scdl_csv,
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
    /// nor RNA…).
    #[arg(long)]
    pub strict: bool,
    /// Write the grants that can be published and exit 0 even if others are left out. Without
    /// it, left-out grants make the command exit 1 (the file is still written, with the list).
    #[arg(long)]
    pub allow_partial: bool,
    /// Where to list the grants left out (French CSV: dossier, bénéficiaire, objet, montant,
    /// raison); default: beside `--out`, named `…-non-publiees.csv`.
    #[arg(long)]
    pub left_out: Option<PathBuf>,
    /// Also write the Data.Subvention draft's columns the ledger knows (decision date, amount
    /// requested, budget year, EJ, co-financeurs) to this CSV (docs/exports.md).
    #[arg(long)]
    pub datasubvention: Option<PathBuf>,
}

/// `scdl-etat-2025.csv` → `scdl-etat-2025-non-publiees.csv`.
fn left_out_path(args: &ScdlArgs) -> Option<PathBuf> {
    if let Some(path) = &args.left_out {
        return Some(path.clone());
    }
    let out = args.out.as_ref()?;
    let stem = out.file_stem()?.to_string_lossy();
    Some(out.with_file_name(format!("{stem}-non-publiees.csv")))
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
    let (rows, problems) = if args.strict {
        (scdl_rows(&attribuant, &grants)?, Vec::new())
    } else {
        scdl_rows_publishable(&attribuant, &grants)?
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
    if let Some(path) = &args.datasubvention {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let written =
            write_datasubvention_csv(&attribuant, &grants, std::io::BufWriter::new(file))?;
        eprintln!(
            "{written} rows written to {} (Data.Subvention draft columns)",
            path.display()
        );
    }
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        eprintln!("left out: {problem}");
    }
    let total: Amount = problems
        .iter()
        .filter_map(|p| grants.iter().find(|g| g.dossier_id == p.dossier_id()))
        .map(|g| g.amount)
        .sum();
    let listed = match left_out_path(&args) {
        Some(path) => {
            let file = std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            write_left_out_csv(&grants, &problems, std::io::BufWriter::new(file))?;
            format!("listed in {}", path.display())
        }
        None => "listed above".to_string(),
    };
    eprintln!(
        "{} of {} grants left out ({total} €), {listed}: they are not published",
        problems.len(),
        grants.len()
    );
    if args.allow_partial {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "give them what they lack, or pass --allow-partial to publish the others as they are"
        );
        Ok(ExitCode::from(1))
    }
}
