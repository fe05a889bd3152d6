//! `engagements serve`: the HTTP API and the web pages.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use engagements_app::Ledger;
use engagements_server::{AppState, ServerConfig};

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
}

pub async fn run(db: &str, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::open(db).await?;
    let config = ServerConfig {
        body_bytes_max: args.body_bytes_max,
        public_views: args.public,
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
    eprintln!("stopped: every accepted command is recorded");
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
