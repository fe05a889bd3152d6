//! `engagements keys init|public|rotate`: the Ed25519 key that signs checkpoints and audit
//! bundles, and its record in the ledger (so that `verify` knows which key its checkpoints must
//! be signed with).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use engagements_app::{CommandMeta, MetaDefaults};
use engagements_audit::checkpoint::{
    default_key_path, init_key, read_key, record_key, rotate_key, KeyRecording, VerifyingKey,
};
use engagements_store::{Store, StoreError};

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: KeysAction,
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Create the signing key (a file readable by its owner only, kept outside the ledger).
    Init {
        /// Where to write the private key (default: $ENGAGEMENTS_KEY or ./engagements.key).
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Print the public key (hex), to hand to auditors.
    Public {
        #[arg(long)]
        key: Option<PathBuf>,
        /// Also write it to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Create a new signing key and record it in the ledger in place of the current one, which
    /// endorses it. Keep the old key's public part: older checkpoints stay signed with it.
    Rotate {
        /// The current signing key (default: $ENGAGEMENTS_KEY or ./engagements.key).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Where to write the new private key (it must not exist).
        #[arg(long)]
        new_key: PathBuf,
    },
}

pub async fn run(db: &str, args: KeysArgs, defaults: &MetaDefaults) -> anyhow::Result<ExitCode> {
    match args.action {
        KeysAction::Init { key } => {
            let path = key.unwrap_or_else(default_key_path);
            let signing = init_key(&path)?;
            println!(
                "signing key written to {} (mode 0600): keep it secret and backed up",
                path.display()
            );
            println!("public key: {}", hex_of(&signing));
            record(db, &signing.verifying_key(), defaults).await?;
        }
        KeysAction::Rotate { key, new_key } => {
            return rotate(
                db,
                &key.unwrap_or_else(default_key_path),
                &new_key,
                defaults,
            )
            .await;
        }
        KeysAction::Public { key, out } => {
            let signing = read_key(&key.unwrap_or_else(default_key_path))?;
            let public = hex_of(&signing);
            if let Some(out) = out {
                std::fs::write(&out, format!("{public}\n"))
                    .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
            }
            println!("{public}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn hex_of(key: &engagements_audit::checkpoint::SigningKey) -> String {
    key.verifying_key()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Records a new key in the ledger when the ledger exists (else the first checkpoint will).
async fn record(db: &str, key: &VerifyingKey, defaults: &MetaDefaults) -> anyhow::Result<()> {
    let store = match Store::open_existing(db).await {
        Ok(store) => store,
        Err(StoreError::NoLedger(_)) => {
            println!("not recorded in a ledger (none at {db} yet): the first `engagements checkpoint` records it");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    let recorded = record_key(&store, key, CommandMeta::default().resolve(defaults)).await;
    store.shutdown().await;
    match recorded? {
        KeyRecording::Recorded => {
            println!(
                "recorded in the ledger as its signing key: checkpoints must be signed with it"
            )
        }
        KeyRecording::AlreadyRecorded => println!("already the ledger's signing key"),
    }
    Ok(())
}

async fn rotate(
    db: &str,
    current: &Path,
    new_key: &Path,
    defaults: &MetaDefaults,
) -> anyhow::Result<ExitCode> {
    let signing = read_key(current)?;
    // Open first: a missing ledger must not leave a new key behind.
    let store = Store::open_existing(db).await?;
    let next = match init_key(new_key) {
        Ok(next) => next,
        Err(error) => {
            store.shutdown().await;
            return Err(error.into());
        }
    };
    let rotated = rotate_key(
        &store,
        &signing,
        &next.verifying_key(),
        CommandMeta::default().resolve(defaults),
    )
    .await;
    store.shutdown().await;
    if let Err(error) = rotated {
        // Nothing was recorded: the new key file is of no use, remove it.
        let _ = std::fs::remove_file(new_key);
        return Err(error.into());
    }
    println!(
        "new signing key written to {} (mode 0600) and recorded in the ledger, endorsed by {}",
        new_key.display(),
        hex_of(&signing)
    );
    println!("public key: {}", hex_of(&next));
    Ok(ExitCode::SUCCESS)
}
