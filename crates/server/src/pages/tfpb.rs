//! The TFPB page: the abatement of the bailleurs and the actions it pays for, per QPV and year,
//! with its alerts. A bailleur sees only its own organisation; admin, auditeur and instructeurs
//! see every bailleur and may pick one; a lecteur is refused.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::response::Html;
use engagements_domain::Amount;
use engagements_projections::tfpb::TfpbFilter;
use maud::html;

use crate::asof::encode;
use crate::auth::Caller;
use crate::charts;
use crate::error::ApiError;
use crate::pages::dashboard::{as_of_banner, projections_for};
use crate::pages::{
    date_selector, format_eur, layout, page_caller, table_html_with, PageError, PageParams, Totals,
};
use crate::state::AppState;
use crate::views;

fn add(total: &mut Amount, more: Amount) {
    *total = total.checked_add(more).unwrap_or(*total);
}

/// The TFPB of one bailleur (its own, for a bailleur) or of all.
#[utoipa::path(get, path = "/tfpb", tag = "pages", params(PageParams),
    responses((status = 200, description = "HTML", content_type = "text/html"),
        (status = 403, description = "A lecteur, or a bailleur asking for another bailleur")))]
pub async fn tfpb(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(params): Query<PageParams>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    let year = params.exercice()?;
    let filter = caller.tfpb_filter(TfpbFilter {
        bailleur: params.bailleur.clone(),
        quartier: None,
        year,
    })?;
    let when = params.when()?;
    let as_of = when.as_of()?;
    let today = as_of
        .effective_on
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let projections = projections_for(&state, &params).await?;
    let tfpb = &projections.tfpb;
    let figures = tfpb.year_figures(&filter, today);
    let (mut abatement, mut planned, mut realised) = (Amount::ZERO, Amount::ZERO, Amount::ZERO);
    let mut by_year: BTreeMap<i32, BTreeMap<String, Amount>> = BTreeMap::new();
    for f in &figures {
        let year_bars = by_year.entry(f.year).or_default();
        if let Some(a) = f.abatement {
            add(&mut abatement, a);
            add(
                year_bars
                    .entry("1. Abattement".into())
                    .or_insert(Amount::ZERO),
                a,
            );
        }
        add(&mut planned, f.planned);
        add(&mut realised, f.realised);
        add(
            year_bars
                .entry("2. Programmé".into())
                .or_insert(Amount::ZERO),
            f.planned,
        );
        add(
            year_bars.entry("3. Réalisé".into()).or_insert(Amount::ZERO),
            f.realised,
        );
    }
    let flags: usize = figures.iter().map(|f| f.flags.len()).sum();
    let by_axis: Vec<(String, Amount)> = {
        let mut sums: BTreeMap<String, Amount> = BTreeMap::new();
        for f in &figures {
            for (axis, a) in &f.by_axis {
                add(sums.entry(axis.clone()).or_insert(Amount::ZERO), a.realised);
            }
        }
        // The axes by their number and title in the national framework (the referential).
        let mut out: Vec<_> = sums
            .into_iter()
            .filter(|(_, a)| !a.is_zero())
            .map(|(axis, a)| {
                let label = projections
                    .referential
                    .tfpb_axis(&axis)
                    .map(|x| format!("{}. {}", x.number, x.title))
                    .unwrap_or(axis);
                (label, a)
            })
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    };
    let restricted = caller.tfpb_restriction().is_some();
    let bailleurs: BTreeSet<&str> = tfpb
        .programmes
        .keys()
        .map(|k| k.bailleur.as_str())
        .collect();
    let query = format!(
        "{}{}{}",
        filter
            .bailleur
            .as_deref()
            .map(|b| format!("&bailleur={}", encode(b)))
            .unwrap_or_default(),
        year.map(|y| format!("&year={y}")).unwrap_or_default(),
        when.to_query()
    );
    let tables: Vec<_> = ["bailleurs", "flags", "actions"]
        .into_iter()
        .filter_map(|name| {
            let spec = views::TFPB_VIEWS.iter().find(|v| v.name == name)?;
            let table = views::tfpb_report(tfpb, name, &filter, today)?;
            Some((spec, table))
        })
        .collect();
    let name_of = |id: &str| projections.referential.organisation_name(id);
    let who = filter
        .bailleur
        .as_deref()
        .map(name_of)
        .unwrap_or_else(|| "tous les bailleurs".to_string());
    let selector = html! {
        @if !restricted {
            label { "Bailleur "
                select name="bailleur" {
                    option value="" { "Tous" }
                    @for b in &bailleurs {
                        option value=(b) selected[filter.bailleur.as_deref() == Some(*b)] { (name_of(b)) }
                    }
                }
            }
        }
    };
    Ok(layout(
        "TFPB",
        Some(&caller),
        html! {
            h1 { "Abattement TFPB — " (who) }
            p.muted { "Abattement de taxe foncière sur les propriétés bâties des bailleurs sociaux en QPV et actions qu'il finance (contrat, l. 1050-1090). Les montants d'une action partagée entre bailleurs sont attribués au prorata de leurs parts." }
            @if crate::pages::tfpb_saisie::may_enter(caller.0.role) {
                p { a.button href=(format!("{}{}", crate::pages::tfpb_saisie::PATH, if restricted { String::new() } else { filter.bailleur.as_deref().map(|b| format!("?bailleur={}", encode(b))).unwrap_or_default() })) { "Saisir le TFPB : abattement, actions, dépenses, bilan, ou dépôt de votre fichier" } }
            }
            (as_of_banner(&params, projections.position))
            (date_selector("/tfpb", &params, selector))
            div.kpis {
                div.kpi { div { "Abattement" } div.value { (format_eur(abatement)) } }
                div.kpi { div { "Programmé" } div.value { (format_eur(planned)) } }
                div.kpi { div { "Réalisé" } div.value { (format_eur(realised)) } }
                div.kpi { div { "Alertes" } div.value { (flags) } }
            }
            h2 { "Graphiques" }
            (charts::grouped_bars("Abattement, programmé et réalisé par année", &by_year, &charts::Legend::Named))
            (charts::breakdown("Réalisé par axe du cadre national", &charts::named_lines(&by_axis)))
            @for (spec, table) in &tables {
                h2 { (spec.title) }
                (table_html_with(&crate::views::with_names(table.clone(), &projections), &format!("/api/v1/reports/tfpb/{}?format=csv-fr{query}", spec.name), Totals::None))
            }
            h2 { "Autres vues TFPB à télécharger" }
            ul {
                @for spec in views::TFPB_VIEWS {
                    li {
                        (spec.title) " : "
                        a href=(format!("/api/v1/reports/tfpb/{}?format=xlsx{query}", spec.name)) download { "classeur Excel (XLSX)" }
                        " · "
                        a href=(format!("/api/v1/reports/tfpb/{}?format=csv-fr{query}", spec.name)) download { "tableur (CSV)" }
                    }
                }
            }
        },
    ))
}
