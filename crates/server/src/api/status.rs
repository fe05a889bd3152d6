//! Liveness, readiness and Prometheus metrics: open to every caller, they carry no ledger data.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Readiness: the database answers and the read model is caught up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
    pub backend: String,
    pub log_position: i64,
    pub projection_position: i64,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "status", responses((status = 200, description = "ok")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The ledger can be read and the read model follows it.
#[utoipa::path(get, path = "/readyz", tag = "status",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.ledger.store();
    let head = store.head().await;
    let caught_up = state.ledger.catch_up().await;
    let projection_position = state.ledger.read_model().read().await.position;
    let ready = head.is_ok() && caught_up.is_ok();
    let body = Readiness {
        ready,
        backend: store.backend_name().to_string(),
        log_position: head.ok().flatten().map(|h| h.position).unwrap_or(0),
        projection_position,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// Prometheus metrics: commands by outcome, command latencies, HTTP answers, log position and
/// projection lag.
#[utoipa::path(get, path = "/metrics", tag = "status",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let log_position = match state.ledger.store().head().await {
        Ok(head) => head.map(|h| h.position).unwrap_or(0),
        Err(error) => {
            tracing::warn!(%error, "metrics: cannot read the chain head");
            -1
        }
    };
    let projection_position = state.ledger.read_model().read().await.position;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(log_position, projection_position),
    )
}
