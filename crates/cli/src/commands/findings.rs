//! `engagements findings`: rule-based anomalies with the events that prove them.

use std::process::ExitCode;

use clap::Args;
use engagements_audit::findings::{findings, findings_table};
use engagements_store::Store;

use crate::asof::AsOfArgs;
use crate::output::OutputArgs;

/// Events read per page.
const PAGE: i64 = 10_000;

#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// Only this exercice.
    #[arg(long)]
    pub year: Option<i32>,
    #[command(flatten)]
    pub when: AsOfArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn run(db: &str, args: FindingsArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(db).await?;
    let as_of = args.when.as_of();
    let events = read_until(&store, &as_of).await;
    store.shutdown().await;
    let today = chrono::Local::now().date_naive();
    let found = findings(events?.iter(), &as_of, today, args.year);
    args.output.write(&[&findings_table(&found)])?;
    Ok(ExitCode::SUCCESS)
}

/// The events within the record-time bound of `as_of`.
pub async fn read_until(
    store: &Store,
    as_of: &engagements_projections::AsOf,
) -> anyhow::Result<Vec<engagements_domain::RecordedEvent>> {
    let mut events = Vec::new();
    let mut from = 1;
    loop {
        let page = store.read_all(from, PAGE).await?;
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        let past = page.iter().any(|e| as_of.is_past_record_bound(e));
        events.extend(page.into_iter().filter(|e| !as_of.is_past_record_bound(e)));
        if past {
            break;
        }
    }
    Ok(events)
}
