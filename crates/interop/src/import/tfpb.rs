//! `engagements import tfpb FILE.csv --bailleur ORG`: the spreadsheet a bailleur keeps of its
//! TFPB actions, one row per action (columns in docs/imports.md).
//!
//! All or nothing: every row and column is checked first and every problem is reported in one
//! pass (unknown QPV, unknown axis, bad amount, duplicate action…); only a clean file is turned
//! into commands, recorded together by [`Ledger::execute_atomic`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use engagements_domain::referential::QuartierKind;
use engagements_domain::tfpb::{
    label_key, TfpbActionId, TfpbActionSpec, TfpbProgrammeCommand, TfpbProgrammeKey,
    TfpbSpendingId, LABEL_CHARS_MAX, TAX_YEAR_MAX, TAX_YEAR_MIN,
};
use engagements_domain::{Amount, AmountError, LedgerCommand, Source};
use engagements_projections::Projections;

use engagements_app::auth::{authorize, Principal};
use engagements_app::hint;
use engagements_app::CommandError;
use engagements_app::Ledger;
use engagements_app::{CommandMeta, MetaDefaults};

/// Largest file accepted.
pub const FILE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most action rows in one file.
pub const ROWS_MAX: usize = 20_000;
/// Problems listed before the rest are only counted.
pub const PROBLEMS_LISTED_MAX: usize = 1_000;

/// The columns every file must have.
pub const REQUIRED_COLUMNS: [&str; 6] = ["qpv", "year", "axis", "label", "planned", "realised"];
/// Columns a file may add.
pub const OPTIONAL_COLUMNS: [&str; 6] = [
    "dwellings",
    "abatement",
    "partners",
    "description",
    "spent_on",
    "evidence",
];

/// One problem in the file: where (line, column) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// Line in the file (1 is the header).
    pub line: usize,
    /// The column's name, when the problem is in one cell.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Why an import recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum TfpbImportError {
    #[error("the file is {0} bytes, above the limit of {FILE_BYTES_MAX}: split it by year")]
    TooLarge(usize),
    #[error("{} problem(s), nothing recorded:\n{}", .0.len(), list(.0))]
    Rows(Vec<RowProblem>),
    #[error("line {line}: refused: {error}; nothing recorded")]
    Refused { line: usize, error: CommandError },
}

/// Every problem of a refused file, one a line, up to [`PROBLEMS_LISTED_MAX`] (shared by the
/// imports).
pub(crate) fn list(problems: &[RowProblem]) -> String {
    let mut text: Vec<String> = problems
        .iter()
        .take(PROBLEMS_LISTED_MAX)
        .map(|p| format!("  {p}"))
        .collect();
    if problems.len() > PROBLEMS_LISTED_MAX {
        text.push(format!(
            "  … and {} more",
            problems.len() - PROBLEMS_LISTED_MAX
        ));
    }
    text.join("\n")
}

/// What an import recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TfpbImportReport {
    pub rows: usize,
    pub actions: usize,
    pub spendings: usize,
    pub abatements: usize,
    /// The programmes (bailleur × QPV × year) the file touched.
    pub programmes: BTreeSet<TfpbProgrammeKey>,
}

/// One command to record, with the file line it comes from.
struct Planned {
    line: usize,
    command: TfpbProgrammeCommand,
    effective_date: Option<NaiveDate>,
}

