//! `engagements import programmation FILE.csv|FILE.xlsx`: the comité's programmation sheet, one
//! row per dossier and financeur (columns in docs/imports.md).
//!
//! All or nothing: every row and column is checked first and every problem is reported in one
//! pass with its line and column (unknown quartier, objectif, financeur or dispositif, bad amount,
//! bad SIRET, granted above asked…); only a clean file is turned into commands (porteurs not yet
//! known, dossiers, opinions, decisions), recorded together by [`Ledger::execute_atomic`].
//!
//! The sheet's `dossier` reference (and the optional `code_dossier`, Dauphin's code, and `ej`,
//! the EJ Chorus of a State line) are kept as aliases of the dossier. A dossier whose reference,
//! Dauphin code or EJ the ledger already knows is not filed again: only what is new on it
//! (opinions, decisions on undecided lines, identifiers) is recorded, and a sheet imported twice
//! records nothing. What the sheet says of a known dossier must match what is recorded; a
//! difference is a problem, never a silent change.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use engagements_domain::dossier::{
    Decision, DossierCommand, DossierState, ExternalIdKind, FundingRequest, LineStatus,
    ObjectifWeight, Opinion, QuartierShare, EXERCICE_MAX, EXERCICE_MIN,
};
use engagements_domain::porteur::{PorteurCommand, PorteurKind, Rna, Siret};
use engagements_domain::referential::OrganisationKind;
use engagements_domain::{Amount, DossierId, LedgerCommand, PorteurId, Source};
use engagements_projections::Projections;
use rust_decimal::Decimal;

use super::headers::{column, title_key, Column, HeaderTable};
use super::problems::{list, not_a_date, parse_amount, parse_date, problem, RowProblem};
use super::sheet::{is_blank, read, ReadOptions, SheetError};
use engagements_app::CommandError;
use engagements_app::Ledger;
use engagements_app::{CommandMeta, MetaDefaults};

pub use super::sheet::{FILE_BYTES_MAX, ROWS_MAX};

/// The columns of the programmation sheet and the titles accepted for them (docs/imports.md).
pub static TABLE: HeaderTable = HeaderTable {
    kind: "programmation",
    columns: &COLUMNS,
    others_refused: true,
};

