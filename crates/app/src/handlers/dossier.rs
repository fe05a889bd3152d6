//! Dossier commands.

use engagements_domain::dossier::{Dossier, DossierCommand};

use super::Context;
use crate::error::CommandError;
use crate::states::{decide, Plan};

pub(crate) async fn plan(
    ctx: &Context<'_, '_>,
    command: DossierCommand,
) -> Result<Plan, CommandError> {
    let dossier_id = match &command {
        DossierCommand::File {
            dossier_id,
            porteur_id,
            ..
        } => {
            if ctx.projections.porteurs.get(porteur_id).is_none() {
                return Err(CommandError::unknown("porteur", porteur_id.to_string()));
            }
            *dossier_id
        }
        DossierCommand::Decide { dossier_id, .. } => *dossier_id,
    };
    decide::<Dossier>(ctx.states, dossier_id.stream_id(), command).await
}
