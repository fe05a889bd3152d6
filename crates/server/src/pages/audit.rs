//! The auditor's page: the verification of the hash chain and the head of the log.

use axum::extract::State;
use axum::response::Html;
use maud::html;

use crate::api::history::verification;
use crate::auth::{Caller, ReadScope};
use crate::error::ApiError;
use crate::pages::{layout, page_caller, PageError};
use crate::state::AppState;

/// Verification status of the chain (auditeur, admin).
#[utoipa::path(get, path = "/audit", tag = "pages",
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 403, description = "Not an auditor")))]
pub async fn audit(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Audit)?;
    let report = verification(&state).await?;
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
        },
    ))
}
