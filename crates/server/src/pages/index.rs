//! The lists that lead to each signataire, quartier and objectif page: every entity of the
//! contract's referential, linked, with what the page will show.

use axum::extract::State;
use axum::response::Html;
use engagements_domain::referential::{OrganisationKind, QuartierKind};
use maud::html;

use crate::asof::encode;
use crate::auth::{Caller, ReadScope};
use crate::error::ApiError;
use crate::pages::{layout, page_caller, PageError};
use crate::state::AppState;

/// How a kind of organisation is named on the list.
fn kind_label(kind: OrganisationKind) -> &'static str {
    match kind {
        OrganisationKind::Epci => "Intercommunalité",
        OrganisationKind::Etat => "État",
        OrganisationKind::Region => "Région",
        OrganisationKind::Departement => "Département",
        OrganisationKind::Commune => "Communes",
        OrganisationKind::Institution => "Partenaires institutionnels",
        OrganisationKind::Bailleur => "Bailleurs sociaux",
        OrganisationKind::Other => "Autres partenaires",
    }
}

const KINDS: [OrganisationKind; 8] = [
    OrganisationKind::Epci,
    OrganisationKind::Etat,
    OrganisationKind::Region,
    OrganisationKind::Departement,
    OrganisationKind::Commune,
    OrganisationKind::Institution,
    OrganisationKind::Bailleur,
    OrganisationKind::Other,
];

/// Every signatory and partner of the contract, by kind.
#[utoipa::path(get, path = "/signataires", tag = "pages",
    responses((status = 200, description = "HTML", content_type = "text/html")))]
pub async fn signataires(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    let projections = state.ledger.projections().await?;
    let organisations: Vec<_> = projections.referential.organisations().collect();
    Ok(layout(
        "Signataires",
        Some(&caller),
        html! {
            h1 { "Signataires et partenaires du contrat" }
            p { "Chaque page montre ce que l'organisation a financé (enveloppes, accordé, payé) par exercice, quartier et objectif." }
            @for kind in KINDS {
                @let members: Vec<_> = organisations.iter().filter(|o| o.kind == kind).collect();
                @if !members.is_empty() {
                    h2 { (kind_label(kind)) " (" (members.len()) ")" }
                    ul.columns {
                        @for o in members {
                            li { a href=(format!("/signataires/{}", encode(&o.id))) { (o.name) } }
                        }
                    }
                }
            }
        },
    ))
}

/// Every quartier of the contract: the QPV with their code, then the QIC.
#[utoipa::path(get, path = "/quartiers", tag = "pages",
    responses((status = 200, description = "HTML", content_type = "text/html")))]
pub async fn quartiers(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    let projections = state.ledger.projections().await?;
    let referential = &projections.referential;
    let commune_names = |ids: &[String]| {
        ids.iter()
            .map(|id| {
                referential
                    .commune(id)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| id.clone())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(layout(
        "Quartiers",
        Some(&caller),
        html! {
            h1 { "Quartiers du contrat" }
            @for (kind, title) in [(QuartierKind::Qpv, "Quartiers prioritaires (QPV)"), (QuartierKind::Qic, "Quartiers d'intérêt communautaire (QIC)")] {
                h2 { (title) }
                table.report {
                    thead { tr { th scope="col" { "Quartier" } th scope="col" { "Code" } th scope="col" { "Communes" } th scope="col" { "Population" } } }
                    tbody {
                        @for q in referential.quartiers().filter(|q| q.kind == kind) {
                            tr {
                                td { a href=(format!("/quartiers/{}", encode(&q.id))) { (q.name) } }
                                td { (q.code.as_deref().unwrap_or("—")) }
                                td { (commune_names(&q.communes)) }
                                td.num { (engagements_projections::labels::integer(i64::from(q.population))) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// The contract's strategy: enjeux, ambitions and the 35 objectifs, each linked.
#[utoipa::path(get, path = "/objectifs", tag = "pages",
    responses((status = 200, description = "HTML", content_type = "text/html")))]
pub async fn objectifs(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    let projections = state.ledger.projections().await?;
    let referential = &projections.referential;
    Ok(layout(
        "Objectifs",
        Some(&caller),
        html! {
            h1 { "Objectifs du contrat" }
            @for enjeu in referential.enjeux() {
                h2 { (enjeu.id) " — " (enjeu.title) }
                @for ambition in referential.ambitions().filter(|a| a.enjeu == enjeu.id) {
                    h3 { (ambition.id) " — " (ambition.title) }
                    ol {
                        @for path in referential.objectifs().filter(|p| p.ambition.id == ambition.id) {
                            li value=(path.objectif.number) {
                                a href=(format!("/objectifs/{}", path.objectif.number)) { "Objectif n°" (path.objectif.number) " : " (path.objectif.title) }
                            }
                        }
                    }
                }
            }
            @if referential.current().is_some_and(|r| r.enjeux_transversaux().next().is_some()) {
                section #enjeux-transversaux {
                    h2 { "Enjeux transversaux" }
                    p { "Chaque objectif se lit au regard de ces enjeux, qui s'appliquent à toutes les actions du contrat : leurs orientations et les constats chiffrés de départ, tels que le contrat les écrit (lignes du texte signé)." }
                    @for t in referential.current().into_iter().flat_map(|r| r.enjeux_transversaux()) {
                        h3 { (t.id) " — " (t.title) }
                        @if !t.orientations.is_empty() {
                            h4 { "Orientations" }
                            ul {
                                @for o in &t.orientations {
                                    li {
                                        @if let Some(theme) = &o.theme { (theme) " : " }
                                        (o.text) " " span.source { "(" (source_label(&o.source_lines)) ")" }
                                    }
                                }
                            }
                        }
                        @if !t.constats.is_empty() {
                            h4 { "Principaux constats" }
                            table.report {
                                thead { tr { th scope="col" { "Constat" } th scope="col" { "Valeur" } th scope="col" { "Comparaison" } th scope="col" { "Année" } th scope="col" { "Source" } } }
                                tbody {
                                    @for c in &t.constats {
                                        tr {
                                            td { (c.label) }
                                            td.num { (decimal_fr(c.value)) " " (c.unit) }
                                            td { @if let Some(v) = c.reference_value { (decimal_fr(v)) " " (c.unit) @if let Some(scope) = &c.reference_scope { " (" (scope) ")" } } @else { "—" } }
                                            td { @if let Some(y) = c.year { (y) } @else { "—" } }
                                            td { (source_label(&c.source_lines)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// `l.780` or `l.780-788; l.806`.
fn source_label(ranges: &[[u32; 2]]) -> String {
    ranges
        .iter()
        .map(|[from, to]| {
            if from == to {
                format!("l.{from}")
            } else {
                format!("l.{from}-{to}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ; ")
}

/// A figure the French way: `17,35`, `1 257`.
fn decimal_fr(value: rust_decimal::Decimal) -> String {
    let text = value.normalize().to_string();
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text, None),
    };
    let negative = int.starts_with('-');
    let digits: Vec<char> = int.trim_start_matches('-').chars().collect();
    let mut grouped = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(*c);
    }
    let sign = if negative { "-" } else { "" };
    match frac {
        Some(f) => format!("{sign}{grouped},{f}"),
        None => format!("{sign}{grouped}"),
    }
}
