//! The figures of each bailleur × QPV × year (attributed shares, carry-over) and the flags.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use engagements_domain::tfpb::bilan_due_on;
use engagements_domain::tfpb::programme::{ActionState, BilanStatus};
use engagements_domain::Amount;
use rust_decimal::Decimal;

use super::{TfpbFilter, TfpbView};
use crate::labels;

/// Planned and realised amounts of one axis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AxisFigures {
    pub planned: Amount,
    pub realised: Amount,
    /// Live actions (a shared action counts once for each bailleur sharing it).
    pub actions: u32,
}

/// What the ledger flags for a bailleur × QPV × year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FlagKind {
    /// The year is over and the realised spending is below the abatement.
    RealisedBelowAbatement,
    /// The bilan was not submitted by its due date (30 June of the next year), or after it.
    BilanLate,
    /// Spending reported on a QPV that no convention of the bailleur covers that year.
    SpendingNotCovered,
}

impl FlagKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::RealisedBelowAbatement => "realised_below_abatement",
            FlagKind::BilanLate => "bilan_late",
            FlagKind::SpendingNotCovered => "spending_not_covered",
        }
    }
}

/// One flag, with what it is about and a sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub kind: FlagKind,
    pub detail: String,
}

/// Everything known of one bailleur in one QPV for one tax year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearFigures {
    pub bailleur: String,
    pub quartier: String,
    pub year: i32,
    pub dwellings: Option<u32>,
    /// The abatement the bailleur declared (none: not declared, e.g. only a partner's share).
    pub abatement: Option<Amount>,
    pub planned: Amount,
    pub realised: Amount,
    pub by_axis: BTreeMap<String, AxisFigures>,
    pub bilan: BilanStatus,
    pub bilan_due_on: Option<NaiveDate>,
    pub bilan_first_submitted_on: Option<NaiveDate>,
    /// Σ (abatement − realised) over the earlier years of the same bailleur and QPV.
    pub carry_over: Decimal,
    /// Whether a convention of the bailleur covers this QPV this year.
    pub covered: bool,
    pub flags: Vec<Flag>,
}

impl YearFigures {
    fn new(bailleur: &str, quartier: &str, year: i32) -> Self {
        YearFigures {
            bailleur: bailleur.to_string(),
            quartier: quartier.to_string(),
            year,
            dwellings: None,
            abatement: None,
            planned: Amount::ZERO,
            realised: Amount::ZERO,
            by_axis: BTreeMap::new(),
            bilan: BilanStatus::NotSubmitted,
            bilan_due_on: bilan_due_on(year),
            bilan_first_submitted_on: None,
            carry_over: Decimal::ZERO,
            covered: false,
            flags: Vec::new(),
        }
    }

    /// Abatement − realised (negative: actions beyond the abatement); none without abatement.
    pub fn gap(&self) -> Option<Decimal> {
        self.abatement.map(|a| a.value() - self.realised.value())
    }

    /// Realised / abatement in percent, one decimal; none without a positive abatement.
    pub fn realised_ratio_pct(&self) -> Option<Decimal> {
        let abatement = self.abatement?.value();
        if abatement.is_zero() {
            return None;
        }
        Some((self.realised.value() * Decimal::ONE_HUNDRED / abatement).round_dp(1))
    }

    fn add(&mut self, axis: &str, planned: Amount, realised: Amount) {
        let figures = self.by_axis.entry(axis.to_string()).or_default();
        figures.planned = figures
            .planned
            .checked_add(planned)
            .unwrap_or(figures.planned);
        figures.realised = figures
            .realised
            .checked_add(realised)
            .unwrap_or(figures.realised);
        figures.actions += 1;
        self.planned = self.planned.checked_add(planned).unwrap_or(self.planned);
        self.realised = self.realised.checked_add(realised).unwrap_or(self.realised);
    }
}

/// Splits `total` in proportion to `weights`, to the cent: each part is floored, then the cents
/// left go one by one to the largest remainders (earliest first on ties). The parts always add up
/// to `total`. Zero weights everywhere split equally.
pub fn split_cents(total: Amount, weights: &[Amount]) -> Vec<Amount> {
    if weights.is_empty() {
        return Vec::new();
    }
    let total_cents = i128::from(total.cents());
    let mut weight_cents: Vec<i128> = weights.iter().map(|w| i128::from(w.cents())).collect();
    if weight_cents.iter().all(|w| *w == 0) {
        weight_cents.iter_mut().for_each(|w| *w = 1);
    }
    let weight_total: i128 = weight_cents.iter().sum();
    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (index, weight) in weight_cents.iter().enumerate() {
        let product = total_cents * weight;
        parts.push(product / weight_total);
        remainders.push((product % weight_total, index));
    }
    let mut left = total_cents - parts.iter().sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders {
        if left == 0 {
            break;
        }
        parts[index] += 1;
        left -= 1;
    }
    parts
        .into_iter()
        .map(|cents| Amount::from_cents(i64::try_from(cents).unwrap_or(0)).unwrap_or(Amount::ZERO))
        .collect()
}

