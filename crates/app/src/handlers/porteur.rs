//! Porteur commands.

use engagements_domain::porteur::{Porteur, PorteurCommand};

use super::Context;
use crate::error::CommandError;
use crate::states::{decide, Plan};

pub(crate) async fn plan(
    ctx: &Context<'_, '_>,
    command: PorteurCommand,
) -> Result<Plan, CommandError> {
    let porteur_id = match &command {
        PorteurCommand::Register { porteur_id, .. }
        | PorteurCommand::SignContratEngagementRepublicain { porteur_id, .. } => *porteur_id,
    };
    decide::<Porteur>(ctx.states, porteur_id.stream_id(), command).await
}
