//! `engagements verify`: prove the log was not altered.

use std::process::ExitCode;

use clap::Args;
use engagements_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Args)]
pub struct VerifyArgs {}

pub async fn run(db: &str, _args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(db).await?;
    let total = store.head().await?.map(|h| h.position).unwrap_or(0);
    let bar = ProgressBar::new(total.max(0) as u64);
    bar.set_style(
        ProgressStyle::with_template("verifying {bar:40} {pos}/{len} events ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = store.verify(|done| bar.set_position(done as u64)).await?;
    bar.finish_and_clear();
    store.shutdown().await;
    println!("events:        {}", report.events);
    println!("last position: {}", report.position_last);
    println!("head hash:     {}", report.head_hash);
    match report.problem {
        None => {
            println!("chain:         OK (every hash recomputed, positions gapless, versions contiguous, times in order)");
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            println!("chain:         BROKEN at position {}", problem.position);
            eprintln!(
                "error: the log was altered at position {}: {}",
                problem.position, problem.what
            );
            Ok(ExitCode::from(1))
        }
    }
}
