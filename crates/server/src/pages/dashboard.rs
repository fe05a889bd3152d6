//! The dashboard of an exercice: what each financeur was asked and granted, with charts.

use axum::extract::{Query, State};
use axum::response::{Html, Redirect};
use engagements_app::ProjectionsRead;
use engagements_domain::Amount;
use engagements_projections::Projections;
use maud::html;

use crate::auth::{Caller, ReadScope};
use crate::charts;
use crate::error::ApiError;
use crate::pages::{
    date_selector, format_eur, layout, page_caller, table_html, PageError, PageParams,
};
use crate::state::AppState;
use crate::views;

/// The home page sends to the dashboard.
#[utoipa::path(get, path = "/", tag = "pages", responses((status = 303, description = "To /tableau-de-bord")))]
pub async fn home() -> Redirect {
    Redirect::to("/tableau-de-bord")
}

/// The projections a page shows: now, or as of the page's date selector.
pub async fn projections_for<'s>(
    state: &'s AppState,
    params: &PageParams,
) -> Result<ProjectionsRead<'s>, PageError> {
    let as_of = params.when()?.as_of()?;
    Ok(state.ledger.read_as_of(&as_of).await?)
}

/// A banner saying which past moment a page shows.
pub fn as_of_banner(params: &PageParams) -> maud::Markup {
    let parts: Vec<String> = [
        params
            .as_of
            .as_ref()
            .map(|d| format!("tel qu'enregistré au {d}")),
        params
            .effective_on
            .as_ref()
            .map(|d| format!("faits en vigueur au {d}")),
        params
            .at_position
            .as_ref()
            .map(|p| format!("après l'événement n° {p}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        @if !parts.is_empty() {
            p.banner { "Vue du passé : " (parts.join(", ")) "." }
        }
    }
}

/// The exercice shown: asked for, else the latest with a dossier, else this year.
fn exercice_shown(projections: &Projections, asked: Option<i32>) -> i32 {
    asked.unwrap_or_else(|| {
        projections
            .subsidy
            .filed(None)
            .filter_map(|d| d.filed.as_ref().map(|f| f.exercice))
            .max()
            .unwrap_or_else(|| chrono::Datelike::year(&chrono::Local::now()))
    })
}

/// The dashboard of an exercice.
#[utoipa::path(get, path = "/tableau-de-bord", tag = "pages", params(PageParams),
    responses((status = 200, description = "HTML", content_type = "text/html")))]
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(params): Query<PageParams>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    let projections = projections_for(&state, &params).await?;
    let exercice = exercice_shown(&projections, params.exercice()?);
    let table = views::report(&projections, "signataires", Some(exercice))
        .ok_or_else(|| ApiError::not_found("view signataires"))?;
    let requested = views::column_breakdown(&table, "exercice", "requested_eur")
        .into_iter()
        .fold(Amount::ZERO, |s, (_, a)| s.checked_add(a).unwrap_or(s));
    let granted = projections.subsidy.granted_total(Some(exercice));
    let dossiers = projections.subsidy.filed(Some(exercice)).count();
    let by_financeur = views::column_breakdown(&table, "financeur_name", "granted_eur");
    let objectives = views::report(&projections, "objectifs", Some(exercice))
        .map(|t| views::column_breakdown(&t, "objectif_title", "granted_eur"))
        .unwrap_or_default();
    let csv = format!(
        "/api/v1/reports/signataires?format=csv&year={exercice}{}",
        params.when()?.to_query()
    );
    Ok(layout(
        "Tableau de bord",
        Some(&caller),
        html! {
            h1 { "Tableau de bord — exercice " (exercice) }
            (as_of_banner(&params))
            (date_selector("/tableau-de-bord", &params, html! {}))
            div.kpis {
                div.kpi { div { "Dossiers déposés" } div.value { (dossiers) } }
                div.kpi { div { "Montants sollicités" } div.value { (format_eur(requested)) } }
                div.kpi { div { "Montants accordés" } div.value { (format_eur(granted)) } }
                div.kpi { div { "Position du journal" } div.value { (projections.position) } }
            }
            h2 { "Enveloppes par financeur et dispositif" }
            (table_html(&table, &csv))
            h2 { "Montants accordés par année et par financeur" }
            (charts::grouped_bars("Montants accordés par exercice et financeur", &views::granted_by_year_and_financeur(&projections)))
            h2 { "Répartition des montants accordés en " (exercice) }
            (charts::breakdown(&format!("Accordé par financeur, exercice {exercice}"), &by_financeur))
            (charts::breakdown(&format!("Accordé par objectif du contrat, exercice {exercice}"), &objectives))
        },
    ))
}
