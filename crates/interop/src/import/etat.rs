//! `engagements import gispro|anct FILE.csv|FILE.xlsx`: the State's own extracts, whose
//! identifiers are kept as aliases of the ledger's dossiers (columns in docs/imports.md).
//!
//! - **GISPRO** (the State's payment side): one row per request, with its EJ Chorus, its Dauphin
//!   code (`Action de demande - Code dossier`, new every year), its project code (`Projet - Code
//!   dossier`, the same every year), the porteur's SIRET and the amount engaged.
//! - **ANCT programme 147**: one row per action, with its Dauphin code (`Numéro de l'action PRJ`),
//!   the porteur's name, the action's label and the amount engaged.
//!
//! A row is attached to a dossier of the ledger through any identifier it carries that the ledger
//! already knows (a Dauphin code given by the programmation sheet's `code_dossier` column, a
//! project code or an EJ recorded from an earlier extract), or through an optional `dossier`
//! column naming the dossier (its id, or its programmation reference). The row's identifiers not yet
//! known are then recorded on that dossier: next year's new Dauphin code and new EJ attach to the
//! same dossier through the project code, so one grant stays one dossier. Rows of one file may
//! attach through each other (a row brings a project code, another row of the same project is then
//! attached by it).
//!
//! A row that no known identifier ties to a dossier is **not** a dossier of the ledger yet: the
//! extracts name neither quartiers nor objectifs, so the ledger cannot file it without inventing
//! them. Such rows are listed as unmatched (line, identifiers, porteur) and nothing is recorded for
//! them; the comité's programmation is where dossiers are filed.
//!
//! All or nothing, as every import: every cell is checked first (Dauphin code, EJ, project code,
//! SIRET and its checksum, amount, exercice, the `dossier` link) and every problem is reported in
//! one pass with its line and column; a row whose identifiers name two different dossiers, or
//! whose SIRET is not its dossier's porteur's, is a problem too. Only a file without problems is
//! recorded, in one atomic group ([`Ledger::execute_atomic`]).

use std::collections::{BTreeMap, BTreeSet};

use engagements_domain::dossier::{DossierCommand, DossierState, ExternalIdKind, LineStatus};
use engagements_domain::dossier::{EXERCICE_MAX, EXERCICE_MIN};
use engagements_domain::porteur::Siret;
use engagements_domain::referential::OrganisationKind;
use engagements_domain::{Amount, DossierId, LedgerCommand, Source};
use engagements_projections::Projections;

use super::headers::{column, Column, HeaderTable};
use super::problems::{list, parse_amount, problem, RowProblem};
use super::sheet::{is_blank, read, ReadOptions, Sheet, SheetRow, ROWS_MAX};
use engagements_app::CommandError;
use engagements_app::Ledger;
use engagements_app::{CommandMeta, MetaDefaults};

/// Unmatched rows listed one by one; beyond, only counted.
pub const UNMATCHED_LISTED_MAX: usize = 200;

/// Which of the State's extracts a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extract {
    /// GISPRO, the State's payment side (EJ Chorus, Dauphin and project codes, SIRET).
    Gispro,
    /// ANCT's programme 147 extract (Dauphin code, porteur, action, contrat de ville).
    Anct,
}

/// The ledger's own columns, which a user may add to either extract.
const EXERCICE: Column = column("exercice", &["Année", "Exercice budgétaire"], false);
const DOSSIER: Column = column(
    "dossier",
    &["Dossier du ledger", "Référence programmation"],
    false,
);

const GISPRO_EJ: Column = column(
    "EJ CHORUS",
    &[
        "Chorus -EJ",
        "Chorus - EJ",
        "Chorus EJ",
        "EJ",
        "N° EJ",
        "Numéro EJ",
    ],
    true,
);
const GISPRO_DA: Column = column(
    "Action de demande - Code dossier",
    &["Action - Code dossier", "Code dossier Dauphin"],
    true,
);
const GISPRO_PROJET: Column = column(
    "Projet - Code dossier",
    &["Code projet", "Projet code dossier"],
    true,
);
const GISPRO_SIRET: Column = column("Code SIRET", &["SIRET", "N° SIRET"], true);
const GISPRO_AMOUNT: Column = column("Montant engagé", &["Mt engagé"], true);

