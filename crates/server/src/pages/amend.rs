//! Amending a dossier in the browser (`/dossiers/{id}/modifier`): the filing form's fields (title,
//! description, total budget, co-financing plan, quartiers, objectifs) filled with the dossier as
//! it stands, the same errors under the same fields, and the reason of the amendment. The
//! amendment records the dossier's whole content after it (`DossierAmended`); an instructeur may
//! change only its own financeur's line of the plan.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use engagements_app::auth::authorize;
use engagements_app::{CommandError, CommandMeta};
use engagements_domain::dossier::{DossierCommand, DossierFiling};
use engagements_domain::{DossierId, LedgerCommand};
use engagements_projections::labels;
use engagements_projections::Projections;
use maud::html;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::dossiers::organisation_name;
use crate::pages::filing::{action_fieldset, content_fieldsets, read_content, Draft, PLAN_ROWS};
use crate::pages::forms::{
    acting_as, command_id_input, forbidden_form, page_defaults, posted_command_id, refusal_fr,
    role_may_send, FieldErrors, Posted,
};
use crate::pages::{layout, page_caller, PageError};
use crate::sessions::{csrf_input, SessionForm};
use crate::state::AppState;

/// The command this form sends.
const COMMAND: &str = "amend_dossier";

fn dossier_id_of(text: &str) -> Result<DossierId, PageError> {
    text.parse()
        .map_err(|_| PageError::Api(ApiError::invalid(format!("'{text}' is not a dossier id"))))
}

/// The live filing of a dossier the caller may amend; 403 or 404 otherwise.
fn amendable<'a>(
    caller: &Caller,
    projections: &'a Projections,
    id: DossierId,
) -> Result<&'a DossierFiling, PageError> {
    if !role_may_send(caller.0.role, COMMAND) {
        return Err(forbidden_form(caller, COMMAND));
    }
    let dossier = projections
        .subsidy
        .dossier(&id)
        .ok_or_else(|| ApiError::not_found(format!("no dossier {id}")))?;
    let filing = dossier
        .live_filing(id)
        .map_err(|e| ApiError::for_people(StatusCode::CONFLICT, "rejected", e.to_string()))
        .map_err(|_| {
            ApiError::for_people(
                StatusCode::CONFLICT,
                "rejected",
                "Ce dossier a été retiré : il ne peut plus être modifié.",
            )
        })?;
    let sample = LedgerCommand::Dossier(DossierCommand::Amend {
        dossier_id: id,
        title: None,
        description: None,
        total_budget: None,
        quartiers: None,
        objectifs: None,
        requests: None,
        pistes: None,
        reason: "x".into(),
    });
    if authorize(&caller.0, &sample, projections).is_err() {
        return Err(forbidden_form(caller, COMMAND));
    }
    Ok(filing)
}

/// The form's values as the dossier stands.
fn filled(filing: &DossierFiling) -> Posted {
    let mut posted = Posted(vec![
        ("command_id".into(), Uuid::now_v7().to_string()),
        ("intitule".into(), filing.title.clone()),
        ("description".into(), filing.description.clone()),
        ("budget".into(), labels::decimal(filing.total_budget)),
    ]);
    for (row, request) in filing.requests.iter().enumerate() {
        posted.set(
            &format!("ligne_{row}"),
            format!("{}/{}", request.financeur, request.dispositif),
        );
        posted.set(&format!("montant_{row}"), labels::decimal(request.amount));
    }
    for quartier in &filing.quartiers {
        posted
            .0
            .push(("quartier".into(), quartier.quartier.clone()));
        if let Some(share) = quartier.share_pct {
            posted.set(
                &format!("part_{}", quartier.quartier),
                share.normalize().to_string().replace('.', ","),
            );
        }
    }
    for objectif in &filing.objectifs {
        posted
            .0
            .push(("objectif".into(), objectif.objectif.to_string()));
    }
    posted
}

/// Rows of the plan drawn: the dossier's lines and two blank ones (at least the filing's).
fn plan_rows(filing: &DossierFiling) -> usize {
    (filing.requests.len() + 2).max(PLAN_ROWS)
}

fn page(
    caller: &Caller,
    projections: &Projections,
    filing: &DossierFiling,
    posted: &Posted,
    errors: &FieldErrors,
) -> Html<String> {
    let draft = Draft { posted, errors };
    let id_of = |name: &str| {
        posted
            .get(name)
            .parse::<Uuid>()
            .unwrap_or_else(|_| Uuid::now_v7())
    };
    let organisation = organisation_name(projections, &caller.0.organisation);
    layout(
        &format!("Dossiers — modifier « {} »", filing.title),
        Some(caller),
        html! {
            p.breadcrumb { a href="/dossiers" { "Dossiers" } " › " a href=(format!("/dossiers/{}", filing.dossier_id)) { (filing.title) } " › modifier" }
            h1 { "Modifier le dossier" }
            p.muted { "Le dossier tel qu'il est enregistré (exercice " (filing.exercice) ") ; la modification enregistre son contenu complet après elle, avec son motif. Rien de ce qui a été enregistré avant n'est effacé." }
            (acting_as(caller, &organisation))
            @if let Some(session) = caller.1.as_ref() {
                form.entry method="post" action=(format!("/dossiers/{}/modifier", filing.dossier_id)) novalidate {
                    (errors.summary())
                    (csrf_input(session))
                    (command_id_input(id_of("command_id")))
                    (action_fieldset(&draft, false))
                    (content_fieldsets(projections, &draft, plan_rows(filing)))
                    fieldset {
                        legend { "Motif de la modification" }
                        div.field {
                            label for="motif" { "Motif" }
                            (errors.under("motif"))
                            textarea id="motif" name="motif" rows="3" maxlength="1000" { (posted.get("motif")) }
                        }
                    }
                    button type="submit" { "Enregistrer la modification" }
                }
            }
        },
    )
}

