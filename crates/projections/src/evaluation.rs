//! The evaluation report the contract promises (loi Lamy; l.1099 of the contract: evaluation is
//! compulsory; l.1101: territorialised indicators of the droit-commun policies; l.1117: a
//! mid-term report in 2027 and a final one in 2030): per objectif and per quartier, over a span
//! of exercices and as of any moment (the projections given are already as of that moment).
//!
//! What it gathers, each from the view that holds it, so that it reconciles to the cent with
//! those views:
//! - specific credits granted and paid (net of reversements) per financeur, split line by line
//!   as the quartier and objective views split them ([`crate::subsidy::reports`]);
//! - droit-commun commitments, with their figures and latest progress (the commitments view);
//! - TFPB abatement, planned and realised per QPV and year (the TFPB per-quartier view);
//! - the pistes d'action of Annex 2 with the dossiers that cite them;
//! - what has neither money nor commitment.
//!
//! Every table is built by a walk over the dossiers of the span: the report is asked for a few
//! times a year, not at every event.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use engagements_domain::dossier::{pistes_of, DossierState};
use engagements_domain::Amount;
use rust_decimal::Decimal;

use crate::commitments::tables::{commitment_cells, COMMITMENT_COLUMNS};
use crate::commitments::CommitmentRow;
use crate::referential::ReferentialView;
use crate::subsidy::reports::{canonical_quartier, quartier_weights};
use crate::subsidy::split::split_cents;
use crate::table::{Cell, Table};
use crate::tfpb::TfpbFilter;
use crate::Projections;

/// Longest span of exercices one report covers (a contract runs 6 years; 30 is a typo's bound).
pub const EVALUATION_YEARS_MAX: i32 = 30;

/// The span of exercices a report covers, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: i32,
    pub to: i32,
}

/// Why a span cannot be reported on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    #[error("the span {from}-{to} ends before it starts: give --from before --to")]
    Reversed { from: i32, to: i32 },
    #[error("the span {from}-{to} covers more than {EVALUATION_YEARS_MAX} exercices")]
    TooLong { from: i32, to: i32 },
}

impl Span {
    pub fn new(from: i32, to: i32) -> Result<Span, SpanError> {
        if to < from {
            return Err(SpanError::Reversed { from, to });
        }
        if to - from >= EVALUATION_YEARS_MAX {
            return Err(SpanError::TooLong { from, to });
        }
        Ok(Span { from, to })
    }

    pub fn contains(&self, year: i32) -> bool {
        (self.from..=self.to).contains(&year)
    }

    /// `2024-2026`, or `2025` for one exercice.
    pub fn label(&self) -> String {
        if self.from == self.to {
            self.from.to_string()
        } else {
            format!("{}-{}", self.from, self.to)
        }
    }
}

/// The evaluation report: one table per part, in the order they are printed.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationReport {
    pub span: Span,
    /// Per objectif: credits, dossiers, commitments, pistes, coverage.
    pub objectifs: Table,
    /// Per objectif × financeur: credits granted and paid.
    pub objectifs_financeurs: Table,
    /// Per quartier: credits, dossiers, commitments, TFPB, coverage.
    pub quartiers: Table,
    /// Per quartier × financeur: credits granted and paid.
    pub quartiers_financeurs: Table,
    /// The droit-commun commitments, as the commitments view shows them.
    pub engagements: Table,
    /// TFPB per QPV × year of the span.
    pub tfpb: Table,
    /// Every piste d'action with the dossiers of the span that cite it.
    pub pistes: Table,
    /// Objectifs and quartiers with neither money nor commitment.
    pub sans_moyens: Table,
}

impl EvaluationReport {
    /// Every table, in the order they are printed.
    pub fn tables(&self) -> [&Table; 8] {
        [
            &self.objectifs,
            &self.objectifs_financeurs,
            &self.quartiers,
            &self.quartiers_financeurs,
            &self.engagements,
            &self.tfpb,
            &self.pistes,
            &self.sans_moyens,
        ]
    }
}

/// Money in cents, with how many dossiers bring it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Money {
    granted: i64,
    paid: i64,
    dossiers: i64,
}

impl Money {
    fn add(&mut self, granted: i64, paid: i64) {
        self.granted += granted;
        self.paid += paid;
    }

    fn is_zero(&self) -> bool {
        self.granted == 0 && self.paid == 0
    }
}

fn amount(cents: i64) -> Cell {
    Cell::Amount(Amount::from_cents(cents.max(0)).unwrap_or(Amount::ZERO))
}

