//! TFPB commands: conventions and programmes. The references (bailleur, QPV, axis, signatories,
//! reviewer) are checked against the referential here; the rules of each fact are the
//! aggregates'.

use engagements_domain::referential::{OrganisationKind, QuartierKind};
use engagements_domain::tfpb::{
    TfpbConvention, TfpbConventionCommand, TfpbProgramme, TfpbProgrammeCommand, TfpbReviewer,
};

use super::refs::{require_organisation, require_quartier, require_tfpb_axis};
use super::Context;
use crate::auth::Role;
use crate::error::CommandError;
use crate::states::{decide, decide_all, Plan};

pub(crate) async fn plan_convention(
    ctx: &Context<'_, '_>,
    command: TfpbConventionCommand,
) -> Result<Plan, CommandError> {
    match &command {
        TfpbConventionCommand::Sign {
            bailleur,
            quartiers,
            signatories,
            ..
        } => {
            require_bailleur(ctx, bailleur)?;
            for quartier in quartiers {
                require_qpv(ctx, quartier)?;
            }
            require_signatories(ctx, signatories)?;
        }
        TfpbConventionCommand::Amend {
            quartiers,
            signatories,
            ..
        } => {
            for quartier in quartiers.iter().flatten() {
                require_qpv(ctx, quartier)?;
            }
            if let Some(signatories) = signatories {
                require_signatories(ctx, signatories)?;
            }
        }
        TfpbConventionCommand::Terminate { .. } => {}
    }
    let stream_id = command.convention_id().stream_id();
    decide::<TfpbConvention>(ctx.states, stream_id, command).await
}

pub(crate) async fn plan_programme(
    ctx: &Context<'_, '_>,
    command: TfpbProgrammeCommand,
) -> Result<Plan, CommandError> {
    let key = command.programme();
    require_bailleur(ctx, &key.bailleur)?;
    require_qpv(ctx, &key.quartier)?;
    if let Some(action) = command.planned_action() {
        require_tfpb_axis(ctx, &action.axis)?;
        for share in &action.shares {
            require_bailleur(ctx, &share.bailleur)?;
        }
    }
    if let TfpbProgrammeCommand::ConfirmShare { bailleur, .. } = &command {
        require_bailleur(ctx, bailleur)?;
    }
    match &command {
        TfpbProgrammeCommand::AcceptBilan {
            reviewer,
            reviewer_kind,
            ..
        }
        | TfpbProgrammeCommand::RemarkBilan {
            reviewer,
            reviewer_kind,
            ..
        } => require_reviewer(ctx, reviewer, *reviewer_kind)?,
        _ => {}
    }
    let stream_id = key.stream_id();
    let mut commands = vec![command.clone()];
    commands.extend(admin_confirmations(ctx, &command));
    decide_all::<TfpbProgramme>(ctx.states, stream_id, commands).await
}

/// An action an admin plans with other bailleurs' shares counts for them at once: the admin's
/// word stands for theirs, recorded as their confirmations in the same command. A bailleur's own
/// plan waits for each other bailleur's `confirm_tfpb_share`.
fn admin_confirmations(
    ctx: &Context<'_, '_>,
    command: &TfpbProgrammeCommand,
) -> Vec<TfpbProgrammeCommand> {
    let (Role::Admin, Some(action)) = (ctx.principal.role, command.planned_action()) else {
        return Vec::new();
    };
    let programme = command.programme();
    action
        .shares
        .iter()
        .filter(|share| share.bailleur != programme.bailleur)
        .map(|share| TfpbProgrammeCommand::ConfirmShare {
            programme: programme.clone(),
            action_id: action.action_id,
            bailleur: share.bailleur.clone(),
        })
        .collect()
}

/// An organisation of the referential whose kind is `bailleur`.
fn require_bailleur(ctx: &Context<'_, '_>, id: &str) -> Result<(), CommandError> {
    let organisation = require_organisation(ctx, id)?;
    if organisation.kind != OrganisationKind::Bailleur {
        return Err(CommandError::Rejected(format!(
            "'{id}' ({}) is not a bailleur: TFPB facts belong to social landlords",
            organisation.name
        )));
    }
    Ok(())
}

/// A quartier of the referential that is a QPV: the abatement applies only in QPV (art. 1388
/// bis CGI), not in the quartiers d'intérêt communautaire.
fn require_qpv(ctx: &Context<'_, '_>, id: &str) -> Result<(), CommandError> {
    let quartier = require_quartier(ctx, id)?;
    if quartier.kind != QuartierKind::Qpv {
        return Err(CommandError::Rejected(format!(
            "'{id}' ({}) is a QIC: the TFPB abatement applies only in QPV",
            quartier.name
        )));
    }
    if quartier.id != id {
        return Err(CommandError::Rejected(format!(
            "write the quartier as '{}', not '{id}'",
            quartier.id
        )));
    }
    Ok(())
}

/// The convention is signed with the State, the EPCI and at least one commune (l.1062-1070).
fn require_signatories(ctx: &Context<'_, '_>, signatories: &[String]) -> Result<(), CommandError> {
    let mut kinds = Vec::with_capacity(signatories.len());
    for id in signatories {
        kinds.push(require_organisation(ctx, id)?.kind);
    }
    for (kind, who) in [
        (OrganisationKind::Etat, "the State"),
        (OrganisationKind::Epci, "the EPCI"),
        (OrganisationKind::Commune, "a commune"),
    ] {
        if !kinds.contains(&kind) {
            return Err(CommandError::Rejected(format!(
                "a TFPB convention is signed with the State, the EPCI and the commune(s): {who} is missing from the signatories"
            )));
        }
    }
    Ok(())
}

/// The reviewer is the State (for a State review) or the EPCI (for an EPCI review).
fn require_reviewer(
    ctx: &Context<'_, '_>,
    reviewer: &str,
    kind: TfpbReviewer,
) -> Result<(), CommandError> {
    let organisation = require_organisation(ctx, reviewer)?;
    let expected = match kind {
        TfpbReviewer::State => OrganisationKind::Etat,
        TfpbReviewer::Epci => OrganisationKind::Epci,
    };
    if organisation.kind != expected {
        return Err(CommandError::Rejected(format!(
            "'{reviewer}' ({}) cannot review a bilan as {kind:?}: only the State and the EPCI review TFPB bilans",
            organisation.name
        )));
    }
    Ok(())
}
