//! The ledger over HTTP: a JSON API under `/api/v1` (documented at `/api/v1/openapi.json`), the
//! web pages in French for the comité, the bailleurs and the auditors, health, readiness and
//! Prometheus metrics. Every caller is a token bound to a person, an organisation and a role.

pub mod api;
pub mod asof;
pub mod auth;
pub mod charts;
pub mod error;
pub mod metrics;
pub mod pages;
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

pub use state::{AppState, ServerConfig};

/// Longest a request may take before it is answered 408 (a stuck client cannot hold a worker).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// What pages may load: only this server's own stylesheet, no script at all.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    let body_bytes_max = state.config.body_bytes_max;
    let (routes, _) = api::build();
    routes
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_and_harden,
        ))
        .layer(DefaultBodyLimit::max(body_bytes_max))
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
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Serves until `shutdown` completes, then stops accepting connections, lets the requests in
/// flight (and the commands they carry) finish, and flushes the store's writer.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ledger = state.ledger.clone();
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    ledger.store().shutdown().await;
    Ok(())
}