/// The form to amend a dossier, filled with the dossier as it stands.
#[utoipa::path(get, path = "/dossiers/{dossier_id}/modifier", tag = "pages",
    params(("dossier_id" = String, Path, description = "The dossier's id (UUID)")),
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 403, description = "A role or organisation that may not amend this dossier", content_type = "text/html"), (status = 404, description = "No such dossier", content_type = "text/html")))]
pub async fn form(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(dossier_id): Path<String>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    if caller.1.is_none() {
        return Err(PageError::Login);
    }
    let id = dossier_id_of(&dossier_id)?;
    let projections = state.ledger.projections().await?;
    let filing = amendable(&caller, &projections, id)?;
    let posted = filled(filing);
    Ok(page(
        &caller,
        &projections,
        filing,
        &posted,
        &FieldErrors::default(),
    ))
}

/// The French error of a refused amendment, under its field.
fn refusal(error: &CommandError) -> Option<(&'static str, String)> {
    let message = error.to_string();
    let known = if let CommandError::Forbidden(_) = error {
        Some((
            "plan",
            "Votre organisation ne peut changer que sa propre ligne du plan de financement.",
        ))
    } else if message.contains("changes nothing") {
        Some((
            "intitule",
            "Rien n'a changé : modifiez au moins un champ, ou revenez au dossier.",
        ))
    } else if message.contains("which has already decided") {
        Some((
            "plan",
            "Le plan retire la ligne d'un financeur qui a déjà décidé : modifiez ou annulez d'abord sa décision.",
        ))
    } else if message.contains("reason") {
        Some((
            "motif",
            "Indiquez le motif de la modification (1 000 caractères au plus).",
        ))
    } else {
        None
    };
    if let Some((field, text)) = known {
        return Some((field, text.to_string()));
    }
    let (field, text) = refusal_fr(error)?;
    let field = match field {
        Some("financeur" | "dispositif" | "montant") | None => "plan",
        Some(field) => field,
    };
    Some((field, text))
}

/// Records the amendment, then shows the dossier's page (303). On error, the form again with its
/// values and errors, and nothing recorded.
#[utoipa::path(post, path = "/dossiers/{dossier_id}/modifier", tag = "pages",
    params(("dossier_id" = String, Path, description = "The dossier's id (UUID)")),
    request_body(content = String, description = "The form's fields (see docs/http.md)", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or already recorded under this command_id): to the dossier's page"),
        (status = 403, description = "Wrong CSRF token, a role that may not amend, or another financeur's line changed (the form shown again)", content_type = "text/html"),
        (status = 422, description = "A value is wrong: the form shown again with the errors", content_type = "text/html")))]
pub async fn amend(
    State(state): State<AppState>,
    Path(dossier_id): Path<String>,
    form: SessionForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let SessionForm { caller, fields, .. } = form;
    if !role_may_send(caller.0.role, COMMAND) {
        return Err(forbidden_form(&caller, COMMAND));
    }
    let id = dossier_id_of(&dossier_id)?;
    let posted = Posted(fields);
    let command_id = posted_command_id(posted.get("command_id"))?;
    let read = {
        let mut errors = FieldErrors::default();
        let content = read_content(&posted, &mut errors);
        let reason = posted.get("motif");
        if reason.is_empty() {
            errors.push("motif", "Indiquez le motif de la modification.");
        }
        match content {
            Some(content) if errors.is_empty() => Ok(DossierCommand::Amend {
                dossier_id: id,
                title: Some(content.title),
                description: Some(content.description),
                total_budget: Some(content.total_budget),
                quartiers: Some(content.quartiers),
                objectifs: Some(content.objectifs),
                requests: Some(content.requests),
                pistes: None,
                reason: reason.to_string(),
            }),
            _ => Err(errors),
        }
    };
    let (errors, status) = match read {
        Err(errors) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
        Ok(command) => {
            let meta = CommandMeta {
                command_id: Some(command_id),
                ..CommandMeta::default()
            };
            let recorded = state
                .ledger
                .execute_as(
                    &caller.0,
                    LedgerCommand::Dossier(command),
                    &meta,
                    &page_defaults(&caller),
                )
                .await;
            match recorded {
                Ok(_) => return Ok(Redirect::to(&format!("/dossiers/{id}")).into_response()),
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
                    errors.push(field, message);
                    (errors, status)
                }
            }
        }
    };
    let projections = state.ledger.projections().await?;
    let dossier = projections
        .subsidy
        .dossier(&id)
        .and_then(|d| d.filed.as_ref())
        .ok_or_else(|| ApiError::not_found(format!("no dossier {id}")))?;
    let html = page(&caller, &projections, dossier, &posted, &errors);
    Ok((status, html).into_response())
}
