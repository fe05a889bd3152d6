//! TFPB commands: conventions and programmes. The references (bailleur, QPV, axis, signatories,
//! reviewer) are checked against the referential here; the rules of each fact are the
//! aggregates'.

use engagements_domain::referential::{OrganisationKind, QuartierKind};
use engagements_domain::tfpb::{
    TfpbConvention, TfpbConventionCommand, TfpbProgramme, TfpbProgrammeCommand, TfpbReviewer,
};

use engagements_domain::LedgerCommand;
use engagements_projections::Projections;

use super::refs::{require_organisation, require_quartier, require_tfpb_axis};
use super::Context;
use crate::auth::{Principal, Role};
use crate::error::CommandError;
use crate::states::{decide, Plan};

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
    decide::<TfpbProgramme>(ctx.states, stream_id, command).await
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

/// Who may record a TFPB fact, beyond the role's own limits:
/// - a bailleur records only its own facts: conventions and programmes whose bailleur is its
///   organisation; it never reviews a bilan;
/// - an instructeur (State or EPCI staff) reviews bilans in the name of its own organisation only,
///   and records conventions its organisation signs; it records no bailleur's programme.
pub(crate) fn authorize(
    principal: &Principal,
    command: &LedgerCommand,
    projections: &Projections,
) -> Result<(), CommandError> {
    let organisation = principal.organisation.as_str();
    let forbid = |what: String| Err(CommandError::Forbidden(what));
    match (principal.role, command) {
        (Role::Bailleur, LedgerCommand::TfpbConvention(command)) => {
            let bailleur = match command {
                TfpbConventionCommand::Sign { bailleur, .. } => Some(bailleur.as_str()),
                other => projections.tfpb.convention_bailleur(&other.convention_id()),
            };
            match bailleur {
                Some(bailleur) if bailleur != organisation => forbid(format!(
                    "bailleur '{organisation}' cannot record a TFPB convention of '{bailleur}'"
                )),
                _ => Ok(()),
            }
        }
        (Role::Bailleur, LedgerCommand::TfpbProgramme(command)) => {
            let key = command.programme();
            if key.bailleur != organisation {
                forbid(format!(
                    "bailleur '{organisation}' cannot record TFPB facts of '{}'",
                    key.bailleur
                ))
            } else if command.is_review() {
                forbid(format!(
                    "bailleur '{organisation}' cannot review its own bilan: the State and the EPCI do"
                ))
            } else {
                Ok(())
            }
        }
        (Role::Instructeur, LedgerCommand::TfpbProgramme(command)) => match command {
            TfpbProgrammeCommand::AcceptBilan { reviewer, .. }
            | TfpbProgrammeCommand::RemarkBilan { reviewer, .. } => {
                if reviewer == organisation {
                    Ok(())
                } else {
                    forbid(format!(
                        "an instructeur of '{organisation}' cannot review in the name of '{reviewer}'"
                    ))
                }
            }
            _ => forbid(format!(
                "an instructeur of '{organisation}' cannot record a bailleur's TFPB facts"
            )),
        },
        (Role::Instructeur, LedgerCommand::TfpbConvention(command)) => {
            let signatory = match command {
                TfpbConventionCommand::Sign { signatories, .. } => {
                    signatories.iter().any(|s| s == organisation)
                }
                other => projections
                    .tfpb
                    .conventions
                    .get(&other.convention_id())
                    .is_none_or(|t| t.signatories.iter().any(|s| s == organisation)),
            };
            if signatory {
                Ok(())
            } else {
                forbid(format!(
                    "an instructeur of '{organisation}' records only conventions its organisation signs"
                ))
            }
        }
        _ => Ok(()),
    }
}