const ANCT_DA: Column = column(
    "Numéro de l'action PRJ",
    &["N° de l'action PRJ", "N° action PRJ", "Code action PRJ"],
    true,
);
const ANCT_LABEL: Column = column("Libellé de l'action", &["Intitulé de l'action"], true);
const ANCT_PORTEUR: Column = column("Raison sociale longue", &["Raison sociale"], true);
const ANCT_AMOUNT: Column = column("Mt engagé", &["Montant engagé"], true);
const ANCT_CONTRAT: Column = column("Code contrat ville", &["Code du contrat de ville"], false);
const ANCT_STATUS: Column = column(
    "Statut du dossier",
    &["Statut", "Statut Dauphin", "Etat du dossier", "Décision"],
    false,
);

/// GISPRO's columns (others are ignored: the State's extracts have many).
pub static GISPRO_TABLE: HeaderTable = HeaderTable {
    kind: "GISPRO",
    columns: &[
        GISPRO_EJ,
        GISPRO_DA,
        GISPRO_PROJET,
        GISPRO_SIRET,
        GISPRO_AMOUNT,
        column("Direction du gestionnaire du dossier", &[], false),
        column("Libellé de la famille de procédure", &[], false),
        column("Type de tiers", &[], false),
        EXERCICE,
        DOSSIER,
    ],
    others_refused: false,
};

/// ANCT programme 147's columns (others are ignored).
pub static ANCT_TABLE: HeaderTable = HeaderTable {
    kind: "ANCT",
    columns: &[
        ANCT_DA,
        ANCT_LABEL,
        ANCT_PORTEUR,
        ANCT_AMOUNT,
        ANCT_CONTRAT,
        ANCT_STATUS,
        column("Type de tiers", &[], false),
        column("Libellé contrat ville", &[], false),
        column("Thème", &[], false),
        column("Sous-thèmes", &[], false),
        column("Région", &[], false),
        EXERCICE,
        DOSSIER,
    ],
    others_refused: false,
};

impl Extract {
    /// The extract's name, as the command line writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Extract::Gispro => "gispro",
            Extract::Anct => "anct",
        }
    }

    /// The extract's columns and the titles accepted for them.
    pub fn table(self) -> &'static HeaderTable {
        match self {
            Extract::Gispro => &GISPRO_TABLE,
            Extract::Anct => &ANCT_TABLE,
        }
    }
}

/// What the command line adds to the file.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// The exercice of the extract's rows, when the file has no `exercice` column (the State's
    /// extracts are one year each and do not say which).
    pub exercice: Option<i32>,
    /// ANCT only: keep the rows of this contrat de ville (`Code contrat ville`); the others are
    /// counted and left aside.
    pub contrat_ville: Option<String>,
}

/// A row no known identifier ties to a dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    pub line: usize,
    /// Its identifiers, e.g. `dauphin_dossier DA00012345, chorus_ej 2103456789`.
    pub identifiers: String,
    /// Who and what, as the extract says (porteur, action), to help find the dossier.
    pub about: String,
}

/// What an import recorded, or would have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractReport {
    pub extract: Extract,
    /// Data rows read (blank rows aside).
    pub rows: usize,
    /// Rows attached to a dossier of the ledger.
    pub matched: usize,
    /// The dossiers those rows attach to.
    pub dossiers: BTreeSet<DossierId>,
    /// Identifiers recorded (0: the file brought nothing new).
    pub identifiers_recorded: usize,
    /// Rows no known identifier ties to a dossier; nothing is recorded for them.
    pub unmatched: Vec<Unmatched>,
    /// ANCT rows of another contrat de ville, left aside (`--contrat-ville`).
    pub other_contracts: usize,
    /// Remarks that do not stop the import: an amount engaged by the State that differs from
    /// the grant the ledger records.
    pub notes: Vec<RowProblem>,
}

/// Why an import recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum ExtractImportError {
    #[error(transparent)]
    Sheet(#[from] super::sheet::SheetError),
    #[error("{} problem(s), nothing recorded:\n{}", .0.len(), list(.0))]
    Rows(Vec<RowProblem>),
    #[error("line {line}: refused: {error}; nothing recorded")]
    Refused { line: usize, error: CommandError },
}

/// Reads an extract: CSV in UTF-8, UTF-16 or Windows-1252, or an XLSX workbook (its sheet
/// `sheet`, else the first whose header is the extract's), below any title rows.
pub fn read_extract(
    extract: Extract,
    bytes: &[u8],
    sheet: Option<&str>,
) -> Result<Sheet, super::sheet::SheetError> {
    let options = ReadOptions {
        table: Some(extract.table()),
        sheet,
    };
    read(bytes, &options)
}

