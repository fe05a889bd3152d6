//! The evaluation report (contract l.1099-1117: evaluation is compulsory, with territorialised
//! indicators of the droit-commun policies; a mid-term report in 2027, a final one in 2030): per
//! objectif and per quartier, over a span of exercices (`du`, `au`) and as of any moment (the
//! date selector), printable on A4. Each part downloads as CSV or XLSX (`format=csv|xlsx&partie=…`);
//! `format=xlsx` alone is the workbook of every part (as `engagements report evaluation --format
//! xlsx` writes it).
//!
//! The report gathers the TFPB figures of every bailleur: like the comité's pages, it is open to
//! the admin, instructeurs and auditeurs, and refused (403) to the other roles.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use engagements_projections::evaluation::{evaluation_report, EvaluationReport, Span};
use engagements_projections::{Cell, Table};
use maud::{html, Markup};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::comite::require_open;
use crate::pages::dashboard::{as_of_banner, projections_for};
use crate::pages::download::FileFormat;
use crate::pages::{
    date_selector, format_eur, layout, page_caller, table_html_with, PageError, PageParams, Totals,
};
use crate::state::AppState;

/// The page's title (the menu marks "Évaluation").
const TITLE: &str = "Évaluation du contrat de ville";

/// Each part of the report: its name in `partie=`, its heading, whether its amounts add up.
const PARTS: &[(&str, &str, Totals)] = &[
    (
        "objectifs",
        "Par objectif : crédits spécifiques, droit commun, pistes d'action",
        Totals::Sum,
    ),
    (
        "objectifs-financeurs",
        "Par objectif et financeur : crédits accordés et payés",
        Totals::Sum,
    ),
    (
        "quartiers",
        "Par quartier : crédits spécifiques, droit commun, TFPB",
        Totals::Sum,
    ),
    (
        "quartiers-financeurs",
        "Par quartier et financeur : crédits accordés et payés",
        Totals::Sum,
    ),
    (
        "engagements",
        "Engagements de droit commun, cibles et dernier avancement",
        Totals::None,
    ),
    (
        "tfpb",
        "Abattement de TFPB : prévu et réalisé, par quartier et année",
        Totals::Sum,
    ),
    (
        "pistes",
        "Pistes d'action et dossiers qui les servent",
        Totals::None,
    ),
    ("sans-moyens", "Sans crédit ni engagement", Totals::None),
];

/// The table of part `name`.
fn part<'r>(report: &'r EvaluationReport, name: &str) -> Option<&'r Table> {
    let wanted = format!("evaluation-{name}");
    report.tables().into_iter().find(|t| t.name == wanted)
}

/// The span asked for: `du`..`au`, else the exercice shown, else the contract's first three
/// years (2024-2026: what the mid-term report of 2027 looks back on).
fn span_of(params: &PageParams) -> Result<Span, ApiError> {
    let year = |text: Option<&str>, name: &str| {
        text.map(|t| {
            t.trim()
                .parse::<i32>()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .ok_or_else(|| ApiError::invalid(format!("{name} '{t}' is not a year")))
        })
        .transpose()
    };
    let from = year(params.du.as_deref(), "du")?
        .or(params.exercice()?)
        .unwrap_or(2024);
    let to = year(params.au.as_deref(), "au")?.unwrap_or(
        if params.du.is_some() || params.exercice.is_some() {
            from
        } else {
            2026
        },
    );
    Span::new(from, to).map_err(|e| ApiError::invalid(e.to_string()))
}

/// The evaluation report as a page, or one of its parts as CSV.
#[utoipa::path(get, path = "/evaluation", tag = "pages", params(PageParams),
    responses((status = 200, description = "HTML, or CSV with format=csv&partie=…", content_type = "text/html"),
        (status = 403, description = "A role that may not read the TFPB of every bailleur")))]
