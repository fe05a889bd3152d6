//! `engagements history THING`: every event of a dossier, CPO, envelope, convention or
//! commitment (by id or reference) and of what it touched, in order.

use std::process::ExitCode;

use clap::Args;
use engagements_audit::history::history;
use engagements_store::Store;

use crate::asof::AsOfArgs;
use crate::output::{Format, OutputArgs};

/// The columns of the trail a terminal shows.
const TERMINAL_COLUMNS: &[&str] = &[
    "position",
    "recorded_at",
    "effective_date",
    "actor",
    "on_behalf_of",
    "event_type",
    "description",
];

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A stream id (dossier-…, envelope-…), a uuid, or a reference (convention number, comité…).
    pub thing: String,
    #[command(flatten)]
    pub when: AsOfArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn run(db: &str, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(db).await?;
    let trail = history(&store, &args.thing, &args.when.as_of()).await;
    store.shutdown().await;
    let table = trail?.to_table();
    if args.output.format == Format::Table && args.output.out.is_none() {
        // A terminal shows what a person reads; ids, payloads and hashes go to the files.
        args.output
            .write(&[&table.with_columns(TERMINAL_COLUMNS)])?;
        eprintln!(
            "Colonnes complètes (identifiants de commande, charge utile, empreintes) : --format csv, json ou xlsx."
        );
    } else {
        args.output.write(&[&table])?;
    }
    Ok(ExitCode::SUCCESS)
}
