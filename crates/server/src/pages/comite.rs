//! The comité des financeurs' sessions: their list (`/comite`) and the form its secretariat
//! prepares a session with (`/comite/nouvelle`): reference of the procès-verbal, date, exercice,
//! and the agenda — the open lines of the exercice's dossiers, each with the amount its
//! financeur's service proposes (from its avis, editable). The session's own page, where its
//! decisions are recorded and its procès-verbal printed, is [`crate::pages::comite_session`].

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use engagements_app::auth::Role;
use engagements_app::{CommandError, CommandMeta};
use engagements_domain::comite::{AgendaLine, ComiteCommand, ComiteSessionId};
use engagements_domain::dossier::{DossierFiling, FundingLine, LineStatus};
use engagements_domain::{Amount, DossierId, LedgerCommand};
use engagements_projections::Projections;
use maud::{html, Markup};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::dossiers::{dispositif_short, organisation_name, porteur_name};
use crate::pages::forms::{
    acting_as, command_id_input, forbidden_form, page_defaults, parse_amount_fr, parse_date_fr,
    posted_command_id, refusal_fr, role_may_send, FieldErrors, Posted,
};
use crate::pages::{format_eur, layout, page_caller, PageError, PageParams};
use crate::sessions::{csrf_input, SessionForm};
use crate::state::AppState;

/// The command the preparation form sends.
pub const PREPARE: &str = "prepare_comite_session";

/// Whether a role may open the comité's pages: the contract's team, the financeurs' instructeurs
/// and auditors (not a bailleur, not a reader of the published views).
pub fn may_open(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Instructeur | Role::Auditeur)
}

/// The comité's pages are refused (403) to the other roles.
pub fn require_open(caller: &Caller) -> Result<(), PageError> {
    if may_open(caller.0.role) {
        Ok(())
    } else {
        Err(PageError::Api(ApiError::forbidden(format!(
            "role {} may not open the comité's pages",
            caller.0.role.as_str()
        ))))
    }
}

/// The sessions, latest first.
#[utoipa::path(get, path = "/comite", tag = "pages",
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 403, description = "A role that may not open the comité's pages", content_type = "text/html")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    require_open(&caller)?;
    let projections = state.ledger.projections().await?;
    let mut sessions: Vec<_> = projections.comite.sessions.values().collect();
    sessions.sort_by(|a, b| {
        b.held_on
            .cmp(&a.held_on)
            .then(a.reference.cmp(&b.reference))
    });
    let may_prepare = caller.1.is_some() && role_may_send(caller.0.role, PREPARE);
    Ok(layout(
        "Comité des financeurs",
        Some(&caller),
        html! {
            h1 { "Comité des financeurs : séances" }
            p.muted { "Chaque séance a son ordre du jour (les lignes des dossiers et le montant proposé par chaque financeur) ; ses décisions sont enregistrées ensemble, toutes ou aucune, et sa page s'imprime comme procès-verbal." }
            @if may_prepare {
                p { a href="/comite/nouvelle" { "Préparer une séance" } }
            }
            @if sessions.is_empty() {
                p.empty { "Aucune séance n'est encore préparée." }
            } @else {
                div.scroll { table.report {
                    caption { "Séances du comité des financeurs (" (sessions.len()) ")" }
                    thead { tr { th scope="col" { "Référence" } th scope="col" { "Séance du" } th scope="col" { "Exercice" } th scope="col" { "Lignes à l'ordre du jour" } th scope="col" { "État" } th scope="col" { "Accordé" } } }
                    tbody {
                        @for session in &sessions {
                            tr {
                                td { a href=(format!("/comite/{}", session.session_id)) { (session.reference) } }
                                td { (session.held_on.format("%d/%m/%Y")) }
                                td { (session.exercice) }
                                td.num { (session.agenda.len()) }
                                td { @if session.held.is_some() { "décisions enregistrées" } @else { "préparée" } }
                                td.num { (format_eur(session.granted_total())) }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" colspan="5" { "Total accordé en séance" }
                        td.num { (format_eur(sessions.iter().map(|s| s.granted_total()).sum())) }
                    } }
                } }
            }
        },
    ))
}

/// A line that may go on the agenda: a dossier's open line of the exercice, on no session not
/// yet held.
struct Candidate<'a> {
    filing: &'a DossierFiling,
    financeur: &'a str,
    dispositif: &'a str,
    line: &'a FundingLine,
}

impl Candidate<'_> {
    /// The line's key in the form: `dossier|financeur|dispositif`.
    fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.filing.dossier_id, self.financeur, self.dispositif
        )
    }

    /// The id of its amount field (ids of the referential are letters, digits and dashes).
    fn amount_id(&self) -> String {
        format!(
            "propose-{}-{}-{}",
            self.filing.dossier_id, self.financeur, self.dispositif
        )
    }
}

