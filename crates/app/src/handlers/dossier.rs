//! Dossier commands: references checked against the referential and the read model, then the
//! dossier decides; decisions that move money also go through the financeur's envelope.
//!
//! **Envelope rule** (decisions of a financeur in an exercice ≤ its envelope, unless an
//! over-commitment is authorised): a grant or an increase appends `EnvelopeCommitted` to the
//! envelope stream, a reduction or cancellation `EnvelopeReleased`, in the same command as the
//! dossier's event and with both streams' expected versions (`Plan::and`). Two concurrent
//! decisions on one envelope cannot both pass: the second conflicts, is re-decided on the new
//! envelope state, and is refused if it no longer fits.
//!
//! **Convention rule** (no payment when the porteur receives more than 23,000 € from the
//! financeur in the exercice without a signed convention): the total spans the porteur's
//! dossiers, so it is read from the caught-up read model, and the convention from the dossier's
//! own state. Taking a lock on every dossier of the porteur for each payment would serialise
//! unrelated work; the only race left is a grant on *another* dossier of the same porteur
//! recorded in the same instant as this payment, which the audit findings (convention missing
//! above 23,000 €) report afterwards.

use engagements_domain::dossier::{
    check_convention_for_payment, Decision, Dossier, DossierCommand, DossierError, DossierState,
    ExternalIdKind, GrantChange,
};
use engagements_domain::envelope::{Envelope, EnvelopeKey, EnvelopeOperation};
use engagements_domain::{Amount, DossierId};

use super::refs::{
    require_dispositif, require_objectif, require_organisation, require_piste, require_quartier,
};
use super::Context;
use crate::error::CommandError;
use crate::states::{decide, Plan};

pub(crate) async fn plan(
    ctx: &Context<'_, '_>,
    command: DossierCommand,
) -> Result<Plan, CommandError> {
    check_references(ctx, &command)?;
    let dossier_id = command.dossier_id();
    let stream_id = dossier_id.stream_id();
    let (_, state) = ctx.states.load::<Dossier>(&stream_id).await?;
    if let DossierCommand::RecordPayment { financeur, .. } = &command {
        check_convention(ctx, &state, financeur)?;
    }
    let draw = Draw::of(&command);
    let plan = decide::<Dossier>(ctx.states, stream_id, command).await?;
    match draw {
        // The dossier accepted the command, so its line resolves.
        Some((financeur, dispositif, draw)) => {
            let (key, operation) = draw
                .operation(&state, dossier_id, &financeur, dispositif.as_deref())
                .map_err(CommandError::rejected)?;
            let envelope = decide::<Envelope>(ctx.states, key.stream_id(), operation).await?;
            Ok(plan.and(envelope))
        }
        None => Ok(plan),
    }
}

/// Every name the command uses exists: porteur, quartiers, objectifs, financeurs, dispositifs.
fn check_references(ctx: &Context<'_, '_>, command: &DossierCommand) -> Result<(), CommandError> {
    match command {
        DossierCommand::File {
            porteur_id,
            quartiers,
            objectifs,
            requests,
            pistes,
            ..
        } => {
            if ctx.projections.porteurs.get(porteur_id).is_none() {
                return Err(CommandError::unknown("porteur", porteur_id.to_string()));
            }
            check_lists(ctx, Some(quartiers), Some(objectifs), Some(requests))?;
            check_pistes(ctx, pistes)
        }
        DossierCommand::Amend {
            quartiers,
            objectifs,
            requests,
            pistes,
            ..
        } => {
            check_lists(
                ctx,
                quartiers.as_ref(),
                objectifs.as_ref(),
                requests.as_ref(),
            )?;
            check_pistes(ctx, pistes.as_deref().unwrap_or_default())
        }
        DossierCommand::RecordExternalId {
            dossier_id,
            kind,
            value,
            financeur,
            ..
        } => {
            if let Some(financeur) = financeur {
                require_organisation(ctx, financeur)?;
            }
            check_external_id_free(ctx, *dossier_id, *kind, value)
        }
        DossierCommand::Decide {
            dossier_id,
            financeur,
            dispositif,
            comite,
            decided_on,
            ..
        } => {
            require_organisation(ctx, financeur)?;
            super::comite::check_decision_of_session(
                ctx,
                *dossier_id,
                financeur,
                dispositif.as_deref(),
                comite,
                *decided_on,
            )
        }
        other => {
            if let Some(financeur) = other.financeur() {
                require_organisation(ctx, financeur)?;
            }
            Ok(())
        }
    }
}

/// An identifier of another system names one dossier only: one already on another dossier is
/// refused (a malformed value is left to the dossier, which names the problem). The index spans
/// dossiers, so it is read from the read model; as for the convention rule, two commands giving
/// the same identifier to two dossiers in the same instant could both pass, and the first
/// recorded keeps it in the index.
fn check_external_id_free(
    ctx: &Context<'_, '_>,
    dossier_id: DossierId,
    kind: ExternalIdKind,
    value: &str,
) -> Result<(), CommandError> {
    match ctx.projections.subsidy.dossier_by_external_id(kind, value) {
        Some(other) if other != dossier_id => Err(CommandError::Rejected(format!(
            "{kind} {} ({}) is already an identifier of dossier {other}: an identifier names one dossier only",
            kind.normalise(value).unwrap_or_else(|_| value.to_string()),
            kind.label()
        ))),
        _ => Ok(()),
    }
}

