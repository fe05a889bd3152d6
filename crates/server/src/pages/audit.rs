//! The auditor's page: the verification of the hash chain, the signed checkpoints and whether
//! the log still matches them, and the rule-based findings with the events that prove them.

use axum::extract::{Query, State};
use axum::response::Html;
use engagements_audit::findings::{findings_table, RULES};
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
    // The position the findings stop at, to say when nothing was recorded yet at that moment.
    let position = if params.as_of.is_some() || params.at_position.is_some() {
        crate::pages::dashboard::projections_for(&state, &params)
            .await?
            .position
    } else {
        report.position_last
    };
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
            @if let (Some(at), Some(events)) = (report.full_walk_at.as_deref(), report.full_walk_events) {
                p.muted {
                    "Dernière vérification complète du journal : "
                    (chrono::DateTime::parse_from_rfc3339(at).map(|t| t.with_timezone(&chrono::Local).format("%d/%m/%Y à %H:%M").to_string()).unwrap_or_default())
                    " (" (events) " événements) ; les événements enregistrés depuis sont vérifiés à chaque chargement de cette page, à la suite. "
                    "Le serveur refait une vérification complète à intervalles réguliers ; "
                    a href="/api/v1/verify" { "la vérification complète au format JSON" } " la refait sur-le-champ."
                }
            }
            table.report {
                tbody {
                    tr { th { "Dernière position" } td.num { (report.position_last) } }
                    tr { th { "Empreinte de tête (SHA-256)" } td { code { (report.head_hash) } } }
                }
            }
            p.muted { "Conservez l'empreinte de tête et sa position : elles permettront de prouver plus tard que rien d'antérieur n'a été réécrit." }

            h2 { "Points de contrôle signés" }
            @if checkpoints.is_empty() {
                p.empty { "Aucun point de contrôle enregistré : l'équipe du contrat en signe un à chaque export d'audit." }
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
            (as_of_banner(&params, position))
            (date_selector("/audit", &params, html! {}))
            table.report {
                caption { "Constats par règle (" (found.len()) " au total)" }
                thead { tr { th scope="col" { "Règle" } th scope="col" { "Constats" } th scope="col" { "Ce que la règle vérifie" } th scope="col" { "Fondement" } } }
                tbody {
                    @for (rule, what) in RULES {
                        tr {
                            th scope="row" { (engagements_projections::labels::value(rule).unwrap_or(rule)) }
                            td.num { (found.iter().filter(|f| f.rule == *rule).count()) }
                            td { (what) }
                            td { (legal_basis(rule)) }
                        }
                    }
                }
            }
            (table_html(&table, &csv))
        },
    ))
}

/// The text each rule rests on, for the auditor who checks it.
fn legal_basis(rule: &str) -> &'static str {
    match rule {
        "payment-above-grant" => "Les versements ne peuvent excéder la subvention accordée (acte attributif).",
        "payment-without-convention" => "Loi n° 2000-321 du 12 avril 2000, art. 10 ; décret n° 2001-495 du 6 juin 2001 (convention au-delà de 23 000 €).",
        "crf-overdue" | "grant-with-overdue-crf" => "Loi n° 2000-321, art. 10 : compte rendu financier (Cerfa 15059) dans les 6 mois suivant la fin de l'exercice.",
        "envelope-over-committed" => "Enveloppe du financeur arrêtée par le comité des financeurs ; dépassement seulement sur décision motivée.",
        "reversement-not-received" => "Décision motivée de reversement et titre de recettes.",
        "qic-bop147-over-cap" | "qic-bop147-without-cofinancing" => "Contrat de ville, l. 384 : poches de pauvreté, au plus 2,5 % de l'enveloppe départementale du BOP 147, avec cofinancement des collectivités.",
        "tfpb-realised-below-abatement" | "tfpb-bilan-late" => "Art. 1388 bis du code général des impôts ; convention d'abattement annexée au contrat (l. 1062-1070).",
        "grant-not-published" => "Décret n° 2017-779 du 5 mai 2017 : données essentielles des subventions au-delà de 23 000 €.",
        _ => "",
    }
}
