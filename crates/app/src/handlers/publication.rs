//! Publication commands: the financeur must exist, and every dossier named must ask it.

use engagements_domain::publication::{Publication, PublicationCommand};

use super::refs;
use super::Context;
use crate::error::CommandError;
use crate::states::{decide, Plan};

pub(crate) async fn plan(
    ctx: &Context<'_, '_>,
    command: PublicationCommand,
) -> Result<Plan, CommandError> {
    let attribuant = command.attribuant();
    refs::require_organisation(ctx, attribuant)?;
    let PublicationCommand::Record { dossiers, .. } = &command;
    for dossier_id in dossiers {
        let Some(dossier) = ctx.projections.subsidy.dossiers.get(dossier_id) else {
            return Err(CommandError::unknown("dossier", dossier_id.to_string()));
        };
        if !dossier
            .lines
            .keys()
            .any(|(financeur, _)| financeur == attribuant)
        {
            return Err(CommandError::Rejected(format!(
                "dossier {dossier_id} asks nothing of '{attribuant}': a publication of '{attribuant}' lists only its own grants"
            )));
        }
    }
    decide::<Publication>(ctx.states, command.stream_id(), command).await
}
