//! `engagements export scdl --attribuant ORG --year Y`: the SCDL subventions v2.1.1 CSV, and
//! with `--publish` the record in the log that this file is the one published.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use engagements_app::auth::{Principal, Role};
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::publication::PublicationFormat;
use engagements_domain::Amount;
use engagements_interop::export::datasubvention::write_datasubvention_csv;
use engagements_interop::export::publication::{record_publication, PublishedFile};
use engagements_interop::export::scdl::{
    publication_deadline, scdl_row, scdl_rows, scdl_rows_publishable, write_left_out_csv,
    write_scdl_csv,
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
    /// This file is the one published: record the publication in the log (attribuant,
    /// exercice, rows, dossiers, SHA-256 of the file, day, operator). Needs --out.
    #[arg(long, requires = "out")]
    pub publish: bool,
    /// The day it is published (default: today).
    #[arg(long, requires = "publish")]
    pub published_on: Option<chrono::NaiveDate>,
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

pub async fn run(
    db: &str,
    args: ScdlArgs,
    defaults: &MetaDefaults,
    role: Role,
) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::open(db).await?;
    let written = write(&ledger, &args, defaults, role).await;
    ledger.store().shutdown().await;
    written
}

async fn write(
    ledger: &Ledger,
    args: &ScdlArgs,
    defaults: &MetaDefaults,
    role: Role,
) -> anyhow::Result<ExitCode> {
    let attribuant = {
        let projections = ledger.projections().await?;
        attribuant(
            &projections,
            &args.attribuant,
            args.attribuant_siret.as_deref(),
        )?
    };
    let grants = scdl_grants(ledger, &args.attribuant, args.year).await?;
    let (rows, problems) = if args.strict {
        (scdl_rows(&attribuant, &grants)?, Vec::new())
    } else {
        scdl_rows_publishable(&attribuant, &grants)?
    };
    match &args.out {
        None => write_scdl_csv(&rows, std::io::stdout().lock())?,
        Some(path) => {
            let mut bytes = Vec::new();
            write_scdl_csv(&rows, &mut bytes)?;
            std::fs::write(path, &bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let due = grants
                .iter()
                .filter(|g| publication_deadline(g).is_some())
                .count();
            eprintln!(
                "{} rows written to {} ({due} above 23,000 €, to publish within 3 months of the convention)",
                rows.len(),
                path.display()
            );
            if args.publish {
                publish(
                    ledger,
                    args,
                    defaults,
                    role,
                    &attribuant,
                    &grants,
                    rows.len(),
                    path,
                    &bytes,
                )
                .await?;
            }
        }
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
    let listed = match left_out_path(args) {
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

/// Records in the log that the file written is the one published.
#[allow(clippy::too_many_arguments)]
async fn publish(
    ledger: &Ledger,
    args: &ScdlArgs,
    defaults: &MetaDefaults,
    role: Role,
    attribuant: &engagements_interop::export::scdl::Attribuant,
    grants: &[engagements_interop::export::scdl::GrantFacts],
    rows: usize,
    path: &std::path::Path,
    bytes: &[u8],
) -> anyhow::Result<()> {
    // The dossiers of the rows written: a grant left out is not published.
    let dossiers = grants
        .iter()
        .filter(|grant| scdl_row(attribuant, grant).is_ok())
        .filter_map(|grant| grant.dossier_id.parse().ok())
        .collect();
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let file = PublishedFile {
        format: PublicationFormat::ScdlSubventions,
        attribuant: &args.attribuant,
        exercice: args.year,
        dossiers,
        rows: u32::try_from(rows).unwrap_or(u32::MAX),
        bytes,
        file_name: &file_name,
        published_on: args.published_on.unwrap_or(defaults.today),
    };
    let principal = Principal {
        person: defaults.actor.person.clone(),
        organisation: defaults.actor.organisation.clone(),
        role,
    };
    let receipt = record_publication(ledger, &principal, &file, defaults)
        .await
        .with_context(|| {
            format!(
                "{} is written but its publication is not recorded",
                path.display()
            )
        })?;
    let what = if receipt.duplicate {
        "already recorded"
    } else {
        "recorded"
    };
    println!(
        "publication {what} at position {}: {rows} rows of {} for {}, SHA-256 {}",
        receipt.position_last(),
        args.attribuant,
        args.year,
        file.sha256()
    );
    Ok(())
}
