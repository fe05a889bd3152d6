//! The TFPB report tables (column keys documented in docs/imports.md).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use engagements_domain::Amount;
use rust_decimal::Decimal;

use super::figures::{attributed_shares, YearFigures};
use super::{TfpbFilter, TfpbView};
use crate::table::{Cell, Table};

/// The axis column of a bailleur × QPV × year's total row.
pub const TOTAL_AXIS: &str = "total";

/// A signed amount (gap, carry-over) as text with two decimals.
fn signed(value: Decimal) -> Cell {
    Cell::Text(format!("{:.2}", value.round_dp(2)))
}

fn opt_signed(value: Option<Decimal>) -> Cell {
    value.map(signed).unwrap_or(Cell::Empty)
}

fn pct(value: Option<Decimal>) -> Cell {
    value
        .map(|v| Cell::Text(format!("{v:.1}")))
        .unwrap_or(Cell::Empty)
}

fn ratio(realised: Amount, abatement: Amount) -> Option<Decimal> {
    (!abatement.is_zero())
        .then(|| (realised.value() * Decimal::ONE_HUNDRED / abatement.value()).round_dp(1))
}

impl TfpbView {
    /// `tfpb`: per bailleur × QPV × year, a `total` row (abatement, planned, realised, ratio, gap,
    /// carry-over, bilan, flags) followed by one row per axis (planned and realised).
    pub fn bailleur_table(&self, filter: &TfpbFilter, today: NaiveDate) -> Table {
        let mut table = Table::new(
            "tfpb",
            &[
                "bailleur",
                "quartier",
                "year",
                "axis",
                "dwellings",
                "abatement_eur",
                "planned_eur",
                "realised_eur",
                "realised_ratio_pct",
                "gap_eur",
                "carry_over_eur",
                "actions",
                "bilan",
                "flags",
            ],
        );
        for figures in self.year_figures(filter, today) {
            push_total_row(&mut table, &figures);
            for (axis, axis_figures) in &figures.by_axis {
                table.push(vec![
                    figures.bailleur.as_str().into(),
                    figures.quartier.as_str().into(),
                    figures.year.into(),
                    axis.as_str().into(),
                    Cell::Empty,
                    Cell::Empty,
                    axis_figures.planned.into(),
                    axis_figures.realised.into(),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    i64::from(axis_figures.actions).into(),
                    Cell::Empty,
                    Cell::Empty,
                ]);
            }
        }
        table
    }

    /// `tfpb-quartiers`: per QPV × year across the bailleurs the filter keeps.
    pub fn quartier_table(&self, filter: &TfpbFilter, today: NaiveDate) -> Table {
        let mut table = Table::new(
            "tfpb-quartiers",
            &[
                "quartier",
                "year",
                "bailleurs",
                "abatement_eur",
                "planned_eur",
                "realised_eur",
                "realised_ratio_pct",
                "gap_eur",
                "flags",
            ],
        );
        let mut by_quartier: BTreeMap<(String, i32), Vec<YearFigures>> = BTreeMap::new();
        for figures in self.year_figures(filter, today) {
            by_quartier
                .entry((figures.quartier.clone(), figures.year))
                .or_default()
                .push(figures);
        }
        for ((quartier, year), rows) in by_quartier {
            let abatement: Amount = rows.iter().filter_map(|r| r.abatement).sum();
            let planned: Amount = rows.iter().map(|r| r.planned).sum();
            let realised: Amount = rows.iter().map(|r| r.realised).sum();
            let flags: usize = rows.iter().map(|r| r.flags.len()).sum();
            table.push(vec![
                quartier.into(),
                year.into(),
                (rows.len() as i64).into(),
                abatement.into(),
                planned.into(),
                realised.into(),
                pct(ratio(realised, abatement)),
                signed(abatement.value() - realised.value()),
                (flags as i64).into(),
            ]);
        }
        table
    }

