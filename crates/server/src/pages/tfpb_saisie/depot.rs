//! A bailleur's usual TFPB file (CSV or XLSX, the reader of `engagements import tfpb`) uploaded
//! in the browser: read and checked against the ledger, its problems shown with their line and
//! column, or a preview of what it will record (QPV, year, axis, amounts, totals); confirmed, it
//! is recorded all or nothing.
//!
//! Between the preview and the confirmation the file waits on the server, in a directory of the
//! system's temporary files, under a random id; it is tied to the web session that sent it (a
//! digest of the session's id), kept at most [`DEPOT_SECONDS`], and at most the server's body
//! limit in size. Confirming takes the file (a rename: two confirmations cannot both take it),
//! checks it again against the ledger as it is then, records it, and leaves a mark, so that the
//! same confirmation sent twice records once.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use engagements_domain::tfpb::TfpbProgrammeCommand;
use engagements_domain::Amount;
use engagements_interop::import::tfpb::{
    plan_tfpb_sheet, read_tfpb, record_tfpb_plan, RowProblem, TfpbImportError, TfpbPlan,
};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{bailleur_of, done_address, page, Ctx};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::multipart;
use crate::pages::forms::{forbidden_form, page_defaults, role_may_send};
use crate::pages::{format_eur, PageError};
use crate::sessions::{
    csrf_input, forged_form, same_origin, same_token, PageSession, SessionForm, CSRF_FIELD,
};
use crate::state::AppState;

/// The command a file's rows become first; a role that may not send it may not upload.
pub const COMMAND: &str = "plan_tfpb_action";
/// How long an uploaded file waits for its confirmation.
pub const DEPOT_SECONDS: u64 = 2 * 60 * 60;
/// The file field of the upload form.
const FILE_FIELD: &str = "fichier";
/// Problems listed on the page (the others are counted).
const PROBLEMS_SHOWN_MAX: usize = 200;

/// Where uploaded files wait.
fn dir() -> PathBuf {
    std::env::temp_dir().join("engagements-depots-tfpb")
}

/// What is kept beside a file: whose session sent it, for which bailleur, its name.
#[derive(Debug, Serialize, Deserialize)]
struct DepotMeta {
    session: String,
    bailleur: String,
    file_name: String,
}

fn session_digest(session: &PageSession) -> String {
    hex::encode(Sha256::digest(session.id.as_bytes()))
}

fn path(id: Uuid, suffix: &str) -> PathBuf {
    dir().join(format!("{id}.{suffix}"))
}

/// Removes the files older than [`DEPOT_SECONDS`].
fn sweep() {
    let Ok(entries) = std::fs::read_dir(dir()) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(DEPOT_SECONDS));
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn store(bytes: &[u8], meta: &DepotMeta) -> std::io::Result<Uuid> {
    sweep();
    std::fs::create_dir_all(dir())?;
    let id = Uuid::new_v4();
    std::fs::write(path(id, "json"), serde_json::to_vec(meta)?)?;
    std::fs::write(path(id, "fichier"), bytes)?;
    Ok(id)
}

/// The upload form, and the problems of a refused file (`problems`).
pub(crate) fn upload_form(
    session: &PageSession,
    ctx: &Ctx<'_>,
    problems: Option<Markup>,
) -> Markup {
    html! {
        details #fichier open[problems.is_some()] {
            summary { "5. Déposer votre fichier habituel (CSV ou Excel)" }
            p { "Une ligne par action : QPV, année, axe, intitulé, montant prévu, montant réalisé ; facultatifs : logements et abattement du QPV, partenaires (séparés par « | »), commentaire, date de dépense, justificatif. Les titres de colonne habituels sont reconnus (voir le guide). Rien n'est enregistré avant que vous ayez vu et confirmé l'aperçu." }
            (problems.unwrap_or_default())
            form.entry method="post" action=(format!("{}/fichier", super::PATH)) enctype="multipart/form-data" {
                (csrf_input(session))
                input type="hidden" name="bailleur" value=(ctx.bailleur);
                div.field {
                    label for="fichier-fichier" { "Fichier (CSV ou XLSX)" }
                    span.muted { "CSV enregistré par Excel ou LibreOffice (point-virgule, UTF-8 ou Windows), ou classeur XLSX" }
                    input type="file" id="fichier-fichier" name=(FILE_FIELD) accept=".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
                }
                button type="submit" { "Lire le fichier et voir l'aperçu" }
            }
        }
    }
}

