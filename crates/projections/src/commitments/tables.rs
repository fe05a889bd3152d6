//! The report tables of the commitments view (column keys are part of the report's contract,
//! documented in docs/commitments.md).

use engagements_domain::commitment::terms::lines_label;
use engagements_domain::commitment::{CommitmentKind, CommitmentTerms, FlagKind};
use engagements_domain::Amount;

use super::{CommitmentRow, CommitmentsView, PendingContributionRow};
use crate::table::{Cell, Table};

/// Columns of `report commitments`.
pub const COMMITMENT_COLUMNS: &[&str] = &[
    "signatory",
    "commitment_id",
    "service",
    "kind",
    "title",
    "scope",
    "scope_ref",
    "local",
    "period",
    "amount_eur",
    "amount_period",
    "staff_count",
    "staff_unit",
    "programme",
    "objectifs",
    "quartiers",
    "status",
    "revisions",
    "progress_reports",
    "latest_period",
    "latest_realised_value",
    "latest_unit",
    "latest_comment",
    "source_lines",
    "carriers",
    "targets",
    "baselines",
    "caveats",
];

impl CommitmentsView {
    /// Per signatory (and/or per objectif): one row per commitment, then one row per partner
    /// whose contribution is still « En attente » (only when no objectif is asked: a pending
    /// partner has committed to no objectif yet).
    pub fn commitments_table(&self, signatory: Option<&str>, objectif: Option<u16>) -> Table {
        let mut table = Table::new("commitments", COMMITMENT_COLUMNS);
        for row in self.select(signatory, objectif) {
            table.push(commitment_cells(row));
        }
        if objectif.is_none() {
            for pending in self.pending.values() {
                let wanted = signatory.is_none_or(|s| s == pending.signatory);
                if wanted && self.is_pending(&pending.signatory) {
                    table.push(pending_cells(pending));
                }
            }
        }
        table
    }

    /// The droit-commun part of the per-quartier view: quantified, local commitments that name
    /// a quartier, one row per quartier and commitment. A figure that names several quartiers
    /// is shown whole on each, with how many quartiers share it, and is never summed here.
    pub fn quartiers_table(&self, quartier: Option<&str>) -> Table {
        let mut table = Table::new(
            "commitments-quartiers",
            &[
                "quartier",
                "signatory",
                "commitment_id",
                "title",
                "kind",
                "scope",
                "amount_eur",
                "amount_period",
                "staff_count",
                "staff_unit",
                "shared_by_quartiers",
                "status",
                "latest_realised_value",
            ],
        );
        let mut rows: Vec<(&str, &CommitmentRow, usize)> = Vec::new();
        for row in self.commitments.values().filter(|c| c.counts_in_totals()) {
            let quartiers = row.local_quartiers();
            for q in &quartiers {
                if quartier.is_none_or(|wanted| wanted == *q) {
                    rows.push((q, row, quartiers.len()));
                }
            }
        }
        rows.sort_by(|a, b| (a.0, &a.1.commitment_id).cmp(&(b.0, &b.1.commitment_id)));
        for (q, row, shared) in rows {
            let (amount, period, count, unit) = figures(&row.terms);
            table.push(vec![
                q.into(),
                row.signatory.as_str().into(),
                row.commitment_id.to_string().into(),
                row.terms.title.as_str().into(),
                row.terms.kind.name().into(),
                row.terms.scope.as_str().into(),
                amount,
                period,
                count,
                unit,
                Cell::Int(shared as i64),
                row.status.as_str().into(),
                latest_value(row),
            ]);
        }
        table
    }