/// Checks the whole extract against the ledger and records the identifiers it brings, all or
/// nothing. A file that brings nothing new records nothing and says so (`identifiers_recorded`
/// is 0).
pub async fn import_extract(
    ledger: &Ledger,
    extract: Extract,
    sheet: &Sheet,
    options: &ExtractOptions,
    defaults: &MetaDefaults,
) -> Result<ExtractReport, ExtractImportError> {
    // Planned under the read guard, dropped before recording (executing needs the read model).
    let (planned, report) = {
        let projections = ledger
            .projections()
            .await
            .map_err(|error| ExtractImportError::Refused { line: 0, error })?;
        plan(extract, sheet, options, &projections)?
    };
    if planned.is_empty() {
        return Ok(report);
    }
    let commands = planned
        .iter()
        .map(|(_, command)| (command.clone(), CommandMeta::default()))
        .collect();
    let defaults = MetaDefaults {
        source: Source::Import,
        ..defaults.clone()
    };
    ledger
        .execute_atomic(commands, &defaults)
        .await
        .map_err(|(index, error)| ExtractImportError::Refused {
            line: planned.get(index).map(|(line, _)| *line).unwrap_or(0),
            error,
        })?;
    Ok(report)
}

/// Which known columns the sheet has.
struct Layout {
    found: BTreeSet<String>,
}

impl Layout {
    fn read(sheet: &Sheet) -> Layout {
        Layout {
            found: sheet.headers.iter().cloned().collect(),
        }
    }

    fn has(&self, column: &Column) -> bool {
        self.found.contains(column.name)
    }

    fn get<'r>(&self, row: &'r SheetRow, column: &Column) -> &'r str {
        row.get(column.name)
    }
}

/// A row once its cells are checked.
struct CheckedRow {
    line: usize,
    exercice: i32,
    /// Its identifiers, in matching order (Dauphin code, EJ, project code), with their column.
    ids: Vec<(ExternalIdKind, String, &'static str)>,
    /// The dossier the `dossier` column names, if any.
    linked: Option<DossierId>,
    siret: Option<Siret>,
    amount: Option<Amount>,
    about: String,
    /// What Dauphin says of the request (ANCT's `Statut du dossier`), when it says something the
    /// ledger can compare.
    status: Option<(DauphinStatus, String)>,
}

/// A Dauphin status, as far as the ledger can compare it with its own decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DauphinStatus {
    /// Filed, being examined.
    Pending,
    /// Granted (attributed, committed, paid, closed).
    Granted,
    /// Refused, inadmissible, closed without follow-up.
    Refused,
}

impl DauphinStatus {
    /// Reads the statuses Dauphin and its extracts write (`Attribué`, `Soldé`, `Rejeté`, `En
    /// instruction`…), accents and case aside; `None` for a status it does not know.
    pub fn read(text: &str) -> Option<DauphinStatus> {
        let key = super::headers::title_key(text);
        let has = |words: &[&str]| words.iter().any(|w| key.contains(w));
        if has(&[
            "rejet",
            "refus",
            "irrecevable",
            "sans suite",
            "abandon",
            "annul",
        ]) {
            Some(DauphinStatus::Refused)
        } else if has(&[
            "attribu", "accord", "engag", "solde", "paye", "verse", "notifi", "vote",
        ]) {
            Some(DauphinStatus::Granted)
        } else if has(&[
            "instruction",
            "depose",
            "recevable",
            "en cours",
            "transmis",
            "brouillon",
        ]) {
            Some(DauphinStatus::Pending)
        } else {
            None
        }
    }
}