fn candidates(projections: &Projections, exercice: i32) -> Vec<Candidate<'_>> {
    projections
        .subsidy
        .filed(Some(exercice))
        .filter(|d| !d.withdrawn)
        .filter_map(|d| d.filed.as_ref().map(|f| (f, d)))
        .flat_map(|(filing, dossier)| {
            dossier.lines.iter().map(move |((f, d), line)| Candidate {
                filing,
                financeur: f,
                dispositif: d,
                line,
            })
        })
        .filter(|c| matches!(c.line.status, LineStatus::Requested | LineStatus::Adjourned))
        .filter(|c| {
            projections
                .comite
                .open_sessions_with(c.filing.dossier_id, c.financeur, c.dispositif)
                .next()
                .is_none()
        })
        .collect()
}

/// The exercice the form shows: the one asked for, else the latest with lines waiting for a
/// decision, else the current year.
fn exercice_of(params: &PageParams, projections: &Projections) -> Result<i32, PageError> {
    if let Some(year) = params.exercice()? {
        return Ok(year);
    }
    let waiting = projections
        .subsidy
        .filed(None)
        .filter_map(|d| d.filed.as_ref())
        .map(|f| f.exercice)
        .filter(|year| !candidates(projections, *year).is_empty())
        .max();
    Ok(waiting.unwrap_or_else(|| chrono::Datelike::year(&chrono::Local::now().date_naive())))
}

/// The form to prepare a session, for a web session whose role may.
#[utoipa::path(get, path = "/comite/nouvelle", tag = "pages", params(PageParams),
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 403, description = "A role that may not prepare a session", content_type = "text/html")))]
pub async fn form(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(params): Query<PageParams>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    if caller.1.is_none() {
        return Err(PageError::Login);
    }
    if !role_may_send(caller.0.role, PREPARE) {
        return Err(forbidden_form(&caller, PREPARE));
    }
    let projections = state.ledger.projections().await?;
    let exercice = exercice_of(&params, &projections)?;
    let mut posted = Posted(vec![
        ("command_id".into(), Uuid::now_v7().to_string()),
        ("session_id".into(), Uuid::now_v7().to_string()),
        ("exercice".into(), exercice.to_string()),
    ]);
    // Lines with an avis start checked, their proposed amount filled in.
    for candidate in candidates(&projections, exercice) {
        if let Some(proposed) = candidate.line.proposed {
            posted.0.push(("ligne".into(), candidate.key()));
            posted.0.push((
                format!("propose|{}", candidate.key()),
                engagements_projections::labels::decimal(proposed),
            ));
        }
    }
    Ok(page(
        &caller,
        &projections,
        exercice,
        &posted,
        &FieldErrors::default(),
    ))
}

fn page(
    caller: &Caller,
    projections: &Projections,
    exercice: i32,
    posted: &Posted,
    errors: &FieldErrors,
) -> Html<String> {
    let organisation = organisation_name(projections, &caller.0.organisation);
    layout(
        "Comité — préparer une séance",
        Some(caller),
        html! {
            h1 { "Préparer une séance du comité des financeurs" }
            form.asof method="get" action="/comite/nouvelle" {
                label { "Exercice " input type="number" name="exercice" min="2000" max="2100" value=(exercice); }
                button type="submit" { "Afficher les lignes de cet exercice" }
            }
            (acting_as(caller, &organisation))
            (form_markup(caller, projections, exercice, posted, errors))
        },
    )
}

