//! The auditor's page: the verification of the hash chain, the signed checkpoints and whether
//! the log still matches them, and the rule-based findings with the events that prove them.

use axum::extract::{Query, State};
use axum::response::Html;
use engagements_app::audit::findings::{findings_table, RULES};
use maud::html;

use crate::api::audit::{checkpoint_statuses, findings_for};
use crate::api::history::verification;
use crate::api::reports::ReportParams;
use crate::auth::{Caller, ReadScope};
use crate::error::ApiError;
use crate::pages::dashboard::as_of_banner;
use crate::pages::{date_selector, layout, page_caller, table_html, PageError, PageParams};
use crate::state::AppState;

/// Verification status, checkpoints and findings (auditeur, admin).
#[utoipa::path(get, path = "/audit", tag = "pages", params(PageParams),
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 403, description = "Not an auditor")))]
pub async fn audit(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(params): Query<PageParams>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Audit)?;
    let when = params.when()?;
    let year = params.exercice()?;
    let report_params = ReportParams {
        year,
        as_of: when.as_of.clone(),
        at_position: when.at_position,
        effective_on: when.effective_on.clone(),
        ..ReportParams::default()
    };
    let report = verification(&state).await?;
    let checkpoints = checkpoint_statuses(&state).await?;
    let found = findings_for(&state, &report_params).await?;
    let table = findings_table(&found);
    let csv = format!(
        "/api/v1/findings?format=csv-fr{}{}",
        year.map(|y| format!("&year={y}")).unwrap_or_default(),
        when.to_query()
    );
    Ok(layout(
        "Audit",
        Some(&caller),
        html! {
            h1 { "Audit du journal" }
            h2 { "Vérification de la chaîne d'empreintes" }
            @if report.ok {
                p.ok { "Chaîne intègre : " (report.events) " événements vérifiés, aucune réécriture détectée." }
            } @else {
                p.error {
                    "Anomalie à la position " (report.problem_position.unwrap_or(0)) " : "
                    (report.problem.clone().unwrap_or_default())
                }
            }
            table.report {
                tbody {
                    tr { th { "Dernière position" } td.num { (report.position_last) } }
                    tr { th { "Empreinte de tête (SHA-256)" } td { code { (report.head_hash) } } }
                }
            }
            p.muted { "Conservez l'empreinte de tête et sa position : elles permettront de prouver plus tard que rien d'antérieur n'a été réécrit." }
            p { a href="/api/v1/verify" { "Vérification au format JSON" } }

            h2 { "Points de contrôle signés" }
            @if checkpoints.is_empty() {
                p.empty { "Aucun point de contrôle enregistré (engagements checkpoint)." }
            } @else {
                p.download { a href="/api/v1/checkpoints" { "Points de contrôle au format JSON" } }
                table.report {
                    thead { tr { th { "Position" } th { "Signé le" } th { "Empreinte signée" } th { "Clé publique" } th { "État" } } }
                    tbody {
                        @for c in &checkpoints {
                            tr {
                                td.num { (c.position) }
                                td { (c.signed_at) }
                                td { code { (c.head_hash) } }
                                td { code { (c.public_key) } }
                                @if let Some(problem) = &c.problem {
                                    td.error { (problem) }
                                } @else {
                                    td.ok { "Signature valide, journal conforme" }
                                }
                            }
                        }
                    }
                }
            }

            h2 { "Constats" }
            (as_of_banner(&params))
            (date_selector("/audit", &params, html! {}))
            (table_html(&table, &csv))
            details {
                summary { "Règles appliquées" }
                ul { @for (rule, what) in RULES { li { code { (rule) } " : " (what) } } }
            }
        },
    ))
}
