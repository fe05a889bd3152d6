//! `engagements import crf FILE`: the comptes rendus financiers (Cerfa 15059) a service has
//! received, one row per dossier and financeur (columns in docs/imports.md): when each CRF was
//! received, the action's realised budget, the expenses reported, the part of each financeur's
//! grant used, and a comment.
//!
//! The ledger keeps one CRF per dossier (`receive_crf`): the rows of one dossier must agree on the
//! date, the budget, the expenses and the comment, and their `grant_used` add up to the grant used
//! on the dossier; each row's part must not exceed what its financeur granted. A dossier is named
//! by its programmation reference, its Dauphin code or its id. All or nothing, as every import: a
//! CRF already recorded with the same figures is skipped (importing a file twice records nothing),
//! with other figures it is a problem.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use engagements_app::{CommandError, CommandMeta, Ledger, MetaDefaults};
use engagements_domain::dossier::{CrfFigures, DossierCommand, ExternalIdKind};
use engagements_domain::{Amount, DossierId, LedgerCommand, Source};
use engagements_projections::Projections;

use super::headers::{column, Column, HeaderTable};
use super::problems::{list, not_a_date, parse_amount, parse_date, problem, RowProblem};
use super::sheet::{is_blank, read, ReadOptions, Sheet, SheetError, SheetRow, ROWS_MAX};

/// The columns of a CRF file and the titles accepted for them (docs/imports.md).
pub static TABLE: HeaderTable = HeaderTable {
    kind: "CRF",
    columns: &COLUMNS,
    others_refused: true,
};

static COLUMNS: [Column; 7] = [
    column(
        "dossier",
        &[
            "N° dossier",
            "Référence",
            "Référence dossier",
            "Code dossier",
            "Code Dauphin",
            "N° Dauphin",
        ],
        true,
    ),
    column("financeur", &["Financeurs", "Attribuant"], false),
    column(
        "received_on",
        &[
            "Reçu le",
            "Date de réception",
            "Date de réception du CRF",
            "Date de dépôt",
            "CRF reçu le",
        ],
        true,
    ),
    column(
        "budget_realised",
        &[
            "Budget réalisé",
            "Total des charges réalisées",
            "Coût total réalisé",
            "Budget total réalisé",
        ],
        false,
    ),
    column(
        "expenses",
        &[
            "Dépenses",
            "Dépenses réalisées",
            "Charges réalisées",
            "Charges directes réalisées",
        ],
        false,
    ),
    column(
        "grant_used",
        &[
            "Subvention utilisée",
            "Montant de la subvention utilisé",
            "Subvention employée",
            "Part de la subvention utilisée",
        ],
        false,
    ),
    column(
        "comment",
        &["Commentaire", "Observations", "Explication des écarts"],
        false,
    ),
];

/// Why an import recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum CrfImportError {
    #[error("{0}; nothing recorded")]
    Sheet(#[from] SheetError),
    #[error("{} problem(s), nothing recorded:\n{}", .0.len(), list(.0))]
    Rows(Vec<RowProblem>),
    #[error("line {line}: refused: {error}; nothing recorded")]
    Refused { line: usize, error: CommandError },
}

/// What an import recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrfReport {
    pub rows: usize,
    /// CRFs recorded.
    pub recorded: usize,
    /// CRFs the ledger already had with the same figures.
    pub known: usize,
}

/// Reads a CRF file: CSV in UTF-8, UTF-16 or Windows-1252, or an XLSX workbook.
pub fn read_crf(bytes: &[u8], sheet: Option<&str>) -> Result<Sheet, CrfImportError> {
    let options = ReadOptions {
        table: Some(&TABLE),
        sheet,
    };
    Ok(read(bytes, &options)?)
}

/// One dossier's CRF as the file gives it.
struct Crf {
    line: usize,
    dossier_id: DossierId,
    received_on: NaiveDate,
    figures: CrfFigures,
}

/// Checks the file against the ledger and records the CRFs it brings, all or nothing.
pub async fn import_crf(
    ledger: &Ledger,
    sheet: &Sheet,
    defaults: &MetaDefaults,
) -> Result<CrfReport, CrfImportError> {
    let (crfs, report) = {
        let projections = ledger
            .projections()
            .await
            .map_err(|error| CrfImportError::Refused { line: 0, error })?;
        plan(sheet, &projections)?
    };
    if crfs.is_empty() {
        return Ok(report);
    }
    let commands = crfs
        .iter()
        .map(|crf| {
            let command = LedgerCommand::Dossier(DossierCommand::ReceiveCrf {
                dossier_id: crf.dossier_id,
                received_on: crf.received_on,
                budget_realised: crf.figures.budget_realised,
                expenses: crf.figures.expenses,
                grant_used: crf.figures.grant_used,
                comment: crf.figures.comment.clone(),
            });
            let meta = CommandMeta {
                effective_date: Some(crf.received_on),
                ..CommandMeta::default()
            };
            (command, meta)
        })
        .collect();
    let defaults = MetaDefaults {
        source: Source::Import,
        ..defaults.clone()
    };
    ledger
        .execute_atomic(commands, &defaults)
        .await
        .map_err(|(index, error)| CrfImportError::Refused {
            line: crfs.get(index).map(|c| c.line).unwrap_or(0),
            error,
        })?;
    Ok(report)
}