/// A problem of the file as a person reads it.
pub fn problem_fr(message: &str) -> String {
    let quoted = || {
        message
            .split('\'')
            .nth(1)
            .map(str::to_string)
            .unwrap_or_default()
    };
    let has = |w: &str| message.contains(w);
    if has("unknown QPV") {
        format!(
            "« {} » n'est pas un QPV du contrat : écrivez son code (par exemple QN06211).",
            quoted()
        )
    } else if has("is a QIC") {
        format!("« {} » est un quartier d'intérêt communautaire : l'abattement TFPB ne s'applique qu'en QPV.", quoted())
    } else if has("is not a tax year") {
        format!(
            "« {} » n'est pas une année fiscale : écrivez-la en quatre chiffres, par exemple 2025.",
            quoted()
        )
    } else if has("unknown TFPB axis") {
        format!("« {} » n'est pas un axe du cadre national : écrivez son numéro (1 à 8) ou son code (axe-3).", quoted())
    } else if has("the label is empty") {
        "L'intitulé de l'action est vide ou trop long (300 caractères au plus).".to_string()
    } else if has("is not an amount") {
        format!(
            "« {} » n'est pas un montant : écrivez des euros, par exemple 1 500,50.",
            quoted()
        )
    } else if has("decimals") || has("too precise") {
        "Un montant a au plus deux décimales (les centimes).".to_string()
    } else if has("is not a number of dwellings") {
        format!(
            "« {} » n'est pas un nombre de logements : écrivez un nombre entier.",
            quoted()
        )
    } else if has("outside tax year") {
        "La date de dépense n'est pas dans l'année fiscale de la ligne.".to_string()
    } else if has("is not a date") {
        format!(
            "« {} » n'est pas une date : écrivez JJ/MM/AAAA, par exemple 14/03/2025.",
            quoted()
        )
    } else if has("duplicate action: line") {
        let line = message
            .split("line ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("?");
        format!(
            "Action en double : la ligne {line} a le même QPV, la même année et le même intitulé."
        )
    } else if has("is already recorded for") {
        format!("L'action « {} » est déjà enregistrée pour ce QPV et cette année : retirez la ligne, ou déclarez une dépense sur l'action existante.", quoted())
    } else if has("give different dwellings") {
        "Les lignes d'un même QPV et d'une même année donnent des nombres de logements différents."
            .to_string()
    } else if has("give different abatements") {
        "Les lignes d'un même QPV et d'une même année donnent des abattements différents."
            .to_string()
    } else if has("give both dwellings and abatement") {
        "Donnez à la fois les logements et l'abattement du QPV, ou aucun des deux.".to_string()
    } else if has("rows: split the file") {
        "Le fichier a trop de lignes : découpez-le (par année, par exemple).".to_string()
    } else if has("required column is missing") {
        "Cette colonne obligatoire manque : QPV, Année, Axe, Action, Prévu et Réalisé sont attendues.".to_string()
    } else if has("unknown column") {
        "Colonne inconnue : renommez-la comme dans le guide, ou supprimez-la.".to_string()
    } else if has("column given twice") {
        "Cette colonne est présente deux fois.".to_string()
    } else if has("is under a column with no title") {
        format!(
            "« {} » est sous une colonne sans titre : donnez-lui un titre ou videz-la.",
            quoted()
        )
    } else if has("holds the error") {
        "La cellule contient une erreur de formule : corrigez-la et enregistrez le fichier."
            .to_string()
    } else if has("has no saved value") {
        "La formule n'a pas de valeur enregistrée : ouvrez le fichier dans Excel ou LibreOffice et enregistrez-le.".to_string()
    } else if has("unknown bailleur") || has("is not a bailleur") {
        "Ce bailleur n'est pas un bailleur du contrat.".to_string()
    } else {
        "Cette valeur ne convient pas : vérifiez-la d'après le guide de saisie TFPB.".to_string()
    }
}

/// The column of a problem as people name it (its title in the file, or the expected one).
fn column_fr(column: Option<&str>) -> String {
    match column {
        None => "—".to_string(),
        Some("qpv") => "QPV".to_string(),
        Some("year") => "Année".to_string(),
        Some("axis") => "Axe".to_string(),
        Some("label") => "Action".to_string(),
        Some("planned") => "Prévu".to_string(),
        Some("realised") => "Réalisé".to_string(),
        Some("dwellings") => "Logements".to_string(),
        Some("abatement") => "Abattement".to_string(),
        Some("--bailleur") => "Bailleur".to_string(),
        Some(other) => other.to_string(),
    }
}

/// Why a file recorded nothing, as a list under the upload form.
fn problems_html(file_name: &str, error: &TfpbImportError) -> Markup {
    let (intro, problems): (String, &[RowProblem]) = match error {
        TfpbImportError::Rows(problems) => (
            format!(
                "Le fichier « {file_name} » contient {} problème{} : rien n'a été enregistré. Corrigez-le et déposez-le à nouveau.",
                problems.len(),
                if problems.len() > 1 { "s" } else { "" }
            ),
            problems,
        ),
        TfpbImportError::TooLarge(_) => (
            "Le fichier est trop volumineux : découpez-le (par année, par exemple).".to_string(),
            &[],
        ),
        TfpbImportError::Sheet(sheet) => (
            format!(
                "Le fichier « {file_name} » n'a pas pu être lu comme un tableau : enregistrez-le en « CSV UTF-8 », en « CSV (séparateur : point-virgule) » ou en classeur Excel (.xlsx). {}",
                sheet_hint(&sheet.to_string())
            ),
            &[],
        ),
        TfpbImportError::Refused { line, .. } => (
            format!("Le registre a refusé la ligne {line} du fichier : rien n'a été enregistré."),
            &[],
        ),
    };
    html! {
        div.error-summary role="alert" tabindex="-1" #fichier-problemes {
            h3 { (intro) }
            @if !problems.is_empty() {
                table.data {
                    thead { tr { th.num { "Ligne" } th { "Colonne" } th { "Problème" } } }
                    tbody {
                        @for p in problems.iter().take(PROBLEMS_SHOWN_MAX) {
                            tr {
                                td.num { @if p.line == 0 { "—" } @else { (p.line) } }
                                td { (column_fr(p.column.as_deref())) }
                                td { (problem_fr(&p.message)) }
                            }
                        }
                    }
                }
                @if problems.len() > PROBLEMS_SHOWN_MAX {
                    p { "… et " (problems.len() - PROBLEMS_SHOWN_MAX) " autres." }
                }
            }
        }
    }
}

