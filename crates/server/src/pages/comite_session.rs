//! A session of the comité des financeurs (`/comite/{id}`): before it is held, its agenda and the
//! form recording all its decisions at once — granted (amount editable), refused or adjourned per
//! line — checked against the envelopes before anything is recorded, then recorded all together
//! or not at all (`POST /comite/{id}/decisions`), each `decide_subsidy` carrying the session's
//! reference as its comité, its date, and the session as its act. Once held, the page is the
//! session's procès-verbal: decisions per financeur with their totals, and each envelope as it
//! stood just after the session; it prints on A4.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use engagements_app::{CommandError, CommandMeta};
use engagements_domain::comite::{AgendaLine, ComiteCommand, ComiteSessionId};
use engagements_domain::dossier::{Decision, DossierCommand, LineStatus};
use engagements_domain::envelope::EnvelopeKey;
use engagements_domain::{ActKind, ActRef, Amount, LedgerCommand};
use engagements_projections::comite::SessionRow;
use engagements_projections::Projections;
use engagements_store::persons::Names;
use maud::{html, Markup};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::comite::{agenda_dossier, opinion_fr, requested_of, require_open};
use crate::pages::comite_pv::proces_verbal;
use crate::pages::dossiers::{dispositif_short, organisation_name, porteur_name};
use crate::pages::forms::{
    acting_as, command_id_input, forbidden_form, page_defaults, parse_amount_fr, posted_command_id,
    refusal_fr, role_may_send, FieldErrors, Posted,
};
use crate::pages::{format_eur, layout, page_caller, PageError};
use crate::sessions::{csrf_input, SessionForm};
use crate::state::AppState;

/// The command that records a session's decisions (with one `decide_subsidy` per line).
const HOLD: &str = "hold_comite_session";

/// The decision choices: value posted, label shown.
const CHOICES: [(&str, &str); 3] = [
    ("accorde", "Accordé"),
    ("refuse", "Refusé"),
    ("ajourne", "Ajourné"),
];

fn session_id_of(text: &str) -> Result<ComiteSessionId, PageError> {
    text.parse()
        .map_err(|_| PageError::Api(ApiError::invalid(format!("'{text}' is not a session id"))))
}

fn session_of(projections: &Projections, id: ComiteSessionId) -> Result<&SessionRow, PageError> {
    projections
        .comite
        .sessions
        .get(&id)
        .ok_or_else(|| PageError::Api(ApiError::not_found(format!("no comité session {id}"))))
}

/// A session: its agenda and decision form, or its procès-verbal once held.
#[utoipa::path(get, path = "/comite/{session_id}", tag = "pages",
    params(("session_id" = String, Path, description = "The session's id (UUID)")),
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 403, description = "A role that may not open the comité's pages", content_type = "text/html"), (status = 404, description = "No such session", content_type = "text/html")))]
pub async fn session(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(session_id): Path<String>,
) -> Result<Html<String>, PageError> {
    let caller = page_caller(caller)?;
    require_open(&caller)?;
    let id = session_id_of(&session_id)?;
    session_page(&state, &caller, id, None).await
}

async fn session_page(
    state: &AppState,
    caller: &Caller,
    id: ComiteSessionId,
    draft: Option<(&Posted, &FieldErrors)>,
) -> Result<Html<String>, PageError> {
    let projections = state.ledger.projections().await?;
    let session = session_of(&projections, id)?;
    // Events name people by pseudonymous ids; their names are joined here, for display only.
    let names = Names::of_persons(
        state.ledger.store(),
        std::iter::once(session.prepared.person.as_str())
            .chain(session.held.as_ref().map(|h| h.person.as_str())),
    )
    .await
    .map_err(ApiError::internal)?;
    if let Some(held) = &session.held {
        // The envelopes as they stood just after the session.
        let then = state.ledger.projections_at(held.position).await?;
        let session = session.clone();
        return Ok(proces_verbal(caller, &projections, &then, &session, &names));
    }
    let title = format!("Comité — séance {}", session.reference);
    Ok(layout(
        &title,
        Some(caller),
        html! {
            p.breadcrumb { a href="/comite" { "Comité des financeurs" } " › séance " (session.reference) }
            h1 { "Séance " (session.reference) " du comité des financeurs" }
            p { "Séance du " strong { (session.held_on.format("%d/%m/%Y")) } " — exercice " (session.exercice)
                " — " (session.agenda.len()) " ligne(s) à l'ordre du jour, préparé par " (names.display(&session.prepared.person))
                " (" (organisation_name(&projections, &session.prepared.organisation)) ")." }
            (decisions_form(caller, &projections, session, draft))
        },
    ))
}

