//! `engagements init`: create the ledger and record the contract's referential.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use engagements_app::commitments_seed::record_initial_commitments;
use engagements_app::referential::LoadedContract;
use engagements_app::{Ledger, MetaDefaults};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// A contract directory of the same shape as schemas/contracts/cabbalr-2024-2030/ (its JSON
    /// files). Without it, the built-in CABBALR « Engagements Quartiers 2030 » contract.
    #[arg(long, value_name = "DIR")]
    pub contract: Option<PathBuf>,
}

pub async fn run(db: &str, args: InitArgs, defaults: &MetaDefaults) -> anyhow::Result<ExitCode> {
    let loaded = match &args.contract {
        Some(dir) => LoadedContract::from_dir(dir)
            .with_context(|| format!("loading the contract directory {}", dir.display()))?,
        None => LoadedContract::embedded().context("loading the built-in contract")?,
    };
    let ledger = Ledger::open(db).await?;
    let result = loaded.publish(&ledger, defaults).await;
    // The contract's droit-commun commitments (Annex 3) rest on its referential.
    let commitments = match &result {
        Ok(_) => {
            Some(record_initial_commitments(&ledger, args.contract.as_deref(), defaults).await)
        }
        Err(_) => None,
    };
    let head = ledger.store().head().await?;
    ledger.store().shutdown().await;
    let receipt = result.with_context(|| {
        format!(
            "recording the referential of contract '{}'",
            loaded.referential.contract.id
        )
    })?;
    let contract = &loaded.referential.contract;
    if receipt.duplicate {
        println!(
            "contract '{}' already recorded with content hash {}: nothing new",
            contract.id, loaded.content_hash
        );
    } else {
        println!(
            "contract '{}' recorded ({} events, content hash {})",
            contract.id,
            receipt.events.len(),
            loaded.content_hash
        );
    }
    if let Some(commitments) = commitments {
        let report = commitments.context("recording the contract's droit-commun commitments")?;
        println!(
            "commitments: {} pledged, {} revised, {} unchanged; {} partners « En attente »",
            report.pledged, report.revised, report.unchanged, report.pending_partners
        );
    }
    println!(
        "ledger ready at {} ({}), {} events",
        ledger.store().url(),
        ledger.store().backend_name(),
        head.map(|h| h.position).unwrap_or(0)
    );
    Ok(ExitCode::SUCCESS)
}
