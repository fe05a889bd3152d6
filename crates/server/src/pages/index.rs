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
        },
    ))
}
