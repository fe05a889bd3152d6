//! Filing a dossier in the browser (`/dossiers/nouveau`): the fields of the common grant request
//! (Cerfa 12156) that `file_dossier` records — the porteur (one already registered, or a new one
//! registered by the same form, the two commands recorded together or not at all), the exercice,
//! the title and description, the total budget, the co-financing plan (financeur × dispositif ×
//! amount), the quartiers with optional shares and the objectifs of the contract.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use engagements_app::{CommandError, CommandMeta};
use engagements_domain::dossier::REQUESTS_PER_DOSSIER_MAX;
use engagements_domain::dossier::{DossierCommand, FundingRequest, ObjectifWeight, QuartierShare};
use engagements_domain::porteur::{PorteurCommand, PorteurKind, Rna, Siret};
use engagements_domain::{Amount, DossierId, LedgerCommand, PorteurId};
use engagements_projections::Projections;
use maud::{html, Markup};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::dossiers::organisation_name;
use crate::pages::forms::{
    acting_as, command_id_input, forbidden_form, page_defaults, parse_amount_fr, posted_command_id,
    refusal_fr, role_may_send, FieldErrors, Posted,
};
use crate::pages::{layout, page_caller, PageError};
use crate::sessions::{csrf_input, SessionForm};
use crate::state::AppState;

/// The command this form sends.
const COMMAND: &str = "file_dossier";
/// Rows of the co-financing plan drawn (blank rows are ignored; no script adds more).
pub const PLAN_ROWS: usize = 5;
/// The value of the porteur choice that registers a new one.
const NEW_PORTEUR: &str = "nouveau";
/// Longest text of any field read (the domain has its own, smaller, limits).
const FIELD_CHARS_MAX: usize = 5_000;
/// The kinds of porteur: value posted, label shown.
const KINDS: [(&str, &str, PorteurKind); 5] = [
    ("association", "Association", PorteurKind::Association),
    ("commune", "Commune", PorteurKind::Commune),
    ("ccas", "CCAS", PorteurKind::Ccas),
    ("bailleur", "Bailleur", PorteurKind::Bailleur),
    ("other", "Autre", PorteurKind::Other),
];

/// A refused form: what was posted and the errors, drawn again.
pub(crate) struct Draft<'a> {
    pub(crate) posted: &'a Posted,
    pub(crate) errors: &'a FieldErrors,
}

/// The form to file a dossier, for a web session whose role may file one.
#[utoipa::path(get, path = "/dossiers/nouveau", tag = "pages",
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 403, description = "A role that may not file a dossier", content_type = "text/html")))]
pub async fn form(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    if caller.1.is_none() {
        return Err(PageError::Login);
    }
    if !role_may_send(caller.0.role, COMMAND) {
        return Err(forbidden_form(&caller, COMMAND));
    }
    let projections = state.ledger.projections().await?;
    let fresh = Posted(vec![
        ("command_id".into(), Uuid::now_v7().to_string()),
        ("dossier_id".into(), Uuid::now_v7().to_string()),
        ("porteur_command_id".into(), Uuid::now_v7().to_string()),
        ("porteur_id".into(), Uuid::now_v7().to_string()),
        (
            "exercice".into(),
            chrono::Local::now().format("%Y").to_string(),
        ),
    ]);
    let errors = FieldErrors::default();
    Ok(page(
        &caller,
        &projections,
        Draft {
            posted: &fresh,
            errors: &errors,
        },
    ))
}

fn page(caller: &Caller, projections: &Projections, draft: Draft<'_>) -> Html<String> {
    let organisation = organisation_name(projections, &caller.0.organisation);
    layout(
        "Dossiers — déposer un dossier",
        Some(caller),
        html! {
            h1 { "Déposer un dossier" }
            p.muted { "Les champs de la demande de subvention (formulaire Cerfa 12156) que le registre enregistre. Tous sont obligatoires sauf mention contraire." }
            (acting_as(caller, &organisation))
            (form_markup(caller, projections, &draft))
        },
    )
}

