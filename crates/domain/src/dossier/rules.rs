//! The rules a dossier command must pass, one function per command.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{
    piste_objectif, ActOfGrant, Decision, DossierCommand, DossierError, DossierEvent,
    DossierFiling, DossierState, ExternalIdKind, FundingRequest, GrantChange, LineStatus,
    ObjectifWeight, QuartierShare, DESCRIPTION_MAX_CHARS, EXERCICE_MAX, EXERCICE_MIN,
    OBJECTIFS_PER_DOSSIER_MAX, OBJECTIF_WEIGHT_MAX, PISTES_PER_DOSSIER_MAX,
    QUARTIERS_PER_DOSSIER_MAX, REQUESTS_PER_DOSSIER_MAX, TEXT_MAX_CHARS,
};
use crate::ids::DossierId;
use crate::money::Amount;
use crate::porteur::NAME_MAX_CHARS;

/// Above this amount a year, per porteur and financeur, a convention is mandatory (loi n° 2000-321
/// du 12 avril 2000, art. 10; décret n° 2001-495 du 6 juin 2001): 23,000 €.
pub const CONVENTION_THRESHOLD_EUR: Decimal = Decimal::from_parts(23_000, 0, 0, false, 0);

/// The 23,000 € rule, checked before a payment: `granted_total` is what the financeur grants the
/// porteur in the exercice, all dossiers together; above the threshold, the dossier paid must have
/// a signed convention (an arrêté is not enough).
///
/// The total spans dossiers, so the caller computes it from the read model; see the handler for
/// why that is safe enough.
pub fn check_convention_for_payment(
    financeur: &str,
    exercice: i32,
    granted_total: Amount,
    signed: Option<ActOfGrant>,
) -> Result<(), DossierError> {
    if granted_total.value() <= CONVENTION_THRESHOLD_EUR || signed == Some(ActOfGrant::Convention) {
        return Ok(());
    }
    Err(DossierError::ConventionRequired {
        financeur: financeur.to_string(),
        exercice,
        total: granted_total,
        threshold: Amount::new(CONVENTION_THRESHOLD_EUR).unwrap_or_default(),
        have: match signed {
            Some(ActOfGrant::Arrete) => ", and only an arrêté is signed".to_string(),
            _ => String::new(),
        },
    })
}

impl DossierState {
    /// The filing, or why there is none; a withdrawn dossier refuses every further command.
    pub fn live_filing(&self, dossier_id: DossierId) -> Result<&DossierFiling, DossierError> {
        let filing = self
            .filed
            .as_ref()
            .ok_or(DossierError::NotFiled(dossier_id))?;
        if self.withdrawn {
            return Err(DossierError::Withdrawn(dossier_id));
        }
        Ok(filing)
    }

