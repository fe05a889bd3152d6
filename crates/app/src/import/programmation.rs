//! `engagements import programmation FILE.csv|FILE.xlsx`: the comité's programmation sheet, one
//! row per dossier and financeur (columns in docs/imports.md).
//!
//! All or nothing: every row and column is checked first and every problem is reported in one
//! pass with its line and column (unknown quartier, objectif, financeur or dispositif, bad amount,
//! bad SIRET, granted above asked…); only a clean file is turned into commands (porteurs not yet
//! known, dossiers, opinions, decisions), recorded together by [`Ledger::execute_atomic`].

use std::collections::BTreeMap;

use chrono::NaiveDate;
use engagements_domain::dossier::{
    Decision, DossierCommand, FundingRequest, ObjectifWeight, Opinion, QuartierShare, EXERCICE_MAX,
    EXERCICE_MIN,
};
use engagements_domain::porteur::{PorteurCommand, PorteurKind, Rna, Siret};
use engagements_domain::{Amount, DossierId, LedgerCommand, PorteurId, Source};
use engagements_projections::Projections;

use super::tfpb::{parse_amount, problem, RowProblem};
use crate::error::CommandError;
use crate::ledger::Ledger;
use crate::meta::{CommandMeta, MetaDefaults};

/// Largest file accepted.
pub const FILE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most rows in one file.
pub const ROWS_MAX: usize = 20_000;

/// The columns every file must have.
pub const REQUIRED_COLUMNS: [&str; 10] = [
    "dossier",
    "porteur",
    "action",
    "exercice",
    "quartiers",
    "objectifs",
    "budget",
    "financeur",
    "dispositif",
    "asked",
];
/// Columns a file may add.
pub const OPTIONAL_COLUMNS: [&str; 7] = [
    "siret",
    "rna",
    "description",
    "proposed",
    "granted",
    "comite",
    "decided_on",
];

/// Why an import recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum ProgrammationImportError {
    #[error("the file is {0} bytes, above the limit of {FILE_BYTES_MAX}: split it by exercice")]
    TooLarge(usize),
    #[error("unreadable spreadsheet: {0}")]
    Unreadable(String),
    #[error("{} problem(s), nothing recorded:\n{}", .0.len(), list(.0))]
    Rows(Vec<RowProblem>),
    #[error("line {line}: refused: {error}; nothing recorded")]
    Refused { line: usize, error: CommandError },
}

fn list(problems: &[RowProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What an import recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgrammationReport {
    pub rows: usize,
    pub porteurs_registered: usize,
    pub dossiers: usize,
    pub opinions: usize,
    pub decisions: usize,
}

/// A data row: its line in the file and its cells by (lower-cased) column name.
#[derive(Debug, Clone)]
pub struct SheetRow {
    pub line: usize,
    pub cells: BTreeMap<String, String>,
}

impl SheetRow {
    fn get(&self, column: &str) -> &str {
        self.cells.get(column).map(|s| s.trim()).unwrap_or("")
    }
}

/// The header and rows of a sheet, read from CSV or XLSX.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<SheetRow>,
}

/// Reads a CSV text (`;` or `,` separated, as the header line says; optional BOM).
pub fn read_csv(text: &str) -> Result<Sheet, ProgrammationImportError> {
    if text.len() > FILE_BYTES_MAX {
        return Err(ProgrammationImportError::TooLarge(text.len()));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ProgrammationImportError::Unreadable(format!("header: {e}")))?
        .iter()
        .map(|c| c.trim().to_lowercase())
        .collect();
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            ProgrammationImportError::Unreadable(format!("line {}: {e}", index + 2))
        })?;
        let line = record
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or(index + 2);
        rows.push(SheetRow {
            line,
            cells: headers
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect(),
        });
        if rows.len() > ROWS_MAX {
            break;
        }
    }
    Ok(Sheet { headers, rows })
}