fn text_input(draft: &Draft<'_>, name: &str, label: &str, hint: Option<&str>) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            @if let Some(hint) = hint { span.muted { (hint) } }
            (draft.errors.under(name))
            input type="text" id=(name) name=(name) value=(draft.posted.get(name));
        }
    }
}

fn form_markup(caller: &Caller, projections: &Projections, draft: &Draft<'_>) -> Markup {
    let Some(session) = caller.1.as_ref() else {
        return html! {};
    };
    let posted = draft.posted;
    let errors = draft.errors;
    let mut porteurs: Vec<_> = projections.porteurs.by_id.values().collect();
    porteurs.sort_by(|a, b| a.name.cmp(&b.name));
    let id_of = |name: &str| Uuid::parse_str(posted.get(name)).unwrap_or_else(|_| Uuid::now_v7());
    html! {
        form.entry method="post" action="/dossiers/nouveau" novalidate {
            (errors.summary())
            (csrf_input(session))
            (command_id_input(id_of("command_id")))
            input type="hidden" name="dossier_id" value=(id_of("dossier_id"));
            input type="hidden" name="porteur_command_id" value=(id_of("porteur_command_id"));
            input type="hidden" name="porteur_id" value=(id_of("porteur_id"));
            fieldset id="porteur-choix" {
                legend { "Porteur du projet" }
                div.field {
                    label for="porteur" { "Porteur déjà enregistré, ou nouveau porteur" }
                    (errors.under("porteur"))
                    select id="porteur" name="porteur" {
                        option value="" { "— choisir —" }
                        @if posted.get("porteur") == NEW_PORTEUR {
                            option value=(NEW_PORTEUR) selected { "Nouveau porteur (renseigné ci-dessous)" }
                        } @else {
                            option value=(NEW_PORTEUR) { "Nouveau porteur (renseigné ci-dessous)" }
                        }
                        @for porteur in &porteurs {
                            @let value = porteur.porteur_id.to_string();
                            @let label = match (&porteur.siret, &porteur.rna) {
                                (Some(siret), _) => format!("{} (SIRET {siret})", porteur.name),
                                (None, Some(rna)) => format!("{} (RNA {rna})", porteur.name),
                                _ => porteur.name.clone(),
                            };
                            @if posted.get("porteur") == value {
                                option value=(value) selected { (label) }
                            } @else {
                                option value=(value) { (label) }
                            }
                        }
                    }
                }
                p.muted { "Nouveau porteur : il est enregistré avec le dossier, les deux ou aucun." }
                (text_input(draft, "porteur_nom", "Nom du nouveau porteur", None))
                div.field {
                    label for="porteur_nature" { "Nature du nouveau porteur" }
                    (errors.under("porteur_nature"))
                    select id="porteur_nature" name="porteur_nature" {
                        @for (value, label, _) in KINDS {
                            @if posted.get("porteur_nature") == value {
                                option value=(value) selected { (label) }
                            } @else {
                                option value=(value) { (label) }
                            }
                        }
                    }
                }
                (text_input(draft, "porteur_siret", "SIRET du nouveau porteur (facultatif)", Some(" 14 chiffres")))
                (text_input(draft, "porteur_rna", "Numéro RNA du nouveau porteur (facultatif)", Some(" W suivi de 9 caractères")))
            }
            (action_fieldset(draft, true))
            (content_fieldsets(projections, draft, PLAN_ROWS))
            button type="submit" { "Déposer le dossier" }
        }
    }
}

