//! Running totals of the aggregate report tables (signatory, quartier, objective, porteur;
//! the commune table is the quartier table's rows folded onto communes), so that a table is built from its rows, not from a walk over every dossier.
//!
//! Each filed dossier *contributes* to some rows: exactly what the walk over the dossiers
//! (`SubsidyView::*_table_walked`) adds for it, row counts included. Folding a dossier event
//! subtracts the dossier's contribution before the event and adds its contribution after it; a
//! row whose count of contributions falls back to zero is removed, as the walk would not make it.
//! Sums are exact cents in `i128`: no sum of amounts (each ≤ 10^14 cents) can overflow, and the
//! tables fall back to the walk should a total leave the range the walk keeps (see `reports`).
//!
//! Each aggregate is built by one walk, the first time its table is asked for or when the live
//! read model prepares the bounded ones (`ReportTotals::prepare`); from then on every dossier
//! event keeps it up to date. A fold that never asks (a replay, a snapshot being decoded) pays
//! nothing.
//!
//! What the totals rest on besides the dossiers:
//! - quartier and commune totals use the referential's quartiers (which id or code names which
//!   quartier, its population, its communes). They keep the [`QuartierBasis`] they were computed
//!   with; a contract event that changes it drops them (`follow_referential`), and they are never
//!   used with a referential of another basis (the table is then walked).
//! - porteur totals are per porteur id; the porteur's name, which orders the table, is read when
//!   the table is built, so a porteur event changes nothing here.
//! - names of organisations, quartiers, communes and objectifs are read when the table is built.
//!
//! Every caller passes the projections' own referential. Were quartier totals first built for
//! another one, they would rest on it until the next contract event, and the tables of the
//! projections' own referential would be walked meanwhile: slower, never wrong.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use engagements_domain::dossier::{DossierFiling, DossierState, LineStatus};
use engagements_domain::{Amount, PorteurId};
use rust_decimal::Decimal;

use super::split::{scaled_weights, split_cents_scaled};
use super::Dossiers;
use crate::referential::ReferentialView;

#[cfg(test)]
mod tests;

/// Whether a dossier's contribution goes in or out of the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sign {
    Add,
    Subtract,
}

impl Sign {
    fn of(self, value: i128) -> i128 {
        match self {
            Sign::Add => value,
            Sign::Subtract => -value,
        }
    }

    fn of_count(self, value: i64) -> i64 {
        match self {
            Sign::Add => value,
            Sign::Subtract => -value,
        }
    }
}

fn cents(amount: Amount) -> i128 {
    i128::from(amount.cents())
}

/// What the aggregates read of a filed dossier, computed once per fold (amounts are decimals:
/// converting them is the costly part of a fold).
struct Figures<'a> {
    filing: &'a DossierFiling,
    withdrawn: bool,
    lines: Vec<LineFigures<'a>>,
    /// `DossierState::granted_total`, as the walks compute it.
    granted_total: Amount,
    crf_received: bool,
}

/// One funding line, in cents.
struct LineFigures<'a> {
    financeur: &'a str,
    dispositif: &'a str,
    requested: i128,
    proposed: i128,
    granted: i64,
    refused: bool,
    paid: i128,
    reversed: i128,
    net_paid: i64,
}

impl<'a> Figures<'a> {
    /// `None` for a dossier not filed (it is in no table).
    fn of(dossier: &'a DossierState) -> Option<Self> {
        let filing = dossier.filed.as_ref()?;
        let lines = dossier
            .lines
            .iter()
            .map(|((financeur, dispositif), line)| LineFigures {
                financeur,
                dispositif,
                requested: cents(line.requested),
                proposed: cents(line.proposed.unwrap_or(Amount::ZERO)),
                granted: line.granted.cents(),
                refused: line.status == LineStatus::Refused,
                paid: cents(line.paid),
                reversed: cents(line.reversement_received),
                net_paid: line.net_paid().cents(),
            })
            .collect();
        Some(Figures {
            filing,
            withdrawn: dossier.withdrawn,
            lines,
            granted_total: dossier.granted_total(),
            crf_received: dossier.crf_received_on.is_some(),
        })
    }
}

/// The sums of one row: added and subtracted part by part.
trait Sums: Copy + Default + PartialEq + std::fmt::Debug {
    fn combine(&mut self, part: &Self, sign: Sign);
    /// How many contributions the row holds (zero: the row no longer exists).
    fn contributions(&self) -> i64;
}