fn form_markup(
    caller: &Caller,
    projections: &Projections,
    exercice: i32,
    posted: &Posted,
    errors: &FieldErrors,
) -> Markup {
    let Some(session) = caller.1.as_ref() else {
        return html! {};
    };
    let lines = candidates(projections, exercice);
    let chosen = posted.all("ligne");
    let id_of = |name: &str| {
        posted
            .get(name)
            .parse::<Uuid>()
            .unwrap_or_else(|_| Uuid::now_v7())
    };
    html! {
        form.entry.wide method="post" action="/comite/nouvelle" novalidate {
            (errors.summary())
            (csrf_input(session))
            (command_id_input(id_of("command_id")))
            input type="hidden" name="session_id" value=(id_of("session_id"));
            input type="hidden" name="exercice" value=(exercice);
            fieldset {
                legend { "La séance" }
                div.field {
                    label for="reference" { "Référence de la séance et de son procès-verbal" }
                    span.muted id="reference-aide" { "par exemple CF-" (exercice) "-01 ; les décisions la porteront" }
                    (errors.under("reference"))
                    input type="text" id="reference" name="reference" value=(posted.get("reference")) aria-describedby="reference-aide";
                }
                div.field {
                    label for="date" { "Date de la séance" }
                    span.muted id="date-aide" { "jour/mois/année, par exemple 15/04/" (exercice) " ; les décisions seront datées de ce jour" }
                    (errors.under("date"))
                    input type="text" id="date" name="date" size="12" value=(posted.get("date")) aria-describedby="date-aide";
                }
            }
            fieldset id="lignes" {
                legend { "Ordre du jour : les lignes des dossiers de l'exercice " (exercice) " qui attendent une décision" }
                (errors.under("lignes"))
                @if lines.is_empty() {
                    p.empty { "Aucune ligne de l'exercice " (exercice) " n'attend de décision (ou toutes sont à l'ordre du jour d'une séance déjà préparée)." }
                } @else {
                    p.muted { "Cochez les lignes à présenter ; le montant proposé vient de l'avis du service instructeur et peut être modifié." }
                    div.scroll { table.report {
                        thead { tr { th scope="col" { "À l'ordre du jour" } th scope="col" { "Dossier" } th scope="col" { "Porteur" } th scope="col" { "Financeur et dispositif" } th scope="col" { "Sollicité" } th scope="col" { "Avis" } th scope="col" { "Montant proposé (€)" } } }
                        tbody {
                            @for line in &lines {
                                @let key = line.key();
                                @let box_id = format!("ligne-{}", line.amount_id());
                                @let amount_id = line.amount_id();
                                tr {
                                    td { input type="checkbox" id=(box_id) name="ligne" value=(key) checked[chosen.contains(&key.as_str())]; }
                                    td { label for=(box_id) { (line.filing.title) } }
                                    td { (porteur_name(projections, line.filing)) }
                                    td { (organisation_name(projections, line.financeur)) " — " (dispositif_short(projections, line.dispositif)) }
                                    td.num { (format_eur(line.line.requested)) }
                                    td { (line.line.opinion.map(opinion_fr).unwrap_or("pas d'avis")) }
                                    td {
                                        (errors.under(&amount_id))
                                        input type="text" inputmode="decimal" size="12" id=(amount_id) name=(format!("propose|{key}")) value=(posted.get(&format!("propose|{key}"))) aria-label=(format!("Montant proposé : {} — {}", line.filing.title, organisation_name(projections, line.financeur)));
                                    }
                                }
                            }
                        }
                    } }
                }
            }
            button type="submit" { "Enregistrer la séance et son ordre du jour" }
        }
    }
}

pub(crate) fn opinion_fr(opinion: engagements_domain::dossier::Opinion) -> &'static str {
    use engagements_domain::dossier::Opinion;
    match opinion {
        Opinion::Favourable => "favorable",
        Opinion::Reserved => "réservé",
        Opinion::Unfavourable => "défavorable",
    }
}

/// Reads the posted form into the preparation command; the errors name their fields.
fn read(posted: &Posted, projections: &Projections) -> Result<ComiteCommand, FieldErrors> {
    let mut errors = FieldErrors::default();
    let reference = posted.get("reference");
    if reference.is_empty() {
        errors.push(
            "reference",
            "Indiquez la référence de la séance, par exemple CF-2025-01.",
        );
    } else if reference.chars().count() > engagements_domain::comite::REFERENCE_MAX_CHARS {
        errors.push(
            "reference",
            "Cette référence est trop longue (100 caractères au plus).",
        );
    }
    let held_on = parse_date_fr(posted.get("date"))
        .map_err(|message| errors.push("date", message))
        .ok();
    let exercice = posted.get("exercice").parse::<i32>().ok();
    let session_id = posted.get("session_id").parse::<ComiteSessionId>().ok();
    let lines = exercice
        .map(|y| candidates(projections, y))
        .unwrap_or_default();
    let mut agenda = Vec::new();
    for key in posted.all("ligne") {
        let Some(line) = lines.iter().find(|c| c.key() == key) else {
            errors.push(
                "lignes",
                "Une ligne cochée n'attend plus de décision : rechargez la page.",
            );
            continue;
        };
        match parse_amount_fr(posted.get(&format!("propose|{key}"))) {
            Ok(amount) => agenda.push(AgendaLine {
                dossier_id: line.filing.dossier_id,
                financeur: line.financeur.to_string(),
                dispositif: line.dispositif.to_string(),
                proposed_amount: amount,
            }),
            Err(message) => errors.push(line.amount_id(), message),
        }
    }
    if posted.all("ligne").is_empty() {
        errors.push(
            "lignes",
            "Cochez au moins une ligne à mettre à l'ordre du jour.",
        );
    }
    match (held_on, exercice, session_id) {
        (Some(held_on), Some(exercice), Some(session_id)) if errors.is_empty() => {
            Ok(ComiteCommand::Prepare {
                session_id,
                reference: reference.to_string(),
                held_on,
                exercice,
                agenda,
            })
        }
        _ => {
            if errors.is_empty() {
                errors.push(
                    "reference",
                    "Le formulaire est incomplet : rechargez la page.",
                );
            }
            Err(errors)
        }
    }
}