fn plan(
    extract: Extract,
    sheet: &Sheet,
    options: &ExtractOptions,
    projections: &Projections,
) -> Result<(Vec<(usize, LedgerCommand)>, ExtractReport), ExtractImportError> {
    let sheet = &sheet.keyed(extract.table());
    let mut problems = sheet.problems.clone();
    let layout = Layout::read(sheet);
    if !layout.has(&EXERCICE) && options.exercice.is_none() {
        problems.push(problem(
            0,
            Some("--exercice"),
            "the extract does not say its exercice: give --exercice YEAR or an exercice column"
                .into(),
        ));
    }
    if let Some(year) = options.exercice {
        if !(EXERCICE_MIN..=EXERCICE_MAX).contains(&year) {
            problems.push(problem(
                0,
                Some("--exercice"),
                format!("{year} is not a year between {EXERCICE_MIN} and {EXERCICE_MAX}"),
            ));
        }
    }
    if options.contrat_ville.is_some() && extract == Extract::Anct && !layout.has(&ANCT_CONTRAT) {
        problems.push(problem(
            sheet.header_line,
            Some(ANCT_CONTRAT.name),
            "--contrat-ville is given but the extract has no such column".into(),
        ));
    }
    if sheet.rows.len() > ROWS_MAX {
        problems.push(problem(
            0,
            None,
            format!("more than {ROWS_MAX} rows: split the file"),
        ));
        return Err(ExtractImportError::Rows(sheet.name_columns(problems)));
    }
    // A missing column does not stop the check: the rows' other cells are checked too, so that
    // one pass names every problem.

    let mut report = ExtractReport {
        extract,
        rows: 0,
        matched: 0,
        dossiers: BTreeSet::new(),
        identifiers_recorded: 0,
        unmatched: Vec::new(),
        other_contracts: 0,
        notes: Vec::new(),
    };
    let mut checked = Vec::new();
    for row in sheet.rows.iter().filter(|r| !is_blank(r)) {
        report.rows += 1;
        if let (Extract::Anct, Some(wanted)) = (extract, &options.contrat_ville) {
            let code = layout.get(row, &ANCT_CONTRAT);
            if !code.is_empty() && !code.eq_ignore_ascii_case(wanted.trim()) {
                report.other_contracts += 1;
                continue;
            }
        }
        if let Some(good) = check_row(extract, &layout, row, options, projections, &mut problems) {
            checked.push(good);
        }
    }
    let planned = attach(&checked, projections, &mut report, &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(ExtractImportError::Rows(sheet.name_columns(problems)));
    }
    report.identifiers_recorded = planned.len();
    Ok((planned, report))
}

fn check_row(
    extract: Extract,
    layout: &Layout,
    row: &SheetRow,
    options: &ExtractOptions,
    projections: &Projections,
    problems: &mut Vec<RowProblem>,
) -> Option<CheckedRow> {
    let before = problems.len();
    let line = row.line;
    let mut bad =
        |column: &str, message: String| problems.push(problem(line, Some(column), message));

    let exercice = match layout.get(row, &EXERCICE) {
        "" => options.exercice.unwrap_or(0),
        text => match text.parse::<i32>() {
            Ok(year) if (EXERCICE_MIN..=EXERCICE_MAX).contains(&year) => year,
            _ => {
                bad(
                    EXERCICE.name,
                    format!("'{text}' is not a year between {EXERCICE_MIN} and {EXERCICE_MAX}"),
                );
                0
            }
        },
    };
    if layout.has(&EXERCICE) && layout.get(row, &EXERCICE).is_empty() && options.exercice.is_none()
    {
        bad(
            EXERCICE.name,
            "is empty: give the row's exercice (or --exercice)".into(),
        );
    }

    let mut identifier =
        |column: &'static Column, kind: ExternalIdKind, required: bool| -> Option<String> {
            match layout.get(row, column) {
                // A missing column is named once, at line 1.
                "" if required && layout.has(column) => {
                    bad(column.name, "is empty".into());
                    None
                }
                "" => None,
                text => kind
                    .normalise(text)
                    .map_err(|why| bad(column.name, format!("'{text}' is not valid: {why}")))
                    .ok(),
            }
        };
    let mut ids = Vec::new();
    let (da_column, amount_column) = match extract {
        Extract::Gispro => (&GISPRO_DA, &GISPRO_AMOUNT),
        Extract::Anct => (&ANCT_DA, &ANCT_AMOUNT),
    };
    if let Some(da) = identifier(da_column, ExternalIdKind::DauphinDossier, true) {
        ids.push((ExternalIdKind::DauphinDossier, da, da_column.name));
    }
    if extract == Extract::Gispro {
        if let Some(ej) = identifier(&GISPRO_EJ, ExternalIdKind::ChorusEj, false) {
            ids.push((ExternalIdKind::ChorusEj, ej, GISPRO_EJ.name));
        }
        if let Some(projet) = identifier(&GISPRO_PROJET, ExternalIdKind::GisproProjet, false) {
            ids.push((ExternalIdKind::GisproProjet, projet, GISPRO_PROJET.name));
        }
    }

    let mut bad =
        |column: &str, message: String| problems.push(problem(line, Some(column), message));
    let siret = match layout.get(row, &GISPRO_SIRET) {
        "" => None,
        text => Siret::try_from(text.to_string())
            .map_err(|e| bad(GISPRO_SIRET.name, e.to_string()))
            .ok(),
    };
    let amount = match layout.get(row, amount_column) {
        "" => None,
        text => parse_amount(text)
            .map_err(|e| bad(amount_column.name, e))
            .ok(),
    };
    let linked = match layout.get(row, &DOSSIER) {
        "" => None,
        text => match find_dossier(projections, text) {
            Some(id) => Some(id),
            None => {
                bad(
                    DOSSIER.name,
                    format!(
                        "no dossier '{text}' in the ledger: give a dossier id or a programmation reference"
                    ),
                );
                None
            }
        },
    };
    let about = match extract {
        Extract::Gispro => siret
            .as_ref()
            .map(|s| format!("SIRET {}", s.as_str()))
            .unwrap_or_default(),
        Extract::Anct => format!(
            "{} — {}",
            layout.get(row, &ANCT_PORTEUR),
            layout.get(row, &ANCT_LABEL)
        ),
    };
    if problems.len() > before {
        return None;
    }
    let status = match layout.get(row, &ANCT_STATUS) {
        "" => None,
        text => DauphinStatus::read(text).map(|status| (status, text.to_string())),
    };
    Some(CheckedRow {
        line,
        exercice,
        ids,
        linked,
        siret,
        amount,
        about,
        status,
    })
}

