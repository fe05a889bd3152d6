//! The raw log for those who check it: a stream's events with their metadata and hashes, and the
//! verification of the whole chain.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use engagements_domain::{Metadata, RecordedEvent};
use engagements_store::persons::Names;
use engagements_store::VerifyReport;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, ReadScope};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Longest stream id accepted in a URL.
const STREAM_ID_CHARS_MAX: usize = 200;

/// One event as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEvent {
    pub position: i64,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
    /// The payload as recorded (canonical JSON).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Actor, command id, source, effective date, act, as recorded: persons are named by their
    /// pseudonymous id (`person-…`) in events recorded since names were kept out of the chain.
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    /// The operator's name (joined from the erasable table of persons; « personne effacée »
    /// once erased).
    pub actor_name: String,
    /// The name of whom it was recorded on behalf of, if anyone.
    pub on_behalf_of_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

impl HistoryEvent {
    /// The event as the API shows it, with the names of the persons it names.
    pub fn new(event: &RecordedEvent, names: &Names) -> Self {
        HistoryEvent {
            actor_name: names.display(&event.metadata.actor.person),
            on_behalf_of_name: event
                .metadata
                .on_behalf_of
                .as_ref()
                .map(|actor| names.display(&actor.person)),
            position: event.position,
            stream_id: event.stream_id.clone(),
            version: event.version,
            event_type: event.event_type.clone(),
            payload: serde_json::from_str(&event.payload)
                .unwrap_or(serde_json::Value::String(event.payload.clone())),
            metadata: event.metadata.clone(),
            recorded_at: event.recorded_at,
            prev_hash: event.prev_hash.clone(),
            hash: event.hash.clone(),
        }
    }
}

/// Bounds of a history.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Only events at or before this position.
    #[serde(default)]
    pub at_position: Option<i64>,
}

/// Every event of one stream (e.g. `dossier-<uuid>`), oldest first.
#[utoipa::path(get, path = "/history/{stream_id}", tag = "audit",
    params(("stream_id" = String, Path, description = "e.g. dossier-0190f2a0-…"), HistoryParams),
    responses((status = 200, body = Vec<HistoryEvent>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(stream_id): Path<String>,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Json<Vec<HistoryEvent>>, ApiError> {
    caller.may_read(ReadScope::History)?;
    let Query(params) = params.map_err(|e| ApiError::invalid(e.body_text()))?;
    if stream_id.chars().count() > STREAM_ID_CHARS_MAX {
        return Err(ApiError::invalid(format!(
            "stream id longer than {STREAM_ID_CHARS_MAX} characters"
        )));
    }
    let events = state
        .ledger
        .store()
        .read_stream(&stream_id, None)
        .await
        .map_err(ApiError::internal)?;
    let names = Names::of_events(state.ledger.store(), &events)
        .await
        .map_err(ApiError::internal)?;
    let events: Vec<HistoryEvent> = events
        .iter()
        .filter(|e| params.at_position.is_none_or(|p| e.position <= p))
        .map(|event| HistoryEvent::new(event, &names))
        .collect();
    if events.is_empty() {
        return Err(ApiError::not_found(format!(
            "stream '{stream_id}' has no event"
        )));
    }
    Ok(Json(events))
}

/// The result of walking the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub events: i64,
    pub position_last: i64,
    pub head_hash: String,
    /// The first problem found: its position and what is wrong.
    pub problem_position: Option<i64>,
    pub problem: Option<String>,
    /// When the whole chain was last walked (RFC 3339), and how many events that walk checked;
    /// the events after it were checked by carrying the walk on.
    pub full_walk_at: Option<String>,
    pub full_walk_events: Option<i64>,
}

impl Verification {
    fn of(report: VerifyReport, full_walk: Option<(chrono::DateTime<chrono::Utc>, i64)>) -> Self {
        Verification {
            ok: report.is_ok(),
            events: report.events,
            position_last: report.position_last,
            head_hash: report.head_hash.clone(),
            problem_position: report.problem.as_ref().map(|p| p.position),
            problem: report.problem.map(|p| p.what),
            full_walk_at: full_walk.map(|(at, _)| at.to_rfc3339()),
            full_walk_events: full_walk.map(|(_, events)| events),
        }
    }
}

/// The chain checked up to its head by carrying on the server's walk (only the events appended
/// since the last load are read); the first load walks it whole.
pub async fn verification(state: &AppState) -> Result<Verification, ApiError> {
    let mut watch = state.chain.lock().await;
    let first = watch.full_walk.is_none();
    let report = watch
        .walk
        .extend(state.ledger.store(), |_| {})
        .await
        .map_err(ApiError::internal)?;
    if first {
        watch.full_walk = Some((chrono::Utc::now(), report.events));
    }
    Ok(Verification::of(report, watch.full_walk))
}

/// Walks the whole chain again and makes it the walk the audit page carries on.
pub async fn full_verification(state: &AppState) -> Result<Verification, ApiError> {
    let mut walk = engagements_store::Walk::default();
    let report = walk
        .extend(state.ledger.store(), |_| {})
        .await
        .map_err(ApiError::internal)?;
    let mut watch = state.chain.lock().await;
    watch.walk = walk;
    watch.full_walk = Some((chrono::Utc::now(), report.events));
    Ok(Verification::of(report, watch.full_walk))
}

/// Verifies the hash chain now (auditeur, admin).
#[utoipa::path(get, path = "/verify", tag = "audit",
    responses((status = 200, body = Verification), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Verification>, ApiError> {
    caller.may_read(ReadScope::Audit)?;
    Ok(Json(full_verification(&state).await?))
}
