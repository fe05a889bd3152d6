//! `POST /api/v1/commands`: record one command, the same JSON object as a line of
//! `engagements apply`. The actor is the token's person and organisation, never the body's.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use engagements_app::{CommandLine, MetaDefaults};
use engagements_domain::Source;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::metrics::CommandOutcome;
use crate::state::AppState;

/// What a recorded command wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandReceipt {
    pub command_id: Uuid,
    /// True when this command id had been recorded before: nothing new was written.
    pub duplicate: bool,
    /// Position of the last event written (what to pass as `at_position` to see it).
    pub position_last: i64,
    pub events: Vec<EventSummary>,
}

/// One event of a receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventSummary {
    pub position: i64,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
}

/// Records one command.
#[utoipa::path(
    post,
    path = "/commands",
    tag = "commands",
    request_body(
        content = Object,
        description = "One command: its fields, a \"command\" field naming it, and an optional \"meta\" object (effective_date, act, command_id…). Unknown fields are refused.",
        content_type = "application/json"
    ),
    responses(
        (status = 201, description = "Recorded", body = CommandReceipt),
        (status = 200, description = "Already recorded under this command_id: nothing new", body = CommandReceipt),
        (status = 400, description = "Malformed JSON, unknown field, wrong type, bad value", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token's role and organisation may not record this (see the authorization table in docs/http.md)", body = ErrorBody),
        (status = 409, description = "The command_id was already used for a different command or by another organisation: nothing recorded", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Refused by a rule of the domain, or unknown reference", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn post_command(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CommandReceipt>), ApiError> {
    let started = Instant::now();
    let result = record(&state, &caller, body).await;
    let outcome = match &result {
        Ok((StatusCode::OK, _)) => CommandOutcome::Duplicate,
        Ok(_) => CommandOutcome::Accepted,
        Err(_) => CommandOutcome::Refused,
    };
    state.metrics.record_command(outcome, started.elapsed());
    result
}

async fn record(
    state: &AppState,
    caller: &Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CommandReceipt>), ApiError> {
    let principal = &caller.0;
    if !principal.role.can_write() {
        return Err(ApiError::forbidden(format!(
            "role {} records nothing",
            principal.role.as_str()
        )));
    }
    let bytes = body.map_err(body_error)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "the body is not UTF-8",
        )
    })?;
    let line = CommandLine::parse(text).map_err(parse_error)?;
    let actor = principal.actor();
    if line.meta.actor.as_ref().is_some_and(|a| *a != actor) {
        return Err(ApiError::forbidden(
            "meta.actor differs from the token's person and organisation: leave it out, the token says who acts",
        ));
    }
    let defaults = MetaDefaults {
        actor,
        source: Source::Api,
        today: chrono::Local::now().date_naive(),
    };
    let receipt = state
        .ledger
        .execute_as(principal, line.command, &line.meta, &defaults)
        .await?;
    let status = if receipt.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(CommandReceipt {
            command_id: receipt.command_id,
            duplicate: receipt.duplicate,
            position_last: receipt.position_last(),
            events: receipt
                .events
                .iter()
                .map(|e| EventSummary {
                    position: e.position,
                    stream_id: e.stream_id.clone(),
                    version: e.version,
                    event_type: e.event_type.clone(),
                })
                .collect(),
        }),
    ))
}

fn body_error(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is larger than this server accepts: send one command per request",
        )
    } else {
        ApiError::invalid(format!(
            "the body could not be read: {}",
            rejection.body_text()
        ))
    }
}

fn parse_error(message: String) -> ApiError {
    if message.starts_with("malformed JSON") {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", message)
    } else {
        ApiError::invalid(message)
    }
}