/// Whether an agenda line still waits for a decision (its dossier live, its line asked or
/// adjourned); a line decided elsewhere since, or of a withdrawn dossier, is « sans objet ».
fn waiting(projections: &Projections, line: &AgendaLine) -> bool {
    agenda_dossier(projections, line.dossier_id)
        .filter(|(_, d)| !d.withdrawn)
        .and_then(|(_, d)| {
            d.lines
                .get(&(line.financeur.clone(), line.dispositif.clone()))
        })
        .is_some_and(|l| matches!(l.status, LineStatus::Requested | LineStatus::Adjourned))
}

/// What is left on an envelope now: its ceiling less what decisions commit; `None` if it is not
/// open.
fn envelope_left(projections: &Projections, key: &EnvelopeKey) -> Option<Amount> {
    let envelope = projections.subsidy.envelopes.get(key)?;
    envelope.key.as_ref()?;
    Some(envelope.ceiling().saturating_sub(envelope.committed))
}

fn envelope_of(session: &SessionRow, line: &AgendaLine) -> EnvelopeKey {
    EnvelopeKey::new(&line.financeur, &line.dispositif, session.exercice)
}

fn envelope_label(projections: &Projections, key: &EnvelopeKey) -> String {
    format!(
        "{} — {} — {}",
        organisation_name(projections, &key.financeur),
        dispositif_short(projections, &key.dispositif),
        key.exercice
    )
}

