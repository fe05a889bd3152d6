//! A droit-commun commitment's page (`/engagements/{id}`): what its signatory promised (the text
//! of the contract, its figure, its years), where it stands, the progress reported so far, and,
//! for the signatory's own staff, the form that reports progress (value, period, comment),
//! posted to `/engagements/{id}/avancement`. Another organisation, or a role that may not write,
//! gets no form and 403 on a post.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use engagements_app::auth::authorize;
use engagements_app::{CommandError, CommandMeta};
use engagements_domain::commitment::{
    CommitmentCommand, CommitmentId, CommitmentKind, ReportingPeriod,
};
use engagements_domain::LedgerCommand;
use engagements_projections::commitments::CommitmentRow;
use engagements_projections::labels::{date_fr, eur};
use engagements_projections::Projections;
use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::auth::{Caller, ReadScope};
use crate::error::ApiError;
use crate::pages::dossiers::organisation_name;
use crate::pages::entry::{draw, field_id, Field, Input, Reader};
use crate::pages::forms::{
    acting_as, command_id_input, forbidden_form, page_defaults, parse_amount_fr, posted_command_id,
    role_may_send, FieldErrors, Posted,
};
use crate::pages::{layout, page_caller, PageError};
use crate::sessions::{csrf_input, SessionForm};
use crate::state::AppState;

/// The command the form sends.
pub const COMMAND: &str = "report_commitment_progress";
const FORM_ID: &str = "avancement";

fn status_fr(row: &CommitmentRow) -> &'static str {
    use engagements_domain::commitment::CommitmentStatus;
    match row.status {
        CommitmentStatus::Active => "en cours",
        CommitmentStatus::Fulfilled => "tenu",
        CommitmentStatus::Lapsed => "caduc",
        CommitmentStatus::Withdrawn => "retiré",
    }
}

/// The figure a commitment states, as people read it.
fn figure_fr(kind: &CommitmentKind) -> String {
    match kind {
        CommitmentKind::Financial { amount_eur, .. } => {
            format!("engagement financier : {}", eur(*amount_eur))
        }
        CommitmentKind::Staffing {
            staff_count,
            staff_unit,
        } => match staff_count {
            Some(n) => format!("moyens humains : {n} {staff_unit}"),
            None => format!("moyens humains : {staff_unit}"),
        },
        CommitmentKind::Programme => "participation à un dispositif".to_string(),
        CommitmentKind::Qualitative => "engagement qualitatif".to_string(),
        CommitmentKind::Governance => "participation à la gouvernance".to_string(),
        CommitmentKind::Condition => "condition de participation".to_string(),
    }
}

/// What the value field asks for, by the commitment's kind.
fn value_label(kind: &CommitmentKind) -> (String, String) {
    match kind {
        CommitmentKind::Financial { .. } => (
            "Montant réalisé sur la période".into(),
            "en euros, par exemple 12 345,50".into(),
        ),
        CommitmentKind::Staffing { staff_unit, .. } => (
            format!("Nombre réalisé ({staff_unit})"),
            "un nombre entier, par exemple 3".into(),
        ),
        _ => (
            "Valeur réalisée".into(),
            "un nombre, avec son unité dans le champ suivant ; laissez vide si l'avancement se dit en mots".into(),
        ),
    }
}

fn fields(kind: &CommitmentKind) -> Vec<Field> {
    let (label, hint) = value_label(kind);
    let mut fields = vec![
        Field::required("du", "Période : du", Input::Date),
        Field::required("au", "au", Input::Date),
        Field::optional("valeur", label, Input::Text).hint(hint),
    ];
    if !matches!(
        kind,
        CommitmentKind::Financial { .. } | CommitmentKind::Staffing { .. }
    ) {
        fields.push(
            Field::optional("unite", "Unité de la valeur", Input::Text)
                .hint("par exemple « jeunes accompagnés », « permanences »"),
        );
    }
    fields.push(
        Field::optional("commentaire", "Commentaire", Input::LongText)
            .hint("ce qui a été fait ; obligatoire si aucune valeur n'est donnée"),
    );
    fields.push(
        Field::optional("justificatif", "Justificatif", Input::Text)
            .hint("où la preuve se trouve : bilan, rapport, numéro de convention"),
    );
    fields
}

