//! `engagements-bench`: measures the ledger against its baselines in the same run and prints a
//! table (Markdown) and a JSON file of results.
//!
//! ```sh
//! cargo run --release -p engagements-bench -- append --seconds 5
//! ```

mod append;
mod asof;
mod databases;
mod decider;
mod group_commit;
mod http;
mod instances;
mod pages;
mod readside;
mod report;
mod stats;
mod workload;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::Connection;

use crate::databases::{BackendKind, Databases};
use crate::report::{Machine, Results};

/// Benchmarks of the ledger, each figure beside its baselines.
#[derive(Debug, Parser)]
#[command(name = "engagements-bench", about, long_about = None)]
struct Cli {
    /// PostgreSQL database in which a fresh schema is made for every measured system.
    #[arg(
        long,
        global = true,
        env = "ENGAGEMENTS_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres: String,
    /// Directory for the SQLite files (on the disk to measure).
    #[arg(long, global = true, default_value = "target/bench")]
    sqlite_dir: PathBuf,
    /// Where to write the JSON results (default: target/bench/<bench>-<UTC time>.json).
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    /// Seed of the workload generator: the same seed records the same commands.
    #[arg(long, global = true, default_value_t = 2024)]
    seed: u64,
    /// Keep the benchmark's databases instead of removing them.
    #[arg(long, global = true)]
    keep: bool,
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Commands/s and p50/p99 latency with concurrent clients: the ledger, esrs's PgStore, the
    /// group commit baseline (one writer, one multi-row INSERT per transaction) and the raw
    /// multi-row INSERT, side by side.
    Append {
        /// Concurrent clients, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        clients: Vec<usize>,
        #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
        backends: Vec<BackendKind>,
        /// Seconds each system runs under each load.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Systems measured, comma-separated (esrs and serial exist on PostgreSQL only).
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "ledger,serial,esrs,group,raw"
        )]
        systems: Vec<append::System>,
        /// Stop each client of the ledger and of the group commit baseline after this many
        /// commands (fixed work, e.g. for instruction counts under callgrind).
        #[arg(long)]
        commands_per_client: Option<usize>,
    },
    /// The read side at scale: replay (beside read + deserialise only), as-of latency, in-process
    /// report latency and peak memory, on a ledger of `--events` events.
    Readside {
        /// Events recorded before measuring (the seeded workload).
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendKind,
        /// As-of queries measured.
        #[arg(long, default_value_t = 20)]
        as_of_samples: usize,
        /// Report builds measured.
        #[arg(long, default_value_t = 200)]
        report_samples: usize,
    },
    /// As-of latency before and after projection snapshots, with the catch-up that saves them
    /// and the opening that starts from them, on a ledger of `--events` events.
    Asof {
        /// Events recorded before measuring (the seeded workload).
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendKind,
        /// Distance between two snapshots, in events.
        #[arg(long, default_value_t = 50_000)]
        every: i64,
        /// As-of questions folded from position 1 (slow at scale: keep it small).
        #[arg(long, default_value_t = 3)]
        before_samples: usize,
        /// As-of questions answered from snapshots, and as many from in-memory checkpoints.
        #[arg(long, default_value_t = 50)]
        after_samples: usize,
        /// Distance between two in-memory checkpoints, in events.
        #[arg(long, default_value_t = engagements_app::checkpoints::CHECKPOINT_EVERY_DEFAULT)]
        checkpoint_every: i64,
    },
    /// Report latency over HTTP under concurrent readers, with and without commands recorded
    /// meanwhile, on a ledger of `--events` events.
    Http {
        /// Events recorded before measuring (the seeded workload).
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendKind,
        /// Concurrent readers, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        clients: Vec<usize>,
        /// Seconds each load runs.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Commands recorded per second beside the readers (second measurement of each load).
        #[arg(long, default_value_t = 2.0)]
        writes_per_second: f64,
    },
    /// The pages of a comité member and an auditor over HTTP, one request at a time: the
    /// dashboard now (baseline), with facts in force on random dates, after distinct past
    /// positions, and the audit page; on the demo ledger (`--events 0`) or N events.
    Pages {
        /// Events of the seeded workload recorded before measuring; 0: the demo ledger.
        #[arg(long, default_value_t = 0)]
        events: usize,
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendKind,
        /// Distinct past positions asked, each once.
        #[arg(long, default_value_t = 800)]
        positions: usize,
        /// Distinct effective dates asked, each twice.
        #[arg(long, default_value_t = 200)]
        dates: usize,
        /// Loads of the dashboard now and of the audit page.
        #[arg(long, default_value_t = 200)]
        repeats: usize,
    },
    /// Several writer instances on one PostgreSQL: one chain shared, or one chain per contract.
    Instances {
        /// Concurrent clients of each instance.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seconds each layout runs.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
}