/// Credits of the span, split line by line over objectifs and quartiers.
#[derive(Default)]
struct Credits {
    /// (objectif, financeur) → money.
    objectif_financeur: BTreeMap<(u32, String), Money>,
    /// (quartier id, financeur) → money.
    quartier_financeur: BTreeMap<(String, String), Money>,
    /// Dossiers with a grant in force, per objectif and per quartier.
    objectif_dossiers: BTreeMap<u32, BTreeSet<String>>,
    quartier_dossiers: BTreeMap<String, BTreeSet<String>>,
    /// Per piste: the dossiers citing it (title, granted in cents).
    pistes: BTreeMap<String, Vec<(String, i64)>>,
}

impl Credits {
    fn of(projections: &Projections, span: Span) -> Credits {
        let mut credits = Credits::default();
        for dossier in projections.subsidy.filed(None) {
            let Some(filing) = dossier.filed.as_ref() else {
                continue;
            };
            if !span.contains(filing.exercice) {
                continue;
            }
            credits.add(dossier, &projections.referential);
        }
        credits
    }

    fn add(&mut self, dossier: &DossierState, referential: &ReferentialView) {
        let Some(filing) = dossier.filed.as_ref() else {
            return;
        };
        let objectif_weights: Vec<Decimal> = filing
            .objectifs
            .iter()
            .map(|o| o.weight.unwrap_or(Decimal::ONE))
            .collect();
        let quartier_weights = quartier_weights(dossier, referential);
        let quartiers: Vec<String> = filing
            .quartiers
            .iter()
            .map(|q| canonical_quartier(&q.quartier, referential))
            .collect();
        for ((financeur, _), line) in &dossier.lines {
            let (granted, paid) = (line.granted.cents(), line.net_paid().cents());
            let by_objectif = (
                split_cents(granted, &objectif_weights),
                split_cents(paid, &objectif_weights),
            );
            for (index, o) in filing.objectifs.iter().enumerate() {
                self.objectif_financeur
                    .entry((o.objectif, financeur.clone()))
                    .or_default()
                    .add(by_objectif.0[index], by_objectif.1[index]);
            }
            let by_quartier = (
                split_cents(granted, &quartier_weights),
                split_cents(paid, &quartier_weights),
            );
            for (index, quartier) in quartiers.iter().enumerate() {
                self.quartier_financeur
                    .entry((quartier.clone(), financeur.clone()))
                    .or_default()
                    .add(by_quartier.0[index], by_quartier.1[index]);
            }
        }
        let granted = dossier.granted_total();
        if granted.is_zero() {
            return;
        }
        let id = filing.dossier_id.to_string();
        for o in &filing.objectifs {
            self.objectif_dossiers
                .entry(o.objectif)
                .or_default()
                .insert(id.clone());
        }
        for quartier in &quartiers {
            self.quartier_dossiers
                .entry(quartier.clone())
                .or_default()
                .insert(id.clone());
        }
        for piste in &filing.pistes {
            self.pistes
                .entry(piste.clone())
                .or_default()
                .push((filing.title.clone(), granted.cents()));
        }
    }

    /// Money per objectif, all financeurs together.
    fn objectif(&self, number: u32) -> Money {
        let mut money = Money::default();
        for ((o, _), m) in &self.objectif_financeur {
            if *o == number {
                money.add(m.granted, m.paid);
            }
        }
        money.dossiers = self.objectif_dossiers.get(&number).map_or(0, |d| d.len()) as i64;
        money
    }

    /// Money per quartier, all financeurs together.
    fn quartier(&self, id: &str) -> Money {
        let mut money = Money::default();
        for ((q, _), m) in &self.quartier_financeur {
            if q == id {
                money.add(m.granted, m.paid);
            }
        }
        money.dossiers = self.quartier_dossiers.get(id).map_or(0, |d| d.len()) as i64;
        money
    }
}

/// TFPB figures of one QPV and year, all bailleurs together (as the TFPB per-quartier view).
#[derive(Debug, Clone, Copy, Default)]
struct TfpbFigures {
    bailleurs: i64,
    abatement: Amount,
    planned: Amount,
    realised: Amount,
}

fn tfpb_of(
    projections: &Projections,
    span: Span,
    today: NaiveDate,
) -> BTreeMap<(String, i32), TfpbFigures> {
    let mut by_quartier: BTreeMap<(String, i32), TfpbFigures> = BTreeMap::new();
    for figures in projections
        .tfpb
        .year_figures(&TfpbFilter::default(), today)
        .into_iter()
        .filter(|f| span.contains(f.year))
    {
        let row = by_quartier
            .entry((figures.quartier.clone(), figures.year))
            .or_default();
        row.bailleurs += 1;
        row.abatement = row
            .abatement
            .checked_add(figures.abatement.unwrap_or(Amount::ZERO))
            .unwrap_or(row.abatement);
        row.planned = row
            .planned
            .checked_add(figures.planned)
            .unwrap_or(row.planned);
        row.realised = row
            .realised
            .checked_add(figures.realised)
            .unwrap_or(row.realised);
    }
    by_quartier
}