/// Checks the whole file against the ledger and imports it for `bailleur`, all or nothing.
/// `principal` is who imports: a bailleur may import only its own file.
pub async fn import_tfpb(
    ledger: &Ledger,
    text: &str,
    bailleur: &str,
    principal: &Principal,
    defaults: &MetaDefaults,
) -> Result<TfpbImportReport, TfpbImportError> {
    if text.len() > FILE_BYTES_MAX {
        return Err(TfpbImportError::TooLarge(text.len()));
    }
    // Planned and authorised under the read guard, dropped before recording (executing needs
    // the read model).
    let (planned, report, commands) = {
        let projections = ledger
            .projections()
            .await
            .map_err(|error| TfpbImportError::Refused { line: 0, error })?;
        let (planned, report) = plan_file(text, bailleur, &projections)?;
        let mut commands = Vec::with_capacity(planned.len());
        for item in &planned {
            let command = LedgerCommand::TfpbProgramme(item.command.clone());
            // Checked here too, so that a refusal names the file line before anything is planned.
            authorize(principal, &command, &projections).map_err(|error| {
                TfpbImportError::Refused {
                    line: item.line,
                    error,
                }
            })?;
            let meta = CommandMeta {
                actor: Some(principal.actor()),
                effective_date: item.effective_date,
                ..CommandMeta::default()
            };
            commands.push((command, meta));
        }
        (planned, report, commands)
    };
    let defaults = MetaDefaults {
        source: Source::Import,
        ..defaults.clone()
    };
    ledger
        .execute_atomic_as(principal, commands, &defaults)
        .await
        .map_err(|(index, error)| TfpbImportError::Refused {
            line: planned.get(index).map(|p| p.line).unwrap_or(0),
            error,
        })?;
    Ok(report)
}

/// Reads and checks the file; returns the commands it means, or every problem found.
fn plan_file(
    text: &str,
    bailleur: &str,
    projections: &Projections,
) -> Result<(Vec<Planned>, TfpbImportReport), TfpbImportError> {
    let mut problems = Vec::new();
    check_bailleur(bailleur, projections, &mut problems);
    let rows = read_rows(text, &mut problems);
    let mut checker = Checker::new(bailleur, projections);
    let mut good = Vec::new();
    for row in &rows {
        if let Some(action) = checker.check(row, &mut problems) {
            good.push(action);
        }
    }
    checker.check_abatements(&mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(TfpbImportError::Rows(problems));
    }
    Ok(checker.into_commands(good, rows.len()))
}

fn check_bailleur(bailleur: &str, projections: &Projections, problems: &mut Vec<RowProblem>) {
    let view = &projections.referential;
    let message = match view.organisation(bailleur) {
        None => Some(format!(
            "unknown bailleur '{bailleur}'{}",
            hint(
                bailleur,
                &view
                    .organisations()
                    .filter(
                        |o| o.kind == engagements_domain::referential::OrganisationKind::Bailleur
                    )
                    .map(|o| o.id.as_str())
                    .collect::<Vec<_>>()
            )
        )),
        Some(o) if o.kind != engagements_domain::referential::OrganisationKind::Bailleur => {
            Some(format!("'{bailleur}' ({}) is not a bailleur", o.name))
        }
        Some(_) => None,
    };
    if let Some(message) = message {
        problems.push(RowProblem {
            line: 0,
            column: Some("--bailleur".into()),
            message,
        });
    }
}

/// A data row: its line and its cells by column name.
struct Row {
    line: usize,
    cells: BTreeMap<String, String>,
}

impl Row {
    fn get(&self, column: &str) -> &str {
        self.cells.get(column).map(|s| s.trim()).unwrap_or("")
    }
}

/// Splits the file into rows keyed by (lower-cased) column names; `;` or `,` separated (the
/// header line decides), UTF-8, an optional BOM.
fn read_rows(text: &str, problems: &mut Vec<RowProblem>) -> Vec<Row> {
    let mut reader = super::sheet::csv_reader(text);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => {
            problems.push(problem(1, None, format!("unreadable header: {e}")));
            return Vec::new();
        }
    };
    if !check_headers(&headers, problems) {
        return Vec::new();
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        if rows.len() >= ROWS_MAX {
            problems.push(problem(
                line,
                None,
                format!("more than {ROWS_MAX} rows: split the file"),
            ));
            break;
        }
        match record {
            Ok(record) if record.iter().all(|c| c.trim().is_empty()) => {}
            Ok(record) => {
                let line = record.position().map(|p| p.line() as usize).unwrap_or(line);
                if record.len() != headers.len() {
                    problems.push(problem(
                        line,
                        None,
                        format!("{} cells, the header has {}", record.len(), headers.len()),
                    ));
                    continue;
                }
                let cells = headers
                    .iter()
                    .cloned()
                    .zip(record.iter().map(str::to_string))
                    .collect();
                rows.push(Row { line, cells });
            }
            Err(e) => problems.push(problem(line, None, format!("unreadable row: {e}"))),
        }
    }
    rows
}