fn sheet_hint(message: &str) -> String {
    if message.contains("encoding") || message.contains("UTF-8") || message.contains("byte") {
        "Son encodage n'est pas reconnu.".to_string()
    } else if message.contains("no sheet") || message.contains("header") {
        "Aucune feuille n'a les colonnes d'un fichier TFPB.".to_string()
    } else {
        String::new()
    }
}

/// The preview of a clean file: every action with its amounts, the abatements, the totals, and
/// the button that records it all.
fn preview(
    session: &PageSession,
    ctx: &Ctx<'_>,
    plan: &TfpbPlan,
    id: Uuid,
    file_name: &str,
) -> Markup {
    struct Row<'a> {
        line: usize,
        quartier: &'a str,
        year: i32,
        axis: &'a str,
        label: &'a str,
        partners: String,
        planned: Amount,
        realised: Amount,
        added: bool,
    }
    let mut rows: Vec<Row<'_>> = Vec::new();
    let mut abatements = Vec::new();
    for item in &plan.commands {
        match &item.command {
            TfpbProgrammeCommand::PlanAction { programme, action }
            | TfpbProgrammeCommand::AddAction {
                programme, action, ..
            } => rows.push(Row {
                line: item.line,
                quartier: &programme.quartier,
                year: programme.year,
                axis: &action.axis,
                label: &action.label,
                partners: action.partners.join(", "),
                planned: action.planned_eur,
                realised: Amount::ZERO,
                added: matches!(item.command, TfpbProgrammeCommand::AddAction { .. }),
            }),
            TfpbProgrammeCommand::ReportSpending { amount_eur, .. } => {
                if let Some(row) = rows.iter_mut().rev().find(|r| r.line == item.line) {
                    row.realised = row
                        .realised
                        .checked_add(*amount_eur)
                        .unwrap_or(row.realised);
                }
            }
            TfpbProgrammeCommand::DeclareAbatement {
                programme,
                dwellings,
                abatement_eur,
            } => abatements.push((programme, *dwellings, *abatement_eur)),
            _ => {}
        }
    }
    let planned: Amount = rows.iter().map(|r| r.planned).sum();
    let realised: Amount = rows.iter().map(|r| r.realised).sum();
    let abatement: Amount = abatements.iter().map(|a| a.2).sum();
    let report = &plan.report;
    html! {
        section #apercu {
            h2 { "Aperçu du fichier « " (file_name) " »" }
            p role="status" {
                "Voici ce qui sera enregistré au nom de " strong { (organisation(ctx)) } " : "
                (report.actions) " action" @if report.actions > 1 { "s" } ", "
                (report.spendings) " dépense" @if report.spendings > 1 { "s" } " réalisée" @if report.spendings > 1 { "s" } ", "
                (report.abatements) " abattement" @if report.abatements > 1 { "s" } ", dans "
                (report.programmes.len()) " programme" @if report.programmes.len() > 1 { "s" } " (QPV × année). Rien n'est encore enregistré."
            }
            @if !abatements.is_empty() {
                h3 { "Abattements déclarés" }
                table.data #apercu-abattements {
                    thead { tr { th { "QPV" } th { "Année" } th.num { "Logements" } th.num { "Abattement" } } }
                    tbody {
                        @for (key, dwellings, amount) in &abatements {
                            tr { td { (ctx.quartier_name(&key.quartier)) } td { (key.year) } td.num { (dwellings) } td.num { (format_eur(*amount)) } }
                        }
                    }
                    tfoot { tr { th { "Total" } td {} td {} td.num { (format_eur(abatement)) } } }
                }
            }
            h3 { "Actions" }
            table.data #apercu-actions {
                thead { tr { th.num { "Ligne" } th { "QPV" } th { "Année" } th { "Axe" } th { "Action" } th { "Partenaires" } th.num { "Prévu" } th.num { "Réalisé" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td.num { (r.line) }
                            td { (ctx.quartier_name(r.quartier)) }
                            td { (r.year) }
                            td { (ctx.axis_name(r.axis)) }
                            td { (r.label) @if r.added { " (ajoutée en cours d'année)" } }
                            td { (r.partners) }
                            td.num { (format_eur(r.planned)) }
                            td.num { (format_eur(r.realised)) }
                        }
                    }
                }
                tfoot { tr { th { "Total" } td {} td {} td {} td {} td {} td.num { (format_eur(planned)) } td.num { (format_eur(realised)) } } }
            }
            form.entry method="post" action=(format!("{}/fichier/confirmer", super::PATH)) {
                (csrf_input(session))
                input type="hidden" name="depot" value=(id);
                input type="hidden" name="bailleur" value=(ctx.bailleur);
                p { "En confirmant, tout le fichier est enregistré d'un coup, ou rien si le registre refuse une ligne." }
                button type="submit" { "Confirmer et enregistrer" }
                " "
                a href=(super::PATH) { "Annuler" }
            }
        }
    }
}

