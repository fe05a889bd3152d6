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
use engagements_domain::{Amount, LedgerCommand, Source};
use engagements_projections::Projections;

use super::headers::{column, Column, HeaderTable};
use super::problems::{not_a_date, parse_date};
use super::sheet::{is_blank, read, ReadOptions, Sheet, SheetError, SheetRow};

use engagements_app::auth::{authorize, Principal};
use engagements_app::hint;
use engagements_app::CommandError;
use engagements_app::Ledger;
use engagements_app::{CommandMeta, MetaDefaults};

pub use super::problems::{list, parse_amount, problem, RowProblem, PROBLEMS_LISTED_MAX};
pub use super::sheet::{FILE_BYTES_MAX, ROWS_MAX};

/// The columns of a bailleur's TFPB file and the titles accepted for them (docs/imports.md).
pub static TABLE: HeaderTable = HeaderTable {
    kind: "TFPB",
    columns: &COLUMNS,
    others_refused: true,
};

static COLUMNS: [Column; 12] = [
    column(
        "qpv",
        &[
            "QPV",
            "Code QPV",
            "Quartier",
            "Quartier prioritaire",
            "Code quartier",
        ],
        true,
    ),
    column(
        "year",
        &["Année", "Année fiscale", "Exercice", "Année d'imposition"],
        true,
    ),
    column(
        "axis",
        &["Axe", "Axe du cadre national", "N° axe", "Numéro d'axe"],
        true,
    ),
    column(
        "label",
        &[
            "Action",
            "Libellé",
            "Libellé de l'action",
            "Intitulé",
            "Intitulé de l'action",
        ],
        true,
    ),
    column(
        "planned",
        &[
            "Prévu",
            "Montant prévu",
            "Montant prévisionnel",
            "Budget prévisionnel",
            "Prévisionnel",
        ],
        true,
    ),
    column(
        "realised",
        &[
            "Réalisé",
            "Montant réalisé",
            "Dépenses réalisées",
            "Dépense réalisée",
            "realized",
        ],
        true,
    ),
    column(
        "dwellings",
        &[
            "Logements",
            "Nombre de logements",
            "Nb logements",
            "Nb de logements",
        ],
        false,
    ),
    column(
        "abatement",
        &[
            "Abattement",
            "Montant de l'abattement",
            "Abattement TFPB",
            "Montant abattement",
        ],
        false,
    ),
    column("partners", &["Partenaires"], false),
    column("description", &["Commentaire", "Observations"], false),
    column(
        "spent_on",
        &[
            "Date de dépense",
            "Dépensé le",
            "Date de réalisation",
            "Date",
        ],
        false,
    ),
    column(
        "evidence",
        &["Justificatif", "Pièce justificative", "Justificatifs"],
        false,
    ),
];

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

/// Why an import recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum TfpbImportError {
    #[error("the file is {0} bytes, above the limit of {FILE_BYTES_MAX}: split it by year")]
    TooLarge(usize),
    #[error("{} problem(s), nothing recorded:\n{}", .0.len(), list(.0))]
    Rows(Vec<RowProblem>),
    #[error("line {line}: refused: {error}; nothing recorded")]
    Refused { line: usize, error: CommandError },
    #[error("{0}; nothing recorded")]
    Sheet(SheetError),
}

impl From<SheetError> for TfpbImportError {
    fn from(error: SheetError) -> Self {
        match error {
            SheetError::TooLarge(bytes) => TfpbImportError::TooLarge(bytes),
            other => TfpbImportError::Sheet(other),
        }
    }
}

/// Reads a TFPB file: CSV in UTF-8, UTF-16 or Windows-1252, or an XLSX workbook (its sheet
/// `sheet`, else the first whose header is a TFPB header).
pub fn read_tfpb(bytes: &[u8], sheet: Option<&str>) -> Result<Sheet, TfpbImportError> {
    let options = ReadOptions {
        table: Some(&TABLE),
        sheet,
    };
    Ok(read(bytes, &options)?)
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

/// One command a file means, with the file line it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCommand {
    /// Physical line of the file (in a workbook, the row number).
    pub line: usize,
    pub command: TfpbProgrammeCommand,
    /// The day the fact happened, when the file gives it (a spending's date).
    pub effective_date: Option<NaiveDate>,
}