    /// The dispositif under which `financeur` is asked: the one given, or the only one.
    pub fn resolve_dispositif(
        &self,
        dossier_id: DossierId,
        financeur: &str,
        dispositif: Option<&str>,
    ) -> Result<String, DossierError> {
        let asked: Vec<&String> = self
            .lines
            .keys()
            .filter(|(f, _)| f == financeur)
            .map(|(_, d)| d)
            .collect();
        match (dispositif, asked.as_slice()) {
            (Some(wanted), _) if asked.iter().any(|d| d.as_str() == wanted) => {
                Ok(wanted.to_string())
            }
            (None, [only]) => Ok((*only).clone()),
            (None, several) if several.len() > 1 => Err(DossierError::DispositifAmbiguous {
                dossier_id,
                financeur: financeur.to_string(),
                dispositifs: several
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            _ => Err(DossierError::FinanceurNotAsked {
                dossier_id,
                financeur: financeur.to_string(),
                under: dispositif
                    .map(|d| format!(" under '{d}'"))
                    .unwrap_or_default(),
            }),
        }
    }
}

/// Decides one command: the event it causes, or why it is refused.
pub(super) fn handle(
    state: &DossierState,
    command: DossierCommand,
) -> Result<DossierEvent, DossierError> {
    match command {
        DossierCommand::File {
            dossier_id,
            porteur_id,
            exercice,
            title,
            description,
            total_budget,
            quartiers,
            objectifs,
            requests,
            pistes,
        } => {
            if state.filed.is_some() {
                return Err(DossierError::AlreadyFiled(dossier_id));
            }
            if !(EXERCICE_MIN..=EXERCICE_MAX).contains(&exercice) {
                return Err(DossierError::ExerciceOutOfRange(exercice));
            }
            let title = text("title", &title, NAME_MAX_CHARS)?;
            let description = optional_text("description", &description, DESCRIPTION_MAX_CHARS)?;
            check_requests(&requests)?;
            check_quartiers(&quartiers)?;
            check_objectifs(&objectifs)?;
            check_pistes(&pistes, &objectifs)?;
            Ok(DossierEvent::DossierFiled {
                dossier_id,
                porteur_id,
                exercice,
                title,
                description,
                total_budget,
                quartiers,
                objectifs,
                requests,
                pistes,
            })
        }
        DossierCommand::Amend {
            dossier_id,
            title,
            description,
            total_budget,
            quartiers,
            objectifs,
            requests,
            pistes,
            reason,
        } => {
            let filing = state.live_filing(dossier_id)?;
            let reason = text("reason", &reason, TEXT_MAX_CHARS)?;
            let title = match title {
                Some(t) => text("title", &t, NAME_MAX_CHARS)?,
                None => filing.title.clone(),
            };
            let description = match description {
                Some(d) => optional_text("description", &d, DESCRIPTION_MAX_CHARS)?,
                None => filing.description.clone(),
            };
            let quartiers = quartiers.unwrap_or_else(|| filing.quartiers.clone());
            let objectifs = objectifs.unwrap_or_else(|| filing.objectifs.clone());
            let requests = requests.unwrap_or_else(|| filing.requests.clone());
            let pistes = pistes.unwrap_or_else(|| filing.pistes.clone());
            check_requests(&requests)?;
            check_quartiers(&quartiers)?;
            check_objectifs(&objectifs)?;
            check_pistes(&pistes, &objectifs)?;
            check_no_decided_line_dropped(state, &requests)?;
            let total_budget = total_budget.unwrap_or(filing.total_budget);
            let unchanged = title == filing.title
                && description == filing.description
                && total_budget == filing.total_budget
                && quartiers == filing.quartiers
                && objectifs == filing.objectifs
                && requests == filing.requests
                && pistes == filing.pistes;
            if unchanged {
                return Err(DossierError::EmptyAmendment);
            }
            Ok(DossierEvent::DossierAmended {
                dossier_id,
                title,
                description,
                total_budget,
                quartiers,
                objectifs,
                requests,
                pistes,
                reason,
            })
        }
        DossierCommand::Withdraw { dossier_id, reason } => {
            state.live_filing(dossier_id)?;
            let reason = text("reason", &reason, TEXT_MAX_CHARS)?;
            let granted = state.granted_total();
            if !granted.is_zero() {
                return Err(DossierError::WithdrawWithGrant {
                    dossier_id,
                    granted,
                });
            }
            Ok(DossierEvent::DossierWithdrawn { dossier_id, reason })
        }
        DossierCommand::GiveOpinion {
            dossier_id,
            financeur,
            dispositif,
            opinion,
            proposed_amount,
            comment,
        } => {
            state.live_filing(dossier_id)?;
            let dispositif =
                state.resolve_dispositif(dossier_id, &financeur, dispositif.as_deref())?;
            let comment = optional_text("comment", &comment, TEXT_MAX_CHARS)?;
            Ok(DossierEvent::OpinionGiven {
                dossier_id,
                financeur,
                dispositif,
                opinion,
                proposed_amount,
                comment,
            })
        }
        DossierCommand::Decide {
            dossier_id,
            financeur,
            dispositif,
            decision,
            comite,
            decided_on,
        } => decide(
            state, dossier_id, financeur, dispositif, decision, comite, decided_on,
        ),
        DossierCommand::ChangeGrant {
            dossier_id,
            financeur,
            dispositif,
            change,
            amount,
            reason,
            decided_on,
        } => change_grant(
            state, dossier_id, financeur, dispositif, change, amount, reason, decided_on,
        ),
        DossierCommand::SignConvention {
            dossier_id,
            financeur,
            kind,
            number,
            signed_on,
        } => {
            state.live_filing(dossier_id)?;
            if !state.lines.keys().any(|(f, _)| *f == financeur) {
                return Err(DossierError::FinanceurNotAsked {
                    dossier_id,
                    financeur,
                    under: String::new(),
                });
            }
            let number = text("number", &number, TEXT_MAX_CHARS)?;
            if let Some(existing) = state.conventions.get(&financeur) {
                // An arrêté may be followed by a convention (the grant grew past the threshold);
                // anything else is a second act for the same thing.
                if !(existing.kind == ActOfGrant::Arrete && kind == ActOfGrant::Convention) {
                    return Err(DossierError::ConventionAlreadySigned {
                        dossier_id,
                        financeur,
                        kind: existing.kind,
                        number: existing.number.clone(),
                    });
                }
            }
            Ok(DossierEvent::ConventionSigned {
                dossier_id,
                financeur,
                kind,
                number,
                signed_on,
            })
        }
        DossierCommand::RecordPayment {
            dossier_id,
            financeur,
            dispositif,
            kind,
            amount,
            paid_on,
            mandate_reference,
        } => {
            state.live_filing(dossier_id)?;
            let dispositif =
                state.resolve_dispositif(dossier_id, &financeur, dispositif.as_deref())?;
            let mandate_reference = text("mandate_reference", &mandate_reference, TEXT_MAX_CHARS)?;
            check_payment(state, dossier_id, &financeur, &dispositif, amount)?;
            let line = &state.lines[&(financeur.clone(), dispositif.clone())];
            if let Some(decided_on) = line.decided_on.filter(|decided| paid_on < *decided) {
                return Err(DossierError::PaymentBeforeDecision {
                    paid_on,
                    decided_on,
                });
            }
            Ok(DossierEvent::PaymentRecorded {
                dossier_id,
                financeur,
                dispositif,
                kind,
                amount,
                paid_on,
                mandate_reference,
            })
        }
        DossierCommand::ReceiveCrf {
            dossier_id,
            received_on,
            budget_realised,
            expenses,
            grant_used,
            comment,
        } => {
            state.live_filing(dossier_id)?;
            if let Some(on) = state.crf_received_on {
                return Err(DossierError::CrfAlreadyReceived { dossier_id, on });
            }
            let granted = state.granted_total();
            if let Some(used) = grant_used.filter(|used| *used > granted) {
                return Err(DossierError::GrantUsedAboveGranted {
                    dossier_id,
                    grant_used: used,
                    granted,
                });
            }
            let comment = comment
                .map(|c| optional_text("comment", &c, TEXT_MAX_CHARS))
                .transpose()?
                .filter(|c| !c.is_empty());
            Ok(DossierEvent::CrfReceived {
                dossier_id,
                received_on,
                budget_realised,
                expenses,
                grant_used,
                comment,
            })
        }
        DossierCommand::OrderReversement {
            dossier_id,
            financeur,
            dispositif,
            amount,
            reason,
            ordered_on,
        } => {
            // A withdrawn dossier may still have money to recover.
            state
                .filed
                .as_ref()
                .ok_or(DossierError::NotFiled(dossier_id))?;
            let dispositif =
                state.resolve_dispositif(dossier_id, &financeur, dispositif.as_deref())?;
            let reason = text("reason", &reason, TEXT_MAX_CHARS)?;
            let line = &state.lines[&(financeur.clone(), dispositif.clone())];
            positive(amount)?;
            let ordered_after = add(line.reversement_ordered, amount)?;
            if ordered_after > line.paid {
                return Err(DossierError::ReversementAbovePaid {
                    amount,
                    ordered_after,
                    paid: line.paid,
                });
            }
            Ok(DossierEvent::ReversementOrdered {
                dossier_id,
                financeur,
                dispositif,
                amount,
                reason,
                ordered_on,
            })
        }
        DossierCommand::RecordExternalId {
            dossier_id,
            kind,
            value,
            exercice,
            financeur,
            dispositif,
        } => record_external_id(
            state, dossier_id, kind, &value, exercice, financeur, dispositif,
        ),
        DossierCommand::ReceiveReversement {
            dossier_id,
            financeur,
            dispositif,
            amount,
            received_on,
        } => {
            state
                .filed
                .as_ref()
                .ok_or(DossierError::NotFiled(dossier_id))?;
            let dispositif =
                state.resolve_dispositif(dossier_id, &financeur, dispositif.as_deref())?;
            let line = &state.lines[&(financeur.clone(), dispositif.clone())];
            positive(amount)?;
            let received_after = add(line.reversement_received, amount)?;
            if received_after > line.reversement_ordered {
                return Err(DossierError::ReversementAboveOrdered {
                    amount,
                    received_after,
                    ordered: line.reversement_ordered,
                });
            }
            Ok(DossierEvent::ReversementReceived {
                dossier_id,
                financeur,
                dispositif,
                amount,
                received_on,
            })
        }
    }
}

/// An identifier of another system: well formed for its kind, not already on the dossier, its
/// line (if any) one the dossier asks. A withdrawn dossier may still be named by the State's
/// systems (a reversement, say), so it accepts identifiers too. Whether another dossier already
/// carries the identifier spans dossiers and is checked by the application against the read
/// model.
fn record_external_id(
    state: &DossierState,
    dossier_id: DossierId,
    kind: ExternalIdKind,
    value: &str,
    exercice: Option<i32>,
    financeur: Option<String>,
    dispositif: Option<String>,
) -> Result<DossierEvent, DossierError> {
    state
        .filed
        .as_ref()
        .ok_or(DossierError::NotFiled(dossier_id))?;
    let value = kind
        .normalise(value)
        .map_err(|why| DossierError::BadExternalId {
            kind,
            label: kind.label(),
            value: value.to_string(),
            why,
        })?;
    if let Some(year) = exercice {
        if !(EXERCICE_MIN..=EXERCICE_MAX).contains(&year) {
            return Err(DossierError::ExerciceOutOfRange(year));
        }
    }
    if state.external_id(kind, &value).is_some() {
        return Err(DossierError::ExternalIdAlreadyRecorded {
            dossier_id,
            kind,
            value,
        });
    }
    let dispositif = match (&financeur, dispositif) {
        (Some(financeur), dispositif) => {
            Some(state.resolve_dispositif(dossier_id, financeur, dispositif.as_deref())?)
        }
        (None, Some(_)) => return Err(DossierError::DispositifWithoutFinanceur),
        (None, None) => None,
    };
    Ok(DossierEvent::ExternalIdRecorded {
        dossier_id,
        kind,
        value,
        exercice,
        financeur,
        dispositif,
    })
}

fn decide(
    state: &DossierState,
    dossier_id: DossierId,
    financeur: String,
    dispositif: Option<String>,
    decision: Decision,
    comite: String,
    decided_on: NaiveDate,
) -> Result<DossierEvent, DossierError> {
    state.live_filing(dossier_id)?;
    let dispositif = state.resolve_dispositif(dossier_id, &financeur, dispositif.as_deref())?;
    let comite = text("comite", &comite, TEXT_MAX_CHARS)?;
    let status = state.lines[&(financeur.clone(), dispositif.clone())].status;
    if status.is_final() {
        return Err(DossierError::AlreadyDecided {
            dossier_id,
            financeur,
            dispositif,
            status: status.as_str(),
        });
    }
    Ok(match decision {
        Decision::Granted {
            amount,
            majoration_reason,
        } => {
            positive(amount)?;
            let requested = state.lines[&(financeur.clone(), dispositif.clone())].requested;
            let majoration_reason = check_majoration(
                &financeur,
                &dispositif,
                amount,
                requested,
                majoration_reason,
            )?;
            DossierEvent::SubsidyGranted {
                dossier_id,
                financeur,
                dispositif,
                amount,
                comite,
                decided_on,
                majoration_reason,
            }
        }
        Decision::Refused => DossierEvent::SubsidyRefused {
            dossier_id,
            financeur,
            dispositif,
            comite,
            decided_on,
        },
        Decision::Adjourned => DossierEvent::DecisionAdjourned {
            dossier_id,
            financeur,
            dispositif,
            comite,
            decided_on,
        },
    })
}

/// A grant above the amount asked needs a majoration and its reason; a reason without an excess
/// is refused too, so that a majoration in the log always means one. The rule is here, in the
/// dossier, so that every way in (apply, API, imports, forms) follows it.
fn check_majoration(
    financeur: &str,
    dispositif: &str,
    granted: Amount,
    requested: Amount,
    reason: Option<String>,
) -> Result<Option<String>, DossierError> {
    let reason = reason.filter(|r| !r.trim().is_empty());
    match (granted > requested, reason) {
        (true, None) => Err(DossierError::GrantAboveRequest {
            financeur: financeur.to_string(),
            dispositif: dispositif.to_string(),
            granted,
            requested,
        }),
        (true, Some(reason)) => Ok(Some(text("majoration_reason", &reason, TEXT_MAX_CHARS)?)),
        (false, Some(_)) => Err(DossierError::MajorationWithoutExcess { granted, requested }),
        (false, None) => Ok(None),
    }
}

#[allow(clippy::too_many_arguments)] // the command's fields, unpacked
fn change_grant(
    state: &DossierState,
    dossier_id: DossierId,
    financeur: String,
    dispositif: Option<String>,
    change: GrantChange,
    amount: Option<Amount>,
    reason: String,
    decided_on: NaiveDate,
) -> Result<DossierEvent, DossierError> {
    state.live_filing(dossier_id)?;
    let dispositif = state.resolve_dispositif(dossier_id, &financeur, dispositif.as_deref())?;
    let reason = text("reason", &reason, TEXT_MAX_CHARS)?;
    let line = &state.lines[&(financeur.clone(), dispositif.clone())];
    if line.status != LineStatus::Granted {
        return Err(DossierError::NotGranted {
            dossier_id,
            financeur,
            dispositif,
        });
    }
    let net_paid = line.net_paid();
    match change {
        GrantChange::Cancel => {
            if !net_paid.is_zero() {
                return Err(DossierError::CancelWhilePaid { net_paid });
            }
            Ok(DossierEvent::SubsidyCancelled {
                dossier_id,
                financeur,
                dispositif,
                amount: line.granted,
                reason,
                decided_on,
            })
        }
        GrantChange::Reduce => {
            let by = positive(amount.unwrap_or(Amount::ZERO))?;
            let after = line.granted.checked_sub(by).unwrap_or(Amount::ZERO);
            if after < net_paid || by > line.granted {
                return Err(DossierError::ReductionBelowPaid {
                    by,
                    after,
                    net_paid,
                });
            }
            Ok(DossierEvent::SubsidyReduced {
                dossier_id,
                financeur,
                dispositif,
                amount: by,
                granted_after: after,
                reason,
                decided_on,
            })
        }
        GrantChange::Increase => {
            let by = positive(amount.unwrap_or(Amount::ZERO))?;
            let after = add(line.granted, by)?;
            Ok(DossierEvent::SubsidyIncreased {
                dossier_id,
                financeur,
                dispositif,
                amount: by,
                granted_after: after,
                reason,
                decided_on,
            })
        }
    }
}

fn check_payment(
    state: &DossierState,
    dossier_id: DossierId,
    financeur: &str,
    dispositif: &str,
    amount: Amount,
) -> Result<(), DossierError> {
    let line = &state.lines[&(financeur.to_string(), dispositif.to_string())];
    if line.status != LineStatus::Granted {
        return Err(DossierError::NotGranted {
            dossier_id,
            financeur: financeur.to_string(),
            dispositif: dispositif.to_string(),
        });
    }
    if line.solde_paid {
        return Err(DossierError::SoldePaid {
            financeur: financeur.to_string(),
            dispositif: dispositif.to_string(),
        });
    }
    positive(amount)?;
    let paid_after = add(line.net_paid(), amount)?;
    if paid_after > line.granted {
        return Err(DossierError::PaymentAboveGrant {
            financeur: financeur.to_string(),
            dispositif: dispositif.to_string(),
            amount,
            paid_after,
            granted: line.granted,
        });
    }
    Ok(())
}

fn check_no_decided_line_dropped(
    state: &DossierState,
    requests: &[FundingRequest],
) -> Result<(), DossierError> {
    for ((financeur, dispositif), line) in &state.lines {
        let kept = requests
            .iter()
            .any(|r| &r.financeur == financeur && &r.dispositif == dispositif);
        let decided = !matches!(line.status, LineStatus::Requested | LineStatus::Adjourned);
        if !kept && (decided || !line.paid.is_zero()) {
            return Err(DossierError::AmendRemovesDecided {
                financeur: financeur.clone(),
                dispositif: dispositif.clone(),
            });
        }
    }
    Ok(())
}

fn positive(amount: Amount) -> Result<Amount, DossierError> {
    if amount.is_zero() {
        Err(DossierError::ZeroAmount(amount))
    } else {
        Ok(amount)
    }
}

fn add(a: Amount, b: Amount) -> Result<Amount, DossierError> {
    a.checked_add(b)
        .ok_or_else(|| DossierError::Overflow(format!("{a} + {b}")))
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, DossierError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(DossierError::BadText { field, max });
    }
    Ok(trimmed.to_string())
}

fn optional_text(field: &'static str, value: &str, max: usize) -> Result<String, DossierError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        return Err(DossierError::BadText { field, max });
    }
    Ok(trimmed.to_string())
}

