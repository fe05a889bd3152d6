//! Which forms apply to a dossier now, and whether the authorization table lets the caller send
//! them (asked with a sample command of each form).

use chrono::NaiveDate;
use engagements_app::auth::authorize;
use engagements_domain::cpo::{CpoCommand, CpoId, CpoLine, CpoYearStatus, CPO_YEARS};
use engagements_domain::dossier::{
    ActOfGrant, DossierCommand, FundingLine, GrantChange, LineStatus, PaymentKind,
};
use engagements_domain::{Amount, LedgerCommand};

use super::{Ctx, Kind, Target};
use crate::pages::forms::role_may_send;

/// The lines (financeur × dispositif) whose state lets form `kind` apply.
fn lines_where(ctx: &Ctx<'_>, keep: impl Fn(&FundingLine) -> bool) -> Vec<Target> {
    ctx.dossier
        .lines
        .iter()
        .filter(|(_, line)| keep(line))
        .map(|((f, d), _)| Target::line(f, d))
        .collect()
}

/// What each form applies to now, before the authorization table is asked.
fn candidates(kind: Kind, ctx: &Ctx<'_>) -> Vec<Target> {
    let granted = |l: &FundingLine| l.status == LineStatus::Granted;
    match kind {
        Kind::Convention => {
            let mut financeurs: Vec<String> = ctx
                .dossier
                .lines
                .iter()
                .filter(|(_, l)| granted(l))
                .map(|((f, _), _)| f.clone())
                .filter(|f| {
                    ctx.dossier
                        .conventions
                        .get(f)
                        .is_none_or(|c| c.kind == ActOfGrant::Arrete)
                })
                .collect();
            financeurs.dedup();
            financeurs
                .into_iter()
                .map(|financeur| Target {
                    financeur,
                    ..Target::default()
                })
                .collect()
        }
        Kind::Paiement => lines_where(ctx, |l| {
            granted(l) && !l.solde_paid && l.net_paid() < l.granted
        }),
        Kind::Modification => lines_where(ctx, granted),
        Kind::Reversement => lines_where(ctx, |l| l.paid > l.reversement_ordered),
        Kind::ReversementRecu => {
            lines_where(ctx, |l| l.reversement_ordered > l.reversement_received)
        }
        Kind::Cpo => {
            if cpo_of_dossier(ctx).is_some() {
                return Vec::new();
            }
            lines_where(ctx, granted)
        }
        Kind::CpoAnnee => cpos_to_confirm(ctx)
            .into_iter()
            .map(|cpo| Target {
                cpo: Some(cpo),
                ..Target::default()
            })
            .collect(),
        Kind::Crf => {
            let due =
                ctx.dossier.crf_received_on.is_none() && !ctx.dossier.granted_total().is_zero();
            if due {
                vec![Target::default()]
            } else {
                Vec::new()
            }
        }
        Kind::Retrait => {
            if ctx.dossier.granted_total().is_zero() {
                vec![Target::default()]
            } else {
                Vec::new()
            }
        }
    }
}

/// The CPO one of whose years this dossier realises, if any.
pub(super) fn cpo_of_dossier(ctx: &Ctx<'_>) -> Option<CpoId> {
    ctx.projections
        .subsidy
        .cpos
        .iter()
        .find(|(_, row)| {
            row.state
                .confirmed
                .iter()
                .any(|(_, d)| *d == ctx.filing.dossier_id)
        })
        .map(|(id, _)| *id)
}

/// The porteur's CPO with a year of this dossier's exercice still to confirm.
fn cpos_to_confirm(ctx: &Ctx<'_>) -> Vec<CpoId> {
    if cpo_of_dossier(ctx).is_some() {
        return Vec::new();
    }
    let year = ctx.filing.exercice;
    ctx.projections
        .subsidy
        .cpos
        .iter()
        .filter(|(_, row)| {
            let state = &row.state;
            state.porteur_id == Some(ctx.filing.porteur_id)
                && state.terminated_on.is_none()
                && (state.first_exercice..state.first_exercice + CPO_YEARS).contains(&year)
                && matches!(
                    state.year_status(year),
                    CpoYearStatus::Firm | CpoYearStatus::Forecast
                )
        })
        .map(|(id, _)| *id)
        .collect()
}

/// A command of the form's kind on `target`, for asking the authorization table.
fn sample(kind: Kind, ctx: &Ctx<'_>, target: &Target) -> LedgerCommand {
    let dossier_id = ctx.filing.dossier_id;
    let financeur = target.financeur.clone();
    let dispositif = target.dispositif();
    let day = NaiveDate::default();
    let one = Amount::from_cents(1).unwrap_or_default();
    match kind {
        Kind::Cpo => LedgerCommand::Cpo(CpoCommand::Sign {
            cpo_id: CpoId::new(),
            porteur_id: ctx.filing.porteur_id,
            title: "x".into(),
            number: "x".into(),
            signed_on: day,
            first_exercice: ctx.filing.exercice,
            schedule: vec![CpoLine {
                exercice: ctx.filing.exercice,
                financeur,
                dispositif: target.dispositif.clone(),
                amount: one,
            }],
        }),
        Kind::CpoAnnee => LedgerCommand::Cpo(CpoCommand::ConfirmYear {
            cpo_id: target.cpo.unwrap_or_default(),
            exercice: ctx.filing.exercice,
            dossier_id,
        }),
        _ => LedgerCommand::Dossier(match kind {
            Kind::Convention => DossierCommand::SignConvention {
                dossier_id,
                financeur,
                kind: ActOfGrant::Convention,
                number: "x".into(),
                signed_on: day,
            },
            Kind::Paiement => DossierCommand::RecordPayment {
                dossier_id,
                financeur,
                dispositif,
                kind: PaymentKind::Avance,
                amount: one,
                paid_on: day,
                mandate_reference: "x".into(),
            },
            Kind::Modification => DossierCommand::ChangeGrant {
                dossier_id,
                financeur,
                dispositif,
                change: GrantChange::Reduce,
                amount: Some(one),
                reason: "x".into(),
                decided_on: day,
            },
            Kind::Reversement => DossierCommand::OrderReversement {
                dossier_id,
                financeur,
                dispositif,
                amount: one,
                reason: "x".into(),
                ordered_on: day,
            },
            Kind::ReversementRecu => DossierCommand::ReceiveReversement {
                dossier_id,
                financeur,
                dispositif,
                amount: one,
                received_on: day,
            },
            Kind::Crf => DossierCommand::ReceiveCrf {
                dossier_id,
                received_on: day,
                budget_realised: None,
                expenses: None,
                grant_used: None,
                comment: None,
            },
            _ => DossierCommand::Withdraw {
                dossier_id,
                reason: "x".into(),
            },
        }),
    }
}

/// The forms of `kind` the caller may send on this dossier now.
pub(super) fn targets(kind: Kind, ctx: &Ctx<'_>) -> Vec<Target> {
    if !role_may_send(ctx.caller.0.role, kind.command()) {
        return Vec::new();
    }
    candidates(kind, ctx)
        .into_iter()
        .filter(|t| authorize(&ctx.caller.0, &sample(kind, ctx, t), ctx.projections).is_ok())
        .collect()
}
