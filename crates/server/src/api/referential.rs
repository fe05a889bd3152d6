//! `GET /api/v1/referential[/{section}]`: the contract's referential (quartiers, communes,
//! organisations, objectifs, dispositifs, TFPB axes, avenants), now or as it stood at a past
//! moment. Published: every role reads it.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engagements_projections::referential::tables;

use crate::api::reports::{respond, ReportParams, POSITION_HEADER};
use crate::auth::{Caller, ReadScope};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The sections of the referential, as in `engagements referential SECTION`.
pub const SECTIONS: &[&str] = &[
    "summary",
    "quartiers",
    "communes",
    "organisations",
    "objectifs",
    "dispositifs",
    "tfpb-axes",
    "avenants",
];

fn no_contract() -> ApiError {
    ApiError::not_found("no contract recorded at that moment (engagements init, or a later as_of)")
}

/// The whole referential as JSON, with its content hash, publication date and avenant count.
#[utoipa::path(get, path = "/referential", tag = "reports", params(ReportParams),
    responses((status = 200, description = "{content_hash, published_on, avenants, referential}", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_referential(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.may_read(ReadScope::Published)?;
    let Query(params) = params.map_err(|e| ApiError::invalid(e.body_text()))?;
    let projections = state.ledger.read_as_of(&params.when().as_of()?).await?;
    let view = &projections.referential;
    let referential = view.current().ok_or_else(no_contract)?;
    let document = serde_json::json!({
        "content_hash": view.content_hash,
        "published_on": view.published_on,
        "avenants": view.amendments.len(),
        "referential": referential,
    });
    Ok((
        [(POSITION_HEADER, projections.position.to_string())],
        Json(document),
    )
        .into_response())
}

/// One section of the referential as rows (JSON or CSV).
#[utoipa::path(get, path = "/referential/{section}", tag = "reports",
    params(("section" = String, Path, description = "summary, quartiers, communes, organisations, objectifs, dispositifs, tfpb-axes or avenants"), ReportParams),
    responses((status = 200, description = "Rows (JSON) or CSV", body = Vec<Object>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_referential_section(
    State(state): State<AppState>,
    caller: Caller,
    Path(section): Path<String>,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.may_read(ReadScope::Published)?;
    let Query(params) = params.map_err(|e| ApiError::invalid(e.body_text()))?;
    if !SECTIONS.contains(&section.as_str()) {
        return Err(ApiError::not_found(format!(
            "no referential section '{section}': {}",
            SECTIONS.join(", ")
        )));
    }
    let projections = state.ledger.read_as_of(&params.when().as_of()?).await?;
    let view = &projections.referential;
    let referential = view.current().ok_or_else(no_contract)?;
    let table = match section.as_str() {
        "summary" => tables::summary(referential, view.content_hash.as_deref()),
        "quartiers" => tables::quartiers(referential),
        "communes" => tables::communes(referential),
        "organisations" => tables::organisations(referential),
        "objectifs" => tables::objectifs(referential),
        "dispositifs" => tables::dispositifs(referential),
        "tfpb-axes" => tables::tfpb_axes(referential),
        _ => view.amendments_table(),
    };
    respond(
        &table,
        params.format,
        projections.position,
        &format!("referential-{section}"),
    )
}