fn plan(sheet: &Sheet, projections: &Projections) -> Result<(Vec<Crf>, CrfReport), CrfImportError> {
    let sheet = sheet.keyed(&TABLE);
    let mut problems = sheet.problems.clone();
    let rows: Vec<&SheetRow> = sheet.rows.iter().filter(|r| !is_blank(r)).collect();
    if rows.len() > ROWS_MAX {
        problems.push(problem(
            rows[ROWS_MAX].line,
            None,
            format!("more than {ROWS_MAX} rows: split the file"),
        ));
    }
    if !problems.is_empty() {
        return Err(CrfImportError::Rows(sheet.name_columns(problems)));
    }
    let mut report = CrfReport {
        rows: rows.len(),
        ..CrfReport::default()
    };
    let mut by_dossier: BTreeMap<DossierId, Crf> = BTreeMap::new();
    for row in rows {
        let Some((dossier_id, received_on, figures)) = check_row(row, projections, &mut problems)
        else {
            continue;
        };
        match by_dossier.get_mut(&dossier_id) {
            None => {
                by_dossier.insert(
                    dossier_id,
                    Crf {
                        line: row.line,
                        dossier_id,
                        received_on,
                        figures,
                    },
                );
            }
            Some(first) => merge_row(first, row.line, received_on, figures, &mut problems),
        }
    }
    let mut crfs = Vec::new();
    for crf in by_dossier.into_values() {
        let Some(state) = projections.subsidy.dossier(&crf.dossier_id) else {
            continue;
        };
        match state.crf_received_on {
            None => crfs.push(crf),
            Some(on) if on == crf.received_on && state.crf.clone().unwrap_or_default() == crf.figures => {
                report.known += 1
            }
            Some(on) => problems.push(problem(
                crf.line,
                Some("received_on"),
                format!("the CRF of dossier {} is already recorded (received on {}) with other figures: a CRF is recorded once", crf.dossier_id, on.format("%d/%m/%Y")),
            )),
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(CrfImportError::Rows(sheet.name_columns(problems)));
    }
    report.recorded = crfs.len();
    Ok((crfs, report))
}

/// A further row of a dossier already seen: the same CRF, another financeur's part of the grant.
fn merge_row(
    first: &mut Crf,
    line: usize,
    received_on: NaiveDate,
    figures: CrfFigures,
    problems: &mut Vec<RowProblem>,
) {
    let differs = [
        ("received_on", first.received_on != received_on),
        (
            "budget_realised",
            first.figures.budget_realised != figures.budget_realised,
        ),
        ("expenses", first.figures.expenses != figures.expenses),
        ("comment", first.figures.comment != figures.comment),
    ];
    for (column, different) in differs {
        if different {
            problems.push(problem(
                line,
                Some(column),
                format!(
                    "differs from line {} of the same dossier: a dossier has one CRF",
                    first.line
                ),
            ));
        }
    }
    first.figures.grant_used = match (first.figures.grant_used, figures.grant_used) {
        (Some(a), Some(b)) => a.checked_add(b),
        (a, b) => a.or(b),
    };
}

fn check_row(
    row: &SheetRow,
    projections: &Projections,
    problems: &mut Vec<RowProblem>,
) -> Option<(DossierId, NaiveDate, CrfFigures)> {
    let before = problems.len();
    let mut bad =
        |column: &str, message: String| problems.push(problem(row.line, Some(column), message));
    let dossier = match row.get("dossier") {
        "" => {
            bad("dossier", "is empty".into());
            None
        }
        text => find_dossier(projections, text).or_else(|| {
            bad(
                "dossier",
                format!("no dossier '{text}' in the ledger: give its programmation reference, its Dauphin code or its id"),
            );
            None
        }),
    };
    let received_on = match row.get("received_on") {
        "" => {
            bad("received_on", "is empty".into());
            None
        }
        text => parse_date(text).or_else(|| {
            bad("received_on", not_a_date(text));
            None
        }),
    };
    let mut amount = |column: &str| match row.get(column) {
        "" => None,
        text => parse_amount(text).map_err(|e| bad(column, e)).ok(),
    };
    let figures = CrfFigures {
        budget_realised: amount("budget_realised"),
        expenses: amount("expenses"),
        grant_used: amount("grant_used"),
        comment: Some(row.get("comment").to_string()).filter(|c| !c.is_empty()),
    };
    let mut bad =
        |column: &str, message: String| problems.push(problem(row.line, Some(column), message));
    if let (Some(dossier_id), Some(used)) = (dossier, figures.grant_used) {
        let state = projections.subsidy.dossier(&dossier_id);
        let granted: Amount = match row.get("financeur") {
            "" => state.map(|s| s.granted_total()).unwrap_or(Amount::ZERO),
            financeur => {
                let lines: Vec<Amount> = state
                    .map(|s| {
                        s.lines
                            .iter()
                            .filter(|((f, _), _)| f == financeur)
                            .map(|(_, l)| l.granted)
                            .collect()
                    })
                    .unwrap_or_default();
                if lines.is_empty() {
                    bad(
                        "financeur",
                        format!("'{financeur}' funds nothing on this dossier"),
                    );
                }
                lines.into_iter().sum()
            }
        };
        if used > granted {
            bad(
                "grant_used",
                format!("{used} € used is above the {granted} € granted"),
            );
        }
    }
    if problems.len() > before {
        return None;
    }
    Some((dossier?, received_on?, figures))
}

/// A dossier by its id, its programmation reference or its Dauphin code.
fn find_dossier(projections: &Projections, text: &str) -> Option<DossierId> {
    let subsidy = &projections.subsidy;
    if let Ok(id) = text.parse::<DossierId>() {
        if subsidy.dossier(&id).is_some() {
            return Some(id);
        }
    }
    subsidy
        .dossier_by_external_id(ExternalIdKind::Programmation, text)
        .or_else(|| {
            let code = ExternalIdKind::DauphinDossier.normalise(text).ok()?;
            subsidy.dossier_by_external_id(ExternalIdKind::DauphinDossier, &code)
        })
}
