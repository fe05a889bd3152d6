//! `engagements serve`: the HTTP API and the web pages.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use engagements_app::Ledger;
use engagements_server::{AppState, ServerConfig, SessionConfig};

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
}

pub async fn run(db: &str, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::open(db).await?;
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
    engagements_server::serve(listener, AppState::new(ledger, config), shutdown_signal())
        .await
        .context("serving HTTP")?;
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
