//! One page per signataire, per quartier and per objectif: its table (downloadable as CSV for
//! spreadsheets with `format=csv`), bars per year and financeur (or dispositif), and a breakdown by objective (or
//! by financeur), now or as of a past date. Every amount is split to the cent the way the report
//! views split it (`split_cents`), so the charts add up with the tables.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use engagements_domain::Amount;
use engagements_projections::subsidy::split::split_cents;
use engagements_projections::{Cell, Projections, Table};
use maud::{html, Markup};
use rust_decimal::Decimal;

use crate::asof::encode;
use crate::auth::{Caller, ReadScope};
use crate::charts;
use crate::error::ApiError;
use crate::pages::dashboard::{as_of_banner, projections_for};
use crate::pages::download::FileFormat;
use crate::pages::{date_selector, layout, page_caller, table_html, PageError, PageParams};
use crate::state::AppState;

/// Longest id accepted in a URL.
const ID_CHARS_MAX: usize = 100;

type Bars = BTreeMap<i32, BTreeMap<String, Amount>>;

fn add_cents(map: &mut BTreeMap<String, Amount>, key: &str, cents: i64) {
    let more = Amount::from_cents(cents.max(0)).unwrap_or(Amount::ZERO);
    let slot = map.entry(key.to_string()).or_insert(Amount::ZERO);
    *slot = slot.checked_add(more).unwrap_or(*slot);
}

fn add_objectif_cents(map: &mut BTreeMap<u32, Amount>, number: u32, cents: i64) {
    let more = Amount::from_cents(cents.max(0)).unwrap_or(Amount::ZERO);
    let slot = map.entry(number).or_insert(Amount::ZERO);
    *slot = slot.checked_add(more).unwrap_or(*slot);
}

/// One grant line split over its dossier's objectives: (exercice, financeur, dispositif,
/// quartiers, [(objectif, cents)]).
struct LineParts<'a> {
    exercice: i32,
    financeur: &'a str,
    dispositif: &'a str,
    quartiers: Vec<&'a str>,
    by_objectif: Vec<(u32, i64)>,
    granted_cents: i64,
}

fn line_parts(projections: &Projections) -> Vec<LineParts<'_>> {
    let mut out = Vec::new();
    for dossier in projections.subsidy.filed(None) {
        let Some(filing) = dossier.filed.as_ref() else {
            continue;
        };
        let weights: Vec<Decimal> = filing
            .objectifs
            .iter()
            .map(|o| o.weight.unwrap_or(Decimal::ONE))
            .collect();
        for ((financeur, dispositif), line) in &dossier.lines {
            let cents = line.granted.cents();
            if cents == 0 {
                continue;
            }
            let parts = split_cents(cents, &weights);
            out.push(LineParts {
                exercice: filing.exercice,
                financeur,
                dispositif,
                quartiers: filing
                    .quartiers
                    .iter()
                    .map(|q| q.quartier.as_str())
                    .collect(),
                by_objectif: filing
                    .objectifs
                    .iter()
                    .map(|o| o.objectif)
                    .zip(parts)
                    .collect(),
                granted_cents: cents,
            });
        }
    }
    out
}

fn objectif_label(projections: &Projections, number: u32) -> String {
    projections
        .referential
        .objectif(number)
        .map(|p| format!("{number}. {}", p.objectif.title))
        .unwrap_or_else(|| format!("Objectif {number}"))
}

/// The rows of `table` whose `column` reads `value`, and of the exercice if one is given.
fn rows_where(mut table: Table, column: &str, value: &str, year: Option<i32>) -> Table {
    let index = table.columns.iter().position(|c| c == column);
    let year_index = table.columns.iter().position(|c| c == "exercice");
    table.rows.retain(|row| {
        let keeps = index
            .and_then(|i| row.get(i))
            .is_some_and(|cell| cell.to_text() == value);
        let in_year = match (year, year_index.and_then(|i| row.get(i))) {
            (Some(y), Some(Cell::Int(e))) => *e == i64::from(y),
            _ => true,
        };
        keeps && in_year
    });
    table
}

/// What an entity page shows.
struct EntityPage {
    kind: &'static str,
    path: String,
    title: String,
    table: Table,
    /// Bars per exercice, drawn.
    bars: Markup,
    /// The breakdown (by objectif or by financeur), drawn.
    breakdown: Markup,
    others: Vec<(String, String)>,
    /// The last event folded into the page.
    position: i64,
    /// What the page adds before the other pages (a signataire's commitments).
    extra: Markup,
}