/// Whether the caller may report progress on this commitment (its signatory's staff, or the
/// contract's team).
fn may_report(caller: &Caller, row: &CommitmentRow, projections: &Projections) -> bool {
    caller.1.is_some()
        && role_may_send(caller.0.role, COMMAND)
        && authorize(&caller.0, &probe(&row.commitment_id), projections).is_ok()
}

/// A command of the form, to ask the rule table whether the caller may send it.
fn probe(id: &CommitmentId) -> LedgerCommand {
    let day = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    LedgerCommand::Commitment(CommitmentCommand::ReportProgress {
        commitment_id: id.clone(),
        period: ReportingPeriod { from: day, to: day },
        realised_value: None,
        unit: None,
        comment: Some("x".into()),
        evidence_ref: None,
    })
}

/// A refused form: its values and errors.
struct Draft {
    posted: Posted,
    errors: FieldErrors,
}

fn form(
    caller: &Caller,
    projections: &Projections,
    row: &CommitmentRow,
    draft: Option<&Draft>,
) -> Markup {
    let Some(session) = caller.1.as_ref() else {
        return html! {};
    };
    let fresh = Posted(vec![("command_id".into(), Uuid::now_v7().to_string())]);
    let empty = FieldErrors::default();
    let (posted, errors) = match draft {
        Some(d) => (&d.posted, &d.errors),
        None => (&fresh, &empty),
    };
    let command_id = posted
        .get("command_id")
        .parse::<Uuid>()
        .unwrap_or_else(|_| Uuid::now_v7());
    let top = field_id(FORM_ID, "haut");
    html! {
        section.forms #saisie {
            h2 { "Déclarer un avancement" }
            (acting_as(caller, &organisation_name(projections, &caller.0.organisation)))
            form.entry #(FORM_ID) method="post" action=(format!("/engagements/{}/avancement", row.commitment_id)) novalidate {
                (errors.summary())
                (csrf_input(session))
                (command_id_input(command_id))
                div id=(top) tabindex="-1" { (errors.under(&top)) }
                @for field in &fields(&row.terms.kind) { (draw(FORM_ID, field, posted, errors)) }
                button type="submit" { "Enregistrer l'avancement" }
            }
        }
    }
}

fn page(
    caller: &Caller,
    projections: &Projections,
    row: &CommitmentRow,
    draft: Option<&Draft>,
    done: bool,
) -> Html<String> {
    let signatory = organisation_name(projections, &row.signatory);
    let terms = &row.terms;
    let unit_of = |unit: &Option<String>| unit.clone().unwrap_or_default();
    let value_fr = |value: Option<Decimal>, unit: &Option<String>| -> String {
        match (value, &terms.kind) {
            (None, _) => "—".to_string(),
            (Some(v), CommitmentKind::Financial { .. }) => engagements_domain::Amount::new(v)
                .map(eur)
                .unwrap_or_else(|_| v.to_string()),
            (Some(v), CommitmentKind::Staffing { staff_unit, .. }) => format!("{v} {staff_unit}"),
            (Some(v), _) => format!("{} {}", v.to_string().replace('.', ","), unit_of(unit)),
        }
    };
    let content = html! {
        p.breadcrumb { a href=(format!("/signataires/{}", crate::asof::encode(&row.signatory))) { "Signataire : " (signatory) } " › engagement de droit commun" }
        h1 { (terms.title) }
        @if done { p.ok role="status" { "✓ L'avancement est enregistré." } }
        dl {
            dt { "Signataire" } dd { (signatory) @if let Some(service) = &terms.service { " — " (service) } }
            dt { "Nature" } dd { (figure_fr(&terms.kind)) }
            @if !terms.period.label().is_empty() { dt { "Années" } dd { (terms.period.label()) } }
            dt { "État" } dd { (status_fr(row)) }
            dt { "Engagé le" } dd { (date_fr(row.pledged_on)) }
        }
        blockquote { (terms.text) }
        h2 { "Avancements déclarés" }
        @if row.progress.is_empty() {
            p { "Aucun avancement déclaré pour l'instant." }
        } @else {
            table.data #avancements {
                thead { tr { th.num { "N°" } th { "Période" } th.num { "Valeur" } th { "Commentaire" } th { "Justificatif" } th { "Enregistré le" } } }
                tbody {
                    @for p in &row.progress {
                        tr {
                            td.num { (p.report_no) }
                            td { "du " (date_fr(p.period.from)) " au " (date_fr(p.period.to)) }
                            td.num { (value_fr(p.realised_value, &p.unit)) }
                            td { (p.comment.clone().unwrap_or_default()) }
                            td { (p.evidence_ref.clone().unwrap_or_default()) }
                            td { (date_fr(p.effective_date)) }
                        }
                    }
                }
            }
        }
        @if may_report(caller, row, projections) {
            (form(caller, projections, row, draft))
        }
    };
    layout(
        &format!("Engagement : {}", terms.title),
        Some(caller),
        content,
    )
}

