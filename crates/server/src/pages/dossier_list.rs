//! The list of dossiers as a comité reads it: filtered (financeur, quartier, objectif, status,
//! exercice, text), sorted by any column, a page at a time, with status, paid, left to pay and
//! where the compte rendu financier stands.

use std::cmp::Ordering;

use axum::extract::{Query, State};
use axum::response::Html;
use chrono::NaiveDate;
use engagements_domain::dossier::{DossierFiling, DossierState, LineStatus};
use engagements_domain::Amount;
use engagements_projections::labels;
use engagements_projections::subsidy::to_do::crf_due_on;
use engagements_projections::Projections;
use maud::{html, Markup};

use crate::asof::encode;
use crate::auth::{Caller, ReadScope};
use crate::error::ApiError;
use crate::pages::dashboard::{as_of_banner, projections_for};
use crate::pages::dossiers::organisation_name;
use crate::pages::{date_selector, format_eur, layout, page_caller, PageError, PageParams};
use crate::state::AppState;

/// Dossiers shown on one page of the list (the CSV has them all).
pub const ROWS_PER_PAGE: usize = 50;
/// Longest text filter accepted.
const FILTER_CHARS_MAX: usize = 200;

/// Where a dossier stands, as the list shows and filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ListStatus {
    Filed,
    Instructed,
    Adjourned,
    Refused,
    Granted,
    Settled,
    Withdrawn,
}

impl ListStatus {
    const ALL: [ListStatus; 7] = [
        ListStatus::Filed,
        ListStatus::Instructed,
        ListStatus::Adjourned,
        ListStatus::Refused,
        ListStatus::Granted,
        ListStatus::Settled,
        ListStatus::Withdrawn,
    ];

    /// The key in the address (`?statut=accorde`).
    pub fn key(self) -> &'static str {
        match self {
            ListStatus::Filed => "depose",
            ListStatus::Instructed => "instruction",
            ListStatus::Adjourned => "ajourne",
            ListStatus::Refused => "refuse",
            ListStatus::Granted => "accorde",
            ListStatus::Settled => "solde",
            ListStatus::Withdrawn => "retire",
        }
    }

    /// How people name it.
    pub fn label(self) -> &'static str {
        match self {
            ListStatus::Filed => "Déposé",
            ListStatus::Instructed => "En instruction",
            ListStatus::Adjourned => "Ajourné",
            ListStatus::Refused => "Refusé",
            ListStatus::Granted => "Accordé",
            ListStatus::Settled => "Soldé",
            ListStatus::Withdrawn => "Retiré",
        }
    }

    /// The status of a dossier from its lines: withdrawn first; then granted (settled once every
    /// granted line's solde is paid); refused when every line is refused or cancelled; adjourned;
    /// in instruction once an avis is given; else filed.
    pub fn of(state: &DossierState) -> ListStatus {
        if state.withdrawn {
            return ListStatus::Withdrawn;
        }
        let lines: Vec<_> = state.lines.values().collect();
        let granted: Vec<_> = lines
            .iter()
            .filter(|l| l.status == LineStatus::Granted)
            .collect();
        if !granted.is_empty() {
            return if granted.iter().all(|l| l.solde_paid) {
                ListStatus::Settled
            } else {
                ListStatus::Granted
            };
        }
        if !lines.is_empty()
            && lines
                .iter()
                .all(|l| matches!(l.status, LineStatus::Refused | LineStatus::Cancelled))
        {
            return ListStatus::Refused;
        }
        if lines.iter().any(|l| l.status == LineStatus::Adjourned) {
            return ListStatus::Adjourned;
        }
        if lines.iter().any(|l| l.opinion.is_some()) {
            return ListStatus::Instructed;
        }
        ListStatus::Filed
    }
}

/// One dossier of the list, with the figures its columns show.
struct Row<'a> {
    filing: &'a DossierFiling,
    state: &'a DossierState,
    porteur: String,
    status: ListStatus,
    decided_on: Option<NaiveDate>,
    requested: Amount,
    granted: Amount,
    paid: Amount,
    left_to_pay: Amount,
}