/// The action's fieldset: exercice (when filing), title, description, total budget.
pub(crate) fn action_fieldset(draft: &Draft<'_>, with_exercice: bool) -> Markup {
    let posted = draft.posted;
    let errors = draft.errors;
    html! {
        fieldset {
            legend { "L'action" }
            @if with_exercice {
                div.field {
                    label for="exercice" { "Exercice" }
                    (errors.under("exercice"))
                    input type="number" id="exercice" name="exercice" min="2000" max="2100" value=(posted.get("exercice"));
                }
            }
            (text_input(draft, "intitule", "Intitulé de l'action", None))
            div.field {
                label for="description" { "Description (facultative)" }
                (errors.under("description"))
                textarea id="description" name="description" rows="4" maxlength="1000" { (posted.get("description")) }
            }
            (text_input(draft, "budget", "Budget total de l'action (en euros, par exemple 90 000,00)", None))
        }
    }
}

/// The co-financing plan (`plan_rows` rows), the quartiers and the objectifs: the fields a
/// filing and an amendment share.
pub(crate) fn content_fieldsets(
    projections: &Projections,
    draft: &Draft<'_>,
    plan_rows: usize,
) -> Markup {
    let posted = draft.posted;
    let errors = draft.errors;
    let referential = projections.referential.current();
    let lines: Vec<(String, String)> = referential
        .map(|r| {
            r.dispositifs()
                .flat_map(|d| {
                    d.financeurs.iter().map(move |f| {
                        (
                            format!("{f}/{}", d.id),
                            format!("{} — {}", organisation_name(projections, f), d.name),
                        )
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let chosen_quartiers = posted.all("quartier");
    let chosen_objectifs = posted.all("objectif");
    html! {
        fieldset id="plan" {
            legend { "Plan de financement : ce qui est demandé à chaque financeur" }
            (errors.under("plan"))
            p.muted { "Une ligne par financeur et dispositif ; les lignes laissées vides sont ignorées." }
            @for row in 0..plan_rows {
                @let line_field = format!("ligne_{row}");
                @let amount_field = format!("montant_{row}");
                div.plan-row {
                    div.field {
                        label for=(line_field) { "Ligne " (row + 1) " : financeur et dispositif" }
                        (errors.under(&line_field))
                        select id=(line_field) name=(line_field) {
                            option value="" { "— aucune —" }
                            @for (value, label) in &lines {
                                @if posted.get(&line_field) == value {
                                    option value=(value) selected { (label) }
                                } @else {
                                    option value=(value) { (label) }
                                }
                            }
                        }
                    }
                    div.field {
                        label for=(amount_field) { "Ligne " (row + 1) " : montant demandé (en euros)" }
                        (errors.under(&amount_field))
                        input type="text" inputmode="decimal" id=(amount_field) name=(amount_field) value=(posted.get(&amount_field));
                    }
                }
            }
        }
        fieldset id="quartiers" {
            legend { "Quartiers concernés" }
            (errors.under("quartiers"))
            p.muted { "Cochez les quartiers ; les parts (en %) sont facultatives : toutes renseignées et faisant 100, ou aucune (la répartition suit alors la population)." }
            @if let Some(referential) = referential {
                ul.choices {
                    @for quartier in referential.quartiers() {
                        @let box_id = format!("quartier-{}", quartier.id);
                        @let share_name = format!("part_{}", quartier.id);
                        li {
                            @if chosen_quartiers.contains(&quartier.id.as_str()) {
                                input type="checkbox" id=(box_id) name="quartier" value=(quartier.id) checked;
                            } @else {
                                input type="checkbox" id=(box_id) name="quartier" value=(quartier.id);
                            }
                            label for=(box_id) { (quartier.name) " (" (quartier.code.as_deref().unwrap_or("quartier d'intérêt communautaire")) ")" }
                            " "
                            label for=(share_name) { "part en %" }
                            " "
                            input.share type="text" inputmode="decimal" id=(share_name) name=(share_name) value=(posted.get(&share_name)) size="5";
                        }
                    }
                }
            }
        }
        fieldset id="objectifs" {
            legend { "Objectifs du contrat servis par l'action" }
            (errors.under("objectifs"))
            @if let Some(referential) = referential {
                ul.choices {
                    @for path in referential.objectifs() {
                        @let number = path.objectif.number.to_string();
                        @let box_id = format!("objectif-{number}");
                        li {
                            @if chosen_objectifs.contains(&number.as_str()) {
                                input type="checkbox" id=(box_id) name="objectif" value=(number) checked;
                            } @else {
                                input type="checkbox" id=(box_id) name="objectif" value=(number);
                            }
                            label for=(box_id) { (number) ". " (path.objectif.title) }
                        }
                    }
                }
            }
        }
    }
}

/// A share in percent as people type it (`33,5` or `33.5`).
fn parse_share(text: &str) -> Option<Decimal> {
    let plain = text.trim().trim_end_matches('%').trim().replace(',', ".");
    plain
        .parse::<Decimal>()
        .ok()
        .filter(|d| *d > Decimal::ZERO && *d <= Decimal::ONE_HUNDRED)
}

/// The porteur of the dossier, and the command registering it when it is new.
fn read_porteur(
    posted: &Posted,
    projections: &Projections,
    errors: &mut FieldErrors,
) -> Option<(PorteurId, Option<PorteurCommand>)> {
    let choice = posted.get("porteur");
    if choice != NEW_PORTEUR {
        let known = choice
            .parse::<PorteurId>()
            .ok()
            .filter(|id| projections.porteurs.get(id).is_some());
        if known.is_none() {
            errors.push(
                "porteur",
                "Choisissez un porteur enregistré, ou « Nouveau porteur » et renseignez-le.",
            );
        }
        return known.map(|id| (id, None));
    }
    let name = posted.get("porteur_nom");
    if name.is_empty() {
        errors.push("porteur_nom", "Indiquez le nom du nouveau porteur.");
    }
    let kind = KINDS
        .iter()
        .find(|(value, _, _)| *value == posted.get("porteur_nature"))
        .map(|(_, _, kind)| *kind);
    if kind.is_none() {
        errors.push("porteur_nature", "Choisissez la nature du porteur.");
    }
    let siret_text: String = posted
        .get("porteur_siret")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let siret = (!siret_text.is_empty())
        .then(|| Siret::try_from(siret_text))
        .transpose()
        .map_err(|_| {
            errors.push(
                "porteur_siret",
                "Ce SIRET n'est pas valide : 14 chiffres, dont le dernier est une clé de contrôle.",
            )
        })
        .ok()?;
    let rna_text = posted.get("porteur_rna").to_uppercase();
    let rna = (!rna_text.is_empty())
        .then(|| Rna::try_from(rna_text))
        .transpose()
        .map_err(|_| {
            errors.push(
                "porteur_rna",
                "Ce numéro RNA n'est pas valide : la lettre W suivie de 9 caractères.",
            )
        })
        .ok()?;
    let porteur_id = posted.get("porteur_id").parse::<PorteurId>().ok();
    match (porteur_id, kind, name.is_empty()) {
        (Some(porteur_id), Some(kind), false) => Some((
            porteur_id,
            Some(PorteurCommand::Register {
                porteur_id,
                name: name.to_string(),
                kind,
                siret,
                rna,
            }),
        )),
        _ => None,
    }
}

/// The co-financing plan's rows that are filled in.
fn read_plan(posted: &Posted, errors: &mut FieldErrors) -> Vec<FundingRequest> {
    let mut requests = Vec::new();
    // An amendment draws more rows than a filing when the dossier asks more financeurs.
    for row in 0..REQUESTS_PER_DOSSIER_MAX {
        let line_field = format!("ligne_{row}");
        let amount_field = format!("montant_{row}");
        let (line, amount) = (posted.get(&line_field), posted.get(&amount_field));
        if line.is_empty() && amount.is_empty() {
            continue;
        }
        let pair = line.split_once('/');
        if pair.is_none() {
            errors.push(
                line_field,
                "Choisissez le financeur et le dispositif de cette ligne.",
            );
        }
        match parse_amount_fr(amount) {
            Ok(amount) if amount.is_zero() => errors.push(
                amount_field,
                "Le montant demandé doit être supérieur à zéro.",
            ),
            Ok(amount) => {
                if let Some((financeur, dispositif)) = pair {
                    requests.push(FundingRequest {
                        financeur: financeur.to_string(),
                        dispositif: dispositif.to_string(),
                        amount,
                    });
                }
            }
            Err(message) => errors.push(amount_field, message),
        }
    }
    if requests.is_empty() && errors.is_empty() {
        errors.push("plan", "Ajoutez au moins une ligne au plan de financement.");
    }
    requests
}

/// What a filing and an amendment share, as read from the form.
pub(crate) struct Content {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) total_budget: Amount,
    pub(crate) requests: Vec<FundingRequest>,
    pub(crate) quartiers: Vec<QuartierShare>,
    pub(crate) objectifs: Vec<ObjectifWeight>,
}

/// Reads the title, description, budget, plan, quartiers and objectifs; the errors name their
/// fields. `None` when one is wrong.
pub(crate) fn read_content(posted: &Posted, errors: &mut FieldErrors) -> Option<Content> {
    let before = errors.0.len();
    let title = posted.get("intitule");
    if title.is_empty() {
        errors.push("intitule", "Indiquez l'intitulé de l'action.");
    }
    let budget = parse_amount_fr(posted.get("budget"))
        .map_err(|message| errors.push("budget", message))
        .ok();
    let requests = read_plan(posted, errors);
    let mut quartiers = Vec::new();
    for quartier in posted.all("quartier") {
        let share_text = posted.get(&format!("part_{quartier}"));
        let share_pct = if share_text.is_empty() {
            None
        } else {
            let share = parse_share(share_text);
            if share.is_none() {
                errors.push(
                    "quartiers",
                    format!("La part de {quartier} n'est pas un pourcentage entre 0 et 100."),
                );
            }
            share
        };
        quartiers.push(QuartierShare {
            quartier: quartier.to_string(),
            share_pct,
        });
    }
    if quartiers.is_empty() {
        errors.push("quartiers", "Cochez au moins un quartier.");
    }
    let objectifs: Vec<ObjectifWeight> = posted
        .all("objectif")
        .iter()
        .filter_map(|n| n.parse::<u32>().ok())
        .map(|objectif| ObjectifWeight {
            objectif,
            weight: None,
        })
        .collect();
    if objectifs.is_empty() {
        errors.push("objectifs", "Cochez au moins un objectif du contrat.");
    }
    let total_budget = budget?;
    if errors.0.len() > before {
        return None;
    }
    Some(Content {
        title: title.to_string(),
        description: posted.get("description").to_string(),
        total_budget,
        requests,
        quartiers,
        objectifs,
    })
}

/// Reads the whole form into its commands; the errors name their fields.
fn read(
    posted: &Posted,
    projections: &Projections,
) -> Result<(Option<PorteurCommand>, DossierCommand), FieldErrors> {
    let mut errors = FieldErrors::default();
    if posted
        .0
        .iter()
        .any(|(_, v)| v.chars().count() > FIELD_CHARS_MAX)
    {
        errors.push("intitule", "Un champ est trop long.");
        return Err(errors);
    }
    let porteur = read_porteur(posted, projections, &mut errors);
    let exercice = posted
        .get("exercice")
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y));
    if exercice.is_none() {
        errors.push(
            "exercice",
            "Indiquez l'année de l'exercice, par exemple 2025.",
        );
    }
    let content = read_content(posted, &mut errors);
    let dossier_id = posted.get("dossier_id").parse::<DossierId>().ok();
    match (porteur, exercice, content, dossier_id) {
        (Some((porteur_id, register)), Some(exercice), Some(content), Some(dossier_id))
            if errors.is_empty() =>
        {
            Ok((
                register,
                DossierCommand::File {
                    dossier_id,
                    porteur_id,
                    exercice,
                    title: content.title,
                    description: content.description,
                    total_budget: content.total_budget,
                    quartiers: content.quartiers,
                    objectifs: content.objectifs,
                    requests: content.requests,
                    pistes: Vec::new(),
                },
            ))
        }
        _ => {
            if errors.is_empty() {
                errors.push(
                    "intitule",
                    "Le formulaire est incomplet : rechargez la page.",
                );
            }
            Err(errors)
        }
    }
}

/// The French error of a refused command: its field, and the sentence. `None` for a failure of
/// the store (the error page).
fn refusal(error: &CommandError, of_porteur: bool) -> Option<(&'static str, String)> {
    if let CommandError::Forbidden(_) = error {
        return Some((
            "plan",
            "Votre organisation doit être l'un des financeurs sollicités par le dossier."
                .to_string(),
        ));
    }
    let (field, message) = refusal_fr(error)?;
    let field = match field {
        _ if of_porteur => "porteur_nom",
        Some("financeur" | "dispositif" | "montant") => "plan",
        Some(field) => field,
        None => "intitule",
    };
    Some((field, message))
}

/// Files the dossier (and registers its new porteur, both or neither), then shows the dossier's
/// page (303). On error, the form again with its values and errors, and nothing recorded.
#[utoipa::path(post, path = "/dossiers/nouveau", tag = "pages",
    request_body(content = String, description = "The form's fields (see docs/http.md)", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or already recorded under this command_id): to the dossier's page"),
        (status = 403, description = "Wrong CSRF token, a role that may not file, or a dossier asking nothing of the caller's organisation (the form shown again)", content_type = "text/html"),
        (status = 422, description = "A value is wrong: the form shown again with the errors", content_type = "text/html")))]