/// Reads the first sheet of an XLSX workbook; line numbers are the spreadsheet's row numbers.
pub fn read_xlsx(bytes: &[u8]) -> Result<Sheet, ProgrammationImportError> {
    use calamine::{Data, Reader, Xlsx};
    if bytes.len() > FILE_BYTES_MAX {
        return Err(ProgrammationImportError::TooLarge(bytes.len()));
    }
    let mut workbook = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| ProgrammationImportError::Unreadable(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| ProgrammationImportError::Unreadable("the workbook has no sheet".into()))?
        .map_err(|e| ProgrammationImportError::Unreadable(e.to_string()))?;
    let first_row = range.start().map(|(row, _)| row as usize).unwrap_or(0);
    let cell_text = |cell: &Data| match cell {
        Data::Empty => String::new(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
        other => other.to_string(),
    };
    let mut lines = range.rows().enumerate();
    let headers: Vec<String> = match lines.next() {
        Some((_, cells)) => cells
            .iter()
            .map(|c| cell_text(c).trim().to_lowercase())
            .collect(),
        None => return Ok(Sheet::default()),
    };
    let mut rows = Vec::new();
    for (index, cells) in lines {
        rows.push(SheetRow {
            line: first_row + index + 1,
            cells: headers
                .iter()
                .cloned()
                .zip(cells.iter().map(cell_text))
                .collect(),
        });
        if rows.len() > ROWS_MAX {
            break;
        }
    }
    Ok(Sheet { headers, rows })
}

/// One command to record, with the file line it comes from.
struct Planned {
    line: usize,
    command: LedgerCommand,
    effective_date: Option<NaiveDate>,
}

/// Checks the whole sheet against the ledger and records it, all or nothing.
pub async fn import_programmation(
    ledger: &Ledger,
    sheet: &Sheet,
    defaults: &MetaDefaults,
) -> Result<ProgrammationReport, ProgrammationImportError> {
    let projections = ledger
        .projections()
        .await
        .map_err(|error| ProgrammationImportError::Refused { line: 0, error })?
        .clone();
    let (planned, report) = plan(sheet, &projections)?;
    let commands = planned
        .iter()
        .map(|item| {
            let meta = CommandMeta {
                effective_date: item.effective_date,
                ..CommandMeta::default()
            };
            (item.command.clone(), meta)
        })
        .collect();
    let defaults = MetaDefaults {
        source: Source::Import,
        ..defaults.clone()
    };
    ledger
        .execute_atomic(commands, &defaults)
        .await
        .map_err(|(index, error)| ProgrammationImportError::Refused {
            line: planned.get(index).map(|p| p.line).unwrap_or(0),
            error,
        })?;
    Ok(report)
}

/// What one row says once checked.
struct CheckedRow {
    line: usize,
    dossier_key: String,
    porteur: String,
    siret: Option<Siret>,
    rna: Option<Rna>,
    action: String,
    description: String,
    exercice: i32,
    quartiers: Vec<String>,
    objectifs: Vec<u32>,
    budget: Amount,
    financeur: String,
    dispositif: String,
    asked: Amount,
    proposed: Option<Amount>,
    granted: Option<Amount>,
    comite: String,
    decided_on: Option<NaiveDate>,
}

fn plan(
    sheet: &Sheet,
    projections: &Projections,
) -> Result<(Vec<Planned>, ProgrammationReport), ProgrammationImportError> {
    let mut problems = Vec::new();
    check_headers(&sheet.headers, &mut problems);
    if sheet.rows.len() > ROWS_MAX {
        problems.push(problem(
            0,
            None,
            format!("more than {ROWS_MAX} rows: split the file"),
        ));
    }
    if !problems.is_empty() {
        return Err(ProgrammationImportError::Rows(problems));
    }
    let mut checked = Vec::new();
    for row in &sheet.rows {
        if row.cells.values().all(|c| c.trim().is_empty()) {
            continue;
        }
        if let Some(good) = check_row(row, projections, &mut problems) {
            checked.push(good);
        }
    }
    check_dossiers(&checked, &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(ProgrammationImportError::Rows(problems));
    }
    Ok(into_commands(&checked, projections))
}

fn check_headers(headers: &[String], problems: &mut Vec<RowProblem>) {
    for required in REQUIRED_COLUMNS {
        if !headers.iter().any(|h| h == required) {
            problems.push(problem(
                1,
                Some(required),
                "required column is missing".into(),
            ));
        }
    }
    for (index, header) in headers.iter().enumerate() {
        if !REQUIRED_COLUMNS.contains(&header.as_str())
            && !OPTIONAL_COLUMNS.contains(&header.as_str())
        {
            problems.push(problem(
                1,
                Some(header),
                format!(
                    "unknown column: the columns are {} and optionally {}",
                    REQUIRED_COLUMNS.join(", "),
                    OPTIONAL_COLUMNS.join(", ")
                ),
            ));
        } else if headers[..index].contains(header) {
            problems.push(problem(1, Some(header), "column given twice".into()));
        }
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(['|', ',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn check_row(
    row: &SheetRow,
    projections: &Projections,
    problems: &mut Vec<RowProblem>,
) -> Option<CheckedRow> {
    let before = problems.len();
    let line = row.line;
    let mut bad =
        |column: &str, message: String| problems.push(problem(line, Some(column), message));
    let view = &projections.referential;

    let mut text = |column: &str| {
        let value = row.get(column).to_string();
        if value.is_empty() {
            bad(column, "is empty".into());
        }
        value
    };
    let dossier_key = text("dossier");
    let porteur = text("porteur");
    let action = text("action");
    let financeur = text("financeur");
    let dispositif = text("dispositif");

    let mut bad =
        |column: &str, message: String| problems.push(problem(line, Some(column), message));
    let siret = match row.get("siret") {
        "" => None,
        s => Siret::try_from(s.to_string())
            .map_err(|e| bad("siret", e.to_string()))
            .ok(),
    };
    let rna = match row.get("rna") {
        "" => None,
        s => Rna::try_from(s.to_string())
            .map_err(|e| bad("rna", e.to_string()))
            .ok(),
    };
    let exercice = match row.get("exercice").parse::<i32>() {
        Ok(year) if (EXERCICE_MIN..=EXERCICE_MAX).contains(&year) => year,
        _ => {
            bad(
                "exercice",
                format!(
                    "'{}' is not a year between {EXERCICE_MIN} and {EXERCICE_MAX}",
                    row.get("exercice")
                ),
            );
            0
        }
    };
    let quartiers = split_list(row.get("quartiers"));
    if quartiers.is_empty() {
        bad("quartiers", "names no quartier".into());
    }
    for quartier in &quartiers {
        if view.quartier(quartier).is_none() {
            bad("quartiers", format!("unknown quartier '{quartier}'"));
        }
    }
    let mut objectifs = Vec::new();
    let objectif_words = split_list(row.get("objectifs"));
    if objectif_words.is_empty() {
        bad("objectifs", "names no objectif".into());
    }
    for word in objectif_words {
        match word.parse::<u32>() {
            Ok(number) if view.objectif(number).is_some() => objectifs.push(number),
            _ => bad("objectifs", format!("unknown objectif '{word}'")),
        }
    }
    if !financeur.is_empty() && view.organisation(&financeur).is_none() {
        bad("financeur", format!("unknown financeur '{financeur}'"));
    }
    if !dispositif.is_empty() && view.dispositif(&dispositif).is_none() {
        bad("dispositif", format!("unknown dispositif '{dispositif}'"));
    }
    let mut amount = |column: &str, required: bool| match row.get(column) {
        "" if !required => None,
        "" => {
            bad(column, "is empty".into());
            None
        }
        value => parse_amount(value).map_err(|e| bad(column, e)).ok(),
    };
    let budget = amount("budget", true);
    let asked = amount("asked", true);
    let proposed = amount("proposed", false);
    let granted = amount("granted", false);
    if let (Some(asked), Some(granted)) = (asked, granted) {
        if granted > asked {
            bad(
                "granted",
                format!("granted {granted} is above the {asked} asked"),
            );
        }
    }
    if let (Some(asked), Some(proposed)) = (asked, proposed) {
        if proposed > asked {
            bad(
                "proposed",
                format!("proposed {proposed} is above the {asked} asked"),
            );
        }
    }
    let comite = row.get("comite").to_string();
    let decided_on = match row.get("decided_on") {
        "" => None,
        s => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| bad("decided_on", format!("'{s}' is not a date AAAA-MM-JJ")))
            .ok(),
    };
    if granted.is_some() && comite.is_empty() {
        bad("comite", "a grant names the comité that decided it".into());
    }
    if granted.is_some() && decided_on.is_none() && row.get("decided_on").is_empty() {
        bad("decided_on", "a grant says when it was decided".into());
    }
    if problems.len() > before {
        return None;
    }
    Some(CheckedRow {
        line,
        dossier_key,
        porteur,
        siret,
        rna,
        action,
        description: row.get("description").to_string(),
        exercice,
        quartiers,
        objectifs,
        budget: budget?,
        financeur,
        dispositif,
        asked: asked?,
        proposed,
        granted,
        comite,
        decided_on,
    })
}

/// Rows of one dossier must agree on what describes the dossier, and name each financeur and
/// dispositif once.
fn check_dossiers(rows: &[CheckedRow], problems: &mut Vec<RowProblem>) {
    let mut first: BTreeMap<&str, &CheckedRow> = BTreeMap::new();
    let mut seen = BTreeMap::new();
    for row in rows {
        if let Some(previous) = seen.insert(
            (
                row.dossier_key.as_str(),
                row.financeur.as_str(),
                row.dispositif.as_str(),
            ),
            row.line,
        ) {
            problems.push(problem(
                row.line,
                Some("financeur"),
                format!(
                    "{} / {} is already asked in dossier '{}' at line {previous}",
                    row.financeur, row.dispositif, row.dossier_key
                ),
            ));
        }
        let Some(head) = first.get(row.dossier_key.as_str()) else {
            first.insert(&row.dossier_key, row);
            continue;
        };
        let differs = [
            ("porteur", head.porteur != row.porteur),
            ("siret", head.siret != row.siret),
            ("rna", head.rna != row.rna),
            ("action", head.action != row.action),
            ("exercice", head.exercice != row.exercice),
            ("quartiers", head.quartiers != row.quartiers),
            ("objectifs", head.objectifs != row.objectifs),
            ("budget", head.budget != row.budget),
        ];
        for (column, different) in differs {
            if different {
                problems.push(problem(
                    row.line,
                    Some(column),
                    format!(
                        "differs from line {} of the same dossier '{}'",
                        head.line, row.dossier_key
                    ),
                ));
            }
        }
    }
}

fn into_commands(
    rows: &[CheckedRow],
    projections: &Projections,
) -> (Vec<Planned>, ProgrammationReport) {
    let mut report = ProgrammationReport {
        rows: rows.len(),
        ..ProgrammationReport::default()
    };
    let mut planned = Vec::new();
    let mut porteurs: BTreeMap<String, PorteurId> = BTreeMap::new();
    let mut dossiers: BTreeMap<&str, DossierId> = BTreeMap::new();
    let mut decisions = Vec::new();
    for row in rows {
        if dossiers.contains_key(row.dossier_key.as_str()) {
            continue;
        }
        let porteur_key = row
            .siret
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| row.porteur.to_lowercase());
        let known = projections
            .porteurs
            .by_id
            .values()
            .find(|p| match &row.siret {
                Some(siret) => p.siret.as_deref() == Some(siret.as_str()),
                None => p.name.eq_ignore_ascii_case(&row.porteur),
            });
        let porteur_id = match (known, porteurs.get(&porteur_key)) {
            (Some(p), _) => p.porteur_id,
            (None, Some(id)) => *id,
            (None, None) => {
                let id = PorteurId::new();
                porteurs.insert(porteur_key, id);
                report.porteurs_registered += 1;
                planned.push(Planned {
                    line: row.line,
                    command: LedgerCommand::Porteur(PorteurCommand::Register {
                        porteur_id: id,
                        name: row.porteur.clone(),
                        kind: if row.rna.is_some() {
                            PorteurKind::Association
                        } else {
                            PorteurKind::Other
                        },
                        siret: row.siret.clone(),
                        rna: row.rna.clone(),
                    }),
                    effective_date: None,
                });
                id
            }
        };
        let dossier_id = DossierId::new();
        dossiers.insert(&row.dossier_key, dossier_id);
        report.dossiers += 1;
        let requests = rows
            .iter()
            .filter(|r| r.dossier_key == row.dossier_key)
            .map(|r| FundingRequest {
                financeur: r.financeur.clone(),
                dispositif: r.dispositif.clone(),
                amount: r.asked,
            })
            .collect();
        planned.push(Planned {
            line: row.line,
            command: LedgerCommand::Dossier(DossierCommand::File {
                dossier_id,
                porteur_id,
                exercice: row.exercice,
                title: row.action.clone(),
                description: row.description.clone(),
                total_budget: row.budget,
                quartiers: row
                    .quartiers
                    .iter()
                    .map(|q| QuartierShare {
                        quartier: q.clone(),
                        share_pct: None,
                    })
                    .collect(),
                objectifs: row
                    .objectifs
                    .iter()
                    .map(|&objectif| ObjectifWeight {
                        objectif,
                        weight: None,
                    })
                    .collect(),
                requests,
            }),
            effective_date: None,
        });
    }
    for row in rows {
        let dossier_id = dossiers[row.dossier_key.as_str()];
        if let Some(proposed) = row.proposed {
            report.opinions += 1;
            planned.push(Planned {
                line: row.line,
                command: LedgerCommand::Dossier(DossierCommand::GiveOpinion {
                    dossier_id,
                    financeur: row.financeur.clone(),
                    dispositif: Some(row.dispositif.clone()),
                    opinion: if proposed.is_zero() {
                        Opinion::Unfavourable
                    } else {
                        Opinion::Favourable
                    },
                    proposed_amount: proposed,
                    comment: String::new(),
                }),
                effective_date: None,
            });
        }
        if let (Some(granted), Some(decided_on)) = (row.granted, row.decided_on) {
            report.decisions += 1;
            decisions.push(Planned {
                line: row.line,
                command: LedgerCommand::Dossier(DossierCommand::Decide {
                    dossier_id,
                    financeur: row.financeur.clone(),
                    dispositif: Some(row.dispositif.clone()),
                    decision: if granted.is_zero() {
                        Decision::Refused
                    } else {
                        Decision::Granted { amount: granted }
                    },
                    comite: row.comite.clone(),
                    decided_on,
                }),
                effective_date: Some(decided_on),
            });
        }
    }
    planned.extend(decisions);
    (planned, report)
}
