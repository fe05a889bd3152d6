//! `engagements apply FILE.jsonl`: record commands, one JSON object per line.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use engagements_app::auth::{Principal, Role};
use engagements_app::{CommandLine, Ledger, MetaDefaults};
use indicatif::ProgressBar;

/// Longest accepted commands file: bigger imports are split.
const FILE_BYTES_MAX: u64 = 256 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The JSON-lines file (schema: schemas/command-line.schema.json); `-` for standard input.
    pub file: String,
    /// All or nothing: if one line is refused, nothing of the file is recorded.
    #[arg(long)]
    pub atomic: bool,
    /// Print `ack COMMAND_ID` on standard output as soon as each command is durable.
    #[arg(long)]
    pub ack: bool,
}

pub async fn run(
    db: &str,
    args: ApplyArgs,
    defaults: &MetaDefaults,
    role: Role,
) -> anyhow::Result<ExitCode> {
    let principal = Principal {
        person: defaults.actor.person.clone(),
        organisation: defaults.actor.organisation.clone(),
        role,
    };
    let text = read_input(&args.file)?;
    let mut parsed = Vec::new();
    let mut bad = 0usize;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with("//") {
            continue;
        }
        match CommandLine::parse(line) {
            Ok(command) => parsed.push((index + 1, command)),
            Err(error) => {
                bad += 1;
                eprintln!("line {}: refused: {error}", index + 1);
            }
        }
    }
    if args.atomic && bad > 0 {
        eprintln!("{bad} malformed line(s): nothing recorded (--atomic)");
        return Ok(ExitCode::from(1));
    }
    let ledger = Ledger::open(db).await?;
    let code = if args.atomic {
        apply_atomic(&ledger, &principal, parsed, defaults).await
    } else {
        apply_each(&ledger, &principal, parsed, defaults, bad, args.ack).await
    };
    ledger.store().shutdown().await;
    Ok(code)
}

fn read_input(file: &str) -> anyhow::Result<String> {
    if file == "-" {
        return std::io::read_to_string(std::io::stdin()).context("reading standard input");
    }
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {file}"))?
        .len();
    anyhow::ensure!(
        size <= FILE_BYTES_MAX,
        "{file} is {size} bytes, above the limit of {FILE_BYTES_MAX}: split it into several files"
    );
    std::fs::read_to_string(file).with_context(|| format!("cannot read {file} as UTF-8 text"))
}

async fn apply_each(
    ledger: &Ledger,
    principal: &Principal,
    lines: Vec<(usize, CommandLine)>,
    defaults: &MetaDefaults,
    mut refused: usize,
    ack: bool,
) -> ExitCode {
    let bar = ProgressBar::new(lines.len() as u64);
    let mut accepted = 0usize;
    for (number, line) in lines {
        match ledger
            .execute_as(principal, line.command, &line.meta, defaults)
            .await
        {
            Ok(receipt) if receipt.duplicate => {
                accepted += 1;
                bar.suspend(|| {
                    eprintln!("line {number}: already recorded (same command_id), nothing new")
                });
            }
            Ok(receipt) => {
                accepted += 1;
                tracing::info!(
                    line = number,
                    position = receipt.position_last(),
                    "accepted"
                );
                if ack {
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "ack {}", receipt.command_id);
                    let _ = out.flush();
                }
            }
            Err(error) => {
                refused += 1;
                bar.suspend(|| eprintln!("line {number}: refused: {error}"));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("{accepted} accepted, {refused} refused");
    if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn apply_atomic(
    ledger: &Ledger,
    principal: &Principal,
    lines: Vec<(usize, CommandLine)>,
    defaults: &MetaDefaults,
) -> ExitCode {
    let numbers: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
    let commands = lines
        .into_iter()
        .map(|(_, l)| (l.command, l.meta))
        .collect();
    match ledger
        .execute_atomic_as(principal, commands, defaults)
        .await
    {
        Ok(receipts) => {
            let known = receipts.iter().filter(|r| r.duplicate).count();
            if known > 0 {
                eprintln!(
                    "{known} line(s) already recorded (same command_id), nothing new for them"
                );
            }
            println!("{} accepted, 0 refused (atomic)", receipts.len());
            ExitCode::SUCCESS
        }
        Err((index, error)) => {
            let number = numbers.get(index).copied().unwrap_or(0);
            eprintln!("line {number}: refused: {error}");
            eprintln!("nothing recorded (--atomic)");
            ExitCode::from(1)
        }
    }
}
