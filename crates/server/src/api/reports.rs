//! `GET /api/v1/reports/{view}`: a view as JSON rows or CSV, now or as of a past moment.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use engagements_interop::export::xlsx::XlsxWriteError;
use engagements_projections::Table;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::asof::AsOfParams;
use crate::auth::{Caller, ReadScope};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::views::{self, Audience};

/// Header carrying the log position a view was folded up to.
pub const POSITION_HEADER: &str = "x-ledger-position";

/// How a report is sent.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// An array of flat objects keyed by column; amounts are strings with two decimals.
    #[default]
    Json,
    /// Comma-separated values with a header line (UTF-8), machine keys.
    Csv,
    /// For people: French headers and values, `;`-separated, UTF-8 with BOM, decimal commas,
    /// dates `dd/mm/yyyy` (opens directly in French Excel and LibreOffice).
    #[serde(rename = "csv-fr")]
    CsvFr,
    /// For people: an Excel workbook (XLSX), French sheet name and headers, amounts as numbers
    /// in euros, dates as dates, codes translated.
    Xlsx,
}

impl Format {
    /// Whether people read it (names beside the ids, French headers and values).
    pub fn is_for_people(self) -> bool {
        matches!(self, Format::CsvFr | Format::Xlsx)
    }
}

/// The media type of an XLSX workbook.
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Parameters of a report.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Only this exercice.
    #[serde(default)]
    pub year: Option<i32>,
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
    /// Only facts in force on this business date (YYYY-MM-DD).
    #[serde(default)]
    pub effective_on: Option<String>,
}

impl ReportParams {
    /// The as-of part (a flattened struct would lose `deny_unknown_fields` and typed numbers).
    pub fn when(&self) -> AsOfParams {
        AsOfParams {
            as_of: self.as_of.clone(),
            at_position: self.at_position,
            effective_on: self.effective_on.clone(),
        }
    }
}

/// The list of views.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewInfo {
    pub name: String,
    pub title: String,
}

/// Lists the report views (the TFPB ones as `tfpb/{name}`).
#[utoipa::path(get, path = "/reports", tag = "reports",
    responses((status = 200, body = Vec<ViewInfo>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_reports(_caller: Caller) -> Json<Vec<ViewInfo>> {
    Json(
        views::VIEWS
            .iter()
            .map(|v| ViewInfo {
                name: v.name.to_string(),
                title: v.title.to_string(),
            })
            .chain(views::TFPB_VIEWS.iter().map(|v| ViewInfo {
                name: format!("tfpb/{}", v.name),
                title: v.title.to_string(),
            }))
            .collect(),
    )
}

/// A report view, now or as of a past moment.
#[utoipa::path(get, path = "/reports/{view}", tag = "reports",
    params(("view" = String, Path, description = "A view name from GET /reports"), ReportParams),
    responses(
        (status = 200, description = "Rows (JSON) or CSV", body = Vec<Object>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(view): Path<String>,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid(e.body_text()))?;
    let spec = views::spec(&view).ok_or_else(|| {
        ApiError::not_found(format!("no view named '{view}': see GET /api/v1/reports"))
    })?;
    caller.may_read(match spec.audience {
        Audience::Published => ReadScope::Published,
        Audience::Audit => ReadScope::Audit,
    })?;
    let as_of = params.when().as_of()?;
    let projections = state.ledger.read_as_of(&as_of).await?;
    let mut table = views::report(&projections, spec.name, params.year)
        .ok_or_else(|| ApiError::not_found(format!("no view named '{view}'")))?;
    if params.format.is_for_people() {
        // People read names beside the ids.
        table = std::sync::Arc::new(views::with_names((*table).clone(), &projections));
    }
    let stem = match params.year {
        Some(year) => format!("{}-{year}", spec.name),
        None => spec.name.to_string(),
    };
    respond(&table, params.format, projections.position, &stem)
}

/// A table as the answer of a report: JSON rows, or a CSV or XLSX attachment named after
/// `file_stem` (for people, with the day it was made), with the log position it was folded up to
/// in [`POSITION_HEADER`].
pub fn respond(
    table: &Table,
    format: Format,
    position: i64,
    file_stem: &str,
) -> Result<Response, ApiError> {
    Ok(match format {
        Format::Json => (
            [(POSITION_HEADER, position.to_string())],
            Json(table.to_json_rows()),
        )
            .into_response(),
        Format::Csv => attachment(
            "text/csv; charset=utf-8",
            &format!("{file_stem}.csv"),
            position,
            views::to_csv(table)
                .map_err(ApiError::internal)?
                .into_bytes(),
        ),
        Format::CsvFr => attachment(
            "text/csv; charset=utf-8",
            &for_people(file_stem, "csv"),
            position,
            engagements_projections::labels::to_csv_for_people(table)
                .map_err(ApiError::internal)?,
        ),
        Format::Xlsx => return workbook(&[table], position, file_stem),
    })
}

/// Tables as one Excel workbook for people (a sheet each), named `file_stem-au-AAAA-MM-JJ.xlsx`.
pub fn workbook(tables: &[&Table], position: i64, file_stem: &str) -> Result<Response, ApiError> {
    Ok(attachment(
        XLSX_TYPE,
        &for_people(file_stem, "xlsx"),
        position,
        engagements_interop::export::xlsx::workbook_bytes(tables).map_err(workbook_error)?,
    ))
}

/// A table too long for a sheet is the asker's to narrow (an exercice); anything else is ours.
fn workbook_error(error: XlsxWriteError) -> ApiError {
    match error {
        XlsxWriteError::TooManyRows { rows, .. } => ApiError::for_people(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid",
            format!(
                "Ce tableau a {rows} lignes, plus qu'une feuille de classeur n'en contient : choisissez un exercice, ou téléchargez-le en CSV."
            ),
        ),
        other => ApiError::internal(other),
    }
}

/// A file name for people, who keep several downloads: it says what and when.
fn for_people(file_stem: &str, extension: &str) -> String {
    format!(
        "{file_stem}-au-{}.{extension}",
        chrono::Local::now().date_naive()
    )
}

/// A downloaded file with the log position it was made from.
fn attachment(content_type: &str, file_name: &str, position: i64, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE.as_str(), content_type.to_string()),
            (
                header::CONTENT_DISPOSITION.as_str(),
                format!("attachment; filename=\"{file_name}\""),
            ),
            (POSITION_HEADER, position.to_string()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_too_long_for_a_sheet_is_the_askers_to_narrow() {
        let error = workbook_error(XlsxWriteError::TooManyRows {
            table: "dossiers".into(),
            rows: 2_000_000,
        });
        assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(error
            .for_people
            .as_deref()
            .is_some_and(|m| m.contains("2000000 lignes") && m.contains("choisissez un exercice")));
    }
}