fn check_headers(headers: &[String], problems: &mut Vec<RowProblem>) -> bool {
    let before = problems.len();
    for required in REQUIRED_COLUMNS {
        if !headers.iter().any(|h| h == required) {
            problems.push(problem(
                1,
                Some(required),
                "required column is missing".to_string(),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for header in headers {
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
        } else if !seen.insert(header) {
            problems.push(problem(1, Some(header), "column given twice".to_string()));
        }
    }
    problems.len() == before
}

/// A problem of one line (1 is the header) and, where it is known, one column.
pub(super) fn problem(line: usize, column: Option<&str>, message: String) -> RowProblem {
    RowProblem {
        line,
        column: column.map(str::to_string),
        message,
    }
}

/// Reads an amount as spreadsheets write it: `1234.50`, `1234,50`, `1 234,50`.
pub(super) fn parse_amount(text: &str) -> Result<Amount, String> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '€')
        .collect();
    let normalised = if compact.contains(',') && !compact.contains('.') {
        compact.replace(',', ".")
    } else {
        compact
    };
    normalised.parse::<Amount>().map_err(|error| match error {
        AmountError::Unparsable(_) => {
            format!("'{text}' is not an amount: write euros, e.g. 1500.50 or 1500,50")
        }
        other => other.to_string(),
    })
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

/// One good row, ready to become commands.
struct GoodRow {
    line: usize,
    key: TfpbProgrammeKey,
    action: TfpbActionSpec,
    realised: Amount,
    spent_on: NaiveDate,
    evidence: String,
}

/// Dwellings and abatement as one row gives them, with the row's line.
type AbatementGiven = (Option<u32>, Option<Amount>, usize);

/// Row checks that need what earlier rows and the ledger said.
struct Checker<'p> {
    bailleur: String,
    projections: &'p Projections,
    /// First line of each (QPV, year, label) seen, for duplicates.
    labels: BTreeMap<(String, i32, String), usize>,
    /// (dwellings, abatement, line) given per programme; conflicting values are problems.
    abatements: BTreeMap<TfpbProgrammeKey, Vec<AbatementGiven>>,
    resolved_abatements: BTreeMap<TfpbProgrammeKey, (u32, Amount)>,
}

impl<'p> Checker<'p> {
    fn new(bailleur: &str, projections: &'p Projections) -> Self {
        Checker {
            bailleur: bailleur.to_string(),
            projections,
            labels: BTreeMap::new(),
            abatements: BTreeMap::new(),
            resolved_abatements: BTreeMap::new(),
        }
    }

    /// Checks every cell of a row, recording each problem; the row when all is well.
    fn check(&mut self, row: &Row, problems: &mut Vec<RowProblem>) -> Option<GoodRow> {
        let before = problems.len();
        let mut bad =
            |column: &str, message: String| problems.push(problem(row.line, Some(column), message));
        let quartier = self.check_qpv(row.get("qpv"), &mut bad);
        let year = match row.get("year").parse::<i32>() {
            Ok(y) if (TAX_YEAR_MIN..=TAX_YEAR_MAX).contains(&y) => Some(y),
            _ => {
                bad(
                    "year",
                    format!(
                        "'{}' is not a tax year ({TAX_YEAR_MIN}-{TAX_YEAR_MAX})",
                        row.get("year")
                    ),
                );
                None
            }
        };
        let axis = self.check_axis(row.get("axis"), &mut bad);
        let label = row.get("label").to_string();
        if label.is_empty() || label.chars().count() > LABEL_CHARS_MAX {
            bad(
                "label",
                format!("the label is empty or longer than {LABEL_CHARS_MAX} characters"),
            );
        }
        let planned = parse_amount(row.get("planned"))
            .map_err(|e| bad("planned", e))
            .ok();
        let realised = match row.get("realised") {
            "" => Some(Amount::ZERO),
            text => parse_amount(text).map_err(|e| bad("realised", e)).ok(),
        };
        let dwellings = match row.get("dwellings") {
            "" => None,
            text => text
                .parse::<u32>()
                .map_err(|_| {
                    bad(
                        "dwellings",
                        format!("'{text}' is not a number of dwellings"),
                    )
                })
                .ok(),
        };
        let abatement = match row.get("abatement") {
            "" => None,
            text => parse_amount(text).map_err(|e| bad("abatement", e)).ok(),
        };
        let spent_on = match (row.get("spent_on"), year) {
            ("", Some(y)) => NaiveDate::from_ymd_opt(y, 12, 31),
            ("", None) => None,
            (text, year) => match parse_date(text) {
                Some(date) if year.is_none_or(|y| engagements_domain::tfpb::in_year(date, y)) => {
                    Some(date)
                }
                Some(date) => {
                    bad(
                        "spent_on",
                        format!("{date} is outside tax year {}", year.unwrap_or_default()),
                    );
                    None
                }
                None => {
                    bad(
                        "spent_on",
                        format!("'{text}' is not a date: write 2025-06-30 or 30/06/2025"),
                    );
                    None
                }
            },
        };
        if let (Some(quartier), Some(year)) = (&quartier, year) {
            self.check_duplicate(row.line, quartier, year, &label, &mut bad);
        }
        if problems.len() > before {
            return None;
        }
        let (quartier, year, axis, planned, realised, spent_on) =
            (quartier?, year?, axis?, planned?, realised?, spent_on?);
        let key = TfpbProgrammeKey::new(self.bailleur.clone(), quartier, year);
        if dwellings.is_some() || abatement.is_some() {
            self.abatements
                .entry(key.clone())
                .or_default()
                .push((dwellings, abatement, row.line));
        }
        let partners = row
            .get("partners")
            .split('|')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let description = Some(row.get("description").to_string()).filter(|d| !d.is_empty());
        let evidence = match row.get("evidence") {
            "" => format!("import tfpb, line {}", row.line),
            text => text.to_string(),
        };
        Some(GoodRow {
            line: row.line,
            key,
            action: TfpbActionSpec {
                action_id: TfpbActionId::new(),
                axis,
                label,
                description,
                planned_eur: planned,
                partners,
                shares: Vec::new(),
            },
            realised,
            spent_on,
            evidence,
        })
    }

    fn check_qpv(&self, text: &str, bad: &mut impl FnMut(&str, String)) -> Option<String> {
        let view = &self.projections.referential;
        match view.quartier(text) {
            Some(q) if q.kind == QuartierKind::Qpv => Some(q.id.clone()),
            Some(q) => {
                bad(
                    "qpv",
                    format!(
                        "'{text}' ({}) is a QIC: the TFPB abatement applies only in QPV",
                        q.name
                    ),
                );
                None
            }
            None => {
                let codes: Vec<&str> = view
                    .quartiers()
                    .filter(|q| q.kind == QuartierKind::Qpv)
                    .map(|q| q.id.as_str())
                    .collect();
                bad("qpv", format!("unknown QPV '{text}'{}", hint(text, &codes)));
                None
            }
        }
    }

    /// An axis id (`axe-3`) or its number (`3`).
    fn check_axis(&self, text: &str, bad: &mut impl FnMut(&str, String)) -> Option<String> {
        let view = &self.projections.referential;
        if let Some(axis) = view.tfpb_axis(text) {
            return Some(axis.id.clone());
        }
        if let Ok(number) = text.parse::<u32>() {
            if let Some(axis) = view.tfpb_axes().find(|a| a.number == number) {
                return Some(axis.id.clone());
            }
        }
        let ids: Vec<&str> = view.tfpb_axes().map(|a| a.id.as_str()).collect();
        bad(
            "axis",
            format!("unknown TFPB axis '{text}'{}", hint(text, &ids)),
        );
        None
    }

    fn check_duplicate(
        &mut self,
        line: usize,
        quartier: &str,
        year: i32,
        label: &str,
        bad: &mut impl FnMut(&str, String),
    ) {
        let key = label_key(label);
        if key.is_empty() {
            return;
        }
        if let Some(first) = self
            .labels
            .insert((quartier.to_string(), year, key.clone()), line)
        {
            bad(
                "label",
                format!("duplicate action: line {first} has the same QPV, year and label"),
            );
            return;
        }
        let programme = TfpbProgrammeKey::new(self.bailleur.clone(), quartier, year);
        let recorded = self
            .projections
            .tfpb
            .programme(&programme)
            .is_some_and(|p| p.live_actions().any(|a| label_key(&a.spec.label) == key));
        if recorded {
            bad(
                "label",
                format!("duplicate action: '{label}' is already recorded for {programme}"),
            );
        }
    }

    /// Dwellings and abatement may be repeated on each row of a programme, but must agree.
    fn check_abatements(&mut self, problems: &mut Vec<RowProblem>) {
        for (key, given) in &self.abatements {
            let dwellings: BTreeSet<u32> = given.iter().filter_map(|g| g.0).collect();
            let amounts: BTreeSet<Amount> = given.iter().filter_map(|g| g.1).collect();
            let line = given.last().map(|g| g.2).unwrap_or(0);
            if dwellings.len() > 1 {
                problems.push(problem(
                    line,
                    Some("dwellings"),
                    format!("rows of {key} give different dwellings: {dwellings:?}"),
                ));
            }
            if amounts.len() > 1 {
                let list: Vec<String> = amounts.iter().map(|a| a.to_string()).collect();
                problems.push(problem(
                    line,
                    Some("abatement"),
                    format!(
                        "rows of {key} give different abatements: {}",
                        list.join(", ")
                    ),
                ));
            }
            match (dwellings.first(), amounts.first()) {
                (Some(d), Some(a)) => {
                    self.resolved_abatements.insert(key.clone(), (*d, *a));
                }
                _ => problems.push(problem(
                    line,
                    Some(if dwellings.is_empty() {
                        "dwellings"
                    } else {
                        "abatement"
                    }),
                    format!("{key}: give both dwellings and abatement, or neither"),
                )),
            }
        }
    }

    fn into_commands(
        self,
        rows: Vec<GoodRow>,
        row_count: usize,
    ) -> (Vec<Planned>, TfpbImportReport) {
        let mut planned = Vec::new();
        let mut report = TfpbImportReport {
            rows: row_count,
            ..TfpbImportReport::default()
        };
        for (key, (dwellings, abatement)) in &self.resolved_abatements {
            let line = self.abatements[key].first().map(|g| g.2).unwrap_or(0);
            let current = self
                .projections
                .tfpb
                .programme(key)
                .and_then(|p| p.abatement);
            if current.is_some_and(|c| c.dwellings == *dwellings && c.amount == *abatement) {
                continue;
            }
            report.abatements += 1;
            planned.push(Planned {
                line,
                command: TfpbProgrammeCommand::DeclareAbatement {
                    programme: key.clone(),
                    dwellings: *dwellings,
                    abatement_eur: *abatement,
                },
                effective_date: None,
            });
        }
        for row in rows {
            report.programmes.insert(row.key.clone());
            report.actions += 1;
            let action_id = row.action.action_id;
            planned.push(Planned {
                line: row.line,
                command: TfpbProgrammeCommand::PlanAction {
                    programme: row.key.clone(),
                    action: row.action,
                },
                effective_date: None,
            });
            if !row.realised.is_zero() {
                report.spendings += 1;
                planned.push(Planned {
                    line: row.line,
                    command: TfpbProgrammeCommand::ReportSpending {
                        programme: row.key,
                        action_id,
                        spending_id: TfpbSpendingId::new(),
                        amount_eur: row.realised,
                        spent_on: row.spent_on,
                        evidence: row.evidence,
                    },
                    effective_date: Some(row.spent_on),
                });
            }
        }
        (planned, report)
    }
}