/// What a clean file means, read and checked against the ledger but not recorded: the commands
/// in the order they would be recorded, and what they add up to. Shown as a preview, then
/// recorded by [`record_tfpb_plan`].
#[derive(Debug, Clone)]
pub struct TfpbPlan {
    pub bailleur: String,
    pub commands: Vec<PlannedCommand>,
    pub report: TfpbImportReport,
}

/// Checks a CSV text against the ledger and imports it for `bailleur`, all or nothing.
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
    let sheet = read_tfpb(text.as_bytes(), None)?;
    import_tfpb_sheet(ledger, &sheet, bailleur, principal, defaults).await
}

/// Checks a sheet (see [`read_tfpb`]) against the ledger and imports it for `bailleur`, all or
/// nothing. `principal` is who imports: a bailleur may import only its own file.
pub async fn import_tfpb_sheet(
    ledger: &Ledger,
    sheet: &Sheet,
    bailleur: &str,
    principal: &Principal,
    defaults: &MetaDefaults,
) -> Result<TfpbImportReport, TfpbImportError> {
    let plan = {
        let projections = ledger
            .projections()
            .await
            .map_err(|error| TfpbImportError::Refused { line: 0, error })?;
        plan_tfpb_sheet(sheet, bailleur, &projections)?
    };
    record_tfpb_plan(ledger, plan, principal, defaults).await
}

/// Reads and checks a sheet for `bailleur` against the ledger as `projections` show it, and
/// returns the commands it means without recording anything (every problem of the file, with
/// its line and column, otherwise).
pub fn plan_tfpb_sheet(
    sheet: &Sheet,
    bailleur: &str,
    projections: &Projections,
) -> Result<TfpbPlan, TfpbImportError> {
    let (commands, report) = plan_file(sheet, bailleur, projections)?;
    Ok(TfpbPlan {
        bailleur: bailleur.to_string(),
        commands,
        report,
    })
}

/// Records a plan (see [`plan_tfpb_sheet`]) all or nothing, as `principal`: a bailleur may record
/// only its own. A refusal names the file line of the command refused.
pub async fn record_tfpb_plan(
    ledger: &Ledger,
    plan: TfpbPlan,
    principal: &Principal,
    defaults: &MetaDefaults,
) -> Result<TfpbImportReport, TfpbImportError> {
    // Authorised under the read guard, dropped before recording (executing needs the read model).
    let commands = {
        let projections = ledger
            .projections()
            .await
            .map_err(|error| TfpbImportError::Refused { line: 0, error })?;
        let mut commands = Vec::with_capacity(plan.commands.len());
        for item in &plan.commands {
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
        commands
    };
    let defaults = MetaDefaults {
        source: Source::Import,
        ..defaults.clone()
    };
    ledger
        .execute_atomic_as(principal, commands, &defaults)
        .await
        .map_err(|(index, error)| TfpbImportError::Refused {
            line: plan.commands.get(index).map(|p| p.line).unwrap_or(0),
            error,
        })?;
    Ok(plan.report)
}

/// Checks the sheet; returns the commands it means, or every problem found.
fn plan_file(
    sheet: &Sheet,
    bailleur: &str,
    projections: &Projections,
) -> Result<(Vec<PlannedCommand>, TfpbImportReport), TfpbImportError> {
    let sheet = sheet.keyed(&TABLE);
    let mut problems = sheet.problems.clone();
    check_bailleur(bailleur, projections, &mut problems);
    let rows: Vec<&SheetRow> = sheet.rows.iter().filter(|r| !is_blank(r)).collect();
    if rows.len() > ROWS_MAX {
        problems.push(problem(
            rows[ROWS_MAX].line,
            None,
            format!("more than {ROWS_MAX} rows: split the file"),
        ));
    }
    if !problems.is_empty() {
        return Err(TfpbImportError::Rows(sheet.name_columns(problems)));
    }
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
        return Err(TfpbImportError::Rows(sheet.name_columns(problems)));
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
    fn check(&mut self, row: &SheetRow, problems: &mut Vec<RowProblem>) -> Option<GoodRow> {
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
                    bad("spent_on", not_a_date(text));
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
    ) -> (Vec<PlannedCommand>, TfpbImportReport) {
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
            planned.push(PlannedCommand {
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
            planned.push(PlannedCommand {
                line: row.line,
                command: TfpbProgrammeCommand::PlanAction {
                    programme: row.key.clone(),
                    action: row.action,
                },
                effective_date: None,
            });
            if !row.realised.is_zero() {
                report.spendings += 1;
                planned.push(PlannedCommand {
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
