//! The ledger over HTTP: a JSON API under `/api/v1` (documented at `/api/v1/openapi.json`), the
//! web pages in French for the comité, the bailleurs and the auditors, health, readiness and
//! Prometheus metrics. Every caller is a token bound to a person, an organisation and a role.

pub mod api;
pub mod asof;
pub mod auth;
pub mod charts;
pub mod error;
pub mod fallback;
pub mod metrics;
pub mod multipart;
pub mod pages;
pub mod sessions;
pub mod state;
pub mod views;

use std::future::Future;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::trace::TraceLayer;

pub use state::{AppState, ServerConfig, SessionConfig};

/// Longest a request may take before it is answered 408 (a stuck client cannot hold a worker).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause after a failed accept (e.g. no file descriptor left) before the next one.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// What pages may load: only this server's own stylesheet, no script at all.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    let body_bytes_max = state.config.body_bytes_max;
    let (routes, _) = api::build();
    routes
        // After every route: the 405 answer is set on the routes that exist when it is called.
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .fallback(fallback::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_and_harden,
        ))
        .layer(DefaultBodyLimit::max(body_bytes_max))
        // Pages, CSV and JSON travel gzip-compressed to the clients that accept it (a dossiers
        // list of 50 rows falls from about 90 kB to 10 kB); SSE streams and tiny bodies are not.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Counts every answer by status and adds the security headers.
async fn count_and_harden(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    state.metrics.record_http(response.status().as_u16());
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    // `same-origin`, not `no-referrer`: no address leaves for another site either way, but
    // under `no-referrer` browsers send `Origin: null` with a form post, and the forms' origin
    // check (sessions::same_origin) would then refuse every post from this site's own pages.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Serves until `shutdown` completes, then stops accepting connections, lets the requests in
/// flight (and the commands they carry) finish for at most the configured grace period, and
/// flushes the store's writer.
///
/// Connections are served by hyper directly (not `axum::serve`) to bound the time a client may
/// take to send its headers: a client that never finishes them is disconnected, and cannot keep
/// the server from stopping.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ledger = state.ledger.clone();
    let grace = state.config.shutdown_grace;
    // The whole chain walked at start and then regularly, in the background: the audit page only
    // carries the walk on over the events appended since.
    let verifier = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(state.config.full_verify_every);
            loop {
                every.tick().await;
                match api::history::full_verification(&state).await {
                    Ok(v) if v.ok => tracing::info!(events = v.events, "chain walked: intact"),
                    Ok(v) => tracing::error!(
                        position = v.problem_position,
                        problem = v.problem,
                        "chain walked: altered"
                    ),
                    Err(error) => tracing::warn!(error = error.message, "chain walk failed"),
                }
            }
        })
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(state.config.header_read_timeout);
    let app = router(state);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a little rather than spin, and keep serving the others.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    verifier.abort();
    if tokio::time::timeout(grace, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_seconds = grace.as_secs_f64(),
            "connections still open after the grace period are closed"
        );
    }
    ledger.store().shutdown().await;
    Ok(())
}
