//! CPO commands: the porteur, financeurs and dispositifs must exist; a confirmation names a
//! dossier of the same porteur and the same exercice, not withdrawn.

use engagements_domain::cpo::{Cpo, CpoCommand, CpoLine};

use super::refs::{require_dispositif, require_organisation};
use super::Context;
use crate::error::CommandError;
use crate::states::{decide, Plan};

pub(crate) async fn plan(ctx: &Context<'_, '_>, command: CpoCommand) -> Result<Plan, CommandError> {
    let stream_id = command.cpo_id().stream_id();
    match &command {
        CpoCommand::Sign {
            porteur_id,
            schedule,
            ..
        } => {
            if ctx.projections.porteurs.get(porteur_id).is_none() {
                return Err(CommandError::unknown("porteur", porteur_id.to_string()));
            }
            for line in schedule {
                check_line(ctx, line)?;
            }
        }
        CpoCommand::Revise { line, .. } => check_line(ctx, line)?,
        CpoCommand::ConfirmYear {
            exercice,
            dossier_id,
            ..
        } => {
            let (_, cpo) = ctx.states.load::<Cpo>(&stream_id).await?;
            let dossier = ctx
                .projections
                .subsidy
                .dossier(dossier_id)
                .ok_or_else(|| CommandError::unknown("dossier", dossier_id.to_string()))?;
            let filing = dossier
                .live_filing(*dossier_id)
                .map_err(CommandError::rejected)?;
            if let Some(porteur_id) = cpo.porteur_id {
                if filing.porteur_id != porteur_id || filing.exercice != *exercice {
                    return Err(CommandError::Rejected(format!(
                        "dossier {dossier_id} is porteur {}'s for {}, not porteur {porteur_id}'s for {exercice}: confirm the CPO year with the porteur's dossier of that year",
                        filing.porteur_id, filing.exercice
                    )));
                }
            }
        }
        CpoCommand::Terminate { .. } => {}
    }
    decide::<Cpo>(ctx.states, stream_id, command).await
}

fn check_line(ctx: &Context<'_, '_>, line: &CpoLine) -> Result<(), CommandError> {
    require_organisation(ctx, &line.financeur)?;
    require_dispositif(ctx, &line.dispositif)?;
    Ok(())
}
