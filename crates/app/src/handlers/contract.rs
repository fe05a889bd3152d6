//! Contract commands: publication of the referential and avenants.

use engagements_domain::referential::{contract_stream_id, Contract, ContractCommand};

use super::refs;
use super::Context;
use crate::error::CommandError;
use crate::states::{decide, Plan};

pub(crate) async fn plan(
    ctx: &Context<'_, '_>,
    command: ContractCommand,
) -> Result<Plan, CommandError> {
    let published = ctx.projections.referential.contract().map(|c| c.id.clone());
    let contract_id = match (&command, published) {
        (ContractCommand::Publish { referential, .. }, Some(held))
            if held != referential.contract.id =>
        {
            return Err(CommandError::Rejected(format!(
                "this ledger holds contract '{held}'; a ledger holds one contract: open another database for '{}'",
                referential.contract.id
            )));
        }
        (ContractCommand::Publish { referential, .. }, _) => referential.contract.id.clone(),
        (_, Some(held)) => held,
        (_, None) => {
            return Err(CommandError::Rejected(
                "no contract is published in this ledger: run `engagements init` before an avenant"
                    .to_string(),
            ))
        }
    };
    check_references(ctx, &command)?;
    decide::<Contract>(ctx.states, contract_stream_id(&contract_id), command).await
}

/// The references an avenant makes must exist (the aggregate checks the rest).
fn check_references(ctx: &Context<'_, '_>, command: &ContractCommand) -> Result<(), CommandError> {
    match command {
        // The aggregate checks the body against the referential's governance bodies.
        ContractCommand::Publish { .. } | ContractCommand::RecordGovernanceMeeting { .. } => {}
        ContractCommand::AddQuartier { quartier, .. } => {
            for commune in &quartier.communes {
                refs::require_commune(ctx, commune)?;
            }
        }
        ContractCommand::AddCommune { commune, .. } => {
            if let Some(organisation) = &commune.organisation {
                refs::require_organisation(ctx, organisation)?;
            }
            for quartier in &commune.quartiers {
                refs::require_quartier(ctx, quartier)?;
            }
        }
        ContractCommand::ChangeQuartierPopulation { quartier, .. } => {
            refs::require_quartier(ctx, quartier)?;
        }
        ContractCommand::RenameObjectif { objectif, .. } => {
            refs::require_objectif(ctx, *objectif)?;
        }
        ContractCommand::AddSignatory {
            organisation,
            representative,
            ..
        } => {
            for other in representative.iter().flat_map(|r| &r.organisations) {
                if *other != organisation.id {
                    refs::require_organisation(ctx, other)?;
                }
            }
        }
    }
    Ok(())
}