async fn render(
    caller: &Caller,
    params: &PageParams,
    page: EntityPage,
) -> Result<Response, PageError> {
    if let Some(file) = FileFormat::asked(params.format.as_deref())? {
        // `/quartiers/QN06204` → `quartiers-QN06204-2025-au-…`: what, which exercice, when.
        let mut stem = page.path.trim_start_matches('/').replace('/', "-");
        if let Some(year) = params
            .exercice
            .as_deref()
            .and_then(|y| y.parse::<i32>().ok())
        {
            stem = format!("{stem}-{year}");
        }
        return Ok(file.respond(&[&page.table], page.position, &stem)?);
    }
    let when = params.when()?;
    let csv = format!(
        "{}?format=csv{}{}",
        page.path,
        params
            .exercice
            .as_deref()
            .map(|y| format!("&exercice={}", encode(y)))
            .unwrap_or_default(),
        when.to_query()
    );
    let body: Markup = html! {
        h1 { (page.title) }
        (as_of_banner(params, page.position))
        (date_selector(&page.path, params, html! {}))
        h2 { "Graphiques" }
        (page.bars)
        (page.breakdown)
        h2 { "Tableau" }
        (table_html(&page.table, &csv))
        (page.extra)
        h2 { "Autres pages : " (page.kind) }
        ul.others { @for (href, label) in &page.others { li { a href=(href) { (label) } } } }
    };
    Ok(layout(&page.title, Some(caller), body).into_response())
}

fn checked_id(id: &str) -> Result<(), PageError> {
    if id.chars().count() > ID_CHARS_MAX {
        return Err(ApiError::invalid(format!("id longer than {ID_CHARS_MAX} characters")).into());
    }
    Ok(())
}

/// A signataire (financeur): envelopes and grants, bars per year and dispositif, breakdown by
/// objective.
#[utoipa::path(get, path = "/signataires/{financeur}", tag = "pages",
    params(("financeur" = String, Path, description = "An organisation id, e.g. etat"), PageParams),
    responses((status = 200, description = "HTML, or CSV with format=csv", content_type = "text/html"), (status = 404, description = "Unknown organisation")))]
pub async fn signataire(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(financeur): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    checked_id(&financeur)?;
    let projections = projections_for(&state, &params).await?;
    let year = params.exercice()?;
    let name = projections
        .referential
        .organisation(&financeur)
        .map(|o| o.name.clone())
        .ok_or_else(|| {
            ApiError::not_found(format!("no organisation '{financeur}' in the referential"))
        })?;
    let mut bars = Bars::new();
    let mut by_objectif = BTreeMap::new();
    for line in line_parts(&projections)
        .iter()
        .filter(|l| l.financeur == financeur)
    {
        add_cents(
            bars.entry(line.exercice).or_default(),
            line.dispositif,
            line.granted_cents,
        );
        if year.is_none_or(|y| y == line.exercice) {
            for (number, cents) in &line.by_objectif {
                add_objectif_cents(&mut by_objectif, *number, *cents);
            }
        }
    }
    let table = rows_where(
        projections
            .subsidy
            .signatory_table(None, &projections.referential),
        "financeur",
        &financeur,
        year,
    );
    let others = projections
        .referential
        .organisations()
        .filter(|o| o.signatory_group.is_some())
        .map(|o| (format!("/signataires/{}", encode(&o.id)), o.name.clone()))
        .collect();
    let page = EntityPage {
        position: projections.position,
        kind: "signataires",
        path: format!("/signataires/{}", encode(&financeur)),
        title: format!("Signataire : {name}"),
        table: crate::views::with_names(table, &projections),
        bars: charts::grouped_bars(
            &format!("Accordé par {name}, par exercice et dispositif"),
            &bars,
            &charts::Legend::Dispositifs(&projections.referential),
        ),
        breakdown: charts::breakdown(
            "Accordé par objectif du contrat (par enjeu et ambition)",
            &charts::objectif_lines(&projections.referential, &by_objectif),
        ),
        others,
        extra: crate::pages::engagement::list_of(&projections, &financeur),
    };
    render(&caller, &params, page).await
}

/// A quartier: the money reaching it, bars per year and financeur, breakdown by objective.
#[utoipa::path(get, path = "/quartiers/{quartier}", tag = "pages",
    params(("quartier" = String, Path, description = "A QPV code (QN06204) or a QIC id"), PageParams),
    responses((status = 200, description = "HTML, or CSV with format=csv", content_type = "text/html"), (status = 404, description = "Unknown quartier")))]
