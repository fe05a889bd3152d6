//! `engagements verify`: prove the log was not altered — by recomputing the hash chain, against
//! checkpoints an auditor kept, or offline on an exported audit bundle.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use engagements_app::audit::bundle::verify_bundle;
use engagements_app::audit::checkpoint::{read_public_key, verify_checkpoint, Checkpoint};
use engagements_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A checkpoint file kept earlier: prove the current log extends it.
    #[arg(long)]
    pub checkpoint: Vec<PathBuf>,
    /// The public key (hex file) the checkpoints and the bundle must be signed with.
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// Verify an exported audit bundle offline instead of the database.
    #[arg(long)]
    pub bundle: Option<PathBuf>,
}

pub async fn run(db: &str, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let trusted = args
        .public_key
        .as_deref()
        .map(read_public_key)
        .transpose()?;
    let kept = args
        .checkpoint
        .iter()
        .map(|path| Checkpoint::read(path))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(dir) = &args.bundle {
        return bundle(dir, trusted.as_ref(), &kept);
    }
    let store = Store::open(db).await?;
    let code = chain(&store, trusted.as_ref(), &kept).await;
    store.shutdown().await;
    code
}

async fn chain(
    store: &Store,
    trusted: Option<&engagements_app::audit::checkpoint::VerifyingKey>,
    kept: &[Checkpoint],
) -> anyhow::Result<ExitCode> {
    let total = store.head().await?.map(|h| h.position).unwrap_or(0);
    let bar = ProgressBar::new(total.max(0) as u64);
    bar.set_style(
        ProgressStyle::with_template("verifying {bar:40} {pos}/{len} events ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = store.verify(|done| bar.set_position(done as u64)).await?;
    bar.finish_and_clear();
    println!("events:        {}", report.events);
    println!("last position: {}", report.position_last);
    println!("head hash:     {}", report.head_hash);
    if let Some(problem) = report.problem {
        println!("chain:         BROKEN at position {}", problem.position);
        eprintln!(
            "error: the log was altered at position {}: {}",
            problem.position, problem.what
        );
        return Ok(ExitCode::from(1));
    }
    println!("chain:         OK (every hash recomputed, positions gapless, versions contiguous, times in order)");
    let mut failed = false;
    for checkpoint in kept {
        match verify_checkpoint(store, checkpoint, trusted).await? {
            None => println!(
                "checkpoint:    OK at position {} (signed {}): the log extends it",
                checkpoint.position, checkpoint.signed_at
            ),
            Some(problem) => {
                failed = true;
                println!("checkpoint:    FAILED at position {}", checkpoint.position);
                eprintln!("error: {problem}");
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn bundle(
    dir: &std::path::Path,
    trusted: Option<&engagements_app::audit::checkpoint::VerifyingKey>,
    kept: &[Checkpoint],
) -> anyhow::Result<ExitCode> {
    let report = verify_bundle(dir, trusted, kept)?;
    println!("bundle:        {}", dir.display());
    println!("events:        {}", report.events);
    println!("last position: {}", report.position_last);
    println!("head hash:     {}", report.head_hash);
    println!(
        "signed:        {}",
        if report.signed {
            "yes (manifest signature valid)"
        } else {
            "no"
        }
    );
    println!("checkpoints:   {} checked", report.checkpoints_checked);
    if report.is_ok() {
        println!("bundle:        OK");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "bundle:        ALTERED ({} problems)",
        report.problems.len()
    );
    for problem in &report.problems {
        eprintln!("error: {problem}");
    }
    Ok(ExitCode::from(1))
}
