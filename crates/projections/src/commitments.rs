//! Droit-commun commitments as the signatories and the comité see them: per signatory (each
//! commitment, its status and latest progress, and the partners still « En attente »), per
//! objectif (which signatories committed what), per quartier (the quantified, local part), the
//! euros by scope, and the users' indicators.
//!
//! Scope rule: a figure stated for the département, the région or the country is never added to
//! figures of the contract's own territory (CABBALR, a commune, a quartier). Totals are given per
//! scope; only local scopes are summed into the local total.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use engagements_domain::commitment::contribution::ContributionEvent;
use engagements_domain::commitment::indicator::{IndicatorEvent, IndicatorPoint, IndicatorSubject};
use engagements_domain::commitment::{
    AmountPeriod, CommitmentEvent, CommitmentId, CommitmentKind, CommitmentStatus, CommitmentTerms,
    IndicatorId, LineRange, ReportingPeriod, Scope,
};
use engagements_domain::{Amount, RecordedEvent};
use rust_decimal::Decimal;

/// One progress report, as recorded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProgressRow {
    pub report_no: u32,
    pub period: ReportingPeriod,
    pub realised_value: Option<Decimal>,
    pub unit: Option<String>,
    pub comment: Option<String>,
    pub evidence_ref: Option<String>,
    pub effective_date: NaiveDate,
    pub position: i64,
}

/// One revision: why, and when it took effect (the old terms stay in the log).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RevisionRow {
    pub revision: u32,
    pub reason: String,
    pub effective_date: NaiveDate,
    pub position: i64,
}

/// How a commitment ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClosingRow {
    pub status: CommitmentStatus,
    /// The reason (lapsed, withdrawn) or comment (fulfilled).
    pub note: Option<String>,
    pub evidence_ref: Option<String>,
    pub effective_date: NaiveDate,
}

/// One commitment with its current terms and what happened to it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CommitmentRow {
    pub commitment_id: CommitmentId,
    pub signatory: String,
    pub terms: CommitmentTerms,
    pub status: CommitmentStatus,
    pub pledged_on: NaiveDate,
    pub pledged_at_position: i64,
    pub revisions: Vec<RevisionRow>,
    pub progress: Vec<ProgressRow>,
    pub closing: Option<ClosingRow>,
}

impl CommitmentRow {
    /// The report on the latest period (ties: the latest recorded), i.e. where things stand.
    pub fn latest_progress(&self) -> Option<&ProgressRow> {
        self.progress
            .iter()
            .max_by_key(|p| (p.period.to, p.period.from, p.report_no))
    }

    /// Whether its promise still counts in totals: active or fulfilled, not lapsed or withdrawn.
    pub fn counts_in_totals(&self) -> bool {
        // A record flagged as outside the territory stays listed but leaves the totals.
        matches!(
            self.status,
            CommitmentStatus::Active | CommitmentStatus::Fulfilled
        ) && !self.terms.is_outside_territory()
    }

    /// The quartiers a quantified, local commitment names (its scope quartier or its list).
    pub fn local_quartiers(&self) -> Vec<&str> {
        if !self.terms.is_quantified_and_local() {
            return Vec::new();
        }
        let mut quartiers: Vec<&str> = self.terms.quartiers.iter().map(String::as_str).collect();
        if self.terms.scope == Scope::Quartier {
            if let Some(scope_ref) = self.terms.scope_ref.as_deref() {
                if !quartiers.contains(&scope_ref) {
                    quartiers.push(scope_ref);
                }
            }
        }
        quartiers
    }
}

/// A partner whose contribution the contract gives as awaited.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PendingContributionRow {
    pub signatory: String,
    pub name_in_source: String,
    pub source_lines: Vec<LineRange>,
    pub note: Option<String>,
}

/// One value of an indicator.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IndicatorValueRow {
    pub value_no: u32,
    pub period: ReportingPeriod,
    pub value: Decimal,
    pub comment: Option<String>,
    pub evidence_ref: Option<String>,
    pub effective_date: NaiveDate,
}

/// A user-defined indicator and its values over time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IndicatorRow {
    pub indicator_id: IndicatorId,
    pub subject: IndicatorSubject,
    pub name: String,
    pub unit: String,
    pub description: Option<String>,
    pub baseline: Option<IndicatorPoint>,
    pub target: Option<IndicatorPoint>,
    pub values: Vec<IndicatorValueRow>,
    pub retired: Option<String>,
    /// Who defined it (organisation of the actor), for the signatory's own view.
    pub defined_by: String,
}

