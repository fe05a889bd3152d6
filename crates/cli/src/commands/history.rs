//! `engagements history THING`: every event of a dossier, CPO, envelope, convention or
//! commitment (by id or reference) and of what it touched, in order.

use std::process::ExitCode;

use clap::Args;
use engagements_audit::history::history;
use engagements_store::Store;

use crate::asof::AsOfArgs;
use crate::output::OutputArgs;

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
    args.output.write(&[&trail?.to_table()])?;
    Ok(ExitCode::SUCCESS)
}
