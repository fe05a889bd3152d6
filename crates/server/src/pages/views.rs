//! Any report view as an HTML table, with its CSV download and the date selector.

use axum::extract::{Path, Query, State};
use axum::response::Html;
use maud::html;

use crate::auth::{Caller, ReadScope};
use crate::error::ApiError;
use crate::pages::dashboard::{as_of_banner, projections_for};
use crate::pages::{date_selector, layout, page_caller, table_html, PageError, PageParams};
use crate::state::AppState;
use crate::views::{self, Audience};

/// A report view as a page.
#[utoipa::path(get, path = "/vues/{view}", tag = "pages",
    params(("view" = String, Path, description = "A view name from GET /api/v1/reports"), PageParams),
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 404, description = "No such view")))]
pub async fn view(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(name): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    let spec =
        views::spec(&name).ok_or_else(|| ApiError::not_found(format!("no view named '{name}'")))?;
    caller.may_read(match spec.audience {
        Audience::Published => ReadScope::Published,
        Audience::Audit => ReadScope::Audit,
    })?;
    let projections = projections_for(&state, &params).await?;
    let year = params.exercice()?;
    let table = views::report(&projections, spec.name, year)
        .ok_or_else(|| ApiError::not_found(format!("no view named '{name}'")))?;
    let csv = format!(
        "/api/v1/reports/{}?format=csv-fr{}{}",
        spec.name,
        year.map(|y| format!("&year={y}")).unwrap_or_default(),
        params.when()?.to_query()
    );
    let action = format!("/vues/{}", spec.name);
    Ok(layout(
        spec.title,
        Some(&caller),
        html! {
            h1 { (spec.title) }
            (as_of_banner(&params, projections.position))
            (date_selector(&action, &params, html! {}))
            (table_html(&crate::views::with_names((*table).clone(), &projections), &csv))
            h2 { "Autres vues" }
            ul { @for other in views::VIEWS { li { a href=(format!("/vues/{}", other.name)) { (other.title) } } } }
        },
    ))
}