fn organisation(ctx: &Ctx<'_>) -> String {
    crate::pages::dossiers::organisation_name(ctx.projections, ctx.bailleur)
}

fn too_large() -> PageError {
    PageError::Api(ApiError::for_people(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "Le fichier est trop volumineux pour être déposé ici : découpez-le (par année, par exemple), ou demandez à l'équipe du contrat de l'importer.",
    ))
}

fn unreadable() -> PageError {
    PageError::Api(ApiError::for_people(
        StatusCode::BAD_REQUEST,
        "invalid",
        "Le formulaire n'a pas pu être lu : rechargez la page et recommencez.",
    ))
}

/// Reads an uploaded file, checks it, and shows its preview (or its problems). Nothing is
/// recorded.
#[utoipa::path(post, path = "/tfpb/saisie/fichier", tag = "pages",
    request_body(content = String, description = "csrf, bailleur and the file `fichier` (CSV or XLSX)", content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The preview of what the file will record, with the confirmation form", content_type = "text/html"),
        (status = 403, description = "Wrong CSRF token, a role that may not enter TFPB, or another bailleur", content_type = "text/html"),
        (status = 413, description = "The file is above the server's body limit", content_type = "text/html"),
        (status = 422, description = "The file's problems, with their line and column; nothing kept", content_type = "text/html")))]