fn decisions_form(
    caller: &Caller,
    projections: &Projections,
    session: &SessionRow,
    draft: Option<(&Posted, &FieldErrors)>,
) -> Markup {
    let may_record = caller.1.is_some() && role_may_send(caller.0.role, HOLD);
    let fresh = fresh_form(projections, session);
    let empty = FieldErrors::default();
    let (posted, errors) = draft.unwrap_or((&fresh, &empty));
    let id_of = |name: &str| {
        posted
            .get(name)
            .parse::<Uuid>()
            .unwrap_or_else(|_| Uuid::now_v7())
    };
    let left_for = left_before_each_line(projections, session, posted);
    let table = html! {
        div.scroll { table.report.decisions {
            caption { "Ordre du jour et décisions" }
            thead { tr {
                th scope="col" { "Dossier" } th scope="col" { "Porteur" } th scope="col" { "Financeur et dispositif" }
                th scope="col" { "Sollicité" } th scope="col" { "Avis" } th scope="col" { "Proposé" }
                th scope="col" { "Reste sur l'enveloppe pour cette ligne" }
                @if may_record { th scope="col" { "Décision" } th scope="col" { "Montant accordé (€)" } }
            } }
            tbody {
                @for (index, line) in session.agenda.iter().enumerate() {
                    @let dossier = agenda_dossier(projections, line.dossier_id);
                    @let title_id = format!("ligne-{index}");
                    tr {
                        td id=(title_id) { @if let Some((filing, _)) = dossier { a href=(format!("/dossiers/{}", filing.dossier_id)) { (filing.title) } } }
                        td { @if let Some((filing, _)) = dossier { (porteur_name(projections, filing)) } }
                        td { (organisation_name(projections, &line.financeur)) " — " (dispositif_short(projections, &line.dispositif)) }
                        td.num { (format_eur(requested_of(projections, line))) }
                        td { (dossier.and_then(|(_, d)| d.lines.get(&(line.financeur.clone(), line.dispositif.clone()))).and_then(|l| l.opinion).map(opinion_fr).unwrap_or("—")) }
                        td.num { (format_eur(line.proposed_amount)) }
                        td.num { @match left_for[index] { Some(left) => (format_eur(left)), None => span.error { "aucune enveloppe ouverte" } } }
                        @if may_record {
                            @if waiting(projections, line) {
                                td {
                                    @let name = format!("decision_{index}");
                                    (errors.under(&name))
                                    div.choices id=(name) role="radiogroup" aria-labelledby=(title_id) {
                                        @for (value, label) in CHOICES {
                                            @let input_id = format!("{name}-{value}");
                                            span.choice {
                                                input type="radio" id=(input_id) name=(name) value=(value) checked[posted.get(&name) == value];
                                                label for=(input_id) { (label) }
                                            }
                                        }
                                    }
                                    input type="hidden" name=(format!("command_id_{index}")) value=(id_of(&format!("command_id_{index}")));
                                }
                                td {
                                    @let name = format!("montant_{index}");
                                    (errors.under(&name))
                                    input type="text" inputmode="decimal" size="12" id=(name) name=(name) value=(posted.get(&name)) aria-labelledby=(title_id);
                                    @let reason = format!("majoration_{index}");
                                    label.muted.block for=(reason) { "Motif de majoration (seulement au-delà du montant sollicité)" }
                                    (errors.under(&reason))
                                    input type="text" size="24" id=(reason) name=(reason) value=(posted.get(&reason));
                                }
                            } @else {
                                td colspan="2" { "sans objet (dossier retiré ou ligne déjà décidée)" }
                            }
                        }
                    }
                }
            }
            tfoot { tr {
                th scope="row" colspan="3" { "Total" }
                td.num { (format_eur(session.agenda.iter().map(|l| requested_of(projections, l)).sum())) }
                td {}
                td.num { (format_eur(session.agenda.iter().map(|l| l.proposed_amount).sum())) }
                td {}
                @if may_record { td {} td {} }
            } }
        } }
    };
    let Some(page_session) = caller.1.as_ref().filter(|_| may_record) else {
        return html! {
            h2 { "Ordre du jour" }
            (table)
            p.muted { "Les décisions de la séance sont enregistrées par le secrétariat du comité (l'équipe du contrat)." }
        };
    };
    html! {
        section.forms.comite #decisions {
            h2 { "Enregistrer les décisions de la séance" }
            (acting_as(caller, &organisation_name(projections, &caller.0.organisation)))
            p { "Toutes les décisions sont enregistrées ensemble, ou aucune : chaque décision porte la référence "
                strong { (session.reference) } " et la date du " (session.held_on.format("%d/%m/%Y"))
                ". Les enveloppes sont vérifiées avant tout enregistrement : une ligne au-delà de son enveloppe est signalée sur la ligne." }
            form.entry.wide method="post" action=(format!("/comite/{}/decisions", session.session_id)) novalidate {
                (errors.summary())
                (csrf_input(page_session))
                (command_id_input(id_of("command_id")))
                (table)
                (envelopes_table(projections, session, posted))
                button type="submit" { "Enregistrer toutes les décisions de la séance" }
            }
        }
    }
}

/// What is left on each line's envelope once the lines before it take what the form grants
/// them: the figure the comité reads on the line.
fn left_before_each_line(
    projections: &Projections,
    session: &SessionRow,
    posted: &Posted,
) -> Vec<Option<Amount>> {
    let mut left: BTreeMap<EnvelopeKey, Option<Amount>> = BTreeMap::new();
    session
        .agenda
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let key = envelope_of(session, line);
            let rest = left
                .entry(key.clone())
                .or_insert_with(|| envelope_left(projections, &key));
            let before = *rest;
            if let Some(rest) = rest {
                *rest = rest.saturating_sub(granted_in_form(posted, index));
            }
            before
        })
        .collect()
}