/// One row of the signatory table from the dossiers: financeur × dispositif × exercice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SignatorySums {
    /// Funding lines (one per dossier asking the financeur under the dispositif).
    pub dossiers: i64,
    pub requested_cents: i128,
    pub proposed_cents: i128,
    pub granted_cents: i128,
    pub refused_cents: i128,
    pub paid_cents: i128,
    pub reversed_cents: i128,
    pub net_paid_cents: i128,
}

impl Sums for SignatorySums {
    fn combine(&mut self, part: &Self, sign: Sign) {
        self.dossiers += sign.of_count(part.dossiers);
        self.requested_cents += sign.of(part.requested_cents);
        self.proposed_cents += sign.of(part.proposed_cents);
        self.granted_cents += sign.of(part.granted_cents);
        self.refused_cents += sign.of(part.refused_cents);
        self.paid_cents += sign.of(part.paid_cents);
        self.reversed_cents += sign.of(part.reversed_cents);
        self.net_paid_cents += sign.of(part.net_paid_cents);
    }

    fn contributions(&self) -> i64 {
        self.dossiers
    }
}

/// Money split over quartiers, objectifs or communes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SplitSums {
    /// Parts added (the `dossiers` column of the quartier and objective tables).
    pub dossiers: i64,
    pub granted_cents: i128,
    pub paid_cents: i128,
}

impl Sums for SplitSums {
    fn combine(&mut self, part: &Self, sign: Sign) {
        self.dossiers += sign.of_count(part.dossiers);
        self.granted_cents += sign.of(part.granted_cents);
        self.paid_cents += sign.of(part.paid_cents);
    }

    fn contributions(&self) -> i64 {
        self.dossiers
    }
}

/// One porteur × exercice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PorteurSums {
    pub dossiers: i64,
    pub requested_cents: i128,
    pub granted_cents: i128,
    pub paid_cents: i128,
    pub reversed_cents: i128,
    pub crf_missing: i64,
}

impl Sums for PorteurSums {
    fn combine(&mut self, part: &Self, sign: Sign) {
        self.dossiers += sign.of_count(part.dossiers);
        self.requested_cents += sign.of(part.requested_cents);
        self.granted_cents += sign.of(part.granted_cents);
        self.paid_cents += sign.of(part.paid_cents);
        self.reversed_cents += sign.of(part.reversed_cents);
        self.crf_missing += sign.of_count(part.crf_missing);
    }

    fn contributions(&self) -> i64 {
        self.dossiers
    }
}

/// Rows by exercice, then key: a table for one exercice visits that exercice's rows only.
#[derive(Debug, Clone)]
struct Rows<K, S> {
    by_exercice: BTreeMap<i32, BTreeMap<K, S>>,
}