/// A filed dossier by its id, or by its programmation reference.
fn find_dossier(projections: &Projections, text: &str) -> Option<DossierId> {
    let subsidy = &projections.subsidy;
    if let Ok(id) = text.parse::<DossierId>() {
        if subsidy.dossier(&id).is_some() {
            return Some(id);
        }
    }
    subsidy.dossier_by_external_id(ExternalIdKind::Programmation, text)
}

/// Ties rows to dossiers through the identifiers known (recorded, or brought by an earlier row of
/// the file), until no row can be tied any more; returns the identifiers to record.
fn attach(
    rows: &[CheckedRow],
    projections: &Projections,
    report: &mut ExtractReport,
    problems: &mut Vec<RowProblem>,
) -> Vec<(usize, LedgerCommand)> {
    let mut known: BTreeMap<(ExternalIdKind, String), DossierId> = projections
        .subsidy
        .external_ids
        .iter()
        .flat_map(|(kind, values)| {
            values
                .iter()
                .map(move |(value, dossier)| ((*kind, value.clone()), *dossier))
        })
        .collect();
    let mut planned = Vec::new();
    let mut pending: Vec<&CheckedRow> = rows.iter().collect();
    loop {
        let mut progress = false;
        let mut still = Vec::new();
        for row in pending {
            match dossier_of(row, &known) {
                Ok(Some(dossier_id)) => {
                    progress = true;
                    report.matched += 1;
                    report.dossiers.insert(dossier_id);
                    attach_row(
                        row,
                        dossier_id,
                        projections,
                        &mut known,
                        &mut planned,
                        report,
                        problems,
                    );
                }
                Ok(None) => still.push(row),
                Err(problem) => {
                    progress = true;
                    problems.push(problem);
                }
            }
        }
        pending = still;
        if !progress || pending.is_empty() {
            break;
        }
    }
    for row in pending {
        report.unmatched.push(Unmatched {
            line: row.line,
            identifiers: row
                .ids
                .iter()
                .map(|(kind, value, _)| format!("{kind} {value}"))
                .collect::<Vec<_>>()
                .join(", "),
            about: row.about.clone(),
        });
    }
    planned
}