fn commitment<'a>(projections: &'a Projections, id: &str) -> Result<&'a CommitmentRow, PageError> {
    let id: CommitmentId = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no commitment '{id}'")))?;
    projections
        .commitments
        .commitments
        .get(&id)
        .ok_or_else(|| PageError::Api(ApiError::not_found(format!("no commitment '{id}'"))))
}

/// The page of a droit-commun commitment.
#[utoipa::path(get, path = "/engagements/{commitment_id}", tag = "pages",
    params(("commitment_id" = String, Path, description = "The commitment's id, e.g. etat-01")),
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 404, description = "Unknown commitment", content_type = "text/html")))]
pub async fn engagement(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    caller.may_read(ReadScope::Published)?;
    let projections = state.ledger.projections().await?;
    let row = commitment(&projections, &id)?;
    Ok(page(
        &caller,
        &projections,
        row,
        None,
        query.contains_key("enregistre"),
    ))
}

/// Reads the form into the command, or its errors.
fn read(row: &CommitmentRow, posted: &Posted) -> Result<(LedgerCommand, CommandMeta), FieldErrors> {
    let mut r = Reader::new(FORM_ID, posted);
    let from = r.date("du");
    let to = r.date("au");
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            r.error("au", "La fin de la période est avant son début.");
        }
    }
    let text = posted.get("valeur");
    let value: Option<Option<Decimal>> = if text.is_empty() {
        Some(None)
    } else {
        match &row.terms.kind {
            CommitmentKind::Financial { .. } => match parse_amount_fr(text) {
                Ok(a) => Some(Some(a.value())),
                Err(message) => {
                    r.error("valeur", message);
                    None
                }
            },
            CommitmentKind::Staffing { .. } => {
                match text.replace([' ', '\u{a0}', '\u{202f}'], "").parse::<u32>() {
                    Ok(n) => Some(Some(Decimal::from(n))),
                    Err(_) => {
                        r.error("valeur", "Indiquez un nombre entier, par exemple 3.");
                        None
                    }
                }
            }
            _ => match text
                .replace([' ', '\u{a0}', '\u{202f}'], "")
                .replace(',', ".")
                .parse::<Decimal>()
            {
                Ok(v) if v.scale() <= 4 && v.abs() <= Decimal::from(1_000_000_000_000i64) => {
                    Some(Some(v))
                }
                _ => {
                    r.error(
                        "valeur",
                        format!(
                            "« {text} » n'est pas un nombre : écrivez par exemple 120 ou 12,5."
                        ),
                    );
                    None
                }
            },
        }
    };
    let unit = r.text("unite", "l'unité", true).filter(|u| !u.is_empty());
    let needs_unit = !matches!(
        row.terms.kind,
        CommitmentKind::Financial { .. } | CommitmentKind::Staffing { .. }
    );
    if needs_unit && matches!(value, Some(Some(_))) && unit.is_none() {
        r.error(
            "unite",
            "Indiquez l'unité de la valeur, par exemple « jeunes accompagnés ».",
        );
    }
    let comment = r
        .text("commentaire", "un commentaire", true)
        .filter(|c| !c.is_empty());
    if matches!(value, Some(None)) && comment.is_none() {
        r.error(
            "commentaire",
            "Indiquez une valeur réalisée ou, à défaut, un commentaire sur ce qui a été fait.",
        );
    }
    let evidence = r
        .text("justificatif", "le justificatif", true)
        .filter(|e| !e.is_empty());
    match (from, to, value) {
        (Some(from), Some(to), Some(value)) if r.errors.is_empty() => Ok((
            LedgerCommand::Commitment(CommitmentCommand::ReportProgress {
                commitment_id: row.commitment_id.clone(),
                period: ReportingPeriod { from, to },
                realised_value: value,
                unit: if needs_unit { unit } else { None },
                comment,
                evidence_ref: evidence,
            }),
            CommandMeta {
                command_id: posted.get("command_id").parse().ok(),
                effective_date: Some(to.min(chrono::Local::now().date_naive())),
                ..CommandMeta::default()
            },
        )),
        _ => Err(r.errors),
    }
}