impl<K, S> Default for Rows<K, S> {
    fn default() -> Self {
        Rows {
            by_exercice: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Copy, S: Sums> Rows<K, S> {
    fn combine(&mut self, exercice: i32, key: K, part: &S, sign: Sign) {
        let rows = self.by_exercice.entry(exercice).or_default();
        let row = rows.entry(key).or_default();
        row.combine(part, sign);
        debug_assert!(row.contributions() >= 0, "{exercice}: {row:?} below zero");
        if row.contributions() == 0 {
            // Every contribution is gone: so is every cent.
            debug_assert_eq!(*row, S::default(), "{exercice}: no contribution left");
            rows.remove(&key);
            if rows.is_empty() {
                self.by_exercice.remove(&exercice);
            }
        }
    }

    /// The rows of `year` (every exercice if `None`), by exercice then key.
    fn of(&self, year: Option<i32>) -> impl Iterator<Item = (i32, &K, &S)> {
        let exercices = match year {
            Some(year) => year..=year,
            None => i32::MIN..=i32::MAX,
        };
        self.by_exercice
            .range(exercices)
            .flat_map(|(exercice, rows)| rows.iter().map(|(key, sums)| (*exercice, key, sums)))
    }
}

/// A name (financeur, dispositif, quartier, commune) as a small number, so that keys are `Copy`
/// and folding an event allocates nothing for rows that already exist.
type Name = u32;

#[derive(Debug, Clone, Default)]
struct Names {
    /// A few dozen names: a B-tree finds one in a handful of comparisons, without hashing.
    ids: BTreeMap<String, Name>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, name: &str) -> Name {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = Name::try_from(self.names.len()).expect("fewer than 4 billion distinct names");
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    fn name(&self, id: Name) -> &str {
        &self.names[id as usize]
    }
}

/// What the quartier and commune totals read of the referential: the quartiers, in order, with
/// the facts `ReferentialView::quartier` gives (first quartier whose id or code matches).
#[derive(Debug, Clone, Default)]
pub(crate) struct QuartierBasis {
    quartiers: Vec<QuartierFacts>,
    /// Id or code → index of the first quartier it names.
    index: BTreeMap<String, usize>,
}

#[derive(Debug, Clone)]
struct QuartierFacts {
    id: String,
    code: Option<String>,
    population: u32,
    /// The population as a scaled weight (see `split::scaled_weights`).
    weight: i128,
    communes: Vec<String>,
}

impl QuartierBasis {
    pub(crate) fn of(referential: &ReferentialView) -> Self {
        let quartiers: Vec<QuartierFacts> = referential
            .quartiers()
            .map(|q| QuartierFacts {
                id: q.id.clone(),
                code: q.code.clone(),
                population: q.population,
                weight: scaled_weights(&[Decimal::from(q.population)])[0],
                communes: q.communes.clone(),
            })
            .collect();
        let mut index = BTreeMap::new();
        for (position, facts) in quartiers.iter().enumerate() {
            index.entry(facts.id.clone()).or_insert(position);
            if let Some(code) = &facts.code {
                index.entry(code.clone()).or_insert(position);
            }
        }
        QuartierBasis { quartiers, index }
    }

    /// Whether `referential` gives the same quartier facts (in the order of its quartiers).
    pub(crate) fn matches(&self, referential: &ReferentialView) -> bool {
        let mut count = 0;
        for quartier in referential.quartiers() {
            let Some(facts) = self.quartiers.get(count) else {
                return false;
            };
            if facts.id != quartier.id
                || facts.code != quartier.code
                || facts.population != quartier.population
                || facts.communes != quartier.communes
            {
                return false;
            }
            count += 1;
        }
        count == self.quartiers.len()
    }

    fn quartier(&self, id_or_code: &str) -> Option<&QuartierFacts> {
        self.index.get(id_or_code).map(|i| &self.quartiers[*i])
    }

    /// The quartier's id in the referential (a dossier may name a QPV by code or id).
    fn canonical<'a>(&'a self, id_or_code: &'a str) -> &'a str {
        self.quartier(id_or_code)
            .map(|q| q.id.as_str())
            .unwrap_or(id_or_code)
    }

    /// Weights of a dossier's quartiers, scaled: declared shares, else populations (0 if
    /// unknown).
    fn weights(&self, filing: &DossierFiling) -> Vec<i128> {
        if filing.quartiers.iter().all(|q| q.share_pct.is_some()) {
            let shares: Vec<Decimal> = filing
                .quartiers
                .iter()
                .map(|q| q.share_pct.unwrap_or_default())
                .collect();
            return scaled_weights(&shares);
        }
        filing
            .quartiers
            .iter()
            .map(|q| self.quartier(&q.quartier).map_or(0, |known| known.weight))
            .collect()
    }
}

/// Per exercice × financeur × dispositif.
#[derive(Debug, Clone, Default)]
pub(crate) struct SignatoryRunning {
    names: Names,
    rows: Rows<(Name, Name), SignatorySums>,
}

impl SignatoryRunning {
    fn fold(&mut self, dossier: &Figures, sign: Sign) {
        for line in &dossier.lines {
            let part = SignatorySums {
                dossiers: 1,
                requested_cents: if dossier.withdrawn { 0 } else { line.requested },
                proposed_cents: line.proposed,
                granted_cents: i128::from(line.granted),
                refused_cents: if line.refused { line.requested } else { 0 },
                paid_cents: line.paid,
                reversed_cents: line.reversed,
                net_paid_cents: i128::from(line.net_paid),
            };
            let key = (
                self.names.id(line.financeur),
                self.names.id(line.dispositif),
            );
            self.rows.combine(dossier.filing.exercice, key, &part, sign);
        }
    }

    /// (exercice, financeur, dispositif, sums), by exercice.
    pub(crate) fn rows(
        &self,
        year: Option<i32>,
    ) -> impl Iterator<Item = (i32, &str, &str, &SignatorySums)> {
        self.rows
            .of(year)
            .map(|(exercice, (financeur, dispositif), sums)| {
                (
                    exercice,
                    self.names.name(*financeur),
                    self.names.name(*dispositif),
                    sums,
                )
            })
    }
}

/// Per exercice × quartier (canonical id) × financeur × dispositif, for one quartier basis.
#[derive(Debug, Clone, Default)]
pub(crate) struct QuartierRunning {
    basis: QuartierBasis,
    names: Names,
    rows: Rows<(Name, Name, Name), SplitSums>,
}

impl QuartierRunning {
    fn fold(&mut self, dossier: &Figures, sign: Sign) {
        let filing = dossier.filing;
        let weights = self.basis.weights(filing);
        let quartiers: Vec<Name> = filing
            .quartiers
            .iter()
            .map(|q| self.names.id(self.basis.canonical(&q.quartier)))
            .collect();
        for line in &dossier.lines {
            let granted = split_cents_scaled(line.granted, &weights);
            let paid = split_cents_scaled(line.net_paid, &weights);
            let financeur = self.names.id(line.financeur);
            let dispositif = self.names.id(line.dispositif);
            for (index, quartier) in quartiers.iter().enumerate() {
                let part = SplitSums {
                    dossiers: 1,
                    granted_cents: i128::from(granted[index]),
                    paid_cents: i128::from(paid[index]),
                };
                let key = (*quartier, financeur, dispositif);
                self.rows.combine(filing.exercice, key, &part, sign);
            }
        }
    }

    /// (exercice, quartier, financeur, dispositif, sums), by exercice.
    pub(crate) fn rows(
        &self,
        year: Option<i32>,
    ) -> impl Iterator<Item = (i32, &str, &str, &str, &SplitSums)> {
        self.rows
            .of(year)
            .map(|(exercice, (quartier, financeur, dispositif), sums)| {
                (
                    exercice,
                    self.names.name(*quartier),
                    self.names.name(*financeur),
                    self.names.name(*dispositif),
                    sums,
                )
            })
    }
}

/// Per exercice × objectif number.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjectiveRunning {
    rows: Rows<u32, SplitSums>,
}

impl ObjectiveRunning {
    fn fold(&mut self, dossier: &Figures, sign: Sign) {
        let filing = dossier.filing;
        let weights: Vec<Decimal> = filing
            .objectifs
            .iter()
            .map(|o| o.weight.unwrap_or(Decimal::ONE))
            .collect();
        let weights = scaled_weights(&weights);
        // Line by line, as the quartier view splits (and the walk, `split_lines`).
        let mut granted = vec![0_i64; weights.len()];
        let mut paid = vec![0_i64; weights.len()];
        for line in &dossier.lines {
            let line_granted = split_cents_scaled(line.granted, &weights);
            let line_paid = split_cents_scaled(line.net_paid, &weights);
            for index in 0..weights.len() {
                granted[index] += line_granted[index];
                paid[index] += line_paid[index];
            }
        }
        for (index, o) in filing.objectifs.iter().enumerate() {
            let part = SplitSums {
                dossiers: 1,
                granted_cents: i128::from(granted[index]),
                paid_cents: i128::from(paid[index]),
            };
            self.rows.combine(filing.exercice, o.objectif, &part, sign);
        }
    }

    /// (exercice, objectif, sums), by exercice.
    pub(crate) fn rows(&self, year: Option<i32>) -> impl Iterator<Item = (i32, u32, &SplitSums)> {
        self.rows
            .of(year)
            .map(|(exercice, objectif, sums)| (exercice, *objectif, sums))
    }
}

/// Per exercice × porteur id.
#[derive(Debug, Clone, Default)]
pub(crate) struct PorteurRunning {
    rows: Rows<PorteurId, PorteurSums>,
}

impl PorteurRunning {
    fn fold(&mut self, dossier: &Figures, sign: Sign) {
        let mut part = PorteurSums {
            dossiers: 1,
            ..PorteurSums::default()
        };
        for line in &dossier.lines {
            if !dossier.withdrawn {
                part.requested_cents += line.requested;
            }
            part.granted_cents += i128::from(line.granted);
            part.paid_cents += line.paid;
            part.reversed_cents += line.reversed;
        }
        if !dossier.granted_total.is_zero() && !dossier.crf_received {
            part.crf_missing = 1;
        }
        let filing = dossier.filing;
        self.rows
            .combine(filing.exercice, filing.porteur_id, &part, sign);
    }

    /// (exercice, porteur, sums), by exercice.
    pub(crate) fn rows(
        &self,
        year: Option<i32>,
    ) -> impl Iterator<Item = (i32, PorteurId, &PorteurSums)> {
        self.rows
            .of(year)
            .map(|(exercice, porteur_id, sums)| (exercice, *porteur_id, sums))
    }
}

/// The totals of every aggregate table; each is built the first time it is asked for.
///
/// Derived state: never serialised (a decoded snapshot starts with none and builds each on first
/// use), copied with the projections.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReportTotals {
    signatory: OnceLock<SignatoryRunning>,
    quartier: OnceLock<QuartierRunning>,
    objective: OnceLock<ObjectiveRunning>,
    porteur: OnceLock<PorteurRunning>,
}

/// `start` with the contribution of every filed dossier added.
fn built<T>(dossiers: &Dossiers, start: T, mut fold: impl FnMut(&mut T, &Figures)) -> T {
    let mut totals = start;
    for figures in dossiers.values().filter_map(|d| Figures::of(d)) {
        fold(&mut totals, &figures);
    }
    totals
}

impl ReportTotals {
    /// Adds (or takes out) a dossier's contribution to every aggregate built so far.
    pub(crate) fn fold(&mut self, dossier: &DossierState, sign: Sign) {
        let built = [
            self.signatory.get().is_some(),
            self.quartier.get().is_some(),
            self.objective.get().is_some(),
            self.porteur.get().is_some(),
        ];
        if !built.contains(&true) {
            // Nothing asked for yet (a replay): no figure to compute.
            return;
        }
        let Some(dossier) = Figures::of(dossier) else {
            return;
        };
        let dossier = &dossier;
        if let Some(totals) = self.signatory.get_mut() {
            totals.fold(dossier, sign);
        }
        if let Some(totals) = self.quartier.get_mut() {
            totals.fold(dossier, sign);
        }
        if let Some(totals) = self.objective.get_mut() {
            totals.fold(dossier, sign);
        }
        if let Some(totals) = self.porteur.get_mut() {
            totals.fold(dossier, sign);
        }
    }

