//! One module per subcommand.

pub mod apply;
pub mod backup;
pub mod checkpoint;
pub mod demo;
pub mod export;
mod export_programmation;
pub mod export_scdl;
pub mod findings;
pub mod history;
pub mod import;
pub mod init;
pub mod keys;
pub mod persons;
pub mod referential;
pub mod relay;
pub mod report;
pub mod serve;
pub mod tokens;
pub mod verify;

use std::process::ExitCode;

use engagements_app::snapshots::SnapshotPolicy;
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_store::Store;

use crate::{Cli, Command};

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let operator = cli.actor.clone().unwrap_or_else(system_user);
    let defaults = MetaDefaults {
        actor: Actor::new(operator, cli.organisation.clone()),
        source: Source::Cli,
        today: chrono::Local::now().date_naive(),
    };
    match cli.command {
        Command::Init(args) => init::run(&cli.db, args, &defaults).await,
        Command::Verify(args) => verify::run(&cli.db, args).await,
        Command::Apply(args) => apply::run(&cli.db, args, &defaults, cli.role).await,
        Command::Report(args) => report::run(&cli.db, args).await,
        Command::Import(args) => import::run(&cli.db, args, &defaults, cli.role).await,
        Command::Demo(args) => demo::run(&cli.db, args, &defaults).await,
        Command::Serve(args) => serve::run(&cli.db, args).await,
        Command::Tokens(args) => tokens::run(&cli.db, args).await,
        Command::Referential(args) => referential::run(&cli.db, args).await,
        Command::Relay(args) => relay::run(&cli.db, args).await,
        Command::History(args) => history::run(&cli.db, args).await,
        Command::Checkpoint(args) => checkpoint::run(&cli.db, args, &defaults).await,
        Command::Keys(args) => keys::run(&cli.db, args, &defaults).await,
        Command::Findings(args) => findings::run(&cli.db, args).await,
        Command::Export(args) => export::run(&cli.db, args, &defaults, cli.role).await,
        Command::Persons(args) => persons::run(&cli.db, args).await,
        Command::Backup(args) => backup::backup(&cli.db, args).await,
        Command::Restore(args) => backup::run_restore(&cli.db, args).await,
    }
}

/// The system user running the command, the operator recorded when `--actor` is not given.
fn system_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|name| {
            std::env::var(name)
                .ok()
                .filter(|user| !user.trim().is_empty())
        })
        .map(|user| user.trim().to_string())
        .or_else(user_of_process)
        .map(|user| format!("utilisateur système {user}"))
        .unwrap_or_else(|| "utilisateur système inconnu".to_string())
}

/// The name of the user the process runs as, from `/proc` and `/etc/passwd` (services started
/// without a login environment have no `USER`).
fn user_of_process() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 2 && fields[2] == uid).then(|| fields[0].to_string())
    });
    Some(name.unwrap_or(format!("uid {uid}")))
}

/// Opens an existing ledger for a command that must write nothing: no database is created, no
/// migration is run, no snapshot is saved (stored ones are read only if the snapshot switch
/// allows, and only when bound to the chain).
pub async fn open_for_reading(db: &str) -> anyhow::Result<Ledger> {
    let policy = SnapshotPolicy::from_env()?.read_only();
    let store = Store::open_existing(db).await?;
    match Ledger::from_store_with(store.clone(), policy).await {
        Ok(ledger) => Ok(ledger),
        Err(error) => {
            store.shutdown().await;
            Err(error.into())
        }
    }
}
