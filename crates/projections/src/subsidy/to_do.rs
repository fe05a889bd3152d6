//! What a comité needs first: per financeur, the envelope, what is engaged (granted), the rate of
//! engagement, what is paid and left to pay, what is left of the envelope; and the dossiers that
//! need an action (an avis, a convention, a compte rendu financier, a reversement).

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use engagements_domain::dossier::{ActOfGrant, DossierState, LineStatus};
use engagements_domain::{Amount, DossierId};

use super::SubsidyView;

/// Above this amount a year, per porteur and financeur, a convention is required (loi 2000-321
/// art. 10; décret 2001-495).
pub const CONVENTION_THRESHOLD_CENTS: i64 = 2_300_000;
/// The compte rendu financier is due this many months after the end of the exercice.
pub const CRF_DUE_MONTHS: u32 = 6;

/// One financeur's figures for an exercice, all dispositifs together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinanceurSummary {
    pub financeur: String,
    pub envelope: Amount,
    pub requested: Amount,
    pub granted: Amount,
    pub paid: Amount,
    pub left_to_pay: Amount,
    pub envelope_left: Amount,
    pub over_committed: Amount,
    pub dossiers: i64,
}

impl FinanceurSummary {
    /// Granted ÷ envelope, in percent (`None` without an envelope).
    pub fn engagement_rate_pct(&self) -> Option<f64> {
        let envelope = self.envelope.cents();
        (envelope > 0).then(|| self.granted.cents() as f64 * 100.0 / envelope as f64)
    }

    fn add(&mut self, other: &FinanceurSummary) {
        let add = |a: &mut Amount, b: Amount| *a = a.checked_add(b).unwrap_or(*a);
        add(&mut self.envelope, other.envelope);
        add(&mut self.requested, other.requested);
        add(&mut self.granted, other.granted);
        add(&mut self.paid, other.paid);
        add(&mut self.left_to_pay, other.left_to_pay);
        add(&mut self.envelope_left, other.envelope_left);
        add(&mut self.over_committed, other.over_committed);
        self.dossiers += other.dossiers;
    }
}

/// The dossiers of an exercice that need an action, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToDo {
    /// A line asked and not decided, with no avis yet.
    pub opinion_missing: Vec<DossierId>,
    /// Granted above 23,000 € a year to a porteur by a financeur, without a signed convention.
    pub convention_missing: Vec<DossierId>,
    /// Money granted, exercice over for 6 months, no compte rendu financier received.
    pub crf_overdue: Vec<DossierId>,
    /// A reversement ordered and not fully received.
    pub reversement_due: Vec<DossierId>,
}

/// The date by which the compte rendu financier of `exercice` is due.
pub fn crf_due_on(exercice: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(exercice, 12, 31)?.checked_add_months(Months::new(CRF_DUE_MONTHS))
}

impl FinanceurSummary {
    /// Per financeur (in the order of their ids), then the total: the rows of a signatory table
    /// (`SubsidyView::signatory_table`, one exercice) added up over the dispositifs.
    /// `summaries` and their `total` as a table for people (the dashboard's « Par financeur »):
    /// one row per financeur, then the total.
    pub fn table(summaries: &[FinanceurSummary], total: &FinanceurSummary) -> crate::Table {
        let mut table = crate::Table::new(
            "financeurs",
            &[
                "financeur",
                "envelope_eur",
                "requested_eur",
                "granted_eur",
                "engagement_rate_pct",
                "paid_eur",
                "left_to_pay_eur",
                "envelope_left_eur",
                "over_committed_eur",
                "dossiers",
            ],
        );
        let total_row = FinanceurSummary {
            financeur: "Total".to_string(),
            ..total.clone()
        };
        for s in summaries.iter().chain(std::iter::once(&total_row)) {
            let rate = s
                .engagement_rate_pct()
                .map(|r| format!("{r:.1}"))
                .unwrap_or_default();
            table.push(vec![
                s.financeur.as_str().into(),
                s.envelope.into(),
                s.requested.into(),
                s.granted.into(),
                rate.into(),
                s.paid.into(),
                s.left_to_pay.into(),
                s.envelope_left.into(),
                s.over_committed.into(),
                s.dossiers.into(),
            ]);
        }
        table
    }

