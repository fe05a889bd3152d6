//! What auditors read: the rule-based findings with the events that prove them, and the signed
//! checkpoints recorded in the log with whether the log still matches each (auditeur, admin).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Json;
use engagements_audit::checkpoint::recorded_checkpoints;
use engagements_audit::findings::{findings, findings_table, Finding};
use engagements_domain::RecordedEvent;
use engagements_projections::AsOf;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::reports::{respond, ReportParams};
use crate::auth::{Caller, ReadScope};
use crate::error::{ApiError, ErrorBody};
use crate::state::{AppState, FindingsKey};
use std::sync::Arc;

/// Events read from the log per page.
const PAGE_EVENTS: i64 = 10_000;
/// Most checkpoints listed (the latest ones).
pub const CHECKPOINTS_MAX: usize = 200;

/// The events within the record-time bound of `as_of`, oldest first.
pub async fn events_until(state: &AppState, as_of: &AsOf) -> Result<Vec<RecordedEvent>, ApiError> {
    let store = state.ledger.store();
    let mut events = Vec::new();
    let mut from = 1;
    loop {
        let page = store
            .read_all(from, PAGE_EVENTS)
            .await
            .map_err(ApiError::internal)?;
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        let past = page.iter().any(|e| as_of.is_past_record_bound(e));
        events.extend(page.into_iter().filter(|e| !as_of.is_past_record_bound(e)));
        if past {
            break;
        }
    }
    Ok(events)
}

/// The findings as `params` sees them (deadlines judged on `effective_on`, else `as_of`, else
/// today).
///
/// They follow from the events up to the head alone, so they are kept for the head they were
/// found at (with the moment, the day and the year asked) and handed out again until an event
/// is recorded: the audit page does not read the whole log on every load.
pub async fn findings_for(
    state: &AppState,
    params: &ReportParams,
) -> Result<Arc<Vec<Finding>>, ApiError> {
    let as_of = params.when().as_of()?;
    let today = chrono::Local::now().date_naive();
    let head = state
        .ledger
        .store()
        .head()
        .await
        .map_err(ApiError::internal)?
        .map_or(0, |h| h.position);
    let key = FindingsKey {
        head,
        as_of,
        today,
        year: params.year,
    };
    if let Some(found) = state.findings.get(&key) {
        return Ok(found);
    }
    // Bounded by the head read above: events recorded meanwhile wait for the next load.
    let bounded = AsOf {
        position: Some(as_of.position.map_or(head, |p| p.min(head))),
        ..as_of
    };
    let events = events_until(state, &bounded).await?;
    let found = Arc::new(findings(events.iter(), &as_of, today, params.year));
    state.findings.keep(key, found.clone());
    Ok(found)
}

/// Rule-based findings (see docs/audit.md), each with the positions of the events proving it.
#[utoipa::path(get, path = "/findings", tag = "audit", params(ReportParams),
    responses(
        (status = 200, description = "Rows (rule, exercice, subject, description, evidence_positions) as JSON or CSV", body = Vec<Object>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_findings(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.may_read(ReadScope::Audit)?;
    let Query(params) = params.map_err(|e| ApiError::invalid(e.body_text()))?;
    let found = findings_for(&state, &params).await?;
    let position = state
        .ledger
        .store()
        .head()
        .await
        .map_err(ApiError::internal)?
        .map(|h| h.position)
        .unwrap_or(0);
    let position = params.at_position.map_or(position, |p| p.min(position));
    respond(&findings_table(&found), params.format, position, "constats")
}

/// A recorded checkpoint and whether the log still matches it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckpointStatus {
    pub position: i64,
    pub head_hash: String,
    pub signed_at: String,
    /// The signer's Ed25519 public key, hex.
    pub public_key: String,
    /// The signature holds for the checkpoint's own key (compare the key with the one you trust).
    pub signature_valid: bool,
    /// The event at the checkpoint's position still has the signed hash.
    pub matches_log: bool,
    /// What is wrong, in words, when something is.
    pub problem: Option<String>,
}

/// The latest checkpoints recorded in the log (at most [`CHECKPOINTS_MAX`]), oldest first, each
/// checked against the log as it is now.
pub async fn checkpoint_statuses(state: &AppState) -> Result<Vec<CheckpointStatus>, ApiError> {
    let store = state.ledger.store();
    let mut checkpoints = recorded_checkpoints(store)
        .await
        .map_err(ApiError::internal)?;
    let skip = checkpoints.len().saturating_sub(CHECKPOINTS_MAX);
    checkpoints.drain(..skip);
    let mut out = Vec::with_capacity(checkpoints.len());
    for checkpoint in checkpoints {
        let signature = checkpoint.check_signature(None);
        let stored = store
            .read_rows(checkpoint.position, 1)
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .next()
            .map(|row| row.hash);
        let matches_log = stored.as_deref() == Some(checkpoint.head_hash.as_str());
        let problem = match (&signature, &stored) {
            (Err(what), _) => Some(format!("signature not valid: {what}")),
            (Ok(()), None) => Some(format!(
                "the log has no event at position {}: events were removed",
                checkpoint.position
            )),
            (Ok(()), Some(hash)) if !matches_log => Some(format!(
                "the event at position {} now has hash {hash}: history was rewritten",
                checkpoint.position
            )),
            _ => None,
        };
        out.push(CheckpointStatus {
            position: checkpoint.position,
            head_hash: checkpoint.head_hash,
            signed_at: checkpoint.signed_at,
            public_key: checkpoint.public_key,
            signature_valid: signature.is_ok(),
            matches_log,
            problem,
        });
    }
    Ok(out)
}

/// The signed checkpoints recorded in the log and whether the log still matches each.
#[utoipa::path(get, path = "/checkpoints", tag = "audit",
    responses((status = 200, body = Vec<CheckpointStatus>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_checkpoints(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<CheckpointStatus>>, ApiError> {
    caller.may_read(ReadScope::Audit)?;
    Ok(Json(checkpoint_statuses(&state).await?))
}