    /// Euros committed per scope: local scopes, then each wider scope on its own row, then the
    /// local total per period kind. Wider scopes are never added to the local total.
    pub fn totals_table(&self) -> Table {
        let mut table = Table::new(
            "commitments-totals",
            &[
                "scope",
                "local",
                "amount_period",
                "amount_eur",
                "commitments",
            ],
        );
        let totals = self.financial_totals();
        for total in &totals {
            table.push(vec![
                total.scope.as_str().into(),
                yes_no(total.scope.is_local()),
                total.amount_period.map(|p| p.as_str()).into(),
                total.amount_eur.into(),
                Cell::Int(total.commitments as i64),
            ]);
        }
        let mut periods: Vec<_> = totals.iter().map(|t| t.amount_period).collect();
        periods.dedup();
        for period in periods {
            let local: Vec<_> = totals
                .iter()
                .filter(|t| t.scope.is_local() && t.amount_period == period)
                .collect();
            if local.is_empty() {
                continue;
            }
            table.push(vec![
                "local total".into(),
                yes_no(true),
                period.map(|p| p.as_str()).into(),
                local.iter().map(|t| t.amount_eur).sum::<Amount>().into(),
                Cell::Int(local.iter().map(|t| t.commitments as i64).sum()),
            ]);
        }
        table
    }

    /// The indicators, with their latest value, optionally only those on one objectif or on the
    /// commitments of one signatory.
    pub fn indicators_table(&self, signatory: Option<&str>, objectif: Option<u16>) -> Table {
        use engagements_domain::commitment::indicator::IndicatorSubject;
        let mut table = Table::new(
            "indicators",
            &[
                "indicator_id",
                "subject",
                "name",
                "unit",
                "baseline",
                "target",
                "values",
                "latest_period",
                "latest_value",
                "retired",
            ],
        );
        for row in self.indicators.values() {
            let keep = match &row.subject {
                IndicatorSubject::Commitment { commitment_id } => {
                    let commitment = self.commitments.get(commitment_id);
                    signatory.is_none_or(|s| commitment.is_some_and(|c| c.signatory == s))
                        && objectif.is_none_or(|o| {
                            commitment.is_some_and(|c| c.terms.objectifs.contains(&o))
                        })
                }
                IndicatorSubject::Objectif { objectif: number } => {
                    signatory.is_none_or(|s| row.defined_by == s)
                        && objectif.is_none_or(|o| o == *number)
                }
            };
            if !keep {
                continue;
            }
            let latest = row.latest();
            table.push(vec![
                row.indicator_id.to_string().into(),
                row.subject.label().into(),
                row.name.as_str().into(),
                row.unit.as_str().into(),
                row.baseline
                    .map(|p| format!("{} ({})", p.value, p.on))
                    .into(),
                row.target.map(|p| format!("{} ({})", p.value, p.on)).into(),
                Cell::Int(row.values.len() as i64),
                latest.map(|v| v.period.label()).into(),
                latest.map(|v| v.value.to_string()).into(),
                row.retired.clone().into(),
            ]);
        }
        table
    }
}

fn yes_no(flag: bool) -> Cell {
    (if flag { "yes" } else { "no" }).into()
}

/// Amount, amount period, staff count and staff unit cells.
fn figures(terms: &CommitmentTerms) -> (Cell, Cell, Cell, Cell) {
    match &terms.kind {
        CommitmentKind::Financial {
            amount_eur,
            amount_period,
        } => (
            (*amount_eur).into(),
            amount_period.map(|p| p.as_str()).into(),
            Cell::Empty,
            Cell::Empty,
        ),
        CommitmentKind::Staffing {
            staff_count,
            staff_unit,
        } => (
            Cell::Empty,
            Cell::Empty,
            staff_count.map(i64::from).into(),
            staff_unit.as_str().into(),
        ),
        _ => (Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty),
    }
}

fn latest_value(row: &CommitmentRow) -> Cell {
    row.latest_progress()
        .and_then(|p| p.realised_value)
        .map(|v| v.to_string())
        .into()
}

pub(crate) fn commitment_cells(row: &CommitmentRow) -> Vec<Cell> {
    let terms = &row.terms;
    let (amount, period, count, unit) = figures(terms);
    let latest = row.latest_progress();
    let join = |items: Vec<String>| Cell::from(items.join(" "));
    vec![
        row.signatory.as_str().into(),
        row.commitment_id.to_string().into(),
        terms.service.clone().into(),
        terms.kind.name().into(),
        terms.title.as_str().into(),
        terms.scope.as_str().into(),
        terms.scope_ref.clone().into(),
        yes_no(terms.is_local()),
        terms.period.label().into(),
        amount,
        period,
        count,
        unit,
        terms.programme.clone().into(),
        join(terms.objectifs.iter().map(|o| o.to_string()).collect()),
        join(terms.quartiers.clone()),
        row.status.as_str().into(),
        Cell::Int(row.revisions.len() as i64),
        Cell::Int(row.progress.len() as i64),
        latest.map(|p| p.period.label()).into(),
        latest_value(row),
        latest.and_then(|p| p.unit.clone()).into(),
        latest.and_then(|p| p.comment.clone()).into(),
        lines_label(&terms.source_lines).into(),
        carriers_text(terms).into(),
        targets_text(terms).into(),
        baselines_text(terms).into(),
        flags_text(terms).into(),
    ]
}