    pub fn of_signatory_table(table: &crate::Table) -> (Vec<FinanceurSummary>, FinanceurSummary) {
        let at = |name: &str| table.columns.iter().position(|c| c == name);
        let amount = |row: &[crate::Cell], name: &str| match at(name).and_then(|i| row.get(i)) {
            Some(crate::Cell::Amount(a)) => *a,
            _ => Amount::ZERO,
        };
        let mut by: BTreeMap<String, FinanceurSummary> = BTreeMap::new();
        for row in &table.rows {
            let financeur = at("financeur")
                .and_then(|i| row.get(i))
                .map(crate::Cell::to_text)
                .unwrap_or_default();
            let dossiers = match at("dossiers").and_then(|i| row.get(i)) {
                Some(crate::Cell::Int(n)) => *n,
                _ => 0,
            };
            let line = FinanceurSummary {
                financeur: financeur.clone(),
                envelope: amount(row, "envelope_eur"),
                requested: amount(row, "requested_eur"),
                granted: amount(row, "granted_eur"),
                paid: amount(row, "paid_eur"),
                left_to_pay: amount(row, "left_to_pay_eur"),
                envelope_left: amount(row, "envelope_left_eur"),
                over_committed: amount(row, "over_committed_eur"),
                dossiers,
            };
            by.entry(financeur.clone())
                .or_insert_with(|| FinanceurSummary {
                    financeur,
                    ..FinanceurSummary::default()
                })
                .add(&line);
        }
        let mut total = FinanceurSummary::default();
        for summary in by.values() {
            total.add(summary);
        }
        (by.into_values().collect(), total)
    }
}

impl SubsidyView {
    /// The dossiers of `exercice` that need an action on `today`.
    pub fn to_do(&self, exercice: i32, today: NaiveDate) -> ToDo {
        let mut to_do = ToDo::default();
        let dossiers: Vec<&DossierState> = self
            .filed(Some(exercice))
            .filter(|d| !d.withdrawn)
            .collect();
        let granted_by_porteur = granted_by_porteur_and_financeur(&dossiers);
        let crf_late = crf_due_on(exercice).is_some_and(|due| today > due);
        for dossier in dossiers {
            let Some(filing) = dossier.filed.as_ref() else {
                continue;
            };
            let id = filing.dossier_id;
            let lines = || dossier.lines.iter();
            if lines().any(|(_, l)| l.status == LineStatus::Requested && l.opinion.is_none()) {
                to_do.opinion_missing.push(id);
            }
            let needs_convention = lines().any(|((financeur, _), line)| {
                !line.granted.is_zero()
                    && granted_by_porteur
                        .get(&(filing.porteur_id.to_string(), financeur.clone()))
                        .is_some_and(|cents| *cents > CONVENTION_THRESHOLD_CENTS)
                    && !dossier
                        .conventions
                        .get(financeur)
                        .is_some_and(|c| c.kind == ActOfGrant::Convention)
            });
            if needs_convention {
                to_do.convention_missing.push(id);
            }
            if crf_late && !dossier.granted_total().is_zero() && dossier.crf_received_on.is_none() {
                to_do.crf_overdue.push(id);
            }
            if lines().any(|(_, l)| l.reversement_received < l.reversement_ordered) {
                to_do.reversement_due.push(id);
            }
        }
        to_do
    }
}

/// Cents granted per (porteur, financeur) over the given dossiers.
fn granted_by_porteur_and_financeur(dossiers: &[&DossierState]) -> BTreeMap<(String, String), i64> {
    let mut out: BTreeMap<(String, String), i64> = BTreeMap::new();
    for dossier in dossiers {
        let Some(filing) = dossier.filed.as_ref() else {
            continue;
        };
        for ((financeur, _), line) in &dossier.lines {
            *out.entry((filing.porteur_id.to_string(), financeur.clone()))
                .or_default() += line.granted.cents();
        }
    }
    out
}