/// What the form grants on line `index` (zero unless granted with a readable amount).
fn granted_in_form(posted: &Posted, index: usize) -> Amount {
    (posted.get(&format!("decision_{index}")) == "accorde")
        .then(|| parse_amount_fr(posted.get(&format!("montant_{index}"))).ok())
        .flatten()
        .unwrap_or(Amount::ZERO)
}

/// The form as first drawn: a line with a proposed amount starts granted at that amount.
fn fresh_form(projections: &Projections, session: &SessionRow) -> Posted {
    let mut posted = Posted(vec![("command_id".into(), Uuid::now_v7().to_string())]);
    for (index, line) in session.agenda.iter().enumerate() {
        posted.set(&format!("command_id_{index}"), Uuid::now_v7().to_string());
        if !line.proposed_amount.is_zero() && waiting(projections, line) {
            posted.set(&format!("decision_{index}"), "accorde");
            posted.set(
                &format!("montant_{index}"),
                engagements_projections::labels::decimal(line.proposed_amount),
            );
        }
    }
    posted
}

/// Per envelope of the agenda: what is left now, what the lines granted in the form take, what
/// would be left.
fn envelopes_table(projections: &Projections, session: &SessionRow, posted: &Posted) -> Markup {
    let mut rows: BTreeMap<EnvelopeKey, Amount> = BTreeMap::new();
    for (index, line) in session.agenda.iter().enumerate() {
        let granted = granted_in_form(posted, index);
        let sum = rows.entry(envelope_of(session, line)).or_default();
        *sum = sum.checked_add(granted).unwrap_or(*sum);
    }
    html! {
        div.scroll { table.report {
            caption { "Enveloppes concernées par la séance" }
            thead { tr { th scope="col" { "Enveloppe" } th scope="col" { "Reste avant la séance" } th scope="col" { "Accordé dans ce formulaire" } th scope="col" { "Resterait après la séance" } } }
            tbody {
                @for (key, granted) in &rows {
                    @let left = envelope_left(projections, key);
                    tr {
                        td { (envelope_label(projections, key)) }
                        td.num { @match left { Some(l) => (format_eur(l)), None => span.error { "aucune enveloppe ouverte" } } }
                        td.num { (format_eur(*granted)) }
                        @match left {
                            Some(l) if *granted > l => td.num.over { "dépassement de " (format_eur(granted.saturating_sub(l))) },
                            Some(l) => td.num { (format_eur(l.saturating_sub(*granted))) },
                            None => td {},
                        }
                    }
                }
            }
        } }
    }
}

/// One line's decision as posted.
struct Posting {
    index: usize,
    decision: Decision,
}

/// Reads the decisions of the lines that wait for one; the errors name their fields.
fn read(
    projections: &Projections,
    session: &SessionRow,
    posted: &Posted,
) -> Result<Vec<Posting>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut postings = Vec::new();
    for (index, line) in session.agenda.iter().enumerate() {
        if !waiting(projections, line) {
            continue;
        }
        let choice_field = format!("decision_{index}");
        let amount_field = format!("montant_{index}");
        let decision = match posted.get(&choice_field) {
            "accorde" => match parse_amount_fr(posted.get(&amount_field)) {
                Ok(amount) if amount.is_zero() => {
                    errors.push(
                        &amount_field,
                        "Un montant accordé est supérieur à zéro : sinon, choisissez « Refusé ».",
                    );
                    None
                }
                Ok(amount) => granted(projections, line, index, amount, posted, &mut errors),
                Err(message) => {
                    errors.push(&amount_field, message);
                    None
                }
            },
            "refuse" => Some(Decision::Refused),
            "ajourne" => Some(Decision::Adjourned),
            _ => {
                errors.push(
                    &choice_field,
                    "Choisissez la décision du comité pour cette ligne : accordé, refusé ou ajourné.",
                );
                None
            }
        };
        if let Some(decision) = decision {
            postings.push(Posting { index, decision });
        }
    }
    if errors.is_empty() {
        check_envelopes(projections, session, &postings, &mut errors);
    }
    if errors.is_empty() {
        Ok(postings)
    } else {
        Err(errors)
    }
}