static COLUMNS: [Column; 23] = [
    column(
        "dossier",
        &[
            "N° dossier",
            "Numéro de dossier",
            "Référence",
            "Référence dossier",
            "Réf dossier",
        ],
        true,
    ),
    column(
        "porteur",
        &[
            "Porteur",
            "Porteur de projet",
            "Structure",
            "Opérateur",
            "Raison sociale",
            "Nom du porteur",
        ],
        true,
    ),
    column(
        "siret",
        &["N° SIRET", "Code SIRET", "SIRET du porteur"],
        false,
    ),
    column("rna", &["N° RNA", "Numéro RNA", "RNA du porteur"], false),
    column(
        "porteur_kind",
        &[
            "Type de porteur",
            "Nature du porteur",
            "Statut juridique",
            "Catégorie de porteur",
            "Type de structure",
        ],
        false,
    ),
    column(
        "action",
        &[
            "Intitulé de l'action",
            "Libellé de l'action",
            "Intitulé",
            "Nom de l'action",
        ],
        true,
    ),
    column("description", &["Objet", "Descriptif"], false),
    column("exercice", &["Année", "Exercice budgétaire"], true),
    column(
        "quartiers",
        &["Quartier", "Quartiers concernés", "QPV", "QPV concernés"],
        true,
    ),
    column(
        "objectifs",
        &[
            "Objectif",
            "Objectifs du contrat",
            "N° objectif",
            "Objectifs visés",
        ],
        true,
    ),
    column(
        "budget",
        &[
            "Budget total",
            "Coût total",
            "Budget de l'action",
            "Coût de l'action",
            "Budget global",
        ],
        true,
    ),
    column(
        "financeur",
        &["Financeurs", "Co-financeur", "Cofinanceur"],
        true,
    ),
    column("dispositif", &["Dispositifs", "Ligne de crédit"], true),
    column(
        "asked",
        &[
            "Demandé",
            "Montant demandé",
            "Demande",
            "Sollicité",
            "Montant sollicité",
        ],
        true,
    ),
    column(
        "proposed",
        &["Proposé", "Montant proposé", "Proposition"],
        false,
    ),
    column(
        "opinion",
        &["Avis", "Avis du service instructeur", "Sens de l'avis"],
        false,
    ),
    column(
        "granted",
        &[
            "Accordé",
            "Montant accordé",
            "Attribué",
            "Montant attribué",
            "Montant décidé",
        ],
        false,
    ),
    column(
        "decision",
        &["Décision", "Décision du comité", "Sens de la décision"],
        false,
    ),
    column(
        "comite",
        &[
            "Comité",
            "Comité des financeurs",
            "Instance",
            "Comité de programmation",
        ],
        false,
    ),
    column(
        "decided_on",
        &[
            "Décidé le",
            "Date de décision",
            "Date du comité",
            "Date de la décision",
        ],
        false,
    ),
    column(
        "code_dossier",
        &[
            "Code dossier",
            "Code Dauphin",
            "N° Dauphin",
            "Numéro Dauphin",
            "Code dossier Dauphin",
        ],
        false,
    ),
    column("ej", &["EJ Chorus", "N° EJ", "Engagement juridique"], false),
    column(
        "majoration_reason",
        &[
            "Motif de majoration",
            "Majoration",
            "Motif de la majoration",
        ],
        false,
    ),
];

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
pub const OPTIONAL_COLUMNS: [&str; 13] = [
    "siret",
    "rna",
    "porteur_kind",
    "description",
    "proposed",
    "opinion",
    "granted",
    "decision",
    "comite",
    "decided_on",
    "majoration_reason",
    "code_dossier",
    "ej",
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

/// What an import recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgrammationReport {
    pub rows: usize,
    pub porteurs_registered: usize,
    /// Dossiers filed by this import.
    pub dossiers: usize,
    /// Dossiers of the sheet the ledger already had (found by their reference, Dauphin code or
    /// EJ): nothing is filed again, only what is new on them is recorded.
    pub dossiers_known: usize,
    pub opinions: usize,
    pub decisions: usize,
    /// Identifiers recorded as aliases (programmation reference, Dauphin code, EJ).
    pub identifiers: usize,
}

impl ProgrammationReport {
    /// Whether the import recorded nothing (the sheet was already recorded whole).
    pub fn nothing_new(&self) -> bool {
        self.porteurs_registered == 0
            && self.dossiers == 0
            && self.opinions == 0
            && self.decisions == 0
            && self.identifiers == 0
    }
}

pub use super::sheet::{Sheet, SheetRow};

/// Reads a programmation file: CSV in UTF-8, UTF-16 or Windows-1252 (`;`, tab or `,`
/// separated), or an XLSX workbook (its sheet `sheet`, else the first whose header is a
/// programmation header), below any title rows.
pub fn read_programmation(
    bytes: &[u8],
    sheet: Option<&str>,
) -> Result<Sheet, ProgrammationImportError> {
    let options = ReadOptions {
        table: Some(&TABLE),
        sheet,
    };
    read(bytes, &options).map_err(ProgrammationImportError::from)
}

/// Reads a CSV text (`;`, tab or `,` separated; optional BOM).
pub fn read_csv(text: &str) -> Result<Sheet, ProgrammationImportError> {
    read_programmation(text.as_bytes(), None)
}

/// Reads an XLSX workbook: the first sheet whose header is a programmation header; line numbers
/// are the spreadsheet's row numbers.
pub fn read_xlsx(bytes: &[u8]) -> Result<Sheet, ProgrammationImportError> {
    read_programmation(bytes, None)
}

