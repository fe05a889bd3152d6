//! `engagements keys init|public`: the Ed25519 key that signs checkpoints and audit bundles.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use engagements_app::audit::checkpoint::{default_key_path, init_key, read_key};

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
}

pub fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        KeysAction::Init { key } => {
            let path = key.unwrap_or_else(default_key_path);
            let signing = init_key(&path)?;
            println!(
                "signing key written to {} (mode 0600): keep it secret and backed up",
                path.display()
            );
            println!("public key: {}", hex_of(&signing));
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

fn hex_of(key: &engagements_app::audit::checkpoint::SigningKey) -> String {
    key.verifying_key()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
