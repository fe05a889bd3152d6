//! `engagements serve`: the HTTP API and the web pages.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use engagements_app::{CatchUpProgress, Ledger, ReadModel};
use engagements_audit::checkpoint::{default_key_path, read_key};
use engagements_audit::routine::{
    Routine, RoutineConfig, ROUTINE_EVERY_EVENTS_DEFAULT, ROUTINE_EVERY_MINUTES_DEFAULT,
    ROUTINE_POLL_DEFAULT,
};
use engagements_server::{AppState, ServerConfig, SessionConfig};
use engagements_store::Store;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "ENGAGEMENTS_ADDR")]
    pub addr: SocketAddr,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    pub body_bytes_max: usize,
    /// Let visitors without a token read the published views (as a *lecteur*).
    #[arg(long)]
    pub public: bool,
    /// A web session unused this long is over (seconds).
    #[arg(long, default_value_t = 30 * 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub session_idle_secs: u64,
    /// A web session is over this long after the login, however much it is used (seconds).
    #[arg(long, default_value_t = 12 * 60 * 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub session_max_secs: u64,
    /// Mark the session cookie `Secure` on every answer (behind a TLS proxy that does not send
    /// `X-Forwarded-Proto: https`; with it, the cookie is `Secure` anyway).
    #[arg(long)]
    pub secure_cookies: bool,
    /// A client that has not sent its request's headers after this long is disconnected (seconds).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,
    /// On SIGTERM or Ctrl-C, the longest the requests in flight are waited for before the
    /// remaining connections are closed (seconds).
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// How often the whole hash chain is walked again in the background (minutes); the audit
    /// page checks the events appended since and says when the last full walk ran.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub full_verify_minutes: u64,
    #[command(flatten)]
    pub checkpoints: RoutineArgs,
}

/// Routine signed checkpoints of the log's head (docs/audit.md).
#[derive(Debug, Args)]
pub struct RoutineArgs {
    /// Sign and record a checkpoint of the log's head once this many events were recorded after
    /// the last checkpoint (0: never by count).
    #[arg(long, default_value_t = ROUTINE_EVERY_EVENTS_DEFAULT, env = "ENGAGEMENTS_CHECKPOINT_EVERY_EVENTS", value_parser = clap::value_parser!(i64).range(0..))]
    pub checkpoint_every_events: i64,
    /// Sign and record a checkpoint once this many minutes passed since the last one, if events
    /// were recorded since (0: never by time).
    #[arg(long, default_value_t = ROUTINE_EVERY_MINUTES_DEFAULT, env = "ENGAGEMENTS_CHECKPOINT_EVERY_MINUTES")]
    pub checkpoint_every_minutes: u64,
    /// The key that signs them (default: $ENGAGEMENTS_KEY or ./engagements.key; when that file
    /// does not exist, no checkpoint is signed and a warning says so).
    #[arg(long)]
    pub checkpoint_key: Option<PathBuf>,
    /// Also append each checkpoint signed, as one JSON line, to this file: ship it outside the
    /// database (`engagements verify --checkpoints FILE` checks the log extends every line).
    #[arg(long, env = "ENGAGEMENTS_CHECKPOINT_PUBLISH")]
    pub checkpoint_publish: Option<PathBuf>,
    /// Sign no routine checkpoint.
    #[arg(long)]
    pub no_checkpoints: bool,
}

impl RoutineArgs {
    /// The routine to run, if any: an explicit key that cannot be read is an error; a missing
    /// default key only a warning.
    fn routine(&self, ledger: &Ledger) -> anyhow::Result<Option<Routine>> {
        let minutes = i64::try_from(self.checkpoint_every_minutes).unwrap_or(i64::MAX / 60_000);
        let config = RoutineConfig {
            every_events: self.checkpoint_every_events,
            every: (minutes > 0).then(|| chrono::Duration::minutes(minutes)),
            publish: self.checkpoint_publish.clone(),
            poll: ROUTINE_POLL_DEFAULT,
        };
        if self.no_checkpoints || !config.is_enabled() {
            return Ok(None);
        }
        let path = match &self.checkpoint_key {
            Some(path) => path.clone(),
            None => {
                let path = default_key_path();
                if !path.exists() {
                    eprintln!("warning: no signing key at {}: no routine checkpoint is signed (run `engagements keys init`, or give --checkpoint-key; --no-checkpoints silences this)", path.display());
                    return Ok(None);
                }
                path
            }
        };
        let key = read_key(&path)?;
        Ok(Some(Routine::new(ledger.store().clone(), key, config)))
    }

    fn describe(&self) -> String {
        let mut when = Vec::new();
        if self.checkpoint_every_events > 0 {
            when.push(format!("{} events", self.checkpoint_every_events));
        }
        if self.checkpoint_every_minutes > 0 {
            when.push(format!("{} minutes", self.checkpoint_every_minutes));
        }
        let published = match &self.checkpoint_publish {
            Some(path) => format!(", published to {}", path.display()),
            None => String::new(),
        };
        format!("a signed checkpoint every {}{published}", when.join(" or "))
    }
}

