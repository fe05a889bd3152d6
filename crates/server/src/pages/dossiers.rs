//! A dossier's page with its timeline (the list is in [`super::dossier_list`]).

use axum::extract::{Path, Query, State};
use axum::response::Html;
use engagements_domain::dossier::{DossierFiling, LineStatus};
use engagements_domain::{DossierId, RecordedEvent};
use engagements_projections::{labels, Projections};
use engagements_store::persons::Names;
use maud::{html, Markup};

use crate::auth::{Caller, ReadScope};
use crate::error::ApiError;
use crate::pages::dashboard::{as_of_banner, projections_for};
use crate::pages::{format_eur, layout, page_caller, PageError, PageParams};
use crate::state::AppState;

pub(crate) fn porteur_name(projections: &Projections, dossier: &DossierFiling) -> String {
    projections
        .porteurs
        .get(&dossier.porteur_id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| dossier.porteur_id.to_string())
}

/// A dispositif's name from the referential, else its id.
pub(crate) fn dispositif_name(projections: &Projections, id: &str) -> String {
    projections
        .referential
        .dispositif(id)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// An organisation's name from the referential, else its id.
pub(crate) fn organisation_name(
    projections: &engagements_projections::Projections,
    id: &str,
) -> String {
    projections.referential.organisation_name(id)
}

/// A dispositif's name as tables show it: up to its abbreviation when it has one ("Crédits du
/// Budget Opérationnel du Programme n°147 (BOP 147)"), else whole.
pub(crate) fn dispositif_short(projections: &Projections, id: &str) -> String {
    projections.referential.dispositif_short_name(id)
}

/// A refused form of the dossier's page, drawn again with its values and errors.
pub enum DossierDraft {
    Avis(crate::pages::avis::AvisDraft),
    Suivi(crate::pages::suivi::SuiviDraft),
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
    let id: DossierId = dossier_id
        .parse()
        .map_err(|_| ApiError::invalid(format!("'{dossier_id}' is not a dossier id")))?;
    dossier_page(&state, &caller, id, &params, None).await
}

/// The page of dossier `id` as `caller` sees it, with the forms the caller may send when the page
/// shows the ledger as it is now; `draft` is a refused form to draw again with its errors.
pub(crate) async fn dossier_page(
    state: &AppState,
    caller: &Caller,
    id: DossierId,
    params: &PageParams,
    draft: Option<&DossierDraft>,
) -> Result<Html<String>, PageError> {
    let avis = match draft {
        Some(DossierDraft::Avis(d)) => Some(d),
        _ => None,
    };
    let suivi = match draft {
        Some(DossierDraft::Suivi(d)) => Some(d),
        _ => None,
    };
    caller.may_read(ReadScope::Published)?;
    let as_of = params.when()?.as_of()?;
    let projections = projections_for(state, params).await?;
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
    // Events name people by pseudonymous ids; their names are joined here, for display only.
    let names = Names::of_events(state.ledger.store(), &events)
        .await
        .map_err(ApiError::internal)?;
    // Forms write what is now: a page of the past shows none.
    let now =
        params.as_of.is_none() && params.at_position.is_none() && params.effective_on.is_none();
    Ok(layout(
        &dossier.title,
        Some(caller),
        html! {
            h1 { (dossier.title) }
            (as_of_banner(params, projections.position))
            p.muted { "Dossier " a href=(format!("/dossiers/{}", dossier.dossier_id)) { code { (dossier.dossier_id) } } " — exercice " (dossier.exercice) " — porteur : " (porteur_name(&projections, dossier)) }
            p { "Budget total de l'action : " strong { (format_eur(dossier.total_budget)) } }
            h2 { "Plan de financement" }
            table.report {
                caption { "Plan de financement : ce que chaque financeur a été sollicité, a accordé et a payé" }
                thead { tr { th scope="col" { "Financeur" } th scope="col" { "Dispositif" } th scope="col" { "Sollicité" } th scope="col" { "Avis" } th scope="col" { "Proposé" } th scope="col" { "Décision" } th scope="col" { "Accordé" } th scope="col" { "Payé" } th scope="col" { "Reste à payer" } } }
                tbody {
                    @for ((financeur, dispositif), line) in &state_now.lines {
                        tr {
                            td { a href=(format!("/signataires/{}", crate::asof::encode(financeur))) { (organisation_name(&projections, financeur)) } }
                            td { (dispositif_short(&projections, dispositif)) }
                            td.num { (format_eur(line.requested)) }
                            td { (line.opinion.map(opinion_text).unwrap_or("—")) }
                            td.num { (line.proposed.map(format_eur).unwrap_or_else(|| "—".to_string())) }
                            td { (status_text(line.status)) }
                            td.num { (format_eur(line.granted)) }
                            td.num { (format_eur(line.paid)) }
                            td.num { (format_eur(line.granted.saturating_sub(line.net_paid()))) }
                        }
                    }
                }
                tfoot { tr {
                    th scope="row" colspan="2" { "Total" }
                    td.num { (format_eur(state_now.lines.values().map(|l| l.requested).sum())) }
                    td {} td {} td {}
                    td.num { (format_eur(state_now.granted_total())) }
                    td.num { (format_eur(state_now.lines.values().map(|l| l.paid).sum())) }
                    td.num { (format_eur(state_now.lines.values().map(|l| l.granted.saturating_sub(l.net_paid())).sum())) }
                } }
            }
            @if state_now.withdrawn {
                p.banner { "Ce dossier est retiré : plus rien ne peut y être décidé ni payé." }
            }
            (crate::pages::suivi::due(&projections, state_now, today_or(params)))
            @if now {
                (crate::pages::avis::section(caller, &projections, state_now, avis))
                (crate::pages::suivi::section(caller, &projections, state_now, suivi))
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
                                    (Some(f), Some(d)) => format!("{} / {}", organisation_name(&projections, f), dispositif_name(&projections, d)),
                                    (Some(f), None) => organisation_name(&projections, f),
                                    _ => String::new(),
                                }) }
                            }
                        }
                    }
                }
            }
            h2 { "Chronologie" }
            (timeline(&projections, &events, &names))
        },
    ))
}