pub async fn quartier(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(quartier): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    checked_id(&quartier)?;
    let projections = projections_for(&state, &params).await?;
    let year = params.exercice()?;
    let known = projections.referential.quartier(&quartier).ok_or_else(|| {
        ApiError::not_found(format!("no quartier '{quartier}' in the referential"))
    })?;
    let (id, name) = (known.id.clone(), known.name.clone());
    let all = rows_where(
        projections
            .subsidy
            .quartier_table(None, &projections.referential),
        "quartier",
        &id,
        None,
    );
    let mut bars = Bars::new();
    let column = |name: &str| all.columns.iter().position(|c| c == name);
    if let (Some(e), Some(f), Some(g)) = (
        column("exercice"),
        column("financeur"),
        column("granted_eur"),
    ) {
        for row in &all.rows {
            if let (Some(Cell::Int(exercice)), Some(financeur), Some(Cell::Amount(granted))) =
                (row.get(e), row.get(f), row.get(g))
            {
                add_cents(
                    bars.entry(*exercice as i32).or_default(),
                    &financeur.to_text(),
                    granted.cents(),
                );
            }
        }
    }
    let mut by_objectif = BTreeMap::new();
    for line in line_parts(&projections) {
        let touches = line.quartiers.iter().any(|q| {
            projections
                .referential
                .quartier(q)
                .is_some_and(|k| k.id == id)
        });
        if touches && year.is_none_or(|y| y == line.exercice) {
            for (number, cents) in &line.by_objectif {
                add_objectif_cents(&mut by_objectif, *number, *cents);
            }
        }
    }
    let table = rows_where(all, "quartier", &id, year);
    let others = projections
        .referential
        .quartiers()
        .map(|q| {
            (
                format!("/quartiers/{}", encode(&q.id)),
                format!("{} ({})", q.name, q.id),
            )
        })
        .collect();
    let page = EntityPage {
        position: projections.position,
        kind: "quartiers",
        path: format!("/quartiers/{}", encode(&id)),
        title: format!("Quartier : {name} ({id})"),
        table: crate::views::with_names(table, &projections),
        bars: charts::grouped_bars(
            "Accordé au quartier par exercice et financeur",
            &bars,
            &charts::Legend::Financeurs(&projections.referential),
        ),
        breakdown: charts::breakdown(
            "Accordé aux dossiers qui touchent ce quartier (entier, tous quartiers confondus), par objectif",
            &charts::objectif_lines(&projections.referential, &by_objectif),
        ),
        others,
        extra: html! {},
    };
    render(&caller, &params, page).await
}

/// An objectif of the contract: bars per year and financeur, breakdown by financeur.
#[utoipa::path(get, path = "/objectifs/{objectif}", tag = "pages",
    params(("objectif" = u32, Path, description = "The objectif's number (1-35)"), PageParams),
    responses((status = 200, description = "HTML, or CSV with format=csv", content_type = "text/html"), (status = 404, description = "Unknown objectif")))]
pub async fn objectif(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(objectif): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    checked_id(&objectif)?;
    let number: u32 = objectif
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid(format!("objectif '{objectif}' is not a number")))?;
    let projections = projections_for(&state, &params).await?;
    let year = params.exercice()?;
    let label = projections
        .referential
        .objectif(number)
        .map(|_| objectif_label(&projections, number))
        .ok_or_else(|| ApiError::not_found(format!("no objectif {number} in the referential")))?;
    let mut bars = Bars::new();
    let mut by_financeur = BTreeMap::new();
    for line in line_parts(&projections) {
        for (n, cents) in &line.by_objectif {
            if *n != number {
                continue;
            }
            add_cents(
                bars.entry(line.exercice).or_default(),
                line.financeur,
                *cents,
            );
            if year.is_none_or(|y| y == line.exercice) {
                add_cents(&mut by_financeur, line.financeur, *cents);
            }
        }
    }
    let table = rows_where(
        projections
            .subsidy
            .objective_table(None, &projections.referential),
        "objectif",
        &number.to_string(),
        year,
    );
    let others = projections
        .referential
        .objectifs()
        .map(|p| {
            (
                format!("/objectifs/{}", p.objectif.number),
                format!("{}. {}", p.objectif.number, p.objectif.title),
            )
        })
        .collect();
    let page = EntityPage {
        position: projections.position,
        kind: "objectifs",
        path: format!("/objectifs/{number}"),
        title: format!("Objectif {label}"),
        table: crate::views::with_names(table, &projections),
        bars: charts::grouped_bars(
            "Accordé à l'objectif par exercice et financeur",
            &bars,
            &charts::Legend::Financeurs(&projections.referential),
        ),
        breakdown: charts::breakdown(
            "Accordé à l'objectif par financeur",
            &charts::financeur_lines(&projections.referential, &by_financeur),
        ),
        others,
        extra: html! {},
    };
    render(&caller, &params, page).await
}