impl<'a> Row<'a> {
    fn new(projections: &Projections, filing: &'a DossierFiling, state: &'a DossierState) -> Self {
        let requested = filing.requests.iter().map(|r| r.amount).sum();
        let paid = state.lines.values().map(|l| l.paid).sum();
        // A granted line is left to pay until its solde is paid (the solde closes it).
        let left_to_pay = state
            .lines
            .values()
            .filter(|l| l.status == LineStatus::Granted && !l.solde_paid)
            .map(|l| l.granted.saturating_sub(l.paid))
            .sum();
        Row {
            filing,
            state,
            porteur: projections
                .porteurs
                .get(&filing.porteur_id)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| filing.porteur_id.to_string()),
            status: ListStatus::of(state),
            decided_on: state.lines.values().filter_map(|l| l.decided_on).max(),
            requested,
            granted: state.granted_total(),
            paid,
            left_to_pay,
        }
    }
}

/// Where the compte rendu financier of a dossier stands on `today`.
fn crf_text(row: &Row<'_>, today: NaiveDate) -> (String, bool) {
    if let Some(received) = row.state.crf_received_on {
        return (format!("Reçu le {}", labels::date_fr(received)), false);
    }
    if row.granted.is_zero() {
        return ("—".to_string(), false);
    }
    match crf_due_on(row.filing.exercice) {
        Some(due) if today > due => (
            format!("En retard (attendu le {})", labels::date_fr(due)),
            true,
        ),
        Some(due) => (format!("Attendu le {}", labels::date_fr(due)), false),
        None => ("—".to_string(), false),
    }
}

/// The columns one may sort by: key in the address, header, and the order they give.
type SortBy = fn(&Row<'_>, &Row<'_>) -> Ordering;
const COLUMNS: &[(&str, &str, SortBy)] = &[
    ("exercice", "Exercice", |a, b| {
        a.filing.exercice.cmp(&b.filing.exercice)
    }),
    ("intitule", "Intitulé", |a, b| {
        a.filing
            .title
            .to_lowercase()
            .cmp(&b.filing.title.to_lowercase())
    }),
    ("porteur", "Porteur", |a, b| {
        a.porteur.to_lowercase().cmp(&b.porteur.to_lowercase())
    }),
    ("statut", "Statut", |a, b| a.status.cmp(&b.status)),
    ("decision", "Décidé le", |a, b| {
        a.decided_on.cmp(&b.decided_on)
    }),
    ("sollicite", "Sollicité", |a, b| {
        a.requested.cmp(&b.requested)
    }),
    ("accorde", "Accordé", |a, b| a.granted.cmp(&b.granted)),
    ("paye", "Payé", |a, b| a.paid.cmp(&b.paid)),
    ("reste", "Reste à payer", |a, b| {
        a.left_to_pay.cmp(&b.left_to_pay)
    }),
];

/// The order asked: a column key, `-desc` for descending; by default the latest exercice first.
fn sort_order(tri: Option<&str>) -> Result<(&'static str, bool), ApiError> {
    let Some(tri) = tri else {
        return Ok(("exercice", true));
    };
    let (key, descending) = match tri.strip_suffix("-desc") {
        Some(key) => (key, true),
        None => (tri, false),
    };
    COLUMNS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(k, _, _)| (*k, descending))
        .ok_or_else(|| {
            let keys: Vec<&str> = COLUMNS.iter().map(|(k, _, _)| *k).collect();
            ApiError::for_people(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid",
                format!(
                    "Tri inconnu : « {tri} ». Triez par {} (ajoutez « -desc » pour l'ordre décroissant).",
                    keys.join(", ")
                ),
            )
        })
}

fn bad_filter(message: String) -> ApiError {
    ApiError::for_people(axum::http::StatusCode::BAD_REQUEST, "invalid", message)
}

/// The filters asked, checked against the referential (an unknown quartier, objectif or status
/// is said, never silently ignored).
struct Filters {
    quartier: Option<String>,
    objectif: Option<u32>,
    status: Option<ListStatus>,
}