    /// `tfpb-axes`: per axis × year across the contract (restricted by the filter).
    pub fn axis_table(&self, filter: &TfpbFilter, today: NaiveDate) -> Table {
        let mut table = Table::new(
            "tfpb-axes",
            &[
                "axis",
                "year",
                "actions",
                "planned_eur",
                "realised_eur",
                "realised_share_pct",
            ],
        );
        let mut by_axis: BTreeMap<(String, i32), (u32, Amount, Amount)> = BTreeMap::new();
        let mut realised_by_year: BTreeMap<i32, Amount> = BTreeMap::new();
        for figures in self.year_figures(filter, today) {
            for (axis, f) in &figures.by_axis {
                let entry = by_axis.entry((axis.clone(), figures.year)).or_default();
                entry.0 += f.actions;
                entry.1 = [entry.1, f.planned].into_iter().sum();
                entry.2 = [entry.2, f.realised].into_iter().sum();
            }
            let year_total = realised_by_year.entry(figures.year).or_default();
            *year_total = [*year_total, figures.realised].into_iter().sum();
        }
        for ((axis, year), (actions, planned, realised)) in by_axis {
            let year_total = realised_by_year.get(&year).copied().unwrap_or_default();
            table.push(vec![
                axis.into(),
                year.into(),
                i64::from(actions).into(),
                planned.into(),
                realised.into(),
                pct(ratio(realised, year_total)),
            ]);
        }
        table
    }

    /// `tfpb-flags`: one row per flag.
    pub fn flags_table(&self, filter: &TfpbFilter, today: NaiveDate) -> Table {
        let mut table = Table::new(
            "tfpb-flags",
            &["flag", "bailleur", "quartier", "year", "detail"],
        );
        for figures in self.year_figures(filter, today) {
            for flag in &figures.flags {
                table.push(vec![
                    flag.kind.as_str().into(),
                    figures.bailleur.as_str().into(),
                    figures.quartier.as_str().into(),
                    figures.year.into(),
                    flag.detail.as_str().into(),
                ]);
            }
        }
        table
    }

    /// `tfpb-actions`: the actions behind the figures, one row per action and bailleur sharing it
    /// (the bilan's detail).
    pub fn actions_table(&self, filter: &TfpbFilter) -> Table {
        let mut table = Table::new(
            "tfpb-actions",
            &[
                "bailleur",
                "quartier",
                "year",
                "action_id",
                "axis",
                "label",
                "status",
                "recorded_by",
                "planned_eur",
                "realised_eur",
                "partners",
            ],
        );
        for (key, state) in &self.programmes {
            for action in state.actions.values() {
                let status = match (action.dropped, action.added) {
                    (true, _) => "dropped",
                    (false, true) => "added",
                    (false, false) => "planned",
                };
                let parts = attributed_shares(&key.bailleur, action);
                for (bailleur, planned, realised) in parts {
                    if !filter.keeps(&bailleur, &key.quartier, key.year) {
                        continue;
                    }
                    table.push(vec![
                        bailleur.into(),
                        key.quartier.as_str().into(),
                        key.year.into(),
                        action.spec.action_id.to_string().into(),
                        action.spec.axis.as_str().into(),
                        action.spec.label.as_str().into(),
                        status.into(),
                        key.bailleur.as_str().into(),
                        planned.into(),
                        realised.into(),
                        action.spec.partners.join("; ").into(),
                    ]);
                }
            }
        }
        table
    }
}

fn push_total_row(table: &mut Table, figures: &YearFigures) {
    let actions: u32 = figures.by_axis.values().map(|a| a.actions).sum();
    let flags: Vec<&str> = figures.flags.iter().map(|f| f.kind.as_str()).collect();
    table.push(vec![
        figures.bailleur.as_str().into(),
        figures.quartier.as_str().into(),
        figures.year.into(),
        TOTAL_AXIS.into(),
        figures.dwellings.map(i64::from).into(),
        figures.abatement.into(),
        figures.planned.into(),
        figures.realised.into(),
        pct(figures.realised_ratio_pct()),
        opt_signed(figures.gap()),
        signed(figures.carry_over),
        i64::from(actions).into(),
        figures.bilan.as_str().into(),
        flags.join(" ").into(),
    ]);
}
