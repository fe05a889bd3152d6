//! One module per command family: each checks the command's references against the read model,
//! then lets its aggregate decide. Nothing here writes: handlers return a [`Plan`].

mod comite;
mod commitment;
mod contract;
mod cpo;
mod dossier;
mod envelope;
mod porteur;
mod publication;
pub(crate) mod refs;
mod tfpb;

pub(crate) use commitment::written_for;

use engagements_domain::LedgerCommand;
use engagements_projections::Projections;

use crate::auth::Principal;
use crate::error::CommandError;
use crate::states::{Plan, StateView};

/// What a handler sees: the read model (for references and cross-aggregate rules), states, and
/// who sends the command (already authorised: some facts follow from the sender's role).
pub(crate) struct Context<'a, 'b> {
    pub(crate) projections: &'a Projections,
    pub(crate) states: &'a StateView<'b>,
    pub(crate) principal: &'a Principal,
}

/// Routes a command to its family's handler.
pub(crate) async fn plan(
    ctx: &Context<'_, '_>,
    command: LedgerCommand,
) -> Result<Plan, CommandError> {
    match command {
        LedgerCommand::Porteur(command) => porteur::plan(ctx, command).await,
        LedgerCommand::Dossier(command) => dossier::plan(ctx, command).await,
        LedgerCommand::Envelope(command) => envelope::plan(ctx, command).await,
        LedgerCommand::Cpo(command) => cpo::plan(ctx, command).await,
        LedgerCommand::Contract(command) => contract::plan(ctx, command).await,
        LedgerCommand::Commitment(command) => commitment::plan(ctx, command).await,
        LedgerCommand::Contribution(command) => commitment::plan_contribution(ctx, command).await,
        LedgerCommand::Indicator(command) => commitment::plan_indicator(ctx, command).await,
        LedgerCommand::TfpbConvention(command) => tfpb::plan_convention(ctx, command).await,
        LedgerCommand::TfpbProgramme(command) => tfpb::plan_programme(ctx, command).await,
        LedgerCommand::Publication(command) => publication::plan(ctx, command).await,
        LedgerCommand::Comite(command) => comite::plan(ctx, command).await,
    }
}