fn filters(projections: &Projections, params: &PageParams) -> Result<Filters, ApiError> {
    if params
        .q
        .as_ref()
        .is_some_and(|q| q.chars().count() > FILTER_CHARS_MAX)
    {
        return Err(bad_filter(format!(
            "Le texte recherché dépasse {FILTER_CHARS_MAX} caractères : raccourcissez-le."
        )));
    }
    let quartier = match params.quartier.as_deref() {
        Some(q) if projections.referential.quartier(q).is_none() => {
            return Err(bad_filter(format!(
                "Aucun quartier « {q} » dans le contrat : choisissez-le dans la liste."
            )))
        }
        other => other.map(str::to_string),
    };
    let objectif = match params.objectif.as_deref() {
        None => None,
        Some(text) => {
            let number = text.trim().parse::<u32>().ok().filter(|n| {
                projections
                    .referential
                    .objectifs()
                    .any(|p| p.objectif.number == *n)
            });
            Some(number.ok_or_else(|| {
                bad_filter(format!(
                    "Aucun objectif n° « {text} » dans le contrat : choisissez-le dans la liste."
                ))
            })?)
        }
    };
    let status = match params.statut.as_deref() {
        None => None,
        Some(key) => Some(
            ListStatus::ALL
                .into_iter()
                .find(|s| s.key() == key)
                .ok_or_else(|| bad_filter(format!("Statut inconnu : « {key} ».")))?,
        ),
    };
    Ok(Filters {
        quartier,
        objectif,
        status,
    })
}

fn matches(
    projections: &Projections,
    row: &Row<'_>,
    params: &PageParams,
    filters: &Filters,
) -> bool {
    let filing = row.filing;
    // The financeur by its id (the list's choice) or by a part of its name ("Préfecture").
    let financeur_ok = params.financeur.as_ref().is_none_or(|f| {
        let wanted = f.to_lowercase();
        filing.requests.iter().any(|r| {
            r.financeur == *f
                || organisation_name(projections, &r.financeur)
                    .to_lowercase()
                    .contains(&wanted)
        })
    });
    let text_ok = params.q.as_ref().is_none_or(|q| {
        let q = q.to_lowercase();
        filing.title.to_lowercase().contains(&q)
            || row.porteur.to_lowercase().contains(&q)
            // A Dauphin code, an EJ or a programmation reference finds its dossier.
            || row
                .state
                .external_ids
                .iter()
                .any(|id| id.value.to_lowercase().contains(&q))
    });
    let quartier_ok = filters
        .quartier
        .as_ref()
        .is_none_or(|q| filing.quartiers.iter().any(|s| s.quartier == *q));
    let objectif_ok = filters
        .objectif
        .is_none_or(|n| filing.objectifs.iter().any(|o| o.objectif == n));
    let status_ok = filters.status.is_none_or(|s| s == row.status);
    financeur_ok && text_ok && quartier_ok && objectif_ok && status_ok
}

/// The address of the list with the same filters and another order or page.
fn list_href(params: &PageParams, tri: Option<&str>, page: usize) -> String {
    let mut query = Vec::new();
    for (name, value) in [
        ("financeur", params.financeur.as_deref()),
        ("q", params.q.as_deref()),
        ("quartier", params.quartier.as_deref()),
        ("objectif", params.objectif.as_deref()),
        ("statut", params.statut.as_deref()),
        ("tri", tri),
    ] {
        if let Some(value) = value {
            query.push(format!("{name}={}", encode(value)));
        }
    }
    if page > 1 {
        query.push(format!("page={page}"));
    }
    format!("/dossiers?{}", query.join("&"))
}