/// What an objectif or a quartier has: credits, commitments, both or neither.
fn coverage(money: bool, commitments: bool) -> &'static str {
    match (money, commitments) {
        (true, true) => "credits_and_commitments",
        (true, false) => "credits_only",
        (false, true) => "commitments_only",
        (false, false) => "nothing",
    }
}

/// Whether a commitment names quartier `id` (or its code) among its local quartiers.
fn names_quartier(row: &CommitmentRow, id: &str, code: Option<&str>) -> bool {
    row.local_quartiers()
        .iter()
        .any(|q| *q == id || Some(*q) == code)
}

/// The evaluation report of `span`, from projections as of the moment wanted; TFPB flags and
/// bilans are judged on `today`.
pub fn evaluation_report(
    projections: &Projections,
    span: Span,
    today: NaiveDate,
) -> EvaluationReport {
    let credits = Credits::of(projections, span);
    let tfpb = tfpb_of(projections, span, today);
    let referential = &projections.referential;
    let mut sans_moyens = Table::new("evaluation-sans-moyens", &["kind", "subject", "label"]);

    let mut objectifs = Table::new(
        "evaluation-objectifs",
        &[
            "enjeu",
            "ambition",
            "objectif",
            "objectif_title",
            "granted_eur",
            "paid_eur",
            "dossiers",
            "commitments",
            "commitments_reported",
            "pistes",
            "pistes_served",
            "coverage",
        ],
    );
    for path in referential.objectifs() {
        let number = path.objectif.number;
        let money = credits.objectif(number);
        let linked: Vec<&CommitmentRow> = u16::try_from(number)
            .map(|n| projections.commitments.select(None, Some(n)).collect())
            .unwrap_or_default();
        let pistes = pistes_of(path.objectif);
        let served = pistes
            .iter()
            .filter(|(id, _)| credits.pistes.contains_key(id))
            .count();
        let covered = coverage(!money.is_zero(), !linked.is_empty());
        if covered == "nothing" {
            sans_moyens.push(vec![
                "objectif".into(),
                i64::from(number).to_string().into(),
                path.objectif.title.as_str().into(),
            ]);
        }
        objectifs.push(vec![
            path.enjeu.id.as_str().into(),
            path.ambition.id.as_str().into(),
            i64::from(number).into(),
            path.objectif.title.as_str().into(),
            amount(money.granted),
            amount(money.paid),
            money.dossiers.into(),
            (linked.len() as i64).into(),
            (linked.iter().filter(|c| !c.progress.is_empty()).count() as i64).into(),
            (pistes.len() as i64).into(),
            (served as i64).into(),
            covered.into(),
        ]);
    }

    let mut objectifs_financeurs = Table::new(
        "evaluation-objectifs-financeurs",
        &[
            "objectif",
            "objectif_title",
            "financeur",
            "financeur_name",
            "granted_eur",
            "paid_eur",
        ],
    );
    for ((number, financeur), money) in &credits.objectif_financeur {
        if money.is_zero() {
            continue;
        }
        objectifs_financeurs.push(vec![
            i64::from(*number).into(),
            Cell::from(
                referential
                    .objectif(*number)
                    .map(|p| p.objectif.title.clone()),
            ),
            financeur.as_str().into(),
            Cell::from(referential.organisation(financeur).map(|o| o.name.clone())),
            amount(money.granted),
            amount(money.paid),
        ]);
    }

    let mut quartiers = Table::new(
        "evaluation-quartiers",
        &[
            "quartier",
            "quartier_name",
            "quartier_kind",
            "granted_eur",
            "paid_eur",
            "dossiers",
            "commitments",
            "abatement_eur",
            "planned_eur",
            "realised_eur",
            "coverage",
        ],
    );
    for quartier in referential.quartiers() {
        let money = credits.quartier(&quartier.id);
        let commitments = projections
            .commitments
            .commitments
            .values()
            .filter(|c| names_quartier(c, &quartier.id, quartier.code.as_deref()))
            .count();
        let mut figures = TfpbFigures::default();
        for ((q, _), row) in &tfpb {
            if canonical_quartier(q, referential) == quartier.id {
                figures.abatement = figures
                    .abatement
                    .checked_add(row.abatement)
                    .unwrap_or(figures.abatement);
                figures.planned = figures
                    .planned
                    .checked_add(row.planned)
                    .unwrap_or(figures.planned);
                figures.realised = figures
                    .realised
                    .checked_add(row.realised)
                    .unwrap_or(figures.realised);
            }
        }
        let has_money =
            !money.is_zero() || !figures.planned.is_zero() || !figures.realised.is_zero();
        let covered = coverage(has_money, commitments > 0);
        if covered == "nothing" {
            sans_moyens.push(vec![
                "quartier".into(),
                quartier.id.as_str().into(),
                quartier.name.as_str().into(),
            ]);
        }
        quartiers.push(vec![
            quartier.id.as_str().into(),
            quartier.name.as_str().into(),
            quartier.kind.as_str().into(),
            amount(money.granted),
            amount(money.paid),
            money.dossiers.into(),
            (commitments as i64).into(),
            figures.abatement.into(),
            figures.planned.into(),
            figures.realised.into(),
            covered.into(),
        ]);
    }

    let mut quartiers_financeurs = Table::new(
        "evaluation-quartiers-financeurs",
        &[
            "quartier",
            "quartier_name",
            "financeur",
            "financeur_name",
            "granted_eur",
            "paid_eur",
        ],
    );
    for ((quartier, financeur), money) in &credits.quartier_financeur {
        if money.is_zero() {
            continue;
        }
        quartiers_financeurs.push(vec![
            quartier.as_str().into(),
            Cell::from(referential.quartier(quartier).map(|q| q.name.clone())),
            financeur.as_str().into(),
            Cell::from(referential.organisation(financeur).map(|o| o.name.clone())),
            amount(money.granted),
            amount(money.paid),
        ]);
    }

    let mut engagements = Table::new("evaluation-engagements", COMMITMENT_COLUMNS);
    for row in projections.commitments.select(None, None) {
        engagements.push(commitment_cells(row));
    }

    let mut tfpb_table = Table::new(
        "evaluation-tfpb",
        &[
            "quartier",
            "quartier_name",
            "year",
            "bailleurs",
            "abatement_eur",
            "planned_eur",
            "realised_eur",
        ],
    );
    for ((quartier, year), row) in &tfpb {
        tfpb_table.push(vec![
            quartier.as_str().into(),
            Cell::from(referential.quartier(quartier).map(|q| q.name.clone())),
            (*year).into(),
            row.bailleurs.into(),
            row.abatement.into(),
            row.planned.into(),
            row.realised.into(),
        ]);
    }

    let mut pistes = Table::new(
        "evaluation-pistes",
        &[
            "objectif",
            "piste",
            "piste_level",
            "piste_text",
            "dossiers",
            "granted_eur",
            "dossier_titles",
        ],
    );
    for path in referential.objectifs() {
        for (id, text) in pistes_of(path.objectif) {
            let citing = credits
                .pistes
                .get(&id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let level = if id.contains("-I") {
                "intercommunal"
            } else {
                "communal"
            };
            pistes.push(vec![
                i64::from(path.objectif.number).into(),
                id.as_str().into(),
                level.into(),
                text.into(),
                (citing.len() as i64).into(),
                amount(citing.iter().map(|(_, cents)| cents).sum()),
                citing
                    .iter()
                    .map(|(title, _)| title.as_str())
                    .collect::<Vec<_>>()
                    .join(" ; ")
                    .as_str()
                    .into(),
            ]);
        }
    }

    EvaluationReport {
        span,
        objectifs,
        objectifs_financeurs,
        quartiers,
        quartiers_financeurs,
        engagements,
        tfpb: tfpb_table,
        pistes,
        sans_moyens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_runs_forward_and_is_bounded() {
        assert_eq!(Span::new(2024, 2026).unwrap().label(), "2024-2026");
        assert_eq!(Span::new(2025, 2025).unwrap().label(), "2025");
        assert!(matches!(
            Span::new(2026, 2024),
            Err(SpanError::Reversed { .. })
        ));
        assert!(matches!(
            Span::new(2000, 2100),
            Err(SpanError::TooLong { .. })
        ));
        assert!(Span::new(2024, 2026).unwrap().contains(2026));
        assert!(!Span::new(2024, 2026).unwrap().contains(2027));
    }

    #[test]
    fn coverage_says_what_there_is() {
        assert_eq!(coverage(false, false), "nothing");
        assert_eq!(coverage(true, false), "credits_only");
        assert_eq!(coverage(false, true), "commitments_only");
        assert_eq!(coverage(true, true), "credits_and_commitments");
    }
}