fn too_many(what: &'static str, count: usize, max: usize) -> Result<(), DossierError> {
    if count > max {
        return Err(DossierError::TooMany { what, count, max });
    }
    Ok(())
}

fn check_requests(requests: &[FundingRequest]) -> Result<(), DossierError> {
    if requests.is_empty() {
        return Err(DossierError::NoRequest);
    }
    too_many("funding requests", requests.len(), REQUESTS_PER_DOSSIER_MAX)?;
    let mut seen = BTreeSet::new();
    for request in requests {
        if !seen.insert((&request.financeur, &request.dispositif)) {
            return Err(DossierError::DuplicateRequest(
                request.financeur.clone(),
                request.dispositif.clone(),
            ));
        }
    }
    Ok(())
}

/// Pistes are written as pistes, cited once, each of an objectif the dossier names (that the
/// piste exists in the contract is checked against the referential by the application).
fn check_pistes(pistes: &[String], objectifs: &[ObjectifWeight]) -> Result<(), DossierError> {
    too_many("pistes d'action", pistes.len(), PISTES_PER_DOSSIER_MAX)?;
    let mut seen = BTreeSet::new();
    for piste in pistes {
        let objectif =
            piste_objectif(piste).ok_or_else(|| DossierError::BadPiste(piste.clone()))?;
        if !seen.insert(piste) {
            return Err(DossierError::Duplicate {
                what: "piste",
                id: piste.clone(),
            });
        }
        if !objectifs.iter().any(|o| o.objectif == objectif) {
            return Err(DossierError::PisteOutsideObjectifs {
                piste: piste.clone(),
                objectif,
            });
        }
    }
    Ok(())
}

