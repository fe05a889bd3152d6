//! Giving an avis on a dossier's line: a form per line the caller may act on (an instructeur on
//! its own financeur's lines, an admin on all), drawn on the dossier's page, posted to
//! `/dossiers/{id}/avis`. The avis, the proposed amount and a comment become one `OpinionGiven`
//! fact, attributed to the caller.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use engagements_app::auth::authorize;
use engagements_app::CommandMeta;
use engagements_domain::dossier::{DossierCommand, DossierState, LineStatus, Opinion};
use engagements_domain::{Amount, DossierId, LedgerCommand};
use engagements_projections::Projections;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::dossiers::{dossier_page, organisation_name, DossierDraft};
use crate::pages::forms::{
    acting_as, command_id_input, forbidden_form, page_defaults, parse_amount_fr, posted_command_id,
    refusal_fr, role_may_send, FieldErrors,
};
use crate::pages::{PageError, PageParams};
use crate::sessions::{csrf_input, PageSession, SessionForm};
use crate::state::AppState;

/// The command this form sends.
const COMMAND: &str = "give_opinion";

/// What the avis form posts (besides its CSRF token). Every field may be missing: a missing
/// value is an error shown under its field, not a refusal of the whole form.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AvisFields {
    /// The form's command id (a UUID drawn with the form).
    #[serde(default)]
    pub command_id: String,
    /// The financeur of the line (organisation id).
    #[serde(default)]
    pub financeur: String,
    /// The dispositif of the line.
    #[serde(default)]
    pub dispositif: String,
    /// `favorable`, `reserve` or `defavorable`.
    #[serde(default)]
    pub avis: String,
    /// The proposed amount, in euros (`12 345,50` or `12345.50`).
    #[serde(default)]
    pub montant: String,
    /// Free text, 1,000 characters at most.
    #[serde(default)]
    pub commentaire: String,
}

/// A posted avis form that was refused: its values and errors, drawn again on the dossier's page.
#[derive(Debug, Clone)]
pub struct AvisDraft {
    pub fields: AvisFields,
    pub errors: FieldErrors,
}

/// The avis choices: value posted, label shown, opinion recorded.
const OPINIONS: [(&str, &str, Opinion); 3] = [
    ("favorable", "Favorable", Opinion::Favourable),
    ("reserve", "Réservé", Opinion::Reserved),
    ("defavorable", "Défavorable", Opinion::Unfavourable),
];

/// The lines of a dossier on which `caller` may give an avis now: not yet decided (asked or
/// adjourned), and the authorization table lets the caller act for the line's financeur.
fn lines_open_to(
    caller: &Caller,
    projections: &Projections,
    dossier: &DossierState,
) -> Vec<(String, String)> {
    let Some(filing) = dossier.filed.as_ref().filter(|_| !dossier.withdrawn) else {
        return Vec::new();
    };
    dossier
        .lines
        .iter()
        .filter(|(_, line)| matches!(line.status, LineStatus::Requested | LineStatus::Adjourned))
        .filter(|((financeur, dispositif), _)| {
            let command = LedgerCommand::Dossier(DossierCommand::GiveOpinion {
                dossier_id: filing.dossier_id,
                financeur: financeur.clone(),
                dispositif: Some(dispositif.clone()),
                opinion: Opinion::Favourable,
                proposed_amount: Amount::ZERO,
                comment: String::new(),
            });
            authorize(&caller.0, &command, projections).is_ok()
        })
        .map(|(key, _)| key.clone())
        .collect()
}

/// The section of the dossier's page with the avis forms: one per line the caller may act on,
/// plus the refused form `draft` (its values kept) when one was just posted. Nothing for a caller
/// without a web session (a token in a header has no CSRF token) or who may act on no line.
pub fn section(
    caller: &Caller,
    projections: &Projections,
    dossier: &DossierState,
    draft: Option<&AvisDraft>,
) -> Markup {
    let Some(session) = caller.1.as_ref() else {
        return html! {};
    };
    if !role_may_send(caller.0.role, COMMAND) {
        return html! {};
    }
    let Some(filing) = dossier.filed.as_ref() else {
        return html! {};
    };
    let mut lines = lines_open_to(caller, projections, dossier);
    if let Some(draft) = draft {
        let key = (
            draft.fields.financeur.clone(),
            draft.fields.dispositif.clone(),
        );
        if !lines.contains(&key) {
            lines.insert(0, key);
        }
    }
    if lines.is_empty() {
        return html! {};
    }
    let organisation = organisation_name(projections, &caller.0.organisation);
    html! {
        section.forms id="avis" {
            h2 { "Donner un avis" }
            (acting_as(caller, &organisation))
            @for (index, (financeur, dispositif)) in lines.iter().enumerate() {
                @let this_draft = draft.filter(|d| &d.fields.financeur == financeur && &d.fields.dispositif == dispositif);
                (line_form(session, projections, filing.dossier_id, index, financeur, dispositif, this_draft))
            }
        }
    }
}