impl IndicatorRow {
    /// The value on the latest period (ties: the latest recorded).
    pub fn latest(&self) -> Option<&IndicatorValueRow> {
        self.values
            .iter()
            .max_by_key(|v| (v.period.to, v.period.from, v.value_no))
    }
}

/// The euros committed under one scope and period kind.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeTotal {
    pub scope: Scope,
    pub amount_period: Option<AmountPeriod>,
    pub amount_eur: Amount,
    pub commitments: usize,
}

/// Every commitment, pending contribution and indicator.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CommitmentsView {
    pub commitments: BTreeMap<CommitmentId, CommitmentRow>,
    pub pending: BTreeMap<String, PendingContributionRow>,
    pub indicators: BTreeMap<IndicatorId, IndicatorRow>,
}

impl CommitmentsView {
    /// Folds a commitment event.
    pub fn apply_commitment(&mut self, recorded: &RecordedEvent, event: &CommitmentEvent) {
        let effective_date = recorded.metadata.effective_date;
        if let CommitmentEvent::CommitmentPledged {
            commitment_id,
            signatory,
            terms,
        } = event
        {
            self.commitments.insert(
                commitment_id.clone(),
                CommitmentRow {
                    commitment_id: commitment_id.clone(),
                    signatory: signatory.clone(),
                    terms: terms.clone(),
                    status: CommitmentStatus::Active,
                    pledged_on: effective_date,
                    pledged_at_position: recorded.position,
                    revisions: Vec::new(),
                    progress: Vec::new(),
                    closing: None,
                },
            );
            return;
        }
        let Some(row) = self.commitments.get_mut(commitment_id_of(event)) else {
            return;
        };
        let close = |status, note: &Option<String>, evidence_ref: &Option<String>| ClosingRow {
            status,
            note: note.clone(),
            evidence_ref: evidence_ref.clone(),
            effective_date,
        };
        match event {
            CommitmentEvent::CommitmentPledged { .. } => {}
            CommitmentEvent::CommitmentRevised {
                revision,
                terms,
                reason,
                ..
            } => {
                row.terms = terms.clone();
                row.revisions.push(RevisionRow {
                    revision: *revision,
                    reason: reason.clone(),
                    effective_date,
                    position: recorded.position,
                });
            }
            CommitmentEvent::CommitmentProgressReported {
                report_no,
                period,
                realised_value,
                unit,
                comment,
                evidence_ref,
                ..
            } => row.progress.push(ProgressRow {
                report_no: *report_no,
                period: *period,
                realised_value: *realised_value,
                unit: unit.clone(),
                comment: comment.clone(),
                evidence_ref: evidence_ref.clone(),
                effective_date,
                position: recorded.position,
            }),
            CommitmentEvent::CommitmentFulfilled {
                comment,
                evidence_ref,
                ..
            } => row.closing = Some(close(CommitmentStatus::Fulfilled, comment, evidence_ref)),
            CommitmentEvent::CommitmentLapsed { reason, .. } => {
                row.closing = Some(close(
                    CommitmentStatus::Lapsed,
                    &Some(reason.clone()),
                    &None,
                ))
            }
            CommitmentEvent::CommitmentWithdrawn { reason, .. } => {
                row.closing = Some(close(
                    CommitmentStatus::Withdrawn,
                    &Some(reason.clone()),
                    &None,
                ))
            }
        }
        if let Some(closing) = &row.closing {
            row.status = closing.status;
        }
    }

    /// Folds a contribution event.
    pub fn apply_contribution(&mut self, _recorded: &RecordedEvent, event: &ContributionEvent) {
        match event {
            ContributionEvent::ContributionDeclaredPending {
                signatory,
                name_in_source,
                source_lines,
                note,
            } => {
                self.pending.insert(
                    signatory.clone(),
                    PendingContributionRow {
                        signatory: signatory.clone(),
                        name_in_source: name_in_source.clone(),
                        source_lines: source_lines.clone(),
                        note: note.clone(),
                    },
                );
            }
        }
    }