/// The French error of a refused preparation, under its field.
fn refusal(error: &CommandError) -> Option<(&'static str, String)> {
    let message = error.to_string();
    if message.contains("already names the session") {
        return Some((
            "reference",
            "Cette référence est déjà celle d'une autre séance : donnez-en une autre.".into(),
        ));
    }
    if message.contains("already on the agenda") || message.contains("already decided") {
        return Some((
            "lignes",
            "Une ligne cochée est déjà décidée ou à l'ordre du jour d'une autre séance : rechargez la page.".into(),
        ));
    }
    let (_, text) = refusal_fr(error)?;
    Some(("reference", text))
}

/// Records the session and its agenda, then shows the session's page (303). On error, the form
/// again with its values and errors, and nothing recorded.
#[utoipa::path(post, path = "/comite/nouvelle", tag = "pages",
    request_body(content = String, description = "The form's fields (see docs/http.md)", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or already recorded under this command_id): to the session's page"),
        (status = 403, description = "Wrong CSRF token, or a role that may not prepare a session", content_type = "text/html"),
        (status = 422, description = "A value is wrong: the form shown again with the errors", content_type = "text/html")))]
pub async fn prepare(
    State(state): State<AppState>,
    form: SessionForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let SessionForm { caller, fields, .. } = form;
    if !role_may_send(caller.0.role, PREPARE) {
        return Err(forbidden_form(&caller, PREPARE));
    }
    let posted = Posted(fields);
    let command_id = posted_command_id(posted.get("command_id"))?;
    let read = {
        let projections = state.ledger.projections().await?;
        let session_id = posted.get("session_id").parse::<ComiteSessionId>().ok();
        if let Some(id) = session_id.filter(|id| projections.comite.sessions.contains_key(id)) {
            // Already recorded (a double submit): its lines are no longer free, show it.
            return Ok(Redirect::to(&format!("/comite/{id}")).into_response());
        }
        read(&posted, &projections)
    };
    let (errors, status) = match read {
        Err(errors) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
        Ok(command) => {
            let session_id = command.session_id();
            let meta = CommandMeta {
                command_id: Some(command_id),
                ..CommandMeta::default()
            };
            let recorded = state
                .ledger
                .execute_as(
                    &caller.0,
                    LedgerCommand::Comite(command),
                    &meta,
                    &page_defaults(&caller),
                )
                .await;
            match recorded {
                Ok(_) => return Ok(Redirect::to(&format!("/comite/{session_id}")).into_response()),
                Err(error) => {
                    let Some((field, message)) = refusal(&error) else {
                        return Err(error.into());
                    };
                    let mut errors = FieldErrors::default();
                    errors.push(field, message);
                    let status = if error.code() == "forbidden" {
                        StatusCode::FORBIDDEN
                    } else {
                        StatusCode::UNPROCESSABLE_ENTITY
                    };
                    (errors, status)
                }
            }
        }
    };
    let projections = state.ledger.projections().await?;
    let exercice = posted
        .get("exercice")
        .parse::<i32>()
        .unwrap_or_else(|_| chrono::Datelike::year(&chrono::Local::now().date_naive()));
    let html = page(&caller, &projections, exercice, &posted, &errors);
    Ok((status, html).into_response())
}

/// The dossier and its line named by an agenda line, if the dossier is filed.
pub(crate) fn agenda_dossier(
    projections: &Projections,
    dossier_id: DossierId,
) -> Option<(&DossierFiling, &engagements_domain::dossier::DossierState)> {
    let dossier = projections.subsidy.dossier(&dossier_id)?;
    Some((dossier.filed.as_ref()?, dossier))
}

/// The requested amount of an agenda line, for the tables.
pub(crate) fn requested_of(projections: &Projections, line: &AgendaLine) -> Amount {
    agenda_dossier(projections, line.dossier_id)
        .and_then(|(_, d)| {
            d.lines
                .get(&(line.financeur.clone(), line.dispositif.clone()))
                .map(|l| l.requested)
        })
        .unwrap_or(Amount::ZERO)
}