fn check_quartiers(quartiers: &[QuartierShare]) -> Result<(), DossierError> {
    if quartiers.is_empty() {
        return Err(DossierError::NoQuartier);
    }
    too_many("quartiers", quartiers.len(), QUARTIERS_PER_DOSSIER_MAX)?;
    let mut seen = BTreeSet::new();
    for q in quartiers {
        if !seen.insert(&q.quartier) {
            return Err(DossierError::Duplicate {
                what: "quartier",
                id: q.quartier.clone(),
            });
        }
    }
    let shares: Vec<Decimal> = quartiers.iter().filter_map(|q| q.share_pct).collect();
    if shares.is_empty() {
        return Ok(());
    }
    if shares.len() != quartiers.len() {
        return Err(DossierError::BadShares(
            "give a share to every quartier or to none (then the split follows population)".into(),
        ));
    }
    for (q, share) in quartiers.iter().zip(&shares) {
        if *share <= Decimal::ZERO || *share > Decimal::ONE_HUNDRED || share.normalize().scale() > 2
        {
            return Err(DossierError::BadShares(format!(
                "{share} % for '{}' must be above 0, at most 100, with at most 2 decimals",
                q.quartier
            )));
        }
    }
    let total: Decimal = shares.iter().sum();
    if total != Decimal::ONE_HUNDRED {
        return Err(DossierError::BadShares(format!(
            "they add up to {total} %, not 100 %"
        )));
    }
    Ok(())
}

fn check_objectifs(objectifs: &[ObjectifWeight]) -> Result<(), DossierError> {
    if objectifs.is_empty() {
        return Err(DossierError::NoObjectif);
    }
    too_many("objectifs", objectifs.len(), OBJECTIFS_PER_DOSSIER_MAX)?;
    let mut seen = BTreeSet::new();
    for o in objectifs {
        if !seen.insert(&o.objectif) {
            return Err(DossierError::Duplicate {
                what: "objectif",
                id: o.objectif.to_string(),
            });
        }
    }
    let weighted = objectifs.iter().filter(|o| o.weight.is_some()).count();
    if weighted != 0 && weighted != objectifs.len() {
        return Err(DossierError::BadWeights(
            "give a weight to every objectif or to none (equal weights)".into(),
        ));
    }
    for o in objectifs {
        if let Some(weight) = o.weight {
            if weight <= Decimal::ZERO
                || weight > OBJECTIF_WEIGHT_MAX
                || weight.normalize().scale() > 4
            {
                return Err(DossierError::BadWeights(format!(
                    "{weight} for objectif {} must be above 0, at most {OBJECTIF_WEIGHT_MAX}, with at most 4 decimals",
                    o.objectif
                )));
            }
        }
    }
    Ok(())
}
