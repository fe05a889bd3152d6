//! `engagements demo`: the CABBALR referential and a fictitious programmation 2024-2026.

use std::process::ExitCode;

use clap::Args;
use engagements_app::commitments_seed::record_initial_commitments;
use engagements_app::demo::{self, DemoConfig, DemoSummary};
use engagements_app::demo_tfpb;
use engagements_app::{Ledger, MetaDefaults};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The seed: the same seed gives the same ledger, and running twice records nothing new.
    #[arg(long, default_value_t = DemoConfig::default().seed)]
    pub seed: u64,
    /// Dossiers filed each year.
    #[arg(long, default_value_t = DemoConfig::default().dossiers_per_year as u64, value_parser = clap::value_parser!(u64).range(1..=5_000))]
    pub dossiers_per_year: u64,
}

pub async fn run(db: &str, args: DemoArgs, defaults: &MetaDefaults) -> anyhow::Result<ExitCode> {
    let config = DemoConfig {
        seed: args.seed,
        dossiers_per_year: args.dossiers_per_year as usize,
        ..DemoConfig::default()
    };
    let ledger = Ledger::open(db).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("recording the demo {bar:40} {pos}/{len} commands")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = demo::run(&ledger, &config, defaults, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .await;
    bar.finish_and_clear();
    let summary = match result {
        Ok(summary) => summary,
        Err(error) => {
            ledger.store().shutdown().await;
            return Err(error.into());
        }
    };
    // The signatories' droit-commun commitments of Annex 3 (real, from the contract), then the
    // bailleurs' TFPB: conventions, two years of programmes, spending and bilans (fictitious).
    let commitments = record_initial_commitments(&ledger, None, defaults).await;
    let tfpb = match commitments {
        Ok(_) => demo_tfpb::record_tfpb_demo(&ledger, args.seed, defaults)
            .await
            .map_err(anyhow::Error::from),
        Err(error) => Err(error.into()),
    };
    // Count every event of the ledger, after the TFPB and commitments too, so that a second run
    // prints the same summary.
    let events_total = ledger
        .store()
        .head()
        .await
        .ok()
        .flatten()
        .map(|h| h.position);
    ledger.store().shutdown().await;
    let tfpb = tfpb?;
    if summary.commands_recorded_now == 0 {
        eprintln!("the demo was already recorded in this ledger: nothing new");
    } else {
        eprintln!("{} commands recorded", summary.commands_recorded_now);
    }
    print_summary(&summary, db, events_total.unwrap_or(summary.events));
    println!(
        "  TFPB:       {} conventions, {} programmes, {} actions (fictitious amounts)",
        tfpb.conventions, tfpb.programmes, tfpb.actions
    );
    println!(
        "  commitments: the signatories' droit-commun commitments of Annex 3 (from the contract)"
    );
    println!("Next: engagements report signatory --year 2025   (or quartier, objective, commune, porteur, dossiers, tfpb)");
    Ok(ExitCode::SUCCESS)
}

fn print_summary(summary: &DemoSummary, db: &str, events_total: i64) {
    let years: Vec<String> = summary
        .dossiers_by_year
        .iter()
        .map(|(year, count)| format!("{year}: {count}"))
        .collect();
    println!(
        "Demo ledger of contract '{}' — FICTITIOUS data (seed {}), at {db}",
        summary.contract, summary.seed
    );
    println!("  porteurs:   {}", summary.porteurs);
    println!("  dossiers:   {}", years.join(", "));
    println!(
        "  envelopes:  {}   CPO: {}   grants: {}",
        summary.envelopes, summary.cpos, summary.grants
    );
    println!("  granted:    {} €", summary.granted_total);
    println!("  paid:       {} €", summary.paid_total);
    println!("  reversed:   {} €", summary.reversed_total);
    println!("  events:     {events_total}");
}
