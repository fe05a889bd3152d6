//! `GET /api/v1/reports/tfpb/{view}`: the TFPB views (bailleurs, quartiers, axes, flags,
//! actions), now or as of a past moment. A bailleur reads only its own rows; asking for another
//! bailleur's is 403. A lecteur reads none.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use engagements_projections::tfpb::TfpbFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::reports::{respond, Format};
use crate::asof::AsOfParams;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::views;

/// Longest bailleur or quartier id accepted as a filter.
const FILTER_CHARS_MAX: usize = 100;

/// Parameters of a TFPB view.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TfpbParams {
    /// Only this tax year.
    #[serde(default)]
    pub year: Option<i32>,
    /// Only this bailleur (an organisation id); a bailleur's token is always restricted to its own.
    #[serde(default)]
    pub bailleur: Option<String>,
    /// Only this QPV (e.g. QN06204).
    #[serde(default)]
    pub quartier: Option<String>,
    #[serde(default)]
    #[param(inline)]
    pub format: Format,
    /// What the ledger said at this record time: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC), or a
    /// date meaning the end of that day (UTC).
    #[serde(default)]
    pub as_of: Option<String>,
    /// What the ledger said just after the event at this position.
    #[serde(default)]
    pub at_position: Option<i64>,
    /// Only facts in force on this business date (YYYY-MM-DD); the flags are judged on it.
    #[serde(default)]
    pub effective_on: Option<String>,
}

impl TfpbParams {
    /// The filter asked for; 400 naming an over-long value.
    pub fn filter(&self) -> Result<TfpbFilter, ApiError> {
        for (name, value) in [("bailleur", &self.bailleur), ("quartier", &self.quartier)] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > FILTER_CHARS_MAX)
            {
                return Err(ApiError::invalid(format!(
                    "{name} longer than {FILTER_CHARS_MAX} characters"
                )));
            }
        }
        Ok(TfpbFilter {
            bailleur: self.bailleur.clone(),
            quartier: self.quartier.clone(),
            year: self.year,
        })
    }

    fn when(&self) -> AsOfParams {
        AsOfParams {
            as_of: self.as_of.clone(),
            at_position: self.at_position,
            effective_on: self.effective_on.clone(),
        }
    }
}

/// A TFPB view (admin, auditeur, instructeur: every bailleur; bailleur: its own).
#[utoipa::path(get, path = "/reports/tfpb/{view}", tag = "reports",
    params(("view" = String, Path, description = "bailleurs, quartiers, axes, flags or actions"), TfpbParams),
    responses(
        (status = 200, description = "Rows (JSON) or CSV", body = Vec<Object>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "A lecteur, or a bailleur asking for another bailleur", body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_tfpb(
    State(state): State<AppState>,
    caller: Caller,
    Path(view): Path<String>,
    params: Result<Query<TfpbParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid(e.body_text()))?;
    let filter = caller.tfpb_filter(params.filter()?)?;
    let spec = views::TFPB_VIEWS
        .iter()
        .find(|v| v.name == view)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no TFPB view named '{view}': bailleurs, quartiers, axes, flags or actions"
            ))
        })?;
    let as_of = params.when().as_of()?;
    let today = as_of
        .effective_on
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let projections = state.ledger.read_as_of(&as_of).await?;
    let mut table = views::tfpb_report(&projections.tfpb, spec.name, &filter, today)
        .ok_or_else(|| ApiError::not_found(format!("no TFPB view named '{view}'")))?;
    if params.format.is_for_people() {
        // People read names beside the ids.
        table = views::with_names(table, &projections);
    }
    respond(
        &table,
        params.format,
        projections.position,
        &format!("tfpb-{}", spec.name),
    )
}