/// `etat (…) ; departement (…)`, empty when one signatory carries it alone.
fn carriers_text(terms: &CommitmentTerms) -> Option<String> {
    if terms.carriers.is_empty() {
        return None;
    }
    Some(
        terms
            .carriers
            .iter()
            .map(|c| match (&c.part, c.part_eur) {
                (Some(part), _) => format!("{} ({part})", c.signatory),
                (None, Some(eur)) => format!("{} ({})", c.signatory, crate::labels::eur(eur)),
                (None, None) => format!("{} (part non précisée)", c.signatory),
            })
            .collect::<Vec<_>>()
            .join(" ; "),
    )
}

fn figure(value: rust_decimal::Decimal) -> String {
    value.normalize().to_string()
}

/// `places d'hébergement : 3786 places (par an) ; …`.
pub fn targets_text(terms: &CommitmentTerms) -> Option<String> {
    if terms.targets.is_empty() {
        return None;
    }
    Some(
        terms
            .targets
            .iter()
            .map(|t| {
                let amount = match (t.value, t.min, t.max) {
                    (Some(v), _, _) => figure(v),
                    (None, Some(min), Some(max)) => format!("{} à {}", figure(min), figure(max)),
                    (None, Some(min), None) => format!("au moins {}", figure(min)),
                    (None, None, Some(max)) => format!("au plus {}", figure(max)),
                    (None, None, None) => String::new(),
                };
                let mut text = format!("{} : {amount} {}", t.label, t.unit);
                if let Some(period) = &t.period {
                    text.push_str(&format!(" ({period})"));
                }
                if let Some(baseline) = &t.baseline {
                    text.push_str(&format!(" ; base : {baseline}"));
                }
                text
            })
            .collect::<Vec<_>>()
            .join(" | "),
    )
}

fn baselines_text(terms: &CommitmentTerms) -> Option<String> {
    if terms.baselines.is_empty() {
        return None;
    }
    Some(
        terms
            .baselines
            .iter()
            .map(|b| match b.year {
                Some(year) => format!("{} : {} {} ({year})", b.label, figure(b.value), b.unit),
                None => format!("{} : {} {}", b.label, figure(b.value), b.unit),
            })
            .collect::<Vec<_>>()
            .join(" | "),
    )
}

fn flags_text(terms: &CommitmentTerms) -> Option<String> {
    if terms.flags.is_empty() {
        return None;
    }
    Some(
        terms
            .flags
            .iter()
            .map(|f| {
                let kind = match f.kind {
                    FlagKind::OutsideTerritory => "hors du territoire",
                    FlagKind::AmbiguousOwner => "porteur ambigu",
                };
                format!("{kind} : {} ({})", f.reason, lines_label(&f.source_lines))
            })
            .collect::<Vec<_>>()
            .join(" | "),
    )
}

fn pending_cells(pending: &PendingContributionRow) -> Vec<Cell> {
    let mut cells = vec![Cell::Empty; COMMITMENT_COLUMNS.len()];
    let set = |cells: &mut Vec<Cell>, column: &str, cell: Cell| {
        if let Some(index) = COMMITMENT_COLUMNS.iter().position(|c| *c == column) {
            cells[index] = cell;
        }
    };
    set(&mut cells, "signatory", pending.signatory.as_str().into());
    set(
        &mut cells,
        "title",
        format!("{} : contribution en attente", pending.name_in_source).into(),
    );
    set(&mut cells, "status", "pending".into());
    set(&mut cells, "latest_comment", pending.note.clone().into());
    set(
        &mut cells,
        "source_lines",
        lines_label(&pending.source_lines).into(),
    );
    cells
}