fn main() -> std::process::ExitCode {
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
    match runtime.block_on(run(Cli::parse())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    std::fs::create_dir_all(&cli.sqlite_dir)
        .with_context(|| format!("create {}", cli.sqlite_dir.display()))?;
    let databases = Databases {
        postgres: cli.postgres.clone(),
        sqlite_dir: cli.sqlite_dir.clone(),
        keep: cli.keep,
    };
    let started_at = chrono::Utc::now();
    let load_average_start = report::load_average();
    let spinner = spinner();
    let progress = |message: &str| {
        spinner.set_message(message.to_string());
        if spinner.is_hidden() {
            eprintln!("{message}");
        }
    };
    let (name, uses_postgres, figures) = match &cli.bench {
        Bench::Append {
            clients,
            backends,
            seconds,
            systems,
            commands_per_client,
        } => {
            let settings = append::AppendSettings {
                clients: clients.clone(),
                backends: backends.clone(),
                seconds: *seconds,
                seed: cli.seed,
                systems: systems.clone(),
                commands_per_client: *commands_per_client,
            };
            let figures = append::run(&settings, &databases, &progress).await?;
            ("append", backends.contains(&BackendKind::Postgres), figures)
        }
        Bench::Readside {
            events,
            backend,
            as_of_samples,
            report_samples,
        } => {
            let settings = readside::ReadsideSettings {
                events: *events,
                backend: *backend,
                as_of_samples: *as_of_samples,
                report_samples: *report_samples,
                seed: cli.seed,
            };
            let figures = readside::run(&settings, &databases, &progress).await?;
            ("readside", *backend == BackendKind::Postgres, figures)
        }
        Bench::Pages {
            events,
            backend,
            positions,
            dates,
            repeats,
        } => {
            let settings = pages::PagesSettings {
                events: *events,
                backend: *backend,
                positions: *positions,
                dates: *dates,
                repeats: *repeats,
                seed: cli.seed,
            };
            let figures = pages::run(&settings, &databases, &progress).await?;
            ("pages", *backend == BackendKind::Postgres, figures)
        }
        Bench::Http {
            events,
            backend,
            clients,
            seconds,
            writes_per_second,
        } => {
            let settings = http::HttpSettings {
                events: *events,
                backend: *backend,
                clients: clients.clone(),
                seconds: *seconds,
                writes_per_second: *writes_per_second,
                seed: cli.seed,
            };
            let figures = http::run(&settings, &databases, &progress).await?;
            ("http", *backend == BackendKind::Postgres, figures)
        }
        Bench::Asof {
            events,
            backend,
            every,
            before_samples,
            after_samples,
            checkpoint_every,
        } => {
            let settings = asof::AsOfSettings {
                events: *events,
                backend: *backend,
                every: *every,
                checkpoint_every: *checkpoint_every,
                before_samples: *before_samples,
                after_samples: *after_samples,
                seed: cli.seed,
            };
            let figures = asof::run(&settings, &databases, &progress).await?;
            ("asof", *backend == BackendKind::Postgres, figures)
        }
        Bench::Instances { clients, seconds } => {
            let settings = instances::InstancesSettings {
                clients_per_instance: *clients,
                seconds: *seconds,
                seed: cli.seed,
            };
            let figures = instances::run(&settings, &databases, &progress).await?;
            ("instances", true, figures)
        }
    };
    spinner.finish_and_clear();
    let postgres = if uses_postgres {
        postgres_version(&cli.postgres).await
    } else {
        None
    };
    let mut machine = Machine::probe(postgres);
    machine.load_average_start = load_average_start;
    machine.load_average_end = report::load_average();
    let results = Results {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        started_at: started_at.to_rfc3339(),
        seed: cli.seed,
        machine,
        figures,
    };
    print!("{}", results.table());
    let out = cli.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "target/bench/{name}-{}.json",
            started_at.format("%Y%m%dT%H%M%SZ")
        ))
    });
    results.write_json(&out)?;
    eprintln!("results written to {}", out.display());
    Ok(())
}

/// A spinner on a terminal; hidden (messages go to stderr lines) otherwise.
fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

async fn postgres_version(url: &str) -> Option<String> {
    let mut connection = sqlx::PgConnection::connect(&databases::with_sslmode(url))
        .await
        .ok()?;
    let (version,): (String,) = sqlx::query_as("SHOW server_version")
        .fetch_one(&mut connection)
        .await
        .ok()?;
    Some(version)
}
