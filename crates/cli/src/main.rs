//! `engagements`: an event-sourced ledger of public grants and commitments for contrats de ville.
//!
//! Thin glue over the library crates: parse arguments, open the ledger, call a use case, print.

mod asof;
mod commands;
mod output;

use clap::{Parser, Subcommand};

/// An event-sourced ledger of public grants and commitments for contrats de ville.
#[derive(Debug, Parser)]
#[command(name = "engagements", version, about, long_about = None)]
pub struct Cli {
    /// The ledger's database: sqlite://PATH (created on first use) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "ENGAGEMENTS_DB",
        default_value = "sqlite://engagements.db"
    )]
    pub db: String,
    /// Who runs this command (a person in office), recorded as the operator of every event it
    /// writes; default: the system user running it. A commands file may say on whose behalf a
    /// command is recorded (`meta.actor`), never who ran it.
    #[arg(long, global = true, env = "ENGAGEMENTS_ACTOR")]
    pub actor: Option<String>,
    /// The organisation the actor acts for (an organisation id of the referential).
    #[arg(
        long,
        global = true,
        env = "ENGAGEMENTS_ORGANISATION",
        default_value = "cabbalr"
    )]
    pub organisation: String,
    /// The role the actor writes with: `apply` and `import tfpb` check every command against the
    /// authorization table (docs/http.md) as they would for an API token of this role.
    /// Whoever runs the CLI holds the database, so the default is admin.
    #[arg(long, global = true, env = "ENGAGEMENTS_ROLE", default_value = "admin")]
    pub role: engagements_app::auth::Role,
    /// Read and write no projection snapshot: every figure is folded from the log itself (the
    /// same as ENGAGEMENTS_SNAPSHOTS=off).
    #[arg(long, global = true)]
    pub no_snapshots: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the ledger (and record the contract's referential).
    Init(commands::init::InitArgs),
    /// Walk the whole log, recompute every hash, and check positions, versions and times.
    Verify(commands::verify::VerifyArgs),
    /// Record the commands of a JSON-lines file, one command per line.
    Apply(commands::apply::ApplyArgs),
    /// Print a report (a view of the ledger).
    Report(commands::report::ReportArgs),
    /// Record a file users already keep (e.g. a bailleur's TFPB actions), all or nothing.
    Import(commands::import::ImportArgs),
    /// Record the referential and a fictitious programmation 2024-2026 (deterministic; twice is harmless).
    Demo(commands::demo::DemoArgs),
    /// Serve the HTTP API and the web pages.
    Serve(commands::serve::ServeArgs),
    /// Manage the API tokens of the server (create, list, revoke).
    Tokens(commands::tokens::TokensArgs),
    /// Print the contract's referential (quartiers, organisations, objectifs…), now or as it stood.
    Referential(commands::referential::ReferentialArgs),
    /// Publish every event of the log, in order and at least once, to a RabbitMQ exchange.
    Relay(commands::relay::RelayArgs),
    /// Every event of a dossier, CPO, envelope, convention or commitment, and of what it touched.
    History(commands::history::HistoryArgs),
    /// Sign the log's head, record the checkpoint, and write the file an auditor keeps.
    Checkpoint(commands::checkpoint::CheckpointArgs),
    /// Manage the Ed25519 key that signs checkpoints and audit bundles.
    Keys(commands::keys::KeysArgs),
    /// Rule-based anomalies (payment above grant, CRF overdue…) with the events that prove them.
    Findings(commands::findings::FindingsArgs),
    /// Export the ledger (audit bundle…).
    Export(commands::export::ExportArgs),
    /// The names of the persons the log names by pseudonymous id: list them, erase one.
    Persons(commands::persons::PersonsArgs),
    /// Write the whole ledger (schema, triggers, rows) to a backup file.
    Backup(commands::backup::BackupArgs),
    /// Restore a backup into an empty database, then recompute its whole chain.
    Restore(commands::backup::RestoreArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if cli.no_snapshots {
        // Set before any thread starts, so that every part of the program (the read model of
        // any command, the server) sees the same switch.
        std::env::set_var(engagements_app::snapshots::SNAPSHOTS_ENV, "off");
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}