    /// Folds an indicator event.
    pub fn apply_indicator(&mut self, recorded: &RecordedEvent, event: &IndicatorEvent) {
        match event {
            IndicatorEvent::IndicatorDefined {
                indicator_id,
                subject,
                name,
                unit,
                description,
                baseline,
                target,
            } => {
                self.indicators.insert(
                    indicator_id.clone(),
                    IndicatorRow {
                        indicator_id: indicator_id.clone(),
                        subject: subject.clone(),
                        name: name.clone(),
                        unit: unit.clone(),
                        description: description.clone(),
                        baseline: *baseline,
                        target: *target,
                        values: Vec::new(),
                        retired: None,
                        defined_by: recorded.metadata.acting_for().organisation.clone(),
                    },
                );
            }
            IndicatorEvent::IndicatorValueReported {
                indicator_id,
                value_no,
                period,
                value,
                comment,
                evidence_ref,
            } => {
                if let Some(row) = self.indicators.get_mut(indicator_id) {
                    row.values.push(IndicatorValueRow {
                        value_no: *value_no,
                        period: *period,
                        value: *value,
                        comment: comment.clone(),
                        evidence_ref: evidence_ref.clone(),
                        effective_date: recorded.metadata.effective_date,
                    });
                }
            }
            IndicatorEvent::IndicatorRetired {
                indicator_id,
                reason,
            } => {
                if let Some(row) = self.indicators.get_mut(indicator_id) {
                    row.retired = Some(reason.clone());
                }
            }
        }
    }

    pub fn get(&self, commitment_id: &CommitmentId) -> Option<&CommitmentRow> {
        self.commitments.get(commitment_id)
    }

    /// Whether a partner's contribution is still awaited: declared pending, nothing pledged since.
    pub fn is_pending(&self, signatory: &str) -> bool {
        self.pending.contains_key(signatory)
            && !self.commitments.values().any(|c| c.signatory == signatory)
    }

    /// Commitments of one signatory (as pledging signatory or as one of several carriers)
    /// and/or linked to one objectif, in id order.
    pub fn select<'a>(
        &'a self,
        signatory: Option<&'a str>,
        objectif: Option<u16>,
    ) -> impl Iterator<Item = &'a CommitmentRow> + 'a {
        self.commitments.values().filter(move |c| {
            // A commitment carried by several signatories is each carrier's.
            signatory.is_none_or(|s| c.signatory == s || c.terms.is_carried_by(s))
                && objectif.is_none_or(|o| c.terms.objectifs.contains(&o))
        })
    }

    /// Euros committed, per scope and period kind (lapsed and withdrawn commitments excluded).
    /// Scopes are never merged: a departmental figure stays a departmental figure.
    pub fn financial_totals(&self) -> Vec<ScopeTotal> {
        let mut totals: BTreeMap<(Scope, Option<AmountPeriod>), (Amount, usize)> = BTreeMap::new();
        for row in self.commitments.values().filter(|c| c.counts_in_totals()) {
            if let CommitmentKind::Financial {
                amount_eur,
                amount_period,
            } = &row.terms.kind
            {
                let entry = totals
                    .entry((row.terms.scope, *amount_period))
                    .or_insert((Amount::ZERO, 0));
                entry.0 = [entry.0, *amount_eur].into_iter().sum();
                entry.1 += 1;
            }
        }
        totals
            .into_iter()
            .map(
                |((scope, amount_period), (amount_eur, commitments))| ScopeTotal {
                    scope,
                    amount_period,
                    amount_eur,
                    commitments,
                },
            )
            .collect()
    }

    /// Euros committed for the contract's own territory only (CABBALR, communes, quartiers),
    /// for one period kind.
    pub fn local_financial_total(&self, amount_period: Option<AmountPeriod>) -> Amount {
        self.financial_totals()
            .into_iter()
            .filter(|t| t.scope.is_local() && t.amount_period == amount_period)
            .map(|t| t.amount_eur)
            .sum()
    }
}

fn commitment_id_of(event: &CommitmentEvent) -> &CommitmentId {
    match event {
        CommitmentEvent::CommitmentPledged { commitment_id, .. }
        | CommitmentEvent::CommitmentRevised { commitment_id, .. }
        | CommitmentEvent::CommitmentProgressReported { commitment_id, .. }
        | CommitmentEvent::CommitmentFulfilled { commitment_id, .. }
        | CommitmentEvent::CommitmentLapsed { commitment_id, .. }
        | CommitmentEvent::CommitmentWithdrawn { commitment_id, .. } => commitment_id,
    }
}

pub(crate) mod tables;
#[cfg(test)]
mod tests;