/// The ledger's refusal as a person reads it.
fn refusal(error: &CommandError) -> Option<(&'static str, String)> {
    let message = error.to_string();
    let has = |w: &str| message.contains(w);
    Some(match error {
        CommandError::Forbidden(_) => ("haut", "Seul le signataire de cet engagement (ou l'équipe du contrat) déclare son avancement.".to_string()),
        CommandError::CommandIdReused(_) => ("haut", "Ce formulaire a déjà servi à une autre saisie : rechargez la page et recommencez.".to_string()),
        CommandError::Append(_) | CommandError::Store(_) => return None,
        _ if has("outside") || has("period") => ("du", "Cette période n'est pas dans les années de l'engagement, ou hors de la période du registre.".to_string()),
        _ if has("value") || has("unit") => ("valeur", "Cette valeur ne convient pas à la nature de l'engagement.".to_string()),
        _ if has("fulfilled") || has("lapsed") || has("withdrawn") || has("closed") => ("haut", "Cet engagement est clos : plus aucun avancement ne peut y être déclaré.".to_string()),
        _ => ("haut", "Le registre a refusé cette saisie : une règle du contrat l'empêche. Vérifiez les valeurs et recommencez.".to_string()),
    })
}

/// Records progress on a commitment, then shows its page (303); on error, the page again with
/// the values and errors, and nothing recorded.
#[utoipa::path(post, path = "/engagements/{commitment_id}/avancement", tag = "pages",
    params(("commitment_id" = String, Path, description = "The commitment's id")),
    request_body(content = String, description = "du, au, valeur, unite, commentaire, justificatif, command_id and csrf", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or already recorded under this command_id): to the commitment's page"),
        (status = 403, description = "Wrong CSRF token, a role that may not write, or another organisation's commitment", content_type = "text/html"),
        (status = 404, description = "Unknown commitment", content_type = "text/html"),
        (status = 422, description = "A value is wrong: the form shown again with the errors", content_type = "text/html")))]
pub async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: SessionForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let SessionForm { caller, fields, .. } = form;
    if !role_may_send(caller.0.role, COMMAND) {
        return Err(forbidden_form(&caller, COMMAND));
    }
    let posted = Posted(fields);
    posted_command_id(posted.get("command_id"))?;
    let read = {
        let projections = state.ledger.projections().await?;
        let row = commitment(&projections, &id)?;
        if !may_report(&caller, row, &projections) {
            return Err(forbidden_form(&caller, COMMAND));
        }
        read(row, &posted)
    };
    let (errors, status) = match read {
        Err(errors) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
        Ok((command, meta)) => match state
            .ledger
            .execute_as(&caller.0, command, &meta, &page_defaults(&caller))
            .await
        {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/engagements/{id}?enregistre=1#avancements"))
                        .into_response(),
                )
            }
            Err(error) => {
                let Some((field, message)) = refusal(&error) else {
                    return Err(error.into());
                };
                let status = if error.code() == "forbidden" {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                let mut errors = FieldErrors::default();
                errors.push(field_id(FORM_ID, field), message);
                (errors, status)
            }
        },
    };
    let projections = state.ledger.projections().await?;
    let row = commitment(&projections, &id)?;
    let draft = Draft { posted, errors };
    Ok((
        status,
        page(&caller, &projections, row, Some(&draft), false),
    )
        .into_response())
}

/// The commitments of a signatory, as links to their pages (for the signatory's page).
pub fn list_of(projections: &Projections, signatory: &str) -> Markup {
    let rows: Vec<&CommitmentRow> = projections
        .commitments
        .commitments
        .values()
        .filter(|c| c.signatory == signatory)
        .collect();
    html! {
        @if !rows.is_empty() {
            h2 #engagements { "Engagements de droit commun" }
            ul {
                @for c in rows {
                    li {
                        a href=(format!("/engagements/{}", c.commitment_id)) { (c.terms.title) }
                        " — " (status_fr(c))
                        @if let Some(p) = c.latest_progress() { " ; dernier avancement : du " (date_fr(p.period.from)) " au " (date_fr(p.period.to)) }
                    }
                }
            }
        }
    }
}