pub async fn upload(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, PageError> {
    let (parts, body) = request.into_parts();
    if !same_origin(&parts.headers) {
        return Err(forged_form());
    }
    let caller = Caller::from_session_cookie(&parts, &state).await?;
    let Some(session) = caller.1.clone() else {
        return Err(PageError::Login);
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multipart::boundary(content_type).map_err(|_| forged_form())?;
    let limit = state.config.body_bytes_max;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    let fields = multipart::parse(&bytes, &boundary).map_err(|_| unreadable())?;
    let text = |name: &str| {
        fields
            .iter()
            .find(|p| p.name == name && p.file_name.is_none())
            .map(|p| String::from_utf8_lossy(&p.bytes).trim().to_string())
    };
    if !text(CSRF_FIELD).is_some_and(|given| same_token(&given, &session.csrf_token)) {
        return Err(forged_form());
    }
    if !role_may_send(caller.0.role, COMMAND) {
        return Err(forbidden_form(&caller, COMMAND));
    }
    let file = fields.iter().find(|p| p.name == FILE_FIELD);
    let projections = state.ledger.projections().await?;
    let bailleur = bailleur_of(&caller, &projections, text("bailleur").as_deref())?
        .ok_or_else(|| ApiError::invalid("the form names no bailleur"))?;
    let ctx = Ctx {
        projections: &projections,
        bailleur: &bailleur,
    };
    let file_name = file
        .and_then(|f| f.file_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "sans nom".to_string());
    let refused = |markup: Markup| {
        let depot = upload_form(&session, &ctx, Some(markup));
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                &caller,
                &projections,
                Some(&bailleur),
                None,
                Some(depot),
                None,
            ),
        )
            .into_response()
    };
    let Some(file) = file.filter(|f| !f.bytes.is_empty()) else {
        return Ok(refused(html! {
            div.error-summary role="alert" #fichier-problemes { h3 { "Choisissez le fichier à déposer (CSV ou XLSX) : aucun fichier n'a été reçu." } }
        }));
    };
    let plan = read_tfpb(&file.bytes, None)
        .and_then(|sheet| plan_tfpb_sheet(&sheet, &bailleur, &projections));
    let plan = match plan {
        Ok(plan) if !plan.commands.is_empty() => plan,
        Ok(_) => {
            return Ok(refused(html! {
                div.error-summary role="alert" #fichier-problemes { h3 { "Le fichier « " (file_name) " » ne contient aucune action : rien n'a été enregistré." } }
            }))
        }
        Err(error) => return Ok(refused(problems_html(&file_name, &error))),
    };
    let meta = DepotMeta {
        session: session_digest(&session),
        bailleur: bailleur.clone(),
        file_name: file_name.clone(),
    };
    let id = store(&file.bytes, &meta).map_err(ApiError::internal)?;
    let shown = preview(&session, &ctx, &plan, id, &file_name);
    Ok(page(
        &caller,
        &projections,
        Some(&bailleur),
        None,
        Some(shown),
        None,
    )
    .into_response())
}

/// The fields of the confirmation.
#[derive(Debug, Deserialize)]
pub struct Confirmation {
    depot: String,
    bailleur: String,
}

/// Records an uploaded file whose preview was shown, all or nothing, then shows the page (303).
/// Sent twice, it records once.
#[utoipa::path(post, path = "/tfpb/saisie/fichier/confirmer", tag = "pages",
    request_body(content = String, description = "csrf, depot (the id of the preview) and bailleur", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or already recorded): to the page"),
        (status = 403, description = "Wrong CSRF token, a role that may not enter TFPB, another bailleur or another session's file", content_type = "text/html"),
        (status = 410, description = "The file waited too long, or was never uploaded", content_type = "text/html"),
        (status = 422, description = "The ledger changed since the preview: the file's problems now; nothing recorded", content_type = "text/html")))]
