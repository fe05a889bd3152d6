//! What every handler shares: the ledger, the counters and the server's settings.

use std::sync::Arc;
use std::time::Duration;

use engagements_app::Ledger;

use crate::metrics::Metrics;

/// Settings of one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes.
    pub body_bytes_max: usize,
    /// When true, a visitor without a token may read the published views as a *lecteur*.
    pub public_views: bool,
    /// How long the web sessions last.
    pub sessions: SessionConfig,
    /// Longest a client may take to send a request's headers before its connection is closed
    /// (a client that never finishes them must not hold a connection, nor delay a shutdown).
    pub header_read_timeout: Duration,
    /// Longest the requests in flight are waited for once a shutdown is asked; the connections
    /// still open then are closed.
    pub shutdown_grace: Duration,
    /// How often the whole chain is walked again in the background (the audit page carries on a
    /// walk from where it stopped, and says when the last full walk ran).
    pub full_verify_every: Duration,
}

/// How long a web session lasts, and how its cookie is sent.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// A session unused this long is over.
    pub idle: Duration,
    /// A session is over this long after the login, however much it is used.
    pub absolute: Duration,
    /// Mark the cookie `Secure` on every answer, not only on requests that came over HTTPS
    /// (`X-Forwarded-Proto: https`): for a server behind a TLS proxy that does not say so.
    pub secure_cookies: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
            secure_cookies: false,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_bytes_max: 1024 * 1024,
            public_views: false,
            sessions: SessionConfig::default(),
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
            full_verify_every: Duration::from_secs(60 * 60),
        }
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub ledger: Ledger,
    pub metrics: Arc<Metrics>,
    pub config: Arc<ServerConfig>,
    /// The walk of the chain the audit page carries on, and the last full walk.
    pub chain: Arc<tokio::sync::Mutex<ChainWatch>>,
    /// Findings found recently, by the head they were found at.
    pub findings: Arc<FindingsCache>,
}

/// What a list of findings was found for: the head of the log, the moment asked, the day
/// deadlines were judged on and the exercice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingsKey {
    pub head: i64,
    pub as_of: engagements_projections::AsOf,
    pub today: chrono::NaiveDate,
    pub year: Option<i32>,
}

/// The last few lists of findings; a later head makes them stale, and they are dropped as new
/// ones come.
#[derive(Debug, Default)]
pub struct FindingsCache {
    kept: std::sync::Mutex<Vec<(FindingsKey, Arc<Vec<engagements_audit::findings::Finding>>)>>,
}

impl FindingsCache {
    /// Lists kept at most.
    const KEPT: usize = 8;

    /// The findings kept for `key`, if any.
    pub fn get(&self, key: &FindingsKey) -> Option<Arc<Vec<engagements_audit::findings::Finding>>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter()
            .find(|(k, _)| k == key)
            .map(|(_, found)| found.clone())
    }

    /// Keeps `found` for `key`, dropping lists of older heads and the oldest beyond [`Self::KEPT`].
    pub fn keep(&self, key: FindingsKey, found: Arc<Vec<engagements_audit::findings::Finding>>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(k, _)| k.head >= key.head && k != &key);
        kept.push((key, found));
        let excess = kept.len().saturating_sub(Self::KEPT);
        kept.drain(..excess);
    }
}

/// What the server knows of the chain: a walk carried on from load to load (each load checks
/// only the events appended since), and when the whole chain was last walked.
#[derive(Debug, Default)]
pub struct ChainWatch {
    pub walk: engagements_store::Walk,
    /// When the last full walk ended, and how many events it checked.
    pub full_walk: Option<(chrono::DateTime<chrono::Utc>, i64)>,
}

impl AppState {
    pub fn new(ledger: Ledger, config: ServerConfig) -> Self {
        AppState {
            ledger,
            metrics: Arc::default(),
            config: Arc::new(config),
            chain: Arc::default(),
            findings: Arc::default(),
        }
    }
}