pub async fn evaluation(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(params): Query<PageParams>,
) -> Result<Response, PageError> {
    let caller = page_caller(caller)?;
    require_open(&caller)?;
    let span = span_of(&params)?;
    let when = params.when()?;
    let today = when
        .as_of()?
        .effective_on
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let projections = projections_for(&state, &params).await?;
    let report = evaluation_report(&projections, span, today);
    if let Some(file) = FileFormat::asked(params.format.as_deref())? {
        // One part (`partie=`), or, as a workbook, every part on its own sheet.
        let chosen: Vec<&Table> = match (params.partie.as_deref(), file) {
            (None, FileFormat::Xlsx) => report.tables().to_vec(),
            (name, _) => {
                let name = name.unwrap_or("objectifs");
                vec![part(&report, name).ok_or_else(|| {
                    ApiError::not_found(format!("no part '{name}' in the evaluation report"))
                })?]
            }
        };
        let named: Vec<Table> = chosen
            .iter()
            .map(|t| crate::views::with_names((*t).clone(), &projections))
            .collect();
        let stem = match params.partie.as_deref() {
            Some(_) => format!("{}-{}", chosen[0].name, span.label()),
            None if file == FileFormat::Xlsx => format!("evaluation-{}", span.label()),
            None => format!("evaluation-objectifs-{}", span.label()),
        };
        let tables: Vec<&Table> = named.iter().collect();
        return Ok(file.respond(&tables, projections.position, &stem)?);
    }
    let query = format!("du={}&au={}{}", span.from, span.to, when.to_query());
    let span_fields = html! {
        label { "Du exercice " input type="number" name="du" min="2000" max="2100" value=(span.from); }
        label { "au " input type="number" name="au" min="2000" max="2100" value=(span.to); }
    };
    let body = html! {
        h1 { (TITLE) " — exercices " (span.label()) }
        (as_of_banner(&params, projections.position))
        (date_selector("/evaluation", &params, span_fields))
        (summary(&report))
        p.download {
            "Tout le rapport dans un classeur : "
            a href=(format!("/evaluation?format=xlsx&{query}")) download { "classeur Excel (XLSX), une feuille par partie" }
            "."
        }
        @for (name, heading, totals) in PARTS {
            @if let Some(table) = part(&report, name) {
                @let csv = format!("/evaluation?format=csv&partie={name}&{query}");
                @let table = crate::views::with_names(table.clone(), &projections);
                section.evaluation id=(name) {
                    h2 { (heading) }
                    @if *name == "pistes" {
                        (pistes_html(table, &csv))
                    } @else {
                        (table_html_with(&table, &csv, *totals))
                    }
                }
            }
        }
        p.muted {
            "Crédits spécifiques : chaque ligne de financement est répartie entre les objectifs (selon leurs poids) et entre les quartiers (selon les parts déclarées, sinon la population), au plus fort reste, comme dans les vues par objectif et par quartier ; « payé » s'entend net des reversements. "
            "Le droit commun reprend les engagements des signataires (annexe 3) avec leur dernier point d'avancement."
        }
    };
    Ok(layout(TITLE, Some(&caller), body).into_response())
}

/// The pistes d'action: those served by a dossier first; the others (most of the 411 pistes of
/// the contract early on) folded under a disclosure on screen and left out of the print, which
/// says how many there are and where the whole list is.
fn pistes_html(table: Table, csv_href: &str) -> Markup {
    let (with, without): (Vec<_>, Vec<_>) = table
        .rows
        .iter()
        .cloned()
        .partition(|row| is_served(&table, row));
    let with = Table {
        rows: with,
        ..table.clone()
    };
    let without = Table {
        rows: without,
        ..table
    };
    html! {
        h3 { "Pistes servies par au moins un dossier (" (with.rows.len()) ")" }
        (table_html_with(&with, csv_href, Totals::None))
        @if !without.rows.is_empty() {
            p.print-only {
                (without.rows.len()) " pistes d'action ne sont citées par aucun dossier : leur liste est à l'écran et dans le CSV de cette partie."
            }
            details.no-print {
                summary { "Pistes sans dossier (" (without.rows.len()) ")" }
                (table_html_with(&without, csv_href, Totals::None))
            }
        }
    }
}

