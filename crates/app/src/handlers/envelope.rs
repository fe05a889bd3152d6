//! Envelope commands: the financeur and the dispositif must exist in the referential.

use engagements_domain::envelope::{Envelope, EnvelopeCommand, EnvelopeOperation};

use super::refs::{require_dispositif, require_organisation};
use super::Context;
use crate::error::CommandError;
use crate::states::{decide, Plan};

pub(crate) async fn plan(
    ctx: &Context<'_, '_>,
    command: EnvelopeCommand,
) -> Result<Plan, CommandError> {
    let key = command.key();
    require_organisation(ctx, &key.financeur)?;
    require_dispositif(ctx, &key.dispositif)?;
    key.check().map_err(CommandError::rejected)?;
    decide::<Envelope>(
        ctx.states,
        key.stream_id(),
        EnvelopeOperation::Command(command),
    )
    .await
}