fn line_form(
    session: &PageSession,
    projections: &Projections,
    dossier_id: DossierId,
    index: usize,
    financeur: &str,
    dispositif: &str,
    draft: Option<&AvisDraft>,
) -> Markup {
    let empty = AvisDraft {
        fields: AvisFields {
            command_id: Uuid::now_v7().to_string(),
            ..AvisFields::default()
        },
        errors: FieldErrors::default(),
    };
    let draft = draft.unwrap_or(&empty);
    let fields = &draft.fields;
    let errors = &draft.errors;
    // Field ids are those of the error summary's links; only the refused form carries errors,
    // so its ids need no index: the summary of a form links into that form.
    let id = |name: &str| {
        if draft.errors.is_empty() {
            format!("avis-{index}-{name}")
        } else {
            name.to_string()
        }
    };
    html! {
        form.entry method="post" action=(format!("/dossiers/{dossier_id}/avis")) novalidate {
            (errors.summary())
            (csrf_input(session))
            (command_id_input_of(fields))
            input type="hidden" name="financeur" value=(financeur);
            input type="hidden" name="dispositif" value=(dispositif);
            fieldset id=(id("financeur")) {
                legend { "Ligne : " (organisation_name(projections, financeur)) " — " (crate::pages::dossiers::dispositif_name(projections, dispositif)) }
                (errors.under("financeur"))
                fieldset.choices id=(id("avis")) {
                    legend { "Avis" }
                    (errors.under("avis"))
                    @for (value, label, _) in OPINIONS {
                        @let input_id = format!("{}-{value}", id("avis"));
                        span.choice {
                            @if fields.avis == value {
                                input type="radio" id=(input_id) name="avis" value=(value) checked;
                            } @else {
                                input type="radio" id=(input_id) name="avis" value=(value);
                            }
                            label for=(input_id) { (label) }
                        }
                    }
                }
                div.field {
                    label for=(id("montant")) { "Montant proposé (en euros, par exemple 12 345,50)" }
                    (errors.under("montant"))
                    input type="text" inputmode="decimal" id=(id("montant")) name="montant" value=(fields.montant) autocomplete="off";
                }
                div.field {
                    label for=(id("commentaire")) { "Commentaire (facultatif)" }
                    (errors.under("commentaire"))
                    textarea id=(id("commentaire")) name="commentaire" rows="3" maxlength="1000" { (fields.commentaire) }
                }
                button type="submit" { "Enregistrer l'avis" }
            }
        }
    }
}

/// The command id of a form drawn again keeps the posted one (nothing was recorded under it).
fn command_id_input_of(fields: &AvisFields) -> Markup {
    match fields.command_id.parse::<Uuid>() {
        Ok(id) => command_id_input(id),
        Err(_) => command_id_input(Uuid::now_v7()),
    }
}

/// Reads the posted values; the errors name their fields.
fn read(fields: &AvisFields) -> Result<(Opinion, Amount), FieldErrors> {
    let mut errors = FieldErrors::default();
    let opinion = OPINIONS
        .iter()
        .find(|(value, _, _)| *value == fields.avis)
        .map(|(_, _, opinion)| *opinion);
    if opinion.is_none() {
        errors.push(
            "avis",
            "Choisissez un avis : favorable, réservé ou défavorable.",
        );
    }
    let amount = parse_amount_fr(&fields.montant)
        .map_err(|message| errors.push("montant", message))
        .ok();
    match (opinion, amount) {
        (Some(opinion), Some(amount)) => Ok((opinion, amount)),
        _ => Err(errors),
    }
}

/// Records an avis on a line of the dossier, then shows the dossier's page (303). On error, the
/// dossier's page again with the form's values and the errors, and nothing recorded.
#[utoipa::path(post, path = "/dossiers/{dossier_id}/avis", tag = "pages",
    params(("dossier_id" = String, Path, description = "The dossier's id (UUID)")),
    request_body(content = AvisFields, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or already recorded under this command_id): to the dossier's page"),
        (status = 403, description = "Wrong CSRF token, a role that may not give an avis, or another financeur's line (the form shown again)", content_type = "text/html"),
        (status = 422, description = "A value is wrong: the form shown again with the errors", content_type = "text/html")))]
pub async fn give(
    State(state): State<AppState>,
    Path(dossier_id): Path<String>,
    form: SessionForm<AvisFields>,
) -> Result<Response, PageError> {
    let SessionForm { caller, fields, .. } = form;
    if !role_may_send(caller.0.role, COMMAND) {
        return Err(forbidden_form(&caller, COMMAND));
    }
    let id: DossierId = dossier_id
        .parse()
        .map_err(|_| ApiError::invalid(format!("'{dossier_id}' is not a dossier id")))?;
    let command_id = posted_command_id(&fields.command_id)?;
    let (errors, status) = match read(&fields) {
        Err(errors) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
        Ok((opinion, proposed_amount)) => {
            let command = LedgerCommand::Dossier(DossierCommand::GiveOpinion {
                dossier_id: id,
                financeur: fields.financeur.trim().to_string(),
                dispositif: Some(fields.dispositif.trim().to_string()).filter(|d| !d.is_empty()),
                opinion,
                proposed_amount,
                comment: fields.commentaire.trim().to_string(),
            });
            let meta = CommandMeta {
                command_id: Some(command_id),
                ..CommandMeta::default()
            };
            match state
                .ledger
                .execute_as(&caller.0, command, &meta, &page_defaults(&caller))
                .await
            {
                Ok(_) => return Ok(Redirect::to(&format!("/dossiers/{id}")).into_response()),
                Err(error) => {
                    let Some((field, message)) = refusal_fr(&error) else {
                        return Err(error.into());
                    };
                    let status = if error.code() == "forbidden" {
                        StatusCode::FORBIDDEN
                    } else {
                        StatusCode::UNPROCESSABLE_ENTITY
                    };
                    let mut errors = FieldErrors::default();
                    errors.push(field.unwrap_or("financeur"), message);
                    (errors, status)
                }
            }
        }
    };
    let draft = DossierDraft::Avis(AvisDraft { fields, errors });
    let page = dossier_page(&state, &caller, id, &PageParams::default(), Some(&draft)).await?;
    Ok((status, page).into_response())
}