impl From<SheetError> for ProgrammationImportError {
    fn from(error: SheetError) -> Self {
        match error {
            SheetError::TooLarge(bytes) => ProgrammationImportError::TooLarge(bytes),
            SheetError::Unreadable(why) => ProgrammationImportError::Unreadable(why),
            other => ProgrammationImportError::Unreadable(other.to_string()),
        }
    }
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
    // Planned under the read guard, dropped before recording (executing needs the read model).
    let (planned, report) = {
        let projections = ledger
            .projections()
            .await
            .map_err(|error| ProgrammationImportError::Refused { line: 0, error })?;
        plan(sheet, &projections)?
    };
    if planned.is_empty() {
        return Ok(report);
    }
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
    /// As the sheet says; when it says nothing, an RNA makes an association.
    porteur_kind: Option<PorteurKind>,
    action: String,
    description: String,
    exercice: i32,
    quartiers: Vec<QuartierShare>,
    objectifs: Vec<ObjectifWeight>,
    budget: Amount,
    financeur: String,
    dispositif: String,
    asked: Amount,
    proposed: Option<Amount>,
    opinion: Option<Opinion>,
    /// What the comité decided, from `decision` or else from `granted` (0 is a refusal).
    decision: Option<Decision>,
    comite: String,
    decided_on: Option<NaiveDate>,
    /// Dauphin's code of the dossier (`DA` + 8 digits), normalised.
    code_dossier: Option<String>,
    /// The EJ Chorus of this row's (State) line, normalised.
    ej: Option<String>,
}

fn plan(
    sheet: &Sheet,
    projections: &Projections,
) -> Result<(Vec<Planned>, ProgrammationReport), ProgrammationImportError> {
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
        return Err(ProgrammationImportError::Rows(sheet.name_columns(problems)));
    }
    let mut checked = Vec::new();
    for row in rows {
        if let Some(good) = check_row(row, projections, &mut problems) {
            checked.push(good);
        }
    }
    check_dossiers(&checked, &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(ProgrammationImportError::Rows(sheet.name_columns(problems)));
    }
    let planned = into_commands(&checked, projections, &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(ProgrammationImportError::Rows(sheet.name_columns(problems)));
    }
    Ok(planned)
}

/// A porteur's kind as a sheet writes it, in French or as the ledger names it.
fn read_porteur_kind(text: &str) -> Option<PorteurKind> {
    match title_key(text).as_str() {
        "association" | "asso" | "association loi 1901" => Some(PorteurKind::Association),
        "commune" | "mairie" | "ville" | "collectivite" => Some(PorteurKind::Commune),
        "ccas" | "cias" | "centre communal d action sociale" => Some(PorteurKind::Ccas),
        "bailleur" | "bailleur social" => Some(PorteurKind::Bailleur),
        "autre" | "other" => Some(PorteurKind::Other),
        _ => None,
    }
}

/// The kinds of decision a sheet writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecisionKind {
    Granted,
    Refused,
    Adjourned,
}

/// `accordé`, `refusé`, `ajourné` (or `granted`, `refused`, `adjourned`), accents and case aside.
fn read_decision(text: &str) -> Option<DecisionKind> {
    match title_key(text).as_str() {
        "accorde" | "accordee" | "attribue" | "attribuee" | "granted" => {
            Some(DecisionKind::Granted)
        }
        "refuse" | "refusee" | "rejete" | "rejetee" | "refused" => Some(DecisionKind::Refused),
        "ajourne" | "ajournee" | "reporte" | "reportee" | "adjourned" => {
            Some(DecisionKind::Adjourned)
        }
        _ => None,
    }
}

/// The decision of a row: from `decision` when given (with `granted` for a grant), else from
/// `granted` alone (0 is a refusal).
fn read_decision_cells(
    text: &str,
    granted: Option<Amount>,
    bad: &mut impl FnMut(&str, String),
) -> Option<Decision> {
    if text.is_empty() {
        return granted.map(|amount| {
            if amount.is_zero() {
                Decision::Refused
            } else {
                Decision::Granted {
                    amount,
                    majoration_reason: None,
                }
            }
        });
    }
    let Some(kind) = read_decision(text) else {
        bad(
            "decision",
            format!("'{text}' is not a decision: accordé, refusé or ajourné"),
        );
        return None;
    };
    match (kind, granted) {
        (DecisionKind::Granted, Some(amount)) if !amount.is_zero() => Some(Decision::Granted {
            amount,
            majoration_reason: None,
        }),
        (DecisionKind::Granted, _) => {
            bad("granted", "a grant gives the amount granted".into());
            None
        }
        (DecisionKind::Refused, None) => Some(Decision::Refused),
        (DecisionKind::Refused, Some(amount)) if amount.is_zero() => Some(Decision::Refused),
        (DecisionKind::Adjourned, None) => Some(Decision::Adjourned),
        (_, Some(_)) => {
            bad(
                "granted",
                format!("'{text}' grants nothing: leave the amount granted empty"),
            );
            None
        }
    }
}