/// Every piste cited exists in the contract (that it is of an objectif the dossier names is the
/// dossier's own rule). A malformed one is left to the dossier, which says how to write it.
fn check_pistes(ctx: &Context<'_, '_>, pistes: &[String]) -> Result<(), CommandError> {
    for piste in pistes {
        if engagements_domain::dossier::piste_objectif(piste).is_some() {
            require_piste(ctx, piste)?;
        }
    }
    Ok(())
}

fn check_lists(
    ctx: &Context<'_, '_>,
    quartiers: Option<&Vec<engagements_domain::dossier::QuartierShare>>,
    objectifs: Option<&Vec<engagements_domain::dossier::ObjectifWeight>>,
    requests: Option<&Vec<engagements_domain::dossier::FundingRequest>>,
) -> Result<(), CommandError> {
    for q in quartiers.into_iter().flatten() {
        require_quartier(ctx, &q.quartier)?;
    }
    for o in objectifs.into_iter().flatten() {
        require_objectif(ctx, o.objectif)?;
    }
    for r in requests.into_iter().flatten() {
        require_organisation(ctx, &r.financeur)?;
        let dispositif = require_dispositif(ctx, &r.dispositif)?;
        check_dispositif_of_financeur(dispositif, &r.financeur)?;
    }
    Ok(())
}

/// A dispositif belongs to its financeurs in the referential: a request of financeur A under a
/// dispositif of financeur B is refused (a dispositif whose financeurs the contract does not
/// name, such as a local scheme, may be asked of any financeur).
fn check_dispositif_of_financeur(
    dispositif: &engagements_domain::referential::Dispositif,
    financeur: &str,
) -> Result<(), CommandError> {
    if dispositif.financeurs.is_empty() || dispositif.financeurs.iter().any(|f| f == financeur) {
        return Ok(());
    }
    Err(CommandError::Rejected(format!(
        "dispositif '{}' ({}) is funded by {}, not by '{financeur}': ask '{financeur}' under one of its own dispositifs, or ask {} under this one",
        dispositif.id,
        dispositif.name,
        dispositif
            .financeurs
            .iter()
            .map(|f| format!("'{f}'"))
            .collect::<Vec<_>>()
            .join(", "),
        dispositif
            .financeurs
            .iter()
            .map(|f| format!("'{f}'"))
            .collect::<Vec<_>>()
            .join(" or "),
    )))
}

fn check_convention(
    ctx: &Context<'_, '_>,
    state: &DossierState,
    financeur: &str,
) -> Result<(), CommandError> {
    let Some(filing) = state.filed.as_ref() else {
        return Ok(()); // the dossier refuses it with its own error
    };
    let total =
        ctx.projections
            .subsidy
            .granted_to_porteur(&filing.porteur_id, financeur, filing.exercice);
    let signed = state.conventions.get(financeur).map(|c| c.kind);
    check_convention_for_payment(financeur, filing.exercice, total, signed)
        .map_err(CommandError::rejected)
}

/// How a decision moves its envelope.
#[derive(Clone, Copy)]
enum Draw {
    Commit(Amount),
    Release(Amount),
    /// A cancellation gives back whatever is granted.
    ReleaseAll,
}

impl Draw {
    /// The financeur, dispositif (as given) and draw of a command that moves money on an
    /// envelope; `None` for the others.
    fn of(command: &DossierCommand) -> Option<(String, Option<String>, Draw)> {
        match command {
            DossierCommand::Decide {
                financeur,
                dispositif,
                decision: Decision::Granted { amount, .. },
                ..
            } => Some((financeur.clone(), dispositif.clone(), Draw::Commit(*amount))),
            DossierCommand::ChangeGrant {
                financeur,
                dispositif,
                change,
                amount,
                ..
            } => {
                let amount = amount.unwrap_or(Amount::ZERO);
                let draw = match change {
                    GrantChange::Increase => Draw::Commit(amount),
                    GrantChange::Reduce => Draw::Release(amount),
                    GrantChange::Cancel => Draw::ReleaseAll,
                };
                Some((financeur.clone(), dispositif.clone(), draw))
            }
            _ => None,
        }
    }

    /// The envelope operation, from the dossier's state *before* the command.
    fn operation(
        self,
        state: &DossierState,
        dossier_id: DossierId,
        financeur: &str,
        dispositif: Option<&str>,
    ) -> Result<(EnvelopeKey, EnvelopeOperation), DossierError> {
        let filing = state.live_filing(dossier_id)?;
        let dispositif = state.resolve_dispositif(dossier_id, financeur, dispositif)?;
        let granted = state
            .lines
            .get(&(financeur.to_string(), dispositif.clone()))
            .map(|l| l.granted)
            .unwrap_or(Amount::ZERO);
        let key = EnvelopeKey::new(financeur, &dispositif, filing.exercice);
        let operation = match self {
            Draw::Commit(amount) => EnvelopeOperation::Commit {
                key: key.clone(),
                dossier_id,
                amount,
            },
            Draw::Release(amount) => EnvelopeOperation::Release {
                key: key.clone(),
                dossier_id,
                amount,
            },
            Draw::ReleaseAll => EnvelopeOperation::Release {
                key: key.clone(),
                dossier_id,
                amount: granted,
            },
        };
        Ok((key, operation))
    }
}