/// Opens the ledger and folds its log, saying on standard error how far it is when that takes
/// more than a second (a long log, or a snapshot far behind the head).
async fn open_with_progress(db: &str) -> anyhow::Result<Ledger> {
    let started = std::time::Instant::now();
    let store = Store::open(db).await?;
    let mut read_model = ReadModel::new(store.clone());
    read_model.set_progress(Box::new(|progress: CatchUpProgress| {
        eprintln!("{}", progress_line(&progress))
    }));
    let restored = read_model.restore().await?;
    if restored > 0 {
        eprintln!(
            "read model: restored from the snapshot at position {restored} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Ledger::from_read_model(store, read_model).await?)
}

/// `catching up: 250000 / 1000000 events (25%), 120000 events/s, 2.1 s`.
fn progress_line(progress: &CatchUpProgress) -> String {
    let verb = if progress.done {
        "caught up"
    } else {
        "catching up"
    };
    format!("read model: {verb}: {}", figures(progress))
}

/// The background fold of the moments before the snapshot the server started from.
fn history_line(progress: &CatchUpProgress) -> String {
    if progress.done {
        format!(
            "past moments: folded from position 1 with checkpoints in memory: {}",
            figures(progress)
        )
    } else {
        format!(
            "past moments: folding from position 1 (moments before position {} come from stored snapshots until done): {}",
            progress.target,
            figures(progress)
        )
    }
}

/// `250000 / 1000000 events (25%), 120000 events/s, 2.1 s`.
fn figures(progress: &CatchUpProgress) -> String {
    let seconds = progress.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        progress.folded as f64 / seconds
    } else {
        0.0
    };
    let percent = if progress.target > 0 {
        progress.position as f64 * 100.0 / progress.target as f64
    } else {
        100.0
    };
    format!(
        "{} / {} events ({percent:.0}%), {rate:.0} events/s, {seconds:.1} s",
        progress.position, progress.target
    )
}

pub async fn run(db: &str, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let ledger = open_with_progress(db).await?;
    let routine = args.checkpoints.routine(&ledger)?;
    let config = ServerConfig {
        body_bytes_max: args.body_bytes_max,
        public_views: args.public,
        sessions: SessionConfig {
            idle: Duration::from_secs(args.session_idle_secs),
            absolute: Duration::from_secs(args.session_max_secs),
            secure_cookies: args.secure_cookies,
        },
        header_read_timeout: Duration::from_secs(args.header_read_timeout_secs),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        full_verify_every: Duration::from_secs(args.full_verify_minutes * 60),
    };
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    eprintln!(
        "serving the ledger {} ({}) on http://{local} — Ctrl-C stops after the requests in flight",
        ledger.store().url(),
        ledger.store().backend_name()
    );
    // Moments before the snapshot the read model started from: folded once in the background,
    // so that an auditor's past moments are answered from memory, not from stored snapshots.
    let history = {
        let read_model = ledger.read_model().clone();
        tokio::spawn(async move {
            let line = |progress: CatchUpProgress| eprintln!("{}", history_line(&progress));
            if let Err(error) = read_model.fold_history(Some(&line)).await {
                eprintln!("past moments: not folded in memory ({error}); they are answered from stored snapshots");
            }
        })
    };
    let routine = routine.map(|routine| {
        eprintln!("checkpoints: {}", args.checkpoints.describe());
        tokio::spawn(routine.run())
    });
    let served =
        engagements_server::serve(listener, AppState::new(ledger, config), shutdown_signal()).await;
    history.abort();
    if let Some(routine) = routine {
        routine.abort();
    }
    served.context("serving HTTP")?;
    eprintln!("stopped: every command answered is recorded");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM (what systemd and containers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_says_how_far_the_catch_up_is() {
        let mut progress = CatchUpProgress {
            position: 250_000,
            target: 1_000_000,
            folded: 200_000,
            elapsed: Duration::from_secs(2),
            done: false,
        };
        assert_eq!(
            progress_line(&progress),
            "read model: catching up: 250000 / 1000000 events (25%), 100000 events/s, 2.0 s"
        );
        progress.position = 1_000_000;
        progress.folded = 950_000;
        progress.elapsed = Duration::from_secs(10);
        progress.done = true;
        assert_eq!(
            progress_line(&progress),
            "read model: caught up: 1000000 / 1000000 events (100%), 95000 events/s, 10.0 s"
        );
    }

    #[test]
    fn the_history_line_says_which_moments_wait_for_it() {
        let progress = CatchUpProgress {
            position: 400_000,
            target: 950_000,
            folded: 400_000,
            elapsed: Duration::from_secs(4),
            done: false,
        };
        assert_eq!(
            history_line(&progress),
            "past moments: folding from position 1 (moments before position 950000 come from stored snapshots until done): 400000 / 950000 events (42%), 100000 events/s, 4.0 s"
        );
    }
}
