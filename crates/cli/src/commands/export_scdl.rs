//! `engagements export scdl --attribuant ORG --year Y`: the SCDL subventions v2.1.1 CSV, and
//! with `--publish` the record in the log that this file is the one published.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use engagements_app::auth::{Principal, Role};
use engagements_app::export::publication::{record_publication, PublishedFile};
use engagements_app::export::scdl::{
    publication_deadline, scdl_row, scdl_rows, scdl_rows_publishable, write_scdl_csv,
};
use engagements_app::export::scdl_source::{attribuant, scdl_grants};
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::publication::PublicationFormat;

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
    /// This file is the one published: record the publication in the log (attribuant,
    /// exercice, rows, dossiers, SHA-256 of the file, day, operator). Needs --out.
    #[arg(long, requires = "out")]
    pub publish: bool,
    /// The day it is published (default: today).
    #[arg(long, requires = "publish")]
    pub published_on: Option<chrono::NaiveDate>,
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
    let rows = if args.strict {
        scdl_rows(&attribuant, &grants)?
    } else {
        let (rows, problems) = scdl_rows_publishable(&attribuant, &grants)?;
        for problem in &problems {
            eprintln!("left out: {problem}");
        }
        rows
    };
    let Some(path) = &args.out else {
        write_scdl_csv(&rows, std::io::stdout().lock())?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut bytes = Vec::new();
    write_scdl_csv(&rows, &mut bytes)?;
    std::fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
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
        // The dossiers of the rows written: a grant left out is not published.
        let dossiers = grants
            .iter()
            .filter(|grant| scdl_row(&attribuant, grant).is_ok())
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
            rows: u32::try_from(rows.len()).unwrap_or(u32::MAX),
            bytes: &bytes,
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
            "publication {what} at position {}: {} rows of {} for {}, SHA-256 {}",
            receipt.position_last(),
            rows.len(),
            args.attribuant,
            args.year,
            file.sha256()
        );
    }
    Ok(ExitCode::SUCCESS)
}
