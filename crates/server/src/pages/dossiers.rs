//! The list of dossiers with filters, and a dossier's page with its timeline.

use axum::extract::{Path, Query, State};
use axum::response::Html;
use engagements_domain::dossier::{DossierFiling, DossierState, LineStatus};
use engagements_domain::Amount;
use engagements_domain::{DossierId, RecordedEvent};
use engagements_projections::Projections;
use maud::{html, Markup};

use crate::auth::{Caller, ReadScope};
use crate::error::ApiError;
use crate::pages::dashboard::{as_of_banner, projections_for};
use crate::pages::{date_selector, format_eur, layout, page_caller, PageError, PageParams};
use crate::state::AppState;

/// Dossiers listed on one page at most (the CSV has them all).
const LIST_ROWS_MAX: usize = 1_000;
/// Longest text filter accepted.
const FILTER_CHARS_MAX: usize = 200;

fn porteur_name(projections: &Projections, dossier: &DossierFiling) -> String {
    projections
        .porteurs
        .get(&dossier.porteur_id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| dossier.porteur_id.to_string())
}

fn matches(
    projections: &Projections,
    dossier: &DossierFiling,
    state: &DossierState,
    params: &PageParams,
    exercice: Option<i32>,
) -> bool {
    let financeur_ok = params
        .financeur
        .as_ref()
        .is_none_or(|f| dossier.requests.iter().any(|r| &r.financeur == f));
    let text_ok = params.q.as_ref().is_none_or(|q| {
        let q = q.to_lowercase();
        dossier.title.to_lowercase().contains(&q)
            || porteur_name(projections, dossier)
                .to_lowercase()
                .contains(&q)
            // A Dauphin code, an EJ or a programmation reference finds its dossier.
            || state
                .external_ids
                .iter()
                .any(|id| id.value.to_lowercase().contains(&q))
    });
    exercice.is_none_or(|y| y == dossier.exercice) && financeur_ok && text_ok
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
    if params
        .q
        .as_ref()
        .is_some_and(|q| q.chars().count() > FILTER_CHARS_MAX)
    {
        return Err(ApiError::invalid(format!(
            "the search text is longer than {FILTER_CHARS_MAX} characters"
        ))
        .into());
    }
    let projections = projections_for(&state, &params).await?;
    let exercice = params.exercice()?;
    let when = params.when()?.to_query();
    let rows: Vec<(&DossierFiling, &DossierState)> = projections
        .subsidy
        .filed(exercice)
        .filter_map(|d| d.filed.as_ref().map(|f| (f, d)))
        .filter(|(f, d)| matches(&projections, f, d, &params, exercice))
        .collect();
    let csv = format!(
        "/api/v1/reports/dossiers?format=csv{}{when}",
        exercice.map(|y| format!("&year={y}")).unwrap_or_default()
    );
    let filters = html! {
        label { "Financeur " input type="text" name="financeur" value=[params.financeur.as_deref()]; }
        label { "Recherche " input type="search" name="q" value=[params.q.as_deref()]; }
    };
    Ok(layout(
        "Dossiers",
        Some(&caller),
        html! {
            h1 { "Dossiers" }
            (as_of_banner(&params))
            (date_selector("/dossiers", &params, filters))
            p.download { a href=(csv) download { "Télécharger en CSV" } " — " (rows.len()) " dossiers" }
            table.report {
                thead { tr { th { "Exercice" } th { "Intitulé" } th { "Porteur" } th { "Financeurs sollicités" } th { "Sollicité" } th { "Accordé" } } }
                tbody {
                    @for (dossier, state) in rows.iter().take(LIST_ROWS_MAX) {
                        tr {
                            td { (dossier.exercice) }
                            td { a href=(format!("/dossiers/{}?{}", dossier.dossier_id, when.trim_start_matches('&'))) { (dossier.title) } }
                            td { (porteur_name(&projections, dossier)) }
                            td { (dossier.requests.iter().map(|r| r.financeur.as_str()).collect::<Vec<_>>().join(", ")) }
                            td.num { (format_eur(dossier.requests.iter().fold(Amount::ZERO, |s, r| s.checked_add(r.amount).unwrap_or(s)))) }
                            td.num { (format_eur(state.granted_total())) }
                        }
                    }
                }
            }
            @if rows.len() > LIST_ROWS_MAX {
                p { "Seuls les " (LIST_ROWS_MAX) " premiers dossiers sont affichés : affinez les filtres ou téléchargez le CSV." }
            }
        },
    ))
}