/// The list of dossiers.
#[utoipa::path(get, path = "/dossiers", tag = "pages", params(PageParams),
    responses((status = 200, description = "HTML", content_type = "text/html")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(params): Query<PageParams>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    let projections = projections_for(&state, &params).await?;
    let exercice = params.exercice()?;
    let filters = filters(&projections, &params)?;
    let (sort_key, descending) = sort_order(params.tri.as_deref())?;
    let page: usize = match params.page.as_deref() {
        None => 1,
        Some(p) => p.trim().parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
            bad_filter(format!(
                "Page « {p} » : écrivez un numéro de page à partir de 1."
            ))
        })?,
    };
    let when = params.when()?.to_query();
    let today = chrono::Local::now().date_naive();

    let mut rows: Vec<Row<'_>> = projections
        .subsidy
        .filed(exercice)
        .filter_map(|d| d.filed.as_ref().map(|f| Row::new(&projections, f, d)))
        .filter(|row| matches(&projections, row, &params, &filters))
        .collect();
    let by = COLUMNS
        .iter()
        .find(|(k, _, _)| *k == sort_key)
        .map(|(_, _, by)| *by)
        .unwrap_or(COLUMNS[0].2);
    // The column in the order asked; equal ones by title, A to Z.
    rows.sort_by(|a, b| {
        let order = if descending { by(b, a) } else { by(a, b) };
        order.then_with(|| a.filing.title.cmp(&b.filing.title))
    });
    let pages = rows.len().div_ceil(ROWS_PER_PAGE).max(1);
    if page > pages {
        return Err(bad_filter(format!(
            "Page {page} : la liste n'en compte que {pages} avec ces filtres."
        ))
        .into());
    }
    let shown = &rows[(page - 1) * ROWS_PER_PAGE..(page * ROWS_PER_PAGE).min(rows.len())];

    let csv = format!(
        "/api/v1/reports/dossiers?format=csv-fr{}{when}",
        exercice.map(|y| format!("&year={y}")).unwrap_or_default()
    );
    let filter_form = filter_fields(&projections, &params);
    let total = |f: fn(&Row<'_>) -> Amount| -> Amount { rows.iter().map(f).sum() };
    let header = |key: &str, label: &str| -> Markup {
        let (next, mark) = if key == sort_key {
            if descending {
                (key.to_string(), " ▼")
            } else {
                (format!("{key}-desc"), " ▲")
            }
        } else {
            (key.to_string(), "")
        };
        let sort = if key == sort_key {
            if descending {
                "descending"
            } else {
                "ascending"
            }
        } else {
            "none"
        };
        html! { th scope="col" aria-sort=(sort) { a href=(list_href(&params, Some(&next), 1)) { (label) (mark) } } }
    };
    Ok(layout(
        "Dossiers",
        Some(&caller),
        html! {
            h1 { "Dossiers" }
            @if caller.1.is_some() && crate::pages::forms::role_may_send(caller.0.role, "file_dossier") {
                p.action { a href="/dossiers/nouveau" { "Déposer un dossier" } }
            }
            (as_of_banner(&params, projections.position))
            (date_selector("/dossiers", &params, filter_form))
            (crate::pages::download::links(&csv, html! { (rows.len()) " dossiers" }))
            @if rows.is_empty() {
                p.empty { "Aucun dossier ne correspond à ces filtres" @if exercice.is_some() { " pour cet exercice" } " : élargissez la recherche." }
            } @else {
                div.scroll { table.report.dossiers {
                    caption {
                        "Dossiers" @if let Some(y) = exercice { " de l'exercice " (y) }
                        " — " (shown.len()) " sur " (rows.len())
                        @if pages > 1 { ", page " (page) " sur " (pages) }
                    }
                    thead { tr {
                        @for (key, label, _) in COLUMNS.iter().take(4) { (header(key, label)) }
                        th scope="col" { "Financeurs sollicités" }
                        @for (key, label, _) in COLUMNS.iter().skip(4) { (header(key, label)) }
                        th scope="col" { "Compte rendu financier" }
                    } }
                    tbody {
                        @for row in shown {
                            @let (crf, late) = crf_text(row, today);
                            tr {
                                td { (row.filing.exercice) }
                                td { a href=(format!("/dossiers/{}", row.filing.dossier_id)) { (row.filing.title) } }
                                td { a href=(format!("/dossiers?q={}", encode(&row.porteur))) { (row.porteur) } }
                                td { (row.status.label()) }
                                td {
                                    @for (index, request) in row.filing.requests.iter().enumerate() {
                                        @if index > 0 { ", " }
                                        a href=(format!("/signataires/{}", encode(&request.financeur))) { (organisation_name(&projections, &request.financeur)) }
                                    }
                                }
                                td { (row.decided_on.map(labels::date_fr).unwrap_or_else(|| "—".into())) }
                                td.num { (format_eur(row.requested)) }
                                td.num { (format_eur(row.granted)) }
                                td.num { (format_eur(row.paid)) }
                                td.num { (format_eur(row.left_to_pay)) }
                                @if late { td.error { (crf) } } @else { td { (crf) } }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" colspan="6" { "Total des " (rows.len()) " dossiers" }
                        td.num { (format_eur(total(|r| r.requested))) }
                        td.num { (format_eur(total(|r| r.granted))) }
                        td.num { (format_eur(total(|r| r.paid))) }
                        td.num { (format_eur(total(|r| r.left_to_pay))) }
                        td {}
                    } }
                } }
                @if pages > 1 {
                    nav.pages aria-label="Pages de la liste" {
                        @if page > 1 { a href=(list_href(&params, params.tri.as_deref(), page - 1)) rel="prev" { "← Page précédente" } }
                        span { "Page " (page) " sur " (pages) }
                        @if page < pages { a href=(list_href(&params, params.tri.as_deref(), page + 1)) rel="next" { "Page suivante →" } }
                    }
                }
            }
        },
    ))
}

/// The filter fields of the list, beside the date selector.
fn filter_fields(projections: &Projections, params: &PageParams) -> Markup {
    let mut financeurs: Vec<(String, String)> = projections
        .subsidy
        .filed(None)
        .filter_map(|d| d.filed.as_ref())
        .flat_map(|f| f.requests.iter().map(|r| r.financeur.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|id| (organisation_name(projections, &id), id))
        .collect();
    financeurs.sort();
    let referential = &projections.referential;
    let commune_of = |ids: &[String]| {
        ids.iter()
            .filter_map(|id| referential.commune(id).map(|c| c.name.clone()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    html! {
        label { "Financeur "
            select name="financeur" {
                option value="" { "Tous" }
                @for (name, id) in &financeurs {
                    option value=(id) selected[params.financeur.as_deref() == Some(id.as_str())] { (name) }
                }
            }
        }
        label { "Quartier "
            select name="quartier" {
                option value="" { "Tous" }
                @for q in referential.quartiers() {
                    option value=(q.id) selected[params.quartier.as_deref() == Some(q.id.as_str())] { (q.name) " (" (commune_of(&q.communes)) ")" }
                }
            }
        }
        label { "Objectif "
            select name="objectif" {
                option value="" { "Tous" }
                @for path in referential.objectifs() {
                    @let number = path.objectif.number.to_string();
                    option value=(number) selected[params.objectif.as_deref() == Some(number.as_str())] { "n° " (number) " — " (path.objectif.title) }
                }
            }
        }
        label { "Statut "
            select name="statut" {
                option value="" { "Tous" }
                @for status in ListStatus::ALL {
                    option value=(status.key()) selected[params.statut.as_deref() == Some(status.key())] { (status.label()) }
                }
            }
        }
        label { "Recherche " input type="search" name="q" value=[params.q.as_deref()]; }
        @if let Some(tri) = &params.tri { input type="hidden" name="tri" value=(tri); }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_key_and_an_unknown_order_is_refused_in_french() {
        let keys: std::collections::BTreeSet<_> = ListStatus::ALL.iter().map(|s| s.key()).collect();
        assert_eq!(keys.len(), ListStatus::ALL.len());
        assert_eq!(sort_order(Some("accorde-desc")).unwrap(), ("accorde", true));
        assert_eq!(sort_order(None).unwrap(), ("exercice", true));
        let refused = sort_order(Some("montant")).unwrap_err();
        assert!(refused
            .for_people
            .unwrap()
            .contains("Tri inconnu : « montant »"));
    }
}