pub async fn file(
    State(state): State<AppState>,
    form: SessionForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let SessionForm { caller, fields, .. } = form;
    if !role_may_send(caller.0.role, COMMAND) {
        return Err(forbidden_form(&caller, COMMAND));
    }
    let posted = Posted(fields);
    let command_id = posted_command_id(posted.get("command_id"))?;
    let read = {
        let projections = state.ledger.projections().await?;
        read(&posted, &projections)
    };
    let (errors, status) = match read {
        Err(errors) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
        Ok((register, filing)) => {
            // `read` checked it: the dossier's id drawn with the form.
            let dossier_id = posted.get("dossier_id").to_string();
            match record(&state, &caller, &posted, command_id, register, filing).await {
                Ok(()) => {
                    return Ok(Redirect::to(&format!("/dossiers/{dossier_id}")).into_response())
                }
                Err((error, of_porteur)) => {
                    let Some((field, message)) = refusal(&error, of_porteur) else {
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
    let html = page(
        &caller,
        &projections,
        Draft {
            posted: &posted,
            errors: &errors,
        },
    );
    Ok((status, html).into_response())
}

/// Records the filing, with the new porteur's registration when there is one (both or neither).
/// The error says whether the porteur's command was the one refused.
async fn record(
    state: &AppState,
    caller: &Caller,
    posted: &Posted,
    command_id: Uuid,
    register: Option<PorteurCommand>,
    filing: DossierCommand,
) -> Result<(), (CommandError, bool)> {
    let defaults = page_defaults(caller);
    let meta = CommandMeta {
        command_id: Some(command_id),
        ..CommandMeta::default()
    };
    let filing = LedgerCommand::Dossier(filing);
    let Some(register) = register else {
        return state
            .ledger
            .execute_as(&caller.0, filing, &meta, &defaults)
            .await
            .map(|_| ())
            .map_err(|e| (e, false));
    };
    let porteur_meta = CommandMeta {
        command_id: posted.get("porteur_command_id").parse::<Uuid>().ok(),
        ..CommandMeta::default()
    };
    state
        .ledger
        .execute_atomic_as(
            &caller.0,
            vec![
                (LedgerCommand::Porteur(register), porteur_meta),
                (filing, meta),
            ],
            &defaults,
        )
        .await
        .map(|_| ())
        .map_err(|(index, e)| (e, index == 0))
}