/// A dossier: what was asked, what was decided, and every fact recorded about it, in order.
#[utoipa::path(get, path = "/dossiers/{dossier_id}", tag = "pages",
    params(("dossier_id" = String, Path, description = "The dossier's id (UUID)"), PageParams),
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 404, description = "No such dossier")))]
pub async fn dossier(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(dossier_id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    let id: DossierId = dossier_id
        .parse()
        .map_err(|_| ApiError::invalid(format!("'{dossier_id}' is not a dossier id")))?;
    let as_of = params.when()?.as_of()?;
    let projections = projections_for(&state, &params).await?;
    let state_now = projections
        .subsidy
        .dossier(&id)
        .ok_or_else(|| ApiError::not_found(format!("no dossier {id} at this date")))?;
    let dossier = state_now
        .filed
        .as_ref()
        .ok_or_else(|| ApiError::not_found(format!("no dossier {id} at this date")))?;
    let events: Vec<RecordedEvent> = state
        .ledger
        .store()
        .read_stream(&id.stream_id(), None)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .filter(|e| !as_of.is_past_record_bound(e) && as_of.is_in_force(e))
        .collect();
    Ok(layout(
        &dossier.title,
        Some(&caller),
        html! {
            h1 { (dossier.title) }
            (as_of_banner(&params))
            p.muted { "Dossier " code { (dossier.dossier_id) } " — exercice " (dossier.exercice) " — porteur : " (porteur_name(&projections, dossier)) }
            p { "Budget total de l'action : " strong { (format_eur(dossier.total_budget)) } }
            h2 { "Plan de financement" }
            table.report {
                thead { tr { th { "Financeur" } th { "Dispositif" } th { "Sollicité" } th { "Décision" } th { "Accordé" } th { "Payé" } } }
                tbody {
                    @for ((financeur, dispositif), line) in &state_now.lines {
                        tr {
                            td { (financeur) }
                            td { (dispositif) }
                            td.num { (format_eur(line.requested)) }
                            td { (status_text(line.status)) }
                            td.num { (format_eur(line.granted)) }
                            td.num { (format_eur(line.paid)) }
                        }
                    }
                }
            }
            @if !state_now.external_ids.is_empty() {
                h2 { "Identifiants dans d'autres systèmes" }
                table.report {
                    thead { tr { th { "Système" } th { "Identifiant" } th { "Exercice" } th { "Ligne de financement" } } }
                    tbody {
                        @for id in &state_now.external_ids {
                            tr {
                                td { (id.kind.label()) }
                                td { code { (id.value) } }
                                td { (id.exercice.map(|y| y.to_string()).unwrap_or_default()) }
                                td { (match (&id.financeur, &id.dispositif) {
                                    (Some(f), Some(d)) => format!("{f} / {d}"),
                                    (Some(f), None) => f.clone(),
                                    _ => String::new(),
                                }) }
                            }
                        }
                    }
                }
            }
            h2 { "Chronologie" }
            (timeline(&events))
        },
    ))
}

fn status_text(status: LineStatus) -> &'static str {
    match status {
        LineStatus::Requested => "en attente",
        LineStatus::Adjourned => "ajourné",
        LineStatus::Refused => "refusé",
        LineStatus::Granted => "accordé",
        LineStatus::Cancelled => "annulé",
    }
}

/// Every event of a stream, oldest first: when, who, on which act, what.
pub fn timeline(events: &[RecordedEvent]) -> Markup {
    html! {
        @if events.is_empty() {
            p.empty { "Aucun fait enregistré à cette date." }
        }
        ol.timeline {
            @for event in events {
                li {
                    strong { (event_label(&event.event_type)) }
                    " — date d'effet " (event.metadata.effective_date.format("%d/%m/%Y"))
                    br;
                    span.muted {
                        "Enregistré le " (event.recorded_at.format("%d/%m/%Y %H:%M:%S UTC"))
                        " par " (event.metadata.actor.person) " (" (event.metadata.actor.organisation) ")"
                        @if let Some(act) = &event.metadata.act {
                            " — acte : " (act.reference)
                        }
                        " — événement n° " (event.position)
                    }
                    br;
                    code.muted { (event.payload) }
                }
            }
        }
    }
}

/// What happened, in French; an event type without a label shows its own name.
fn event_label(event_type: &str) -> String {
    let label = match event_type {
        "DossierFiled" => "Dossier déposé",
        "DossierAmended" => "Dossier modifié",
        "DossierWithdrawn" => "Dossier retiré par le porteur",
        "OpinionGiven" => "Avis du service instructeur",
        "SubsidyGranted" => "Subvention accordée",
        "SubsidyRefused" => "Subvention refusée",
        "DecisionAdjourned" => "Décision ajournée",
        "SubsidyReduced" => "Subvention réduite",
        "SubsidyIncreased" => "Subvention augmentée",
        "SubsidyCancelled" => "Subvention annulée",
        "ConventionSigned" => "Convention ou arrêté signé",
        "PaymentRecorded" => "Versement",
        "CrfReceived" => "Compte rendu financier reçu",
        "ReversementOrdered" => "Reversement demandé (titre de recettes)",
        "ReversementReceived" => "Reversement reçu",
        "ExternalIdRecorded" => "Identifiant d'un autre système enregistré",
        other => return other.to_string(),
    };
    label.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dossier_event_has_a_french_label() {
        // The event types are the schema's capitalised constants (the enum's tags): a new
        // dossier event without a label fails here.
        let schema = include_str!("../../../../schemas/events/dossier.schema.json");
        let names: Vec<&str> = schema
            .split("\"const\": \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
            .collect();
        assert!(names.len() >= 16, "{names:?}");
        for name in names {
            assert_ne!(event_label(name), name, "{name} has no French label");
        }
        assert_eq!(event_label("Unknown"), "Unknown");
    }
}