/// The day a page's "what is due" is judged on: the business date asked for, else today.
fn today_or(params: &PageParams) -> chrono::NaiveDate {
    params
        .effective_on
        .as_deref()
        .and_then(|d| d.get(..10))
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| chrono::Local::now().date_naive())
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
pub fn timeline(
    projections: &engagements_projections::Projections,
    events: &[RecordedEvent],
    names: &Names,
) -> Markup {
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
                        "Enregistré le " (labels::date_time_fr(event.recorded_at)) " UTC"
                        " par " (names.actor(&event.metadata.actor))
                        @if let Some(principal) = &event.metadata.on_behalf_of {
                            " pour le compte de " (names.actor(principal))
                        }
                        @if let Some(act) = &event.metadata.act {
                            " — acte : " (act.reference)
                        }
                        " — événement n° " (event.position)
                    }
                    @let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap_or_default();
                    @let details = event_details(projections, &payload);
                    @if !details.is_empty() {
                        ul.facts { @for (label, value) in details { li { (label) " : " strong { (value) } } } }
                    }
                }
            }
        }
    }
}

/// The fields of an event a person needs, in French and in order: who pays or decides, how much,
/// of what kind, when, on which act, why. Identifiers (the dossier's own, the event's) are left
/// out: the page is the dossier's.
fn event_details(
    projections: &engagements_projections::Projections,
    payload: &serde_json::Value,
) -> Vec<(&'static str, String)> {
    use engagements_projections::labels;
    let text = |key: &str| {
        payload
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let amount = |value: Option<&serde_json::Value>| {
        value
            .and_then(|v| v.as_str())
            .and_then(|t| t.parse::<rust_decimal::Decimal>().ok())
            .map(labels::eur_decimal)
    };
    let date = |key: &str| {
        text(key)
            .and_then(|t| chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
            .map(labels::date_fr)
    };
    let coded =
        |key: &str| text(key).map(|code| labels::value(&code).map(str::to_string).unwrap_or(code));
    let mut out = Vec::new();
    if let Some(financeur) = text("financeur") {
        out.push(("Financeur", organisation_name(projections, &financeur)));
    }
    if let Some(dispositif) = text("dispositif") {
        out.push(("Dispositif", dispositif_name(projections, &dispositif)));
    }
    if let Some(opinion) = coded("opinion") {
        out.push(("Avis", opinion));
    }
    if let Some(proposed) = amount(payload.get("proposed_amount")) {
        out.push(("Montant proposé", proposed));
    }
    if let Some(kind) = coded("kind") {
        out.push(("Nature", kind));
    }
    if let Some(change) = coded("change") {
        out.push(("Modification", change));
    }
    if let Some(value) = amount(payload.get("amount")) {
        out.push(("Montant", value));
    }
    if let Some(requests) = payload.get("requests").and_then(|r| r.as_array()) {
        let lines: Vec<String> = requests
            .iter()
            .map(|r| {
                let financeur = r["financeur"].as_str().unwrap_or_default();
                format!(
                    "{} ({}) {}",
                    organisation_name(projections, financeur),
                    dispositif_name(projections, r["dispositif"].as_str().unwrap_or_default()),
                    amount(r.get("amount")).unwrap_or_default()
                )
            })
            .collect();
        out.push(("Demandes", lines.join(" ; ")));
    }
    if let Some(budget) = amount(payload.get("total_budget")) {
        out.push(("Budget total", budget));
    }
    for (key, label) in [
        ("decided_on", "Décidé le"),
        ("signed_on", "Signé le"),
        ("paid_on", "Payé le"),
        ("received_on", "Reçu le"),
        ("ordered_on", "Demandé le"),
    ] {
        if let Some(value) = date(key) {
            out.push((label, value));
        }
    }
    for (key, label) in [
        ("comite", "Comité"),
        ("number", "Numéro"),
        ("mandate_reference", "Mandat"),
        ("value", "Identifiant"),
        ("reason", "Motif"),
        ("comment", "Commentaire"),
    ] {
        if let Some(value) = text(key).filter(|v| !v.is_empty()) {
            out.push((label, value));
        }
    }
    out
}

fn opinion_text(opinion: engagements_domain::dossier::Opinion) -> &'static str {
    use engagements_domain::dossier::Opinion;
    match opinion {
        Opinion::Favourable => "favorable",
        Opinion::Reserved => "réservé",
        Opinion::Unfavourable => "défavorable",
    }
}

/// What happened, in French (the label catalogue); an event type without a label shows its own
/// name (a test of the catalogue keeps this from happening).
fn event_label(event_type: &str) -> String {
    engagements_projections::labels::event(event_type)
        .unwrap_or(event_type)
        .to_string()
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