/// `favorable`, `réservé`, `défavorable` (or the English names), accents and case aside.
fn read_opinion(text: &str) -> Option<Opinion> {
    match title_key(text).as_str() {
        "favorable" | "favourable" => Some(Opinion::Favourable),
        "reserve" | "reservee" | "reserved" | "avec reserves" | "favorable avec reserves" => {
            Some(Opinion::Reserved)
        }
        "defavorable" | "unfavourable" | "unfavorable" => Some(Opinion::Unfavourable),
        _ => None,
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
    let porteur_kind = match row.get("porteur_kind") {
        "" => None,
        s => read_porteur_kind(s)
            .ok_or_else(|| {
                bad(
                    "porteur_kind",
                    format!(
                        "type de porteur inconnu « {s} » : écrire association, commune, CCAS, \
                         bailleur ou autre"
                    ),
                )
            })
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
    let mut quartiers = Vec::new();
    let quartier_words = split_list(row.get("quartiers"));
    if quartier_words.is_empty() {
        bad("quartiers", "names no quartier".into());
    }
    for word in quartier_words {
        // `QN06204` or, with a declared share, `QN06204:60`.
        let (quartier, share) = match word.split_once(':') {
            Some((quartier, share)) => (quartier.to_string(), Some(share)),
            None => (word.clone(), None),
        };
        if view.quartier(&quartier).is_none() {
            bad("quartiers", format!("unknown quartier '{quartier}'"));
            continue;
        }
        match share.map(|s| s.parse::<Decimal>()) {
            Some(Ok(share_pct)) => quartiers.push(QuartierShare {
                quartier,
                share_pct: Some(share_pct),
            }),
            Some(Err(_)) => bad(
                "quartiers",
                format!(
                    "'{word}': write a share as QN06204:60 (a percentage, decimals with a dot)"
                ),
            ),
            None => quartiers.push(QuartierShare {
                quartier,
                share_pct: None,
            }),
        }
    }
    let mut objectifs = Vec::new();
    let objectif_words = split_list(row.get("objectifs"));
    if objectif_words.is_empty() {
        bad("objectifs", "names no objectif".into());
    }
    for word in objectif_words {
        // `3` or, with a relative weight, `3:2`.
        let (number, weight) = match word.split_once(':') {
            Some((number, weight)) => (number, Some(weight.parse::<Decimal>())),
            None => (word.as_str(), None),
        };
        match (number.parse::<u32>(), weight) {
            (Ok(number), weight) if view.objectif(number).is_some() => match weight {
                Some(Err(_)) => bad(
                    "objectifs",
                    format!("'{word}': write a weight as 3:2 (decimals with a dot)"),
                ),
                weight => objectifs.push(ObjectifWeight {
                    objectif: number,
                    weight: weight.and_then(Result::ok),
                }),
            },
            _ => bad("objectifs", format!("unknown objectif '{word}'")),
        }
    }
    if !financeur.is_empty() && view.organisation(&financeur).is_none() {
        bad("financeur", format!("unknown financeur '{financeur}'"));
    }
    match view.dispositif(&dispositif) {
        None if !dispositif.is_empty() => {
            bad("dispositif", format!("unknown dispositif '{dispositif}'"))
        }
        // The dispositif belongs to its financeurs (the dossier's rule, said here with the line).
        Some(known)
            if !financeur.is_empty()
                && !known.financeurs.is_empty()
                && !known.financeurs.contains(&financeur) =>
        {
            bad(
                "dispositif",
                format!(
                    "dispositif '{dispositif}' is not one of '{financeur}': it is funded by {}",
                    known.financeurs.join(", ")
                ),
            )
        }
        _ => {}
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
    let majoration_reason = row.get("majoration_reason").trim().to_string();
    if let (Some(asked), Some(granted)) = (asked, granted) {
        if granted > asked && majoration_reason.is_empty() {
            bad(
                "granted",
                format!("granted {granted} is above the {asked} asked: grant at most {asked}, or give the reason of the majoration (column majoration_reason)"),
            );
        }
        if granted <= asked && !majoration_reason.is_empty() {
            bad(
                "majoration_reason",
                format!("a majoration needs a grant above the amount asked, and {granted} is not above the {asked} asked"),
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
    let opinion = match row.get("opinion") {
        "" => None,
        text => read_opinion(text).or_else(|| {
            bad(
                "opinion",
                format!("'{text}' is not an opinion: favorable, réservé or défavorable"),
            );
            None
        }),
    };
    if opinion.is_some() && proposed.is_none() && row.get("proposed").is_empty() {
        bad("proposed", "an opinion gives the amount proposed".into());
    }
    let decision =
        read_decision_cells(row.get("decision"), granted, &mut bad).map(
            |decision| match decision {
                Decision::Granted { amount, .. } if !majoration_reason.is_empty() => {
                    Decision::Granted {
                        amount,
                        majoration_reason: Some(majoration_reason.clone()),
                    }
                }
                other => other,
            },
        );
    let comite = row.get("comite").to_string();

    let decided_on = match row.get("decided_on") {
        "" => None,
        s => parse_date(s).or_else(|| {
            bad("decided_on", not_a_date(s));
            None
        }),
    };
    if !dossier_key.is_empty() {
        if let Err(why) = ExternalIdKind::Programmation.normalise(&dossier_key) {
            bad(
                "dossier",
                format!("'{dossier_key}' is not a usable reference: {why}"),
            );
        }
    }
    let mut identifier = |column: &str, kind: ExternalIdKind| match row.get(column) {
        "" => None,
        text => kind
            .normalise(text)
            .map_err(|why| bad(column, format!("'{text}' is not valid: {why}")))
            .ok(),
    };
    let code_dossier = identifier("code_dossier", ExternalIdKind::DauphinDossier);
    let ej = identifier("ej", ExternalIdKind::ChorusEj);
    let mut bad =
        |column: &str, message: String| problems.push(problem(line, Some(column), message));
    if ej.is_some()
        && !financeur.is_empty()
        && view
            .organisation(&financeur)
            .is_some_and(|o| o.kind != OrganisationKind::Etat)
    {
        bad(
            "ej",
            format!("an EJ Chorus commits the State, and this row's financeur is '{financeur}'"),
        );
    }
    let decided = granted.is_some() || !row.get("decision").is_empty();
    if decided && comite.is_empty() {
        bad("comite", "a decision names the comité that took it".into());
    }
    if decided && decided_on.is_none() && row.get("decided_on").is_empty() {
        bad("decided_on", "a decision says when it was taken".into());
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
        porteur_kind,
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
        opinion,
        decision,
        comite,
        decided_on,
        code_dossier,
        ej,
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
            ("porteur_kind", head.porteur_kind != row.porteur_kind),
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
    // A Dauphin code belongs to one dossier (it may be written on one row only, or on every
    // row alike); an EJ to one line.
    let mut codes: BTreeMap<&str, &CheckedRow> = BTreeMap::new();
    let mut code_of_dossier: BTreeMap<&str, &CheckedRow> = BTreeMap::new();
    let mut ejs: BTreeMap<&str, &CheckedRow> = BTreeMap::new();
    for row in rows {
        if let Some(code) = row.code_dossier.as_deref() {
            match codes.get(code) {
                Some(other) if other.dossier_key != row.dossier_key => problems.push(problem(
                    row.line,
                    Some("code_dossier"),
                    format!(
                        "{code} is also the code of dossier '{}' at line {}",
                        other.dossier_key, other.line
                    ),
                )),
                Some(_) => {}
                None => {
                    codes.insert(code, row);
                }
            }
            match code_of_dossier.get(row.dossier_key.as_str()) {
                Some(first) if first.code_dossier.as_deref() != Some(code) => {
                    problems.push(problem(
                        row.line,
                        Some("code_dossier"),
                        format!(
                            "differs from {} at line {} of the same dossier '{}'",
                            first.code_dossier.as_deref().unwrap_or_default(),
                            first.line,
                            row.dossier_key
                        ),
                    ))
                }
                Some(_) => {}
                None => {
                    code_of_dossier.insert(&row.dossier_key, row);
                }
            }
        }
        if let Some(ej) = row.ej.as_deref() {
            if let Some(other) = ejs.insert(ej, row) {
                problems.push(problem(
                    row.line,
                    Some("ej"),
                    format!("{ej} is also the EJ of line {}", other.line),
                ));
            }
        }
    }
}

/// The dossier of the ledger a sheet's dossier already is, if any: by its programmation reference,
/// its Dauphin code or an EJ of its rows (all of which must agree), else, for dossiers recorded
/// before references were kept, a dossier of the same porteur, exercice and title that has no
/// reference yet. Disagreeing identifiers are problems.
fn existing_dossier(
    rows: &[&CheckedRow],
    porteur_id: Option<PorteurId>,
    projections: &Projections,
    unreferenced: &Unreferenced,
    claimed: &BTreeSet<DossierId>,
    problems: &mut Vec<RowProblem>,
) -> Option<DossierId> {
    let subsidy = &projections.subsidy;
    let head = rows[0];
    let mut found: Option<(DossierId, String)> = subsidy
        .dossier_by_external_id(ExternalIdKind::Programmation, &head.dossier_key)
        .map(|id| (id, format!("reference '{}'", head.dossier_key)));
    let mut named = |row: &CheckedRow, column: &str, kind: ExternalIdKind, value: &str| {
        let Some(id) = subsidy.dossier_by_external_id(kind, value) else {
            return;
        };
        match &found {
            None => found = Some((id, format!("{kind} {value}"))),
            Some((first, why)) if *first != id => problems.push(problem(
                row.line,
                Some(column),
                format!(
                    "{kind} {value} is an identifier of dossier {id}, but {why} names dossier {first}"
                ),
            )),
            Some(_) => {}
        }
    };
    for row in rows {
        if let Some(code) = row.code_dossier.as_deref() {
            named(row, "code_dossier", ExternalIdKind::DauphinDossier, code);
        }
        if let Some(ej) = row.ej.as_deref() {
            named(row, "ej", ExternalIdKind::ChorusEj, ej);
        }
    }
    if let Some((id, _)) = found {
        return Some(id);
    }
    let key = (
        porteur_id?,
        head.exercice,
        head.action.trim().to_lowercase(),
    );
    unreferenced
        .get(&key)?
        .iter()
        .find(|id| !claimed.contains(id))
        .copied()
}

/// Filed dossiers without a programmation reference, by porteur, exercice and lower-cased title.
type Unreferenced = BTreeMap<(PorteurId, i32, String), Vec<DossierId>>;

/// The [`Unreferenced`] dossiers of the ledger.
fn unreferenced_dossiers(projections: &Projections) -> Unreferenced {
    let mut index = Unreferenced::new();
    for state in projections.subsidy.filed(None) {
        let Some(filing) = state.filed.as_ref() else {
            continue;
        };
        if state
            .external_ids_of(ExternalIdKind::Programmation)
            .next()
            .is_none()
        {
            index
                .entry((
                    filing.porteur_id,
                    filing.exercice,
                    filing.title.trim().to_lowercase(),
                ))
                .or_default()
                .push(filing.dossier_id);
        }
    }
    index
}

/// What the sheet says of a dossier the ledger already has must be what the ledger records; the
/// sheet may add opinions, decisions and identifiers, never silently change the dossier.
fn check_known_dossier(
    rows: &[&CheckedRow],
    state: &DossierState,
    porteur_id: Option<PorteurId>,
    problems: &mut Vec<RowProblem>,
) {
    let Some(filing) = state.filed.as_ref() else {
        return;
    };
    let head = rows[0];
    let recorded = |what: &str| {
        format!(
            "dossier '{}' is already recorded (dossier {}) with {what}: amend it (amend_dossier) or correct the sheet",
            head.dossier_key, filing.dossier_id
        )
    };
    let quartiers: BTreeSet<&str> = filing
        .quartiers
        .iter()
        .map(|q| q.quartier.as_str())
        .collect();
    let objectifs: BTreeSet<u32> = filing.objectifs.iter().map(|o| o.objectif).collect();
    let head_quartiers: BTreeSet<&str> =
        head.quartiers.iter().map(|q| q.quartier.as_str()).collect();
    let head_objectifs: BTreeSet<u32> = head.objectifs.iter().map(|o| o.objectif).collect();
    let mut bad =
        |column: &str, message: String| problems.push(problem(head.line, Some(column), message));
    if porteur_id != Some(filing.porteur_id) {
        bad("porteur", recorded("another porteur"));
    }
    if head.exercice != filing.exercice {
        bad(
            "exercice",
            recorded(&format!("exercice {}", filing.exercice)),
        );
    }
    if head.action.trim() != filing.title {
        bad("action", recorded(&format!("the title '{}'", filing.title)));
    }
    if head.budget != filing.total_budget {
        bad(
            "budget",
            recorded(&format!("a budget of {}", filing.total_budget)),
        );
    }
    if head_quartiers != quartiers {
        bad(
            "quartiers",
            recorded(&format!(
                "the quartiers {}",
                quartiers.iter().copied().collect::<Vec<_>>().join("|")
            )),
        );
    }
    if head_objectifs != objectifs {
        bad(
            "objectifs",
            recorded(&format!(
                "the objectifs {}",
                objectifs
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join("|")
            )),
        );
    }
    for row in rows {
        let mut bad =
            |column: &str, message: String| problems.push(problem(row.line, Some(column), message));
        let Some(request) = filing
            .requests
            .iter()
            .find(|r| r.financeur == row.financeur && r.dispositif == row.dispositif)
        else {
            bad(
                "financeur",
                recorded(&format!(
                    "no request of {} under {}",
                    row.financeur, row.dispositif
                )),
            );
            continue;
        };
        if request.amount != row.asked {
            bad(
                "asked",
                recorded(&format!(
                    "{} asked of {} under {}",
                    request.amount, row.financeur, row.dispositif
                )),
            );
        }
        let Some(decision) = &row.decision else {
            continue;
        };
        let granted = match decision {
            Decision::Granted { amount, .. } => *amount,
            _ => Amount::ZERO,
        };
        let line = &state.lines[&(row.financeur.clone(), row.dispositif.clone())];
        let consistent = match (line.status, decision) {
            (LineStatus::Requested | LineStatus::Adjourned, _) => true,
            (LineStatus::Granted, Decision::Granted { amount, .. }) => *amount == line.granted,
            (LineStatus::Refused, Decision::Refused) => true,
            _ => false,
        };
        if !consistent {
            bad(
                "granted",
                format!(
                    "{} has already decided on dossier '{}' ({}, {} granted now): the sheet says {granted}; record a change (change_subsidy) or correct the sheet",
                    row.financeur,
                    head.dossier_key,
                    line.status.as_str(),
                    line.granted
                ),
            );
        }
    }
}

/// The commands a checked sheet means: porteurs not yet known, dossiers not yet filed, their
/// identifiers, opinions and decisions — only what the ledger does not have yet.
fn into_commands(
    rows: &[CheckedRow],
    projections: &Projections,
    problems: &mut Vec<RowProblem>,
) -> (Vec<Planned>, ProgrammationReport) {
    let mut report = ProgrammationReport {
        rows: rows.len(),
        ..ProgrammationReport::default()
    };
    let mut planned = Vec::new();
    let mut porteurs: BTreeMap<String, PorteurId> = BTreeMap::new();
    let mut dossiers: BTreeMap<&str, DossierId> = BTreeMap::new();
    let mut known_dossiers: BTreeSet<DossierId> = BTreeSet::new();
    let mut decisions = Vec::new();
    let mut groups: BTreeMap<&str, Vec<&CheckedRow>> = BTreeMap::new();
    for row in rows {
        groups.entry(&row.dossier_key).or_default().push(row);
    }
    let unreferenced = unreferenced_dossiers(projections);
    for row in rows {
        if dossiers.contains_key(row.dossier_key.as_str()) {
            continue;
        }
        let of_dossier = &groups[row.dossier_key.as_str()];
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
            })
            .map(|p| p.porteur_id);

        if let Some(dossier_id) = existing_dossier(
            of_dossier,
            known,
            projections,
            &unreferenced,
            &known_dossiers,
            problems,
        ) {
            dossiers.insert(&row.dossier_key, dossier_id);
            known_dossiers.insert(dossier_id);
            report.dossiers_known += 1;
            if let Some(state) = projections.subsidy.dossier(&dossier_id) {
                check_known_dossier(of_dossier, state, known, problems);
            }
            continue;
        }

        let porteur_id = match (known, porteurs.get(&porteur_key)) {
            (Some(id), _) => id,
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
                        kind: row.porteur_kind.unwrap_or(if row.rna.is_some() {
                            PorteurKind::Association
                        } else {
                            PorteurKind::Other
                        }),
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
        let requests = of_dossier
            .iter()
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
                quartiers: row.quartiers.clone(),
                objectifs: row.objectifs.clone(),
                requests,
                pistes: Vec::new(),
            }),
            effective_date: None,
        });
    }
    for row in rows {
        let dossier_id = dossiers[row.dossier_key.as_str()];
        let state = projections.subsidy.dossier(&dossier_id);
        let has = |kind: ExternalIdKind, value: &str| {
            state.is_some_and(|s| s.external_id(kind, value).is_some())
        };
        let mut identifier = |kind: ExternalIdKind, value: &str, line: Option<&CheckedRow>| {
            report.identifiers += 1;
            planned.push(Planned {
                line: row.line,
                command: LedgerCommand::Dossier(DossierCommand::RecordExternalId {
                    dossier_id,
                    kind,
                    value: value.to_string(),
                    exercice: (kind != ExternalIdKind::Programmation).then_some(row.exercice),
                    financeur: line.map(|r| r.financeur.clone()),
                    dispositif: line.map(|r| r.dispositif.clone()),
                }),
                effective_date: None,
            });
        };
        let of_dossier = &groups[row.dossier_key.as_str()];
        let head = std::ptr::eq(of_dossier[0], row);
        if head && !has(ExternalIdKind::Programmation, &row.dossier_key) {
            identifier(ExternalIdKind::Programmation, &row.dossier_key, None);
        }
        // The dossier's Dauphin code, from the first row that gives it.
        let first_code = of_dossier
            .iter()
            .find(|r| r.code_dossier.is_some())
            .is_some_and(|r| std::ptr::eq(*r, row));
        if let (true, Some(code)) = (first_code, row.code_dossier.as_deref()) {
            if !has(ExternalIdKind::DauphinDossier, code) {
                identifier(ExternalIdKind::DauphinDossier, code, None);
            }
        }
        if let Some(ej) = row.ej.as_deref() {
            if !has(ExternalIdKind::ChorusEj, ej) {
                identifier(ExternalIdKind::ChorusEj, ej, Some(row));
            }
        }
        let line = state.and_then(|s| {
            s.lines
                .get(&(row.financeur.clone(), row.dispositif.clone()))
        });
        if let Some(proposed) = row.proposed {
            let opinion = row.opinion.unwrap_or(if proposed.is_zero() {
                Opinion::Unfavourable
            } else {
                Opinion::Favourable
            });
            if line.is_none_or(|l| l.proposed != Some(proposed) || l.opinion != Some(opinion)) {
                report.opinions += 1;
                planned.push(Planned {
                    line: row.line,
                    command: LedgerCommand::Dossier(DossierCommand::GiveOpinion {
                        dossier_id,
                        financeur: row.financeur.clone(),
                        dispositif: Some(row.dispositif.clone()),
                        opinion,
                        proposed_amount: proposed,
                        comment: String::new(),
                    }),
                    effective_date: None,
                });
            }
        }
        // A line already decided is not decided again (an adjournment again is no news).
        let adjourned_again = |l: &engagements_domain::dossier::FundingLine| {
            l.status == LineStatus::Adjourned && row.decision == Some(Decision::Adjourned)
        };
        let undecided = line.is_none_or(|l| !l.status.is_final() && !adjourned_again(l));
        if let (Some(decision), Some(decided_on), true) = (&row.decision, row.decided_on, undecided)
        {
            report.decisions += 1;
            decisions.push(Planned {
                line: row.line,
                command: LedgerCommand::Dossier(DossierCommand::Decide {
                    dossier_id,
                    financeur: row.financeur.clone(),
                    dispositif: Some(row.dispositif.clone()),
                    decision: decision.clone(),
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