    /// Builds the totals whose size does not grow with the number of dossiers (signatory,
    /// quartier, objective, commune), so that every later event keeps them up to date. The
    /// porteur totals (a row per porteur) stay built on first use.
    pub(crate) fn prepare(&self, dossiers: &Dossiers, referential: &ReferentialView) {
        self.signatory(dossiers);
        self.quartier(dossiers, referential);
        self.objective(dossiers);
    }

    /// Forgets the porteur totals (a row per porteur: too large to copy into every checkpoint).
    pub(crate) fn forget_porteur(&mut self) {
        self.porteur.take();
    }

    /// Drops the quartier and commune totals if the referential's quartiers changed (they are
    /// built again, with the new facts, when next asked for).
    pub(crate) fn follow_referential(&mut self, referential: &ReferentialView) {
        if self
            .quartier
            .get()
            .is_some_and(|t| !t.basis.matches(referential))
        {
            self.quartier.take();
        }
    }

    pub(crate) fn signatory(&self, dossiers: &Dossiers) -> &SignatoryRunning {
        self.signatory.get_or_init(|| {
            built(dossiers, SignatoryRunning::default(), |t, d| {
                t.fold(d, Sign::Add)
            })
        })
    }

    /// The quartier totals, unless they rest on other quartier facts than `referential`'s.
    pub(crate) fn quartier(
        &self,
        dossiers: &Dossiers,
        referential: &ReferentialView,
    ) -> Option<&QuartierRunning> {
        let totals = self.quartier.get_or_init(|| {
            let start = QuartierRunning {
                basis: QuartierBasis::of(referential),
                ..QuartierRunning::default()
            };
            built(dossiers, start, |t, d| t.fold(d, Sign::Add))
        });
        totals.basis.matches(referential).then_some(totals)
    }

    pub(crate) fn objective(&self, dossiers: &Dossiers) -> &ObjectiveRunning {
        self.objective.get_or_init(|| {
            built(dossiers, ObjectiveRunning::default(), |t, d| {
                t.fold(d, Sign::Add)
            })
        })
    }

    pub(crate) fn porteur(&self, dossiers: &Dossiers) -> &PorteurRunning {
        self.porteur.get_or_init(|| {
            built(dossiers, PorteurRunning::default(), |t, d| {
                t.fold(d, Sign::Add)
            })
        })
    }
}