/// Each bailleur's planned and realised part of an action: the shares as they count now (a
/// share not yet confirmed by its bailleur counts for the programme's bailleur `owner`), the
/// realised amount split in proportion to them.
pub fn attributed_shares(owner: &str, action: &ActionState) -> Vec<(String, Amount, Amount)> {
    let shares = action.counted_shares(owner);
    let weights: Vec<Amount> = shares.iter().map(|s| s.planned_eur).collect();
    let realised_parts = split_cents(action.realised(), &weights);
    shares
        .into_iter()
        .zip(realised_parts)
        .map(|(share, realised)| (share.bailleur, share.planned_eur, realised))
        .collect()
}

impl TfpbView {
    /// The figures of every bailleur × QPV × year the filter keeps, with carry-over and flags as
    /// of `today` (the date against which "year over" and "bilan due" are judged).
    pub fn year_figures(&self, filter: &TfpbFilter, today: NaiveDate) -> Vec<YearFigures> {
        let mut all: BTreeMap<(String, String, i32), YearFigures> = BTreeMap::new();
        for (key, state) in &self.programmes {
            let entry = all
                .entry((key.bailleur.clone(), key.quartier.clone(), key.year))
                .or_insert_with(|| YearFigures::new(&key.bailleur, &key.quartier, key.year));
            entry.abatement = state.abatement.map(|a| a.amount);
            entry.dwellings = state.abatement.map(|a| a.dwellings);
            entry.bilan = state.bilan.status();
            entry.bilan_first_submitted_on = state.bilan.first_submitted_on;
            for action in state.live_actions() {
                for (bailleur, planned, realised) in attributed_shares(&key.bailleur, action) {
                    all.entry((bailleur.clone(), key.quartier.clone(), key.year))
                        .or_insert_with(|| YearFigures::new(&bailleur, &key.quartier, key.year))
                        .add(&action.spec.axis, planned, realised);
                }
            }
        }
        let mut carry: BTreeMap<(String, String), Decimal> = BTreeMap::new();
        let mut rows = Vec::with_capacity(all.len());
        // BTreeMap order: bailleur, quartier, then year ascending, so the carry accumulates.
        for ((bailleur, quartier, year), mut figures) in all {
            let running = carry
                .entry((bailleur.clone(), quartier.clone()))
                .or_default();
            figures.carry_over = *running;
            *running += figures.gap().unwrap_or(Decimal::ZERO);
            figures.covered = self.is_covered(&bailleur, &quartier, year);
            figures.flags = flags(&figures, today);
            if filter.keeps(&bailleur, &quartier, year) {
                rows.push(figures);
            }
        }
        rows
    }
}

/// The flags of one bailleur × QPV × year, as of `today`.
pub fn flags(figures: &YearFigures, today: NaiveDate) -> Vec<Flag> {
    let mut flags = Vec::new();
    let year_over = NaiveDate::from_ymd_opt(figures.year, 12, 31).is_some_and(|end| today > end);
    if let Some(abatement) = figures.abatement {
        if year_over && figures.realised < abatement {
            flags.push(Flag {
                kind: FlagKind::RealisedBelowAbatement,
                detail: format!(
                    "réalisé de {} inférieur à l'abattement de {}",
                    labels::eur(figures.realised),
                    labels::eur(abatement)
                ),
            });
        }
        if let Some(due) = figures.bilan_due_on {
            match figures.bilan_first_submitted_on {
                None if today > due => flags.push(Flag {
                    kind: FlagKind::BilanLate,
                    detail: format!("bilan attendu le {}, non remis", labels::date_fr(due)),
                }),
                Some(submitted) if submitted > due => flags.push(Flag {
                    kind: FlagKind::BilanLate,
                    detail: format!(
                        "bilan attendu le {}, remis le {}",
                        labels::date_fr(due),
                        labels::date_fr(submitted)
                    ),
                }),
                _ => {}
            }
        }
    }
    if !figures.realised.is_zero() && !figures.covered {
        flags.push(Flag {
            kind: FlagKind::SpendingNotCovered,
            detail: format!(
                // The row names the bailleur and the quartier (by name on pages).
                "{} dépensés mais aucune convention du bailleur ne couvre ce quartier en {}",
                labels::eur(figures.realised),
                figures.year
            ),
        });
    }
    flags
}
