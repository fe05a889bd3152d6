//! `engagements init`: create the ledger.

use std::process::ExitCode;

use clap::Args;
use engagements_app::{Ledger, MetaDefaults};

#[derive(Debug, Args)]
pub struct InitArgs {}

pub async fn run(db: &str, _args: InitArgs, _defaults: &MetaDefaults) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::open(db).await?;
    let head = ledger.store().head().await?;
    println!(
        "ledger ready at {} ({}), {} events",
        ledger.store().url(),
        ledger.store().backend_name(),
        head.map(|h| h.position).unwrap_or(0)
    );
    ledger.store().shutdown().await;
    Ok(ExitCode::SUCCESS)
}