/// A grant of `amount` on line `index`: above the amount asked, only with the reason of the
/// majoration (the dossier's rule, said on the line before anything is sent); a reason with no
/// excess is named too.
fn granted(
    projections: &Projections,
    line: &AgendaLine,
    index: usize,
    amount: Amount,
    posted: &Posted,
    errors: &mut FieldErrors,
) -> Option<Decision> {
    let requested = requested_of(projections, line);
    let reason_field = format!("majoration_{index}");
    let reason = posted.get(&reason_field).trim().to_string();
    match (amount > requested, reason.is_empty()) {
        (true, true) => {
            errors.push(
                format!("montant_{index}"),
                format!(
                    "Le montant accordé ({}) dépasse le montant demandé ({}) : accordez au plus le montant demandé, ou indiquez le motif de la majoration.",
                    format_eur(amount),
                    format_eur(requested)
                ),
            );
            None
        }
        (false, false) => {
            errors.push(
                reason_field,
                format!(
                    "Un motif de majoration ne vaut que si le montant accordé dépasse le montant demandé ({}) : effacez-le.",
                    format_eur(requested)
                ),
            );
            None
        }
        (excess, _) => Some(Decision::Granted {
            amount,
            majoration_reason: excess.then_some(reason),
        }),
    }
}

/// Every grant against what is left on its envelope, the session's lines taken in order: a line
/// above what the lines before it left is named, with what is left, and nothing is recorded.
fn check_envelopes(
    projections: &Projections,
    session: &SessionRow,
    postings: &[Posting],
    errors: &mut FieldErrors,
) {
    let mut left: BTreeMap<EnvelopeKey, Option<Amount>> = BTreeMap::new();
    for posting in postings {
        let Decision::Granted { amount, .. } = posting.decision else {
            continue;
        };
        let line = &session.agenda[posting.index];
        let key = envelope_of(session, line);
        let remaining = left
            .entry(key.clone())
            .or_insert_with(|| envelope_left(projections, &key));
        let field = format!("montant_{}", posting.index);
        match remaining {
            None => errors.push(
                field,
                format!(
                    "Aucune enveloppe n'est ouverte pour {} : ouvrez-la avant d'accorder.",
                    envelope_label(projections, &key)
                ),
            ),
            Some(rest) if amount > *rest => errors.push(
                field,
                format!(
                    "Au-delà de l'enveloppe {} {} : il reste {} après les lignes précédentes, pour {} accordés. Réduisez le montant ou faites augmenter l'enveloppe.",
                    dispositif_short(projections, &key.dispositif),
                    key.exercice,
                    format_eur(*rest),
                    format_eur(amount)
                ),
            ),
            Some(rest) => *rest = rest.saturating_sub(amount),
        }
    }
}

/// The commands of the session: one decision per line waiting for one, then the session held;
/// each carries the session as its act.
fn commands(
    session: &SessionRow,
    postings: Vec<Posting>,
    posted: &Posted,
    command_id: Uuid,
) -> Vec<(LedgerCommand, CommandMeta)> {
    let act = ActRef {
        kind: ActKind::Comite,
        reference: session.reference.clone(),
        date: Some(session.held_on),
    };
    let meta = |id: Option<Uuid>| CommandMeta {
        command_id: id,
        act: Some(act.clone()),
        ..CommandMeta::default()
    };
    let mut commands: Vec<(LedgerCommand, CommandMeta)> = postings
        .into_iter()
        .map(|posting| {
            let line = &session.agenda[posting.index];
            let id = posted
                .get(&format!("command_id_{}", posting.index))
                .parse()
                .ok();
            (
                LedgerCommand::Dossier(DossierCommand::Decide {
                    dossier_id: line.dossier_id,
                    financeur: line.financeur.clone(),
                    dispositif: Some(line.dispositif.clone()),
                    decision: posting.decision,
                    comite: session.reference.clone(),
                    decided_on: session.held_on,
                }),
                meta(id),
            )
        })
        .collect();
    commands.push((
        LedgerCommand::Comite(ComiteCommand::Hold {
            session_id: session.session_id,
            decided_on: session.held_on,
        }),
        meta(Some(command_id)),
    ));
    commands
}

