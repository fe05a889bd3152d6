//! Sessions of the comité des financeurs: what spans other streams is checked here against the
//! read model, then the session decides.
//!
//! - **Prepare**: the reference names no other session; each agenda line is an open line (asked
//!   or adjourned) of a live dossier of the session's exercice, on no other session not yet held.
//! - **Hold**: sent after the session's `decide_subsidy` commands in one atomic group (their
//!   staged events are in the read model the group is planned against); every line of the
//!   agenda is decided under the session's reference, unless it no longer waits for a decision
//!   (its dossier withdrawn, or its line decided for good since the session was prepared).
//!
//! A decision that names a session's reference as its `comite` is checked by
//! [`check_decision_of_session`]: the line is on the agenda, the session not yet held, and the
//! decision dated the session's day. So a procès-verbal lists exactly the session's decisions.

use engagements_domain::comite::{AgendaLine, ComiteCommand, ComiteSession};
use engagements_domain::dossier::{DossierState, LineStatus};
use engagements_domain::DossierId;

use super::Context;
use crate::error::CommandError;
use crate::states::{decide, Plan};

pub(crate) async fn plan(
    ctx: &Context<'_, '_>,
    command: ComiteCommand,
) -> Result<Plan, CommandError> {
    let session_id = command.session_id();
    match &command {
        ComiteCommand::Prepare {
            reference,
            exercice,
            agenda,
            ..
        } => {
            if let Some(other) = ctx.projections.comite.by_reference(reference.trim()) {
                if other.session_id != session_id {
                    return Err(CommandError::Rejected(format!(
                        "the reference {} already names the session of {}: give this session its own",
                        other.reference, other.held_on
                    )));
                }
            }
            for line in agenda {
                check_agenda_line(ctx, *exercice, line)?;
            }
        }
        ComiteCommand::Hold { .. } => check_every_line_decided(ctx, session_id)?,
    }
    decide::<ComiteSession>(ctx.states, session_id.stream_id(), command).await
}

/// The dossier of a line, filed and not withdrawn.
fn live_dossier<'a>(
    ctx: &Context<'a, '_>,
    dossier_id: DossierId,
) -> Result<&'a DossierState, CommandError> {
    let dossier = ctx
        .projections
        .subsidy
        .dossier(&dossier_id)
        .ok_or_else(|| CommandError::unknown("dossier", dossier_id.to_string()))?;
    dossier
        .live_filing(dossier_id)
        .map_err(CommandError::rejected)?;
    Ok(dossier)
}

fn check_agenda_line(
    ctx: &Context<'_, '_>,
    exercice: i32,
    line: &AgendaLine,
) -> Result<(), CommandError> {
    let dossier = live_dossier(ctx, line.dossier_id)?;
    let filing = dossier
        .live_filing(line.dossier_id)
        .map_err(CommandError::rejected)?;
    if filing.exercice != exercice {
        return Err(CommandError::Rejected(format!(
            "dossier {} is of exercice {}, the session decides {exercice}",
            line.dossier_id, filing.exercice
        )));
    }
    let key = (line.financeur.clone(), line.dispositif.clone());
    let Some(funding) = dossier.lines.get(&key) else {
        return Err(CommandError::Rejected(format!(
            "financeur '{}' was not asked for anything under '{}' in dossier {}",
            line.financeur, line.dispositif, line.dossier_id
        )));
    };
    if !matches!(
        funding.status,
        LineStatus::Requested | LineStatus::Adjourned
    ) {
        return Err(CommandError::Rejected(format!(
            "the line of '{}' under '{}' in dossier {} is already decided ({}): it cannot go before the comité again",
            line.financeur,
            line.dispositif,
            line.dossier_id,
            funding.status.as_str()
        )));
    }
    let open = ctx
        .projections
        .comite
        .open_sessions_with(line.dossier_id, &line.financeur, &line.dispositif)
        .next();
    if let Some(other) = open {
        return Err(CommandError::Rejected(format!(
            "the line of '{}' under '{}' in dossier {} is already on the agenda of session {} (not yet held)",
            line.financeur, line.dispositif, line.dossier_id, other.reference
        )));
    }
    Ok(())
}

fn check_every_line_decided(
    ctx: &Context<'_, '_>,
    session_id: engagements_domain::comite::ComiteSessionId,
) -> Result<(), CommandError> {
    let Some(session) = ctx.projections.comite.sessions.get(&session_id) else {
        return Ok(()); // the session refuses it: not prepared
    };
    for line in &session.agenda {
        if session.decision(line).is_some() {
            continue;
        }
        let waiting = ctx
            .projections
            .subsidy
            .dossier(&line.dossier_id)
            .filter(|d| !d.withdrawn)
            .and_then(|d| {
                d.lines
                    .get(&(line.financeur.clone(), line.dispositif.clone()))
            })
            .is_some_and(|l| matches!(l.status, LineStatus::Requested | LineStatus::Adjourned));
        if waiting {
            return Err(CommandError::Rejected(format!(
                "the line of '{}' under '{}' in dossier {} has no decision of session {}: decide every line of the agenda with the session",
                line.financeur, line.dispositif, line.dossier_id, session.reference
            )));
        }
    }
    Ok(())
}

/// A decision naming a session's reference as its comité must be one of that session's: its line
/// on the agenda, the session not held yet, the decision dated the session's day. A reference
/// that names no session (a comité recorded before sessions were kept) passes.
pub(crate) fn check_decision_of_session(
    ctx: &Context<'_, '_>,
    dossier_id: DossierId,
    financeur: &str,
    dispositif: Option<&str>,
    comite: &str,
    decided_on: chrono::NaiveDate,
) -> Result<(), CommandError> {
    let Some(session) = ctx.projections.comite.by_reference(comite.trim()) else {
        return Ok(());
    };
    if session.held.is_some() {
        return Err(CommandError::Rejected(format!(
            "session {} is held: its decisions are recorded, a later one needs another session or a change of the grant",
            session.reference
        )));
    }
    let on_agenda = session.agenda.iter().any(|l| {
        l.dossier_id == dossier_id
            && l.financeur == financeur
            && dispositif.is_none_or(|d| d == l.dispositif)
    });
    if !on_agenda {
        return Err(CommandError::Rejected(format!(
            "the line of '{financeur}' in dossier {dossier_id} is not on the agenda of session {}",
            session.reference
        )));
    }
    if decided_on != session.held_on {
        return Err(CommandError::Rejected(format!(
            "session {} sits on {}: its decisions are dated that day, not {decided_on}",
            session.reference, session.held_on
        )));
    }
    Ok(())
}