pub async fn confirm(
    State(state): State<AppState>,
    form: SessionForm<Confirmation>,
) -> Result<Response, PageError> {
    let SessionForm {
        caller,
        session,
        fields,
    } = form;
    if !role_may_send(caller.0.role, COMMAND) {
        return Err(forbidden_form(&caller, COMMAND));
    }
    let id: Uuid = fields
        .depot
        .parse()
        .map_err(|_| ApiError::invalid("depot is not an id"))?;
    let bailleur = {
        let projections = state.ledger.projections().await?;
        bailleur_of(&caller, &projections, Some(&fields.bailleur))?
            .ok_or_else(|| ApiError::invalid("the form names no bailleur"))?
    };
    let digest = session_digest(&session);
    let done = path(id, "fait");
    if std::fs::read_to_string(&done).is_ok_and(|s| s == digest) {
        return Ok(Redirect::to(&done_address(&caller, &bailleur, "fichier")).into_response());
    }
    let meta: Option<DepotMeta> = std::fs::read(path(id, "json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let Some(meta) = meta else {
        return Err(gone());
    };
    if meta.session != digest || meta.bailleur != bailleur {
        return Err(PageError::Api(ApiError::forbidden(
            "this file was uploaded by another session or for another bailleur",
        )));
    }
    // Taken by a rename: of two confirmations sent at once, one finds the file.
    let taken = path(id, "enregistrement");
    if std::fs::rename(path(id, "fichier"), &taken).is_err() {
        return Err(gone());
    }
    let bytes = std::fs::read(&taken).map_err(ApiError::internal)?;
    let outcome = {
        let plan = {
            let projections = state.ledger.projections().await?;
            read_tfpb(&bytes, None)
                .and_then(|sheet| plan_tfpb_sheet(&sheet, &bailleur, &projections))
        };
        match plan {
            Ok(plan) => {
                record_tfpb_plan(&state.ledger, plan, &caller.0, &page_defaults(&caller)).await
            }
            Err(error) => Err(error),
        }
    };
    match outcome {
        Ok(_) => {
            let _ = std::fs::write(&done, &digest);
            let _ = std::fs::remove_file(&taken);
            let _ = std::fs::remove_file(path(id, "json"));
            Ok(Redirect::to(&done_address(&caller, &bailleur, "fichier")).into_response())
        }
        Err(TfpbImportError::Refused {
            error: engagements_app::CommandError::Forbidden(_),
            ..
        }) => {
            let _ = std::fs::rename(&taken, path(id, "fichier"));
            Err(forbidden_form(&caller, COMMAND))
        }
        Err(TfpbImportError::Refused {
            error:
                error @ (engagements_app::CommandError::Append(_)
                | engagements_app::CommandError::Store(_)),
            ..
        }) => {
            let _ = std::fs::rename(&taken, path(id, "fichier"));
            Err(error.into())
        }
        Err(error) => {
            let _ = std::fs::remove_file(&taken);
            let _ = std::fs::remove_file(path(id, "json"));
            let projections = state.ledger.projections().await?;
            let ctx = Ctx {
                projections: &projections,
                bailleur: &bailleur,
            };
            let depot = upload_form(&session, &ctx, Some(problems_html(&meta.file_name, &error)));
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(
                    &caller,
                    &projections,
                    Some(&bailleur),
                    None,
                    Some(depot),
                    None,
                ),
            )
                .into_response())
        }
    }
}

fn gone() -> PageError {
    PageError::Api(ApiError::for_people(
        StatusCode::GONE,
        "not_found",
        "Ce fichier n'attend plus de confirmation (il a attendu plus de deux heures, ou la page est ancienne) : déposez-le à nouveau.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_problems_are_said_in_french() {
        for (english, french) in [
            (
                "unknown QPV 'QN0621'; did you mean QN06211?",
                "« QN0621 » n'est pas un QPV",
            ),
            (
                "'2O25' is not a tax year (2000-2100)",
                "« 2O25 » n'est pas une année fiscale",
            ),
            ("unknown TFPB axis 'axe-12'", "« axe-12 » n'est pas un axe"),
            (
                "'douze' is not an amount: write euros, e.g. 1500.50 or 1500,50",
                "« douze » n'est pas un montant",
            ),
            (
                "duplicate action: line 4 has the same QPV, year and label",
                "la ligne 4 a le même QPV",
            ),
            (
                "'31/02/2025' is not a date: write JJ/MM/AAAA",
                "« 31/02/2025 » n'est pas une date",
            ),
        ] {
            let said = problem_fr(english);
            assert!(said.contains(french), "{english} → {said}");
        }
    }
}