/// The one dossier a row's known identifiers (and `dossier` link) name, none, or why they
/// disagree.
fn dossier_of(
    row: &CheckedRow,
    known: &BTreeMap<(ExternalIdKind, String), DossierId>,
) -> Result<Option<DossierId>, RowProblem> {
    let mut named: Option<(DossierId, String)> = row
        .linked
        .map(|id| (id, format!("the dossier column names dossier {id}")));
    for (kind, value, column) in &row.ids {
        let Some(&dossier_id) = known.get(&(*kind, value.clone())) else {
            continue;
        };
        match &named {
            None => {
                named = Some((
                    dossier_id,
                    format!("{kind} {value} names dossier {dossier_id}"),
                ))
            }
            Some((first, why)) if *first != dossier_id => {
                return Err(problem(
                    row.line,
                    Some(column),
                    format!(
                        "{kind} {value} ({}) is already an identifier of dossier {dossier_id}, but {why}: the row would tie two dossiers together",
                        kind.label()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(named.map(|(id, _)| id))
}

#[allow(clippy::too_many_arguments)] // one row's context, unpacked
fn attach_row(
    row: &CheckedRow,
    dossier_id: DossierId,
    projections: &Projections,
    known: &mut BTreeMap<(ExternalIdKind, String), DossierId>,
    planned: &mut Vec<(usize, LedgerCommand)>,
    report: &mut ExtractReport,
    problems: &mut Vec<RowProblem>,
) {
    let Some(state) = projections.subsidy.dossier(&dossier_id) else {
        return;
    };
    let Some(filing) = state.filed.as_ref() else {
        return;
    };
    let porteur = projections.porteurs.get(&filing.porteur_id);
    if let (Some(siret), Some(porteur)) = (&row.siret, porteur) {
        if let Some(known_siret) = porteur.siret.as_deref() {
            if known_siret != siret.as_str() {
                problems.push(problem(
                    row.line,
                    Some(GISPRO_SIRET.name),
                    format!(
                        "SIRET {} is not that of the porteur of dossier {dossier_id} ('{}', SIRET {known_siret}): the row is not this dossier's",
                        siret.as_str(),
                        porteur.name
                    ),
                ));
                return;
            }
        }
    }
    let state_line = state_line(state, projections);
    for (kind, value, _) in &row.ids {
        if known.contains_key(&(*kind, value.clone())) {
            continue;
        }
        known.insert((*kind, value.clone()), dossier_id);
        let (financeur, dispositif) = match (kind, &state_line) {
            (ExternalIdKind::ChorusEj, Some((f, d))) => (Some(f.clone()), Some(d.clone())),
            _ => (None, None),
        };
        planned.push((
            row.line,
            LedgerCommand::Dossier(DossierCommand::RecordExternalId {
                dossier_id,
                kind: *kind,
                value: value.clone(),
                // A project code is the same every year; the others are one year's.
                exercice: (*kind != ExternalIdKind::GisproProjet).then_some(row.exercice),
                financeur,
                dispositif,
            }),
        ));
    }
    if let (Some(amount), Some((financeur, dispositif))) = (row.amount, &state_line) {
        let line = &state.lines[&(financeur.clone(), dispositif.clone())];
        if row.exercice == filing.exercice && !amount.is_zero() && amount != line.granted {
            report.notes.push(problem(
                row.line,
                None,
                format!(
                    "the State engaged {amount} € on dossier {dossier_id} ({}); the ledger records {} € granted by {financeur} under {dispositif} ({})",
                    filing.title,
                    line.granted,
                    line.status.as_str()
                ),
            ));
        }
    }
    if let (Some((status, text)), Some((financeur, dispositif))) = (&row.status, &state_line) {
        let line = &state.lines[&(financeur.clone(), dispositif.clone())];
        if row.exercice == filing.exercice && !status_agrees(*status, line.status) {
            report.notes.push(problem(
                row.line,
                Some(ANCT_STATUS.name),
                format!(
                    "Dauphin says '{text}' for dossier {dossier_id} ({}); the ledger records {financeur} under {dispositif} as {}",
                    filing.title,
                    line.status.as_str()
                ),
            ));
        }
    }
}

/// Whether Dauphin's status and the ledger's decision on the State's line tell the same story.
fn status_agrees(status: DauphinStatus, line: LineStatus) -> bool {
    match status {
        DauphinStatus::Pending => matches!(line, LineStatus::Requested | LineStatus::Adjourned),
        DauphinStatus::Granted => line == LineStatus::Granted,
        DauphinStatus::Refused => matches!(line, LineStatus::Refused | LineStatus::Cancelled),
    }
}

/// The State's funding line of the dossier, when it has exactly one (an EJ is recorded on it).
fn state_line(state: &DossierState, projections: &Projections) -> Option<(String, String)> {
    let lines: Vec<&(String, String)> = state
        .lines
        .keys()
        .filter(|(financeur, _)| {
            projections
                .referential
                .organisation(financeur)
                .is_some_and(|o| o.kind == OrganisationKind::Etat)
        })
        .collect();
    match lines.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}
