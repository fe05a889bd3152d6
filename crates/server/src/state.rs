//! What every handler shares: the ledger, the counters and the server's settings.

use std::sync::Arc;

use engagements_app::Ledger;

use crate::metrics::Metrics;

/// Settings of one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes.
    pub body_bytes_max: usize,
    /// When true, a visitor without a token may read the published views as a *lecteur*.
    pub public_views: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_bytes_max: 1024 * 1024,
            public_views: false,
        }
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub ledger: Ledger,
    pub metrics: Arc<Metrics>,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub fn new(ledger: Ledger, config: ServerConfig) -> Self {
        AppState {
            ledger,
            metrics: Arc::default(),
            config: Arc::new(config),
        }
    }
}
