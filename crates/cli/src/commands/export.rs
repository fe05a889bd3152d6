//! `engagements export …`: copies of the ledger for others. `export audit` writes the audit
//! bundle that `engagements verify --bundle` re-verifies offline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use engagements_app::auth::Role;
use engagements_app::snapshots::fold_log;
use engagements_app::{CommandMeta, MetaDefaults};
use engagements_audit::bundle::{all_reports, export_bundle, BundleContents};
use engagements_audit::checkpoint::{
    default_key_path, ensure_signable, read_key, record_signed_checkpoint, Checkpoint, SigningKey,
};
use engagements_audit::findings::findings;
use engagements_projections::AsOf;
use engagements_store::Store;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub what: ExportWhat,
}

#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// The audit bundle: full log with hashes, public key, checkpoints, referential, every report.
    Audit(AuditBundleArgs),
    /// The SCDL subventions v2.1.1 open-data CSV of one attribuant for one exercice.
    Scdl(super::export_scdl::ScdlArgs),
    /// The programmation sheet in the columns `import programmation` reads (docs/imports.md).
    Programmation(super::export_programmation::ProgrammationExportArgs),
}

#[derive(Debug, Args)]
pub struct AuditBundleArgs {
    /// The directory to create (new or empty).
    #[arg(long)]
    pub out: PathBuf,
    /// The signing key (default: $ENGAGEMENTS_KEY or ./engagements.key if it exists).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Export without signing even if a key exists.
    #[arg(long)]
    pub unsigned: bool,
    /// The contract's referential directory to include.
    #[arg(long, default_value = "schemas/contracts/cabbalr-2024-2030")]
    pub referential: PathBuf,
    /// Leave out `persons.csv` (the names behind the pseudonymous ids of the events): for a
    /// recipient who has no need of them (RGPD art. 5, minimisation).
    #[arg(long)]
    pub without_persons: bool,
}

pub async fn run(
    db: &str,
    args: ExportArgs,
    defaults: &MetaDefaults,
    role: Role,
) -> anyhow::Result<ExitCode> {
    match args.what {
        ExportWhat::Audit(args) => audit(db, args, defaults).await,
        ExportWhat::Scdl(args) => super::export_scdl::run(db, args, defaults, role).await,
        ExportWhat::Programmation(args) => super::export_programmation::run(db, args).await,
    }
}

async fn audit(
    db: &str,
    args: AuditBundleArgs,
    defaults: &MetaDefaults,
) -> anyhow::Result<ExitCode> {
    let key = match (&args.key, args.unsigned) {
        (_, true) => None,
        (Some(path), false) => Some(read_key(path)?),
        (None, false) => {
            let path = default_key_path();
            if path.exists() {
                Some(read_key(&path)?)
            } else {
                eprintln!("warning: no signing key at {}: the bundle is not signed (run `engagements keys init`)", path.display());
                None
            }
        }
    };
    let store = Store::open_existing(db).await?;
    if let Some(key) = &key {
        // The bundle carries a checkpoint signed over its head: refuse to sign a log that does not
        // hold, as `engagements checkpoint` does.
        if let Err(error) = signable(&store, key).await {
            store.shutdown().await;
            return Err(error);
        }
    }
    let position_last = store.head().await?.map(|h| h.position).unwrap_or(0);
    // The bundle's reports are the fold of the log from position 1: no snapshot is read, so no
    // stored row can change a figure an auditor is handed.
    let projections = match fold_log(&store, Some(position_last)).await {
        Ok(projections) => projections,
        Err(error) => {
            store.shutdown().await;
            return Err(error.into());
        }
    };
    let as_of = AsOf {
        position: Some(position_last),
        ..AsOf::default()
    };
    let events = super::findings::read_until(&store, &as_of).await?;
    let found = findings(
        events.iter(),
        &as_of,
        chrono::Local::now().date_naive(),
        None,
    );
    let referential = args
        .referential
        .is_dir()
        .then_some(args.referential.as_path());
    if referential.is_none() {
        eprintln!(
            "warning: referential directory {} not found: not included",
            args.referential.display()
        );
    }
    let manifest = export_bundle(
        &store,
        &args.out,
        BundleContents {
            referential_dir: referential,
            key: key.as_ref(),
            reports: all_reports(&projections, &found, chrono::Local::now().date_naive()),
            position_last,
            persons: !args.without_persons,
        },
    )
    .await;
    // The checkpoint the bundle carries is recorded in the log too, so that `verify` checks it.
    let recorded = match (&manifest, &key) {
        (Ok(manifest), Some(_)) if manifest.events > 0 => {
            let signed = Checkpoint::read(&args.out.join("checkpoint.json"));
            match signed {
                Ok(checkpoint) => record_signed_checkpoint(
                    &store,
                    &checkpoint,
                    CommandMeta::default().resolve(defaults),
                )
                .await
                .map(|()| true)
                .map_err(anyhow::Error::from),
                Err(error) => Err(error.into()),
            }
        }
        _ => Ok(false),
    };
    store.shutdown().await;
    let manifest = manifest?;
    let recorded = recorded?;
    println!(
        "audit bundle written to {}: {} events up to position {} (head {}), {} files{}",
        args.out.display(),
        manifest.events,
        manifest.position_last,
        manifest.head_hash,
        manifest.files.len(),
        if key.is_some() {
            ", signed"
        } else {
            ", unsigned"
        }
    );
    if recorded {
        println!(
            "the bundle's checkpoint over position {} is recorded in the log",
            manifest.position_last
        );
    }
    println!(
        "check it with: engagements verify --bundle {}",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether `key` may sign this log's head: the chain holds, and so do the checkpoints it records.
async fn signable(store: &Store, key: &SigningKey) -> anyhow::Result<()> {
    let report = store.verify(|_| {}).await?;
    if let Some(problem) = report.problem {
        anyhow::bail!(
            "the log is broken at position {} ({}): refusing to sign it; run `engagements verify`",
            problem.position,
            problem.what
        );
    }
    ensure_signable(store, &key.verifying_key()).await?;
    Ok(())
}
