//! `engagements verify`: prove the log was not altered — by recomputing the hash chain, checking
//! the checkpoints and signing keys recorded in the log, re-folding the log to check every stored
//! snapshot, against checkpoints an auditor kept, or offline on an exported audit bundle.
//! Writes nothing, and never creates a database.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use engagements_app::audit::bundle::verify_bundle;
use engagements_app::audit::checkpoint::{
    check_recorded, read_public_key, verify_checkpoint, Checkpoint, VerifyingKey,
};
use engagements_app::snapshots::verify_against_log;
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
    /// Accept kept checkpoints checked only against their own embedded key (their authenticity
    /// is then not checked).
    #[arg(long)]
    pub allow_untrusted: bool,
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
    let untrusted = !kept.is_empty() && trusted.is_none();
    let code = if let Some(dir) = &args.bundle {
        bundle(dir, trusted.as_ref(), &kept)?
    } else {
        let store = Store::open_existing(db).await?;
        let code = database(&store, trusted.as_ref(), &kept).await;
        store.shutdown().await;
        code?
    };
    if untrusted {
        // A checkpoint checked with the key written inside it proves nothing about who made it:
        // anyone can sign a forged head with a key of their own.
        println!("authenticity:  NOT CHECKED (no --public-key: each checkpoint was checked only with the key written inside it)");
        if !args.allow_untrusted {
            eprintln!("error: the checkpoints' authenticity was not checked: give the ledger's public key with --public-key (or accept this with --allow-untrusted)");
            return Ok(ExitCode::from(1));
        }
    }
    Ok(code)
}

async fn database(
    store: &Store,
    trusted: Option<&VerifyingKey>,
    kept: &[Checkpoint],
) -> anyhow::Result<ExitCode> {
    let total = store.head().await?.map(|h| h.position).unwrap_or(0);
    if total == 0 {
        println!("events:        0");
        println!("chain:         EMPTY");
        eprintln!("error: the ledger at {} has no event: there is nothing to verify (was it the ledger you meant?)", store.url());
        return Ok(ExitCode::from(1));
    }
    if !chain(store, total).await? {
        return Ok(ExitCode::from(1));
    }
    let mut failed = !recorded(store).await?;
    failed |= !snapshots(store).await?;
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

/// Recomputes the chain; false when it is broken.
async fn chain(store: &Store, total: i64) -> anyhow::Result<bool> {
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
        return Ok(false);
    }
    println!("chain:         OK (every hash recomputed, positions gapless, versions contiguous, times in order)");
    Ok(true)
}

/// Checks the keys and checkpoints recorded in the log; false when one does not hold.
async fn recorded(store: &Store) -> anyhow::Result<bool> {
    let check = check_recorded(store).await?;
    let head = store.head().await?.map(|h| h.position).unwrap_or(0);
    match &check.last_ok {
        Some((_, last)) => println!(
            "recorded:      {} checkpoints, {} hold; the last one covers position {} ({} events since)",
            check.checkpoints,
            check.checkpoints_ok,
            last.position,
            head - last.position
        ),
        None => println!(
            "recorded:      {} checkpoints hold (none covers any position yet: {head} events not covered)",
            check.checkpoints_ok
        ),
    }
    if let Some(key) = &check.key {
        println!("signing key:   {key} (as recorded in the log)");
    }
    for problem in &check.problems {
        eprintln!("error: {problem}");
    }
    Ok(check.problems.is_empty())
}

/// Re-folds the log and compares every stored snapshot; false when one differs.
async fn snapshots(store: &Store) -> anyhow::Result<bool> {
    let check = verify_against_log(store).await?;
    let mut notes = Vec::new();
    if check.unbound > 0 {
        notes.push(format!(
            "{} saved before snapshots were bound to the chain, never read",
            check.unbound
        ));
    }
    if check.other_formats > 0 {
        notes.push(format!(
            "{} of other formats, never read",
            check.other_formats
        ));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    if check.problems.is_empty() {
        println!(
            "snapshots:     OK ({} compared with the log folded from position 1{notes})",
            check.compared
        );
        return Ok(true);
    }
    println!(
        "snapshots:     FAILED ({} of {} differ from the log folded from position 1{notes})",
        check.problems.len(),
        check.compared
    );
    for problem in &check.problems {
        eprintln!("error: {problem}");
    }
    Ok(false)
}

fn bundle(
    dir: &std::path::Path,
    trusted: Option<&VerifyingKey>,
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
