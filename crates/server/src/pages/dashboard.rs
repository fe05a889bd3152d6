//! The dashboard of an exercice: what each financeur was asked and granted, with charts.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use engagements_app::ProjectionsRead;
use engagements_domain::DossierId;
use engagements_projections::labels;
use engagements_projections::subsidy::to_do::{FinanceurSummary, ToDo};
use engagements_projections::Projections;
use maud::html;

use crate::auth::{Caller, ReadScope};
use crate::charts;
use crate::error::ApiError;
use crate::pages::download::FileFormat;
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

/// A banner saying which past moment a page shows, in French dates, and when nothing was
/// recorded yet at that moment (`position` is the last event the page folds, 0 for none).
pub fn as_of_banner(params: &PageParams, position: i64) -> maud::Markup {
    let date = |text: &str| {
        chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(labels::date_fr)
            .unwrap_or_else(|_| text.to_string())
    };
    let parts: Vec<String> = [
        params
            .as_of
            .as_ref()
            .map(|d| format!("tel qu'enregistré au {}", date(d))),
        params
            .effective_on
            .as_ref()
            .map(|d| format!("faits en vigueur au {}", date(d))),
        params
            .at_position
            .as_ref()
            .map(|p| format!("après l'événement n° {p}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let past = params.as_of.is_some() || params.at_position.is_some();
    html! {
        @if !parts.is_empty() {
            p.banner { "Vue du passé : " (parts.join(", ")) "." }
        }
        @if past && position == 0 {
            p.banner.empty {
                "Rien n'était encore enregistré à ce moment : le registre était vide, d'où les montants à zéro. "
                "Choisissez une date plus récente, ou « Aujourd'hui »."
            }
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

/// The dashboard of an exercice: first what the comité needs (per financeur: envelope, engaged,
/// rate, paid, left to pay, left of the envelope; the dossiers needing an action), then the detail
/// per dispositif and the charts.
///
/// `format=xlsx` gives both tables as a workbook (« Par financeur », then per dispositif);
/// `format=csv` the first.
#[utoipa::path(get, path = "/tableau-de-bord", tag = "pages", params(PageParams),
    responses((status = 200, description = "HTML, or the tables as XLSX or CSV with format=", content_type = "text/html")))]
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(params): Query<PageParams>,
) -> Result<Response, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    let projections = projections_for(&state, &params).await?;
    let exercice = exercice_shown(&projections, params.exercice()?);
    let as_of = params.when()?.as_of()?;
    let today = as_of
        .effective_on
        .or(as_of.recorded_at.map(|t| t.date_naive()))
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let table = views::report(&projections, "signataires", Some(exercice))
        .ok_or_else(|| ApiError::not_found("view signataires"))?;
    // Derived once per position and shared by every load until the next event.
    let cache = &projections.tables;
    // The summaries add up the signatory table's rows: from the table above, not built again.
    let (summaries, total) = FinanceurSummary::of_signatory_table(&table);
    let detail = views::select_columns(
        &table,
        &[
            "financeur_name",
            "financeur",
            "dispositif",
            "envelope_eur",
            "requested_eur",
            "proposed_eur",
            "granted_eur",
            "paid_eur",
            "left_to_pay_eur",
            "envelope_left_eur",
            "cpo_forecast_eur",
        ],
    );
    // Files first: the page's to-do list and charts are not needed for them.
    if let Some(file) = FileFormat::asked(params.format.as_deref())? {
        let summary = views::with_names(FinanceurSummary::table(&summaries, &total), &projections);
        let detail = views::with_names(detail, &projections);
        return Ok(file.respond(
            &[&summary, &detail],
            projections.position,
            &format!("tableau-de-bord-{exercice}"),
        )?);
    }
    let to_do = cache.get_or_derive(&format!("to-do/{exercice}/{today}"), || {
        projections.subsidy.to_do(exercice, today)
    });
    let by_year = cache.get_or_derive("granted-by-year-and-financeur", || {
        views::granted_by_year_and_financeur(&projections)
    });
    let name_of = |id: &str| projections.referential.organisation_name(id);
    let by_financeur: std::collections::BTreeMap<String, engagements_domain::Amount> =
        views::column_breakdown(&table, "financeur", "granted_eur")
            .into_iter()
            .collect();
    let by_objectif: std::collections::BTreeMap<u32, engagements_domain::Amount> =
        views::report(&projections, "objectifs", Some(exercice))
            .map(|t| views::column_breakdown(&t, "objectif", "granted_eur"))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(number, amount)| Some((number.parse().ok()?, amount)))
            .collect();
    let referential = &projections.referential;
    let when = params.when()?.to_query();
    let csv = format!("/api/v1/reports/signataires?format=csv-fr&year={exercice}{when}");
    let downloads = format!("/tableau-de-bord?format=csv&exercice={exercice}{when}");
    Ok(layout(
        "Tableau de bord",
        Some(&caller),
        html! {
            h1 { "Tableau de bord — exercice " (exercice) }
            (as_of_banner(&params, projections.position))
            (date_selector("/tableau-de-bord", &params, html! {}))
            div.kpis {
                div.kpi { div { "Enveloppes" } div.value { (format_eur(total.envelope)) } }
                div.kpi { div { "Engagé (accordé)" } div.value { (format_eur(total.granted)) } }
                div.kpi { div { "Taux d'engagement" } div.value { (rate(&total)) } }
                div.kpi { div { "Payé" } div.value { (format_eur(total.paid)) } }
                div.kpi { div { "Reste à payer" } div.value { (format_eur(total.left_to_pay)) } }
                div.kpi { div { "Reste disponible" } div.value { (format_eur(total.envelope_left)) } }
            }
            h2 { "Par financeur" }
            div.scroll {
                table.report {
                    caption { "Enveloppes et engagements par financeur, exercice " (exercice) " (tous dispositifs)" }
                    thead { tr {
                        th scope="col" { "Financeur" }
                        th scope="col" { "Enveloppe" }
                        th scope="col" { "Demandé" }
                        th scope="col" { "Engagé (accordé)" }
                        th scope="col" { "Taux d'engagement" }
                        th scope="col" { "Payé" }
                        th scope="col" { "Reste à payer" }
                        th scope="col" { "Reste disponible" }
                        th scope="col" { "Dossiers" }
                    } }
                    tbody {
                        @for s in summaries.iter() {
                            tr {
                                th scope="row" { a href=(format!("/signataires/{}", crate::asof::encode(&s.financeur))) { (name_of(&s.financeur)) } }
                                td.num { (format_eur(s.envelope)) }
                                td.num { (format_eur(s.requested)) }
                                td.num { (format_eur(s.granted)) }
                                td.num { (rate(s)) }
                                td.num { (format_eur(s.paid)) }
                                td.num { (format_eur(s.left_to_pay)) }
                                td.num.over[!s.over_committed.is_zero()] { (format_eur(s.envelope_left)) @if !s.over_committed.is_zero() { " (dépassement " (format_eur(s.over_committed)) ")" } }
                                td.num { (s.dossiers) }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" { "Total" }
                        td.num { (format_eur(total.envelope)) }
                        td.num { (format_eur(total.requested)) }
                        td.num { (format_eur(total.granted)) }
                        td.num { (rate(&total)) }
                        td.num { (format_eur(total.paid)) }
                        td.num { (format_eur(total.left_to_pay)) }
                        td.num { (format_eur(total.envelope_left)) }
                        td.num { (total.dossiers) }
                    } }
                }
            }
            (crate::pages::download::links(&downloads, html! { "par financeur ; le classeur a aussi le détail par dispositif" }))
            h2 { "Dossiers à traiter" }
            (to_do_html(&projections, &to_do, exercice))
            h2 { "Détail par financeur et dispositif" }
            (table_html(&crate::views::with_names(detail.clone(), &projections), &csv))
            h2 { "Graphiques" }
            (charts::grouped_bars("Montants accordés par exercice et par financeur", &by_year, &charts::Legend::Financeurs(referential)))
            (charts::breakdown(&format!("Accordé par financeur, exercice {exercice}"), &charts::financeur_lines(referential, &by_financeur)))
            (charts::breakdown(&format!("Accordé par objectif du contrat (par enjeu et ambition), exercice {exercice}"), &charts::objectif_lines(referential, &by_objectif)))
        },
    )
    .into_response())
}

/// The rate of engagement the French way, or a dash without an envelope.
fn rate(summary: &FinanceurSummary) -> String {
    summary
        .engagement_rate_pct()
        .map(labels::percent)
        .unwrap_or_else(|| "—".to_string())
}

/// Dossiers listed under each heading of "à traiter" before "… et N autres".
const TO_DO_LISTED_MAX: usize = 8;

/// The dossiers needing an action, by kind, each linked to its page.
fn to_do_html(projections: &Projections, to_do: &ToDo, exercice: i32) -> maud::Markup {
    let groups: [(&str, &Vec<DossierId>); 4] = [
        ("Avis à donner", &to_do.opinion_missing),
        (
            "Convention manquante (plus de 23 000 € par an et par financeur)",
            &to_do.convention_missing,
        ),
        ("Compte rendu financier en retard", &to_do.crf_overdue),
        ("Reversement attendu", &to_do.reversement_due),
    ];
    let title = |id: &DossierId| {
        projections
            .subsidy
            .dossiers
            .get(id)
            .and_then(|d| d.filed.as_ref().map(|f| f.title.clone()))
            .unwrap_or_else(|| id.to_string())
    };
    html! {
        div.todo {
            @for (label, ids) in groups {
                section {
                    h3 { (label) " : " strong { (ids.len()) } }
                    @if ids.is_empty() {
                        p { "Aucun dossier de l'exercice " (exercice) "." }
                    } @else {
                        ul {
                            @for id in ids.iter().take(TO_DO_LISTED_MAX) {
                                li { a href=(format!("/dossiers/{id}")) { (title(id)) } }
                            }
                            @if ids.len() > TO_DO_LISTED_MAX {
                                li { "… et " (ids.len() - TO_DO_LISTED_MAX) " autres" }
                            }
                        }
                    }
                }
            }
        }
    }
}
