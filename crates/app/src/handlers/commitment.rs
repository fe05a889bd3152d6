//! Droit-commun commitments, partners' pending contributions and indicators: references are
//! checked against the contract's referential, then each aggregate decides.

use engagements_domain::commitment::contribution::{self, Contribution, ContributionCommand};
use engagements_domain::commitment::indicator::{Indicator, IndicatorCommand, IndicatorSubject};
use engagements_domain::commitment::{Commitment, CommitmentCommand, CommitmentTerms, Scope};
use engagements_domain::LedgerCommand;
use engagements_projections::Projections;

use super::refs::{require_objectif, require_organisation, require_quartier, unknown};
use super::Context;
use crate::error::CommandError;
use crate::states::{decide, Plan};

/// Plans a commitment command.
pub(crate) async fn plan(
    ctx: &Context<'_, '_>,
    command: CommitmentCommand,
) -> Result<Plan, CommandError> {
    match &command {
        CommitmentCommand::Pledge {
            signatory, terms, ..
        } => {
            require_organisation(ctx, signatory)?;
            check_references(ctx, terms)?;
        }
        CommitmentCommand::Revise { terms, .. } => check_references(ctx, terms)?,
        _ => {}
    }
    let stream_id = command.commitment_id().stream_id();
    decide::<Commitment>(ctx.states, stream_id, command).await
}

/// Plans a contribution command (a partner « En attente »).
pub(crate) async fn plan_contribution(
    ctx: &Context<'_, '_>,
    command: ContributionCommand,
) -> Result<Plan, CommandError> {
    require_organisation(ctx, command.signatory())?;
    let stream_id = contribution::stream_id(command.signatory());
    decide::<Contribution>(ctx.states, stream_id, command).await
}

/// Plans an indicator command: an indicator is defined on a commitment that exists, or on an
/// objectif of the contract.
pub(crate) async fn plan_indicator(
    ctx: &Context<'_, '_>,
    command: IndicatorCommand,
) -> Result<Plan, CommandError> {
    if let IndicatorCommand::Define { subject, .. } = &command {
        match subject {
            IndicatorSubject::Commitment { commitment_id } => {
                let commitments = &ctx.projections.commitments;
                if commitments.get(commitment_id).is_none() {
                    return Err(unknown(
                        "commitment",
                        commitment_id.as_str(),
                        commitments.commitments.keys().map(|id| id.as_str()),
                    ));
                }
            }
            IndicatorSubject::Objectif { objectif } => {
                require_objectif(ctx, u32::from(*objectif))?;
            }
        }
    }
    let stream_id = command.indicator_id().stream_id();
    decide::<Indicator>(ctx.states, stream_id, command).await
}

/// Every enjeu, ambition, objectif and quartier the terms name exists in the referential; a
/// quartier scope names a quartier. A commune scope's `scope_ref` stays free text: the annex
/// names places as it pleases (« Bruay-la-Buissière; Béthune »), and it is kept as written.
fn check_references(ctx: &Context<'_, '_>, terms: &CommitmentTerms) -> Result<(), CommandError> {
    let referential = &ctx.projections.referential;
    for enjeu in &terms.enjeux {
        if referential.enjeu(enjeu).is_none() {
            return Err(unknown(
                "enjeu",
                enjeu,
                referential.enjeux().map(|e| e.id.as_str()),
            ));
        }
    }
    for ambition in &terms.ambitions {
        if referential.ambition(ambition).is_none() {
            return Err(unknown(
                "ambition",
                ambition,
                referential.ambitions().map(|a| a.id.as_str()),
            ));
        }
    }
    for objectif in &terms.objectifs {
        require_objectif(ctx, u32::from(*objectif))?;
    }
    for quartier in &terms.quartiers {
        require_quartier(ctx, quartier)?;
    }
    for carrier in &terms.carriers {
        super::refs::require_organisation(ctx, &carrier.signatory)?;
    }
    if terms.scope == Scope::Quartier {
        if let Some(scope_ref) = &terms.scope_ref {
            require_quartier(ctx, scope_ref)?;
        }
    }
    Ok(())
}

/// The organisation a commitment-family command writes for: the signatory of the commitment
/// (or of the commitment an indicator measures), or whoever defined an objectif's indicator.
/// `None` when the command names something the ledger does not know (the handler refuses it).
pub(crate) fn written_for(command: &LedgerCommand, projections: &Projections) -> Option<String> {
    let view = &projections.commitments;
    let signatory_of = |id| view.get(id).map(|c| c.signatory.clone());
    match command {
        LedgerCommand::Commitment(CommitmentCommand::Pledge { signatory, .. }) => {
            Some(signatory.clone())
        }
        LedgerCommand::Commitment(other) => signatory_of(other.commitment_id()),
        LedgerCommand::Contribution(command) => Some(command.signatory().to_string()),
        LedgerCommand::Indicator(IndicatorCommand::Define { subject, .. }) => match subject {
            IndicatorSubject::Commitment { commitment_id } => signatory_of(commitment_id),
            IndicatorSubject::Objectif { .. } => None,
        },
        LedgerCommand::Indicator(other) => {
            let row = view.indicators.get(other.indicator_id())?;
            match &row.subject {
                IndicatorSubject::Commitment { commitment_id } => signatory_of(commitment_id),
                IndicatorSubject::Objectif { .. } => Some(row.defined_by.clone()),
            }
        }
        _ => None,
    }
}