/// Records every decision of the session and the session held, all or nothing, then shows its
/// procès-verbal (303). On error (a value, a line above its envelope, a refusal), the form again
/// with the errors on their lines, and nothing recorded.
#[utoipa::path(post, path = "/comite/{session_id}/decisions", tag = "pages",
    params(("session_id" = String, Path, description = "The session's id (UUID)")),
    request_body(content = String, description = "The form's fields (see docs/http.md)", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Recorded (or already recorded under these command ids): to the session's page"),
        (status = 403, description = "Wrong CSRF token, or a role that may not record a session's decisions", content_type = "text/html"),
        (status = 422, description = "A value is wrong or a line is above its envelope: the form shown again with the errors", content_type = "text/html")))]
pub async fn decide(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    form: SessionForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let SessionForm { caller, fields, .. } = form;
    if !role_may_send(caller.0.role, HOLD) {
        return Err(forbidden_form(&caller, HOLD));
    }
    let id = session_id_of(&session_id)?;
    let posted = Posted(fields);
    let command_id = posted_command_id(posted.get("command_id"))?;
    let planned = {
        let projections = state.ledger.projections().await?;
        let session = session_of(&projections, id)?;
        if session.held.is_some() {
            // Already recorded (a double submit lands here): its procès-verbal.
            return Ok(Redirect::to(&format!("/comite/{id}")).into_response());
        }
        read(&projections, session, &posted).map(|postings| {
            (
                postings.len(),
                commands(session, postings, &posted, command_id),
            )
        })
    };
    let errors = match planned {
        Err(errors) => errors,
        Ok((decisions, commands)) => {
            let recorded = state
                .ledger
                .execute_atomic_as(&caller.0, commands, &page_defaults(&caller))
                .await;
            match recorded {
                Ok(_) => return Ok(Redirect::to(&format!("/comite/{id}")).into_response()),
                Err((index, error)) => refusal(&state, id, index, decisions, &error)
                    .await
                    .ok_or(error)?,
            }
        }
    };
    let page = session_page(&state, &caller, id, Some((&posted, &errors))).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// A refusal of the atomic group, under the line whose decision was refused (`index` among the
/// decisions), else at the top; `None` for a failure of the store.
async fn refusal(
    state: &AppState,
    id: ComiteSessionId,
    index: usize,
    decisions: usize,
    error: &CommandError,
) -> Option<FieldErrors> {
    let (_, text) = refusal_fr(error)?;
    let message = error.to_string();
    let text = if message.contains("above the envelope") {
        "Au-delà de l'enveloppe du financeur : réduisez le montant, ou faites augmenter l'enveloppe.".to_string()
    } else {
        text
    };
    let mut errors = FieldErrors::default();
    let line = if index < decisions {
        let projections = state.ledger.projections().await.ok()?;
        let session = projections.comite.sessions.get(&id)?;
        // The index-th line that waited for a decision.
        session
            .agenda
            .iter()
            .enumerate()
            .filter(|(_, line)| waiting(&projections, line))
            .nth(index)
            .map(|(i, _)| i)
    } else {
        None
    };
    match line {
        Some(i) => errors.push(format!("montant_{i}"), text),
        None => errors.push("command_id", text),
    }
    Some(errors)
}