/// Whether a row of the pistes' table has a dossier serving it.
fn is_served(pistes: &Table, row: &[Cell]) -> bool {
    pistes
        .columns
        .iter()
        .position(|c| c == "dossiers")
        .and_then(|index| row.get(index))
        .is_some_and(|cell| matches!(cell, Cell::Int(n) if *n > 0))
}

/// The figures the report opens with: credits, commitments, TFPB, and what has nothing.
fn summary(report: &EvaluationReport) -> Markup {
    let sum = |table: &Table, column: &str| -> engagements_domain::Amount {
        let Some(index) = table.columns.iter().position(|c| c == column) else {
            return engagements_domain::Amount::ZERO;
        };
        table
            .rows
            .iter()
            .filter_map(|r| match r.get(index) {
                Some(Cell::Amount(a)) => Some(*a),
                _ => None,
            })
            .sum()
    };
    let nothing = |kind: &str| {
        report
            .sans_moyens
            .rows
            .iter()
            .filter(|r| r.first().map(|c| c.to_text()) == Some(kind.to_string()))
            .count()
    };
    let served = report
        .pistes
        .rows
        .iter()
        .filter(|row| is_served(&report.pistes, row))
        .count();
    html! {
        ul.facts {
            li { "Crédits spécifiques accordés : " strong { (format_eur(sum(&report.objectifs_financeurs, "granted_eur"))) } }
            li { "payés : " strong { (format_eur(sum(&report.objectifs_financeurs, "paid_eur"))) } }
            li { "Engagements de droit commun : " strong { (report.engagements.rows.len()) } }
            li { "TFPB réalisé : " strong { (format_eur(sum(&report.tfpb, "realised_eur"))) } " pour " (format_eur(sum(&report.tfpb, "abatement_eur"))) " d'abattement" }
            li { "Pistes d'action servies : " strong { (served) } " sur " (report.pistes.rows.len()) }
            li { "Sans crédit ni engagement : " strong { (nothing("objectif")) } " objectifs, " strong { (nothing("quartier")) } " quartiers" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_defaults_to_the_first_three_years_and_names_a_bad_year() {
        let params = PageParams::default();
        assert_eq!(
            span_of(&params).unwrap(),
            Span {
                from: 2024,
                to: 2026
            }
        );
        let params = PageParams {
            du: Some("2025".into()),
            ..PageParams::default()
        };
        assert_eq!(
            span_of(&params).unwrap(),
            Span {
                from: 2025,
                to: 2025
            }
        );
        let params = PageParams {
            du: Some("2027".into()),
            au: Some("2025".into()),
            ..PageParams::default()
        };
        assert!(span_of(&params).is_err());
        let params = PageParams {
            au: Some("demain".into()),
            ..PageParams::default()
        };
        assert!(span_of(&params).unwrap_err().message.contains("demain"));
    }

    #[test]
    fn every_part_has_its_table() {
        let report = EvaluationReport {
            span: Span {
                from: 2024,
                to: 2026,
            },
            objectifs: Table::new("evaluation-objectifs", &[]),
            objectifs_financeurs: Table::new("evaluation-objectifs-financeurs", &[]),
            quartiers: Table::new("evaluation-quartiers", &[]),
            quartiers_financeurs: Table::new("evaluation-quartiers-financeurs", &[]),
            engagements: Table::new("evaluation-engagements", &[]),
            tfpb: Table::new("evaluation-tfpb", &[]),
            pistes: Table::new("evaluation-pistes", &[]),
            sans_moyens: Table::new("evaluation-sans-moyens", &[]),
        };
        for (name, _, _) in PARTS {
            assert!(part(&report, name).is_some(), "{name}");
        }
        assert_eq!(PARTS.len(), report.tables().len());
    }
}
