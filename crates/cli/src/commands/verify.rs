//! `engagements verify`: prove the log was not altered — by recomputing the hash chain, checking
//! the checkpoints and signing keys recorded in the log, re-folding the log to check every stored
//! snapshot, against checkpoints an auditor kept, or offline on an exported audit bundle.
//! Writes nothing, and never creates a database.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use engagements_app::snapshots::verify_against_log;
use engagements_audit::bundle::verify_bundle;
use engagements_audit::checkpoint::{
    check_recorded, read_public_key, verify_checkpoints, Checkpoint, CheckpointProblem,
    VerifyingKey,
};
use engagements_audit::publish::read_published;
use engagements_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A checkpoint file kept earlier: prove the current log extends it.
    #[arg(long)]
    pub checkpoint: Vec<PathBuf>,
    /// A file of published checkpoints (one JSON line each, as `serve --checkpoint-publish` and
    /// `checkpoint --publish` append them): prove the current log extends every one.
    #[arg(long)]
    pub checkpoints: Vec<PathBuf>,
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
    let mut kept = Vec::new();
    for path in &args.checkpoint {
        kept.push(Kept {
            checkpoint: Checkpoint::read(path)?,
            from: None,
        });
    }
    for path in &args.checkpoints {
        let published = read_published(path)?;
        let lines = published.len();
        kept.extend(
            published
                .into_iter()
                .enumerate()
                .map(|(index, checkpoint)| Kept {
                    checkpoint,
                    from: Some((path.clone(), index + 1, lines)),
                }),
        );
    }
    let untrusted = !kept.is_empty() && trusted.is_none();
    let code = if let Some(dir) = &args.bundle {
        let kept: Vec<Checkpoint> = kept.into_iter().map(|k| k.checkpoint).collect();
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

/// A checkpoint to check, and where it came from: its own file, or a line of a file of
/// published checkpoints (path, line, lines in the file).
struct Kept {
    checkpoint: Checkpoint,
    from: Option<(PathBuf, usize, usize)>,
}

async fn database(
    store: &Store,
    trusted: Option<&VerifyingKey>,
    kept: &[Kept],
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
    let checkpoints: Vec<Checkpoint> = kept.iter().map(|k| k.checkpoint.clone()).collect();
    let problems = verify_checkpoints(store, &checkpoints, trusted).await?;
    for (kept, problem) in kept.iter().zip(&problems) {
        let checkpoint = &kept.checkpoint;
        match (problem, &kept.from) {
            (None, None) => println!(
                "checkpoint:    OK at position {} (signed {}): the log extends it",
                checkpoint.position, checkpoint.signed_at
            ),
            // Published files hold many checkpoints: one summary line per file below.
            (None, Some(_)) => {}
            (Some(problem), from) => {
                failed = true;
                let origin = from
                    .as_ref()
                    .map(|(path, line, _)| format!(" ({} line {line})", path.display()))
                    .unwrap_or_default();
                println!(
                    "checkpoint:    FAILED at position {}{origin}",
                    checkpoint.position
                );
                eprintln!("error: {problem}");
            }
        }
    }
    published_summary(store, kept, &problems).await?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One line per file of published checkpoints: how many hold, and how far the log went past the
/// last one.
async fn published_summary(
    store: &Store,
    kept: &[Kept],
    problems: &[Option<CheckpointProblem>],
) -> anyhow::Result<()> {
    let head = store.head().await?.map(|h| h.position).unwrap_or(0);
    let mut files: Vec<&PathBuf> = kept
        .iter()
        .filter_map(|k| k.from.as_ref().map(|(path, _, _)| path))
        .collect();
    files.dedup();
    for file in files {
        let of_file: Vec<(&Kept, &Option<CheckpointProblem>)> = kept
            .iter()
            .zip(problems)
            .filter(|(k, _)| k.from.as_ref().is_some_and(|(path, _, _)| path == file))
            .collect();
        let holding = of_file.iter().filter(|(_, p)| p.is_none()).count();
        let last = of_file
            .iter()
            .map(|(k, _)| &k.checkpoint)
            .max_by_key(|c| c.position);
        let distance = last
            .map(|c| {
                format!(
                    "; the last covers position {}, {}",
                    c.position,
                    distance(head, c)
                )
            })
            .unwrap_or_default();
        println!(
            "published:     {} of {} checkpoints in {} hold{distance}",
            holding,
            of_file.len(),
            file.display()
        );
    }
    Ok(())
}

/// How far the log went past a checkpoint: events, and time since it was signed.
fn distance(head: i64, checkpoint: &Checkpoint) -> String {
    let since = chrono::DateTime::parse_from_rfc3339(&checkpoint.signed_at)
        .map(|signed| duration_text(chrono::Utc::now() - signed.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| "an unknown time".to_string());
    format!(
        "signed {} ({} events and {since} since)",
        checkpoint.signed_at,
        head - checkpoint.position
    )
}

/// `3 d 4 h 05 min`, `12 min`, `40 s`.
fn duration_text(duration: chrono::Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3_600 % 24, seconds / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m:02} min"),
        (d, h, m) => format!("{d} d {h} h {m:02} min"),
    }
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
            "recorded:      {} checkpoints, {} hold; the last one covers position {}, {}",
            check.checkpoints,
            check.checkpoints_ok,
            last.position,
            distance(head, last)
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

#[cfg(test)]
mod tests {
    use super::duration_text;

    #[test]
    fn durations_read_from_the_largest_unit() {
        let text = |seconds| duration_text(chrono::Duration::seconds(seconds));
        assert_eq!(text(40), "40 s");
        assert_eq!(text(12 * 60 + 5), "12 min");
        assert_eq!(text(3 * 3600 + 5 * 60), "3 h 05 min");
        assert_eq!(text(2 * 86_400 + 3600 + 60), "2 d 1 h 01 min");
        assert_eq!(text(-5), "0 s");
    }
}
