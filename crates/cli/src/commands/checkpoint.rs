//! `engagements checkpoint`: sign the log's head, record it, and write the file an auditor keeps.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use engagements_app::{CommandMeta, MetaDefaults};
use engagements_audit::checkpoint::{default_key_path, read_key, record_checkpoint};
use engagements_audit::publish::publish;
use engagements_store::Store;

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The signing key (default: $ENGAGEMENTS_KEY or ./engagements.key).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Where to write the checkpoint (default: checkpoint-POSITION.json, unless --publish is
    /// given).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Append the checkpoint, as one JSON line, to this file (created if missing): the file the
    /// operator ships outside the database (`engagements verify --checkpoints FILE`).
    #[arg(long)]
    pub publish: Option<PathBuf>,
}

pub async fn run(
    db: &str,
    args: CheckpointArgs,
    defaults: &MetaDefaults,
) -> anyhow::Result<ExitCode> {
    let key = read_key(&args.key.unwrap_or_else(default_key_path))?;
    let store = Store::open_existing(db).await?;
    let recorded = record_checkpoint(&store, &key, CommandMeta::default().resolve(defaults)).await;
    store.shutdown().await;
    let checkpoint = recorded?;
    println!(
        "checkpoint over position {} (head {})",
        checkpoint.position, checkpoint.head_hash
    );
    if let Some(path) = &args.publish {
        publish(&checkpoint, path)?;
        println!(
            "recorded in the log and appended to {}: ship that file outside the database",
            path.display()
        );
    }
    let out = match (args.out, &args.publish) {
        (Some(out), _) => Some(out),
        (None, None) => Some(PathBuf::from(format!(
            "checkpoint-{}.json",
            checkpoint.position
        ))),
        (None, Some(_)) => None,
    };
    if let Some(out) = out {
        checkpoint.write(&out)?;
        println!("recorded in the log and written to {}: give that file to whoever must be able to check the log later", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
