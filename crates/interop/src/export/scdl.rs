//! The SCDL « subventions » open-data export, version 2.1.1 (Table Schema, 16 columns).
//!
//! One row per grant of one attribuant (financeur) to one beneficiary (porteur) for one dossier,
//! UTF-8 CSV with `.` decimals, `oui`/`non`, dates `AAAA-MM-JJ` and periods
//! `AAAA-MM-JJ/AAAA-MM-JJ`. Only what the schema allows is written; every value is checked
//! before it is written (real dates, SIRET checksums, lengths), and a grant that cannot be
//! published yet (no signed convention, no SIRET nor RNA) is reported, not silently dropped.
//! The schema is `../shared/anchors/scdl/schema-subventions-v2.1.1.json`; `docs/exports.md`
//! explains each column's source.

use std::io::Write;

use chrono::NaiveDate;
use engagements_domain::porteur::{Rna, Siret};
use engagements_domain::Amount;
use rust_decimal::Decimal;

/// The 16 columns of SCDL subventions v2.1.1, in the schema's order.
pub const SCDL_COLUMNS: [&str; 16] = [
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
];

/// Longest `objet` and `conditionsVersement` the schema allows.
pub const OBJET_CHARS_MAX: usize = 256;
/// Grants above this amount (per attribuant, beneficiary and year) must be published
/// (loi 2000-321 art. 10, décret 2017-779), within three months of the convention.
pub const PUBLICATION_THRESHOLD_EUR: u64 = 23_000;
/// Rows one export may hold.
pub const ROWS_MAX: usize = 1_000_000;

/// The financeur whose grants are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribuant {
    /// Official name (`nomAttribuant`).
    pub name: String,
    /// SIRET of the attribuant (`idAttribuant`), checksum verified.
    pub siret: Siret,
}

/// What the ledger knows of one grant, as the exports need it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrantFacts {
    /// The ledger's dossier id, named in error messages.
    pub dossier_id: String,
    pub beneficiary_name: String,
    pub beneficiary_siret: Option<Siret>,
    pub beneficiary_rna: Option<Rna>,
    /// The action's title (`objet`).
    pub objet: String,
    /// What the attribuant granted, after increases and reductions (`montant`).
    pub amount: Amount,
    /// Signature date of the convention or arrêté (`dateConvention`).
    pub convention_signed_on: Option<NaiveDate>,
    /// Convention number or decision reference (`referenceDecision`).
    pub reference_decision: String,
    /// Dates of the payments recorded so far.
    pub payments: Vec<NaiveDate>,
    /// The exercice the grant belongs to (the period used when nothing is paid yet).
    pub exercice: i32,
    /// Whether a balance is still to be paid: an avance or an acompte is paid and the solde is
    /// not (the grant is paid in several payments, whatever was paid so far).
    pub balance_due: bool,
    /// What the porteur asked of the attribuant (Data.Subvention's `montantDemande`).
    pub requested: Amount,
    /// When the attribuant decided the grant (`dateDecision`).
    pub decided_on: Option<NaiveDate>,
    /// The attribuant's dispositifs the grant is under (`dispositif`), e.g. `bop147-aap`.
    pub dispositif: String,
    /// The State's engagements juridiques (EJ Chorus) of the grant (`ej`).
    pub ej: Vec<String>,
    /// The other financeurs granting on the same dossier (`attribuantsCofinanceurs`).
    pub cofinanceurs: Vec<String>,
}

/// One CSV row, every value already in the schema's notation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScdlRow(pub [String; 16]);

/// Why a grant cannot be published as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScdlProblem {
    #[error("dossier {dossier_id}: no convention or arrêté signed yet, so no dateConvention: record its signature first")]
    NoConvention { dossier_id: String },
    #[error("dossier {dossier_id}: beneficiary '{name}' has neither SIRET nor RNA of the form W and 9 digits: the schema needs one of them")]
    NoBeneficiaryId { dossier_id: String, name: String },
    #[error("dossier {dossier_id}: {field} '{value}' is longer than {max} characters")]
    TooLong {
        dossier_id: String,
        field: &'static str,
        value: String,
        max: usize,
    },
    #[error("dossier {dossier_id}: {field} is empty")]
    Empty {
        dossier_id: String,
        field: &'static str,
    },
    #[error("dossier {dossier_id}: a zero amount is not a subsidy to publish")]
    ZeroAmount { dossier_id: String },
    #[error("dossier {dossier_id}: exercice {exercice} has no calendar period")]
    BadExercice { dossier_id: String, exercice: i32 },
}

impl ScdlProblem {
    /// The dossier the problem is about.
    pub fn dossier_id(&self) -> &str {
        match self {
            ScdlProblem::NoConvention { dossier_id }
            | ScdlProblem::NoBeneficiaryId { dossier_id, .. }
            | ScdlProblem::TooLong { dossier_id, .. }
            | ScdlProblem::Empty { dossier_id, .. }
            | ScdlProblem::ZeroAmount { dossier_id }
            | ScdlProblem::BadExercice { dossier_id, .. } => dossier_id,
        }
    }

    /// Why the grant is left out, in French, for the list people read.
    pub fn reason_fr(&self) -> String {
        match self {
            ScdlProblem::NoConvention { .. } => {
                "aucune convention ni arrêté signé : enregistrer sa signature".into()
            }
            ScdlProblem::NoBeneficiaryId { .. } => {
                "ni SIRET ni RNA (W et 9 chiffres) connu pour le bénéficiaire".into()
            }
            ScdlProblem::TooLong { field, max, .. } => {
                format!("{field} dépasse {max} caractères")
            }
            ScdlProblem::Empty { field, .. } => format!("{field} est vide"),
            ScdlProblem::ZeroAmount { .. } => "montant nul".into(),
            ScdlProblem::BadExercice { exercice, .. } => {
                format!("l'exercice {exercice} n'a pas de période")
            }
        }
    }
}

/// Writes the grants left out of a publication, for people (French Excel: `;`, UTF-8 with BOM,
/// decimal commas): dossier, bénéficiaire, objet, montant, raison. Returns their total.
pub fn write_left_out_csv(
    grants: &[GrantFacts],
    problems: &[ScdlProblem],
    out: impl Write,
) -> Result<Amount, ScdlError> {
    let mut out = out;
    out.write_all("\u{feff}".as_bytes())?;
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(["dossier", "bénéficiaire", "objet", "montant (€)", "raison"])?;
    let mut total = Amount::ZERO;
    for problem in problems {
        let grant = grants.iter().find(|g| g.dossier_id == problem.dossier_id());
        let amount = grant.map(|g| g.amount).unwrap_or(Amount::ZERO);
        total = total.checked_add(amount).unwrap_or(total);
        writer.write_record([
            problem.dossier_id().to_string(),
            grant
                .map(|g| g.beneficiary_name.clone())
                .unwrap_or_default(),
            grant.map(|g| g.objet.clone()).unwrap_or_default(),
            amount.to_string().replace('.', ","),
            problem.reason_fr(),
        ])?;
    }
    writer.flush()?;
    Ok(total)
}

/// Why the export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScdlError {
    #[error("{} grant(s) cannot be published:\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Problems(Vec<ScdlProblem>),
    #[error("{0} rows, above the limit of {ROWS_MAX}: export one year at a time")]
    TooManyRows(usize),
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the CSV: {0}")]
    Io(#[from] std::io::Error),
}

/// Checks every grant and turns it into a row; all problems are returned together.
pub fn scdl_rows(
    attribuant: &Attribuant,
    grants: &[GrantFacts],
) -> Result<Vec<ScdlRow>, ScdlError> {
    if grants.len() > ROWS_MAX {
        return Err(ScdlError::TooManyRows(grants.len()));
    }
    let mut rows = Vec::with_capacity(grants.len());
    let mut problems = Vec::new();
    for grant in grants {
        match scdl_row(attribuant, grant) {
            Ok(row) => rows.push(row),
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(ScdlError::Problems(problems))
    }
}

/// The rows of the grants that can be published, and why each other grant cannot be (yet).
pub fn scdl_rows_publishable(
    attribuant: &Attribuant,
    grants: &[GrantFacts],
) -> Result<(Vec<ScdlRow>, Vec<ScdlProblem>), ScdlError> {
    match scdl_rows(attribuant, grants) {
        Ok(rows) => Ok((rows, Vec::new())),
        Err(ScdlError::Problems(problems)) => {
            let rows = grants
                .iter()
                .filter_map(|g| scdl_row(attribuant, g).ok())
                .collect();
            Ok((rows, problems))
        }
        Err(error) => Err(error),
    }
}

/// One grant as one row, or why it cannot be published.
pub fn scdl_row(attribuant: &Attribuant, grant: &GrantFacts) -> Result<ScdlRow, ScdlProblem> {
    let dossier_id = || grant.dossier_id.clone();
    let signed_on = grant
        .convention_signed_on
        .ok_or_else(|| ScdlProblem::NoConvention {
            dossier_id: dossier_id(),
        })?;
    // The schema's RNA pattern is W and 9 digits; older RNA numbers with letters are left out
    // when a SIRET identifies the beneficiary, and reported otherwise.
    let rna = grant
        .beneficiary_rna
        .as_ref()
        .map(|r| String::from(r.clone()))
        .filter(|r| r.len() == 10 && r[1..].bytes().all(|b| b.is_ascii_digit()));
    if grant.beneficiary_siret.is_none() && rna.is_none() {
        return Err(ScdlProblem::NoBeneficiaryId {
            dossier_id: dossier_id(),
            name: grant.beneficiary_name.clone(),
        });
    }
    if grant.amount.is_zero() {
        return Err(ScdlProblem::ZeroAmount {
            dossier_id: dossier_id(),
        });
    }
    let objet = checked_text(&grant.dossier_id, "objet", &grant.objet, OBJET_CHARS_MAX)?;
    let beneficiary = checked_text(
        &grant.dossier_id,
        "nomBeneficiaire",
        &grant.beneficiary_name,
        OBJET_CHARS_MAX,
    )?;
    let (conditions, period) = payment_terms(grant)?;
    Ok(ScdlRow([
        attribuant.name.clone(),
        attribuant.siret.as_str().to_string(),
        signed_on.format("%Y-%m-%d").to_string(),
        grant.reference_decision.trim().to_string(),
        beneficiary,
        grant
            .beneficiary_siret
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        rna.unwrap_or_default(),
        objet,
        grant.amount.to_string(),
        "aide en numéraire".to_string(),
        conditions.to_string(),
        period,
        String::new(),
        "non".to_string(),
        // The schema's share of the subsidy that goes to this beneficiary: the ledger records
        // one beneficiary per grant, so the whole of it (1.00).
        share_text(Decimal::ONE),
        String::new(),
    ]))
}

fn checked_text(
    dossier_id: &str,
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, ScdlProblem> {
    let text = value.trim();
    if text.is_empty() {
        return Err(ScdlProblem::Empty {
            dossier_id: dossier_id.to_string(),
            field,
        });
    }
    if text.chars().count() > max {
        return Err(ScdlProblem::TooLong {
            dossier_id: dossier_id.to_string(),
            field,
            value: text.chars().take(60).collect::<String>() + "…",
            max,
        });
    }
    Ok(text.to_string())
}

/// How the grant is paid, as the schema says it: `échelonné` over first to last payment when it
/// is paid in several payments, or an avance or acompte is paid with the balance still to come
/// (then the period runs to 31 December of the year after the exercice: the balance follows the
/// compte rendu financier, due six months after the exercice); `unique` with its date for one
/// payment that closes the grant; before any payment, `unique` over the exercice (no date is
/// known yet, so a period).
fn payment_terms(grant: &GrantFacts) -> Result<(&'static str, String), ScdlProblem> {
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let bad_exercice = || ScdlProblem::BadExercice {
        dossier_id: grant.dossier_id.clone(),
        exercice: grant.exercice,
    };
    let mut dates = grant.payments.clone();
    dates.sort();
    let (Some(first), Some(last)) = (dates.first().copied(), dates.last().copied()) else {
        let first = NaiveDate::from_ymd_opt(grant.exercice, 1, 1).ok_or_else(bad_exercice)?;
        let last = NaiveDate::from_ymd_opt(grant.exercice, 12, 31).ok_or_else(bad_exercice)?;
        return Ok(("unique", format!("{}/{}", day(first), day(last))));
    };
    if dates.len() == 1 && !grant.balance_due {
        return Ok(("unique", day(first)));
    }
    let last = if grant.balance_due {
        let balance_by =
            NaiveDate::from_ymd_opt(grant.exercice + 1, 12, 31).ok_or_else(bad_exercice)?;
        last.max(balance_by)
    } else {
        last
    };
    Ok(("échelonné", format!("{}/{}", day(first), day(last))))
}

/// A share as the schema writes it: a decimal between 0.01 and 1, with a dot.
fn share_text(share: Decimal) -> String {
    let mut share = share.round_dp(2);
    share.rescale(2);
    share.to_string()
}

/// Writes the header and the rows as UTF-8 CSV (comma-separated, quoted where needed).
pub fn write_scdl_csv(rows: &[ScdlRow], out: impl Write) -> Result<(), ScdlError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(SCDL_COLUMNS)?;
    for row in rows {
        writer.write_record(&row.0)?;
    }
    writer.flush()?;
    Ok(())
}

/// Whether a grant must be published under the transparency rule: above
/// [`PUBLICATION_THRESHOLD_EUR`]; the deadline is three months after the convention.
pub fn publication_deadline(grant: &GrantFacts) -> Option<NaiveDate> {
    if grant.amount <= Amount::euros(PUBLICATION_THRESHOLD_EUR) {
        return None;
    }
    grant
        .convention_signed_on
        .and_then(|d| d.checked_add_months(chrono::Months::new(3)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribuant() -> Attribuant {
        Attribuant {
            name: "Communauté d'Agglomération Béthune-Bruay, Artois Lys Romane".into(),
            // Fictitious SIRET with a valid Luhn checksum.
            siret: Siret::try_from("20004143300018".to_string()).unwrap(),
        }
    }

    fn grant() -> GrantFacts {
        GrantFacts {
            dossier_id: "dossier-1".into(),
            beneficiary_name: "Association Exemple (fictive)".into(),
            beneficiary_siret: None,
            beneficiary_rna: Some(Rna::try_from("W623001234".to_string()).unwrap()),
            objet: "Atelier d'écriture, quartier du Mont-Liébaut".into(),
            amount: Amount::from_cents(2_450_050).unwrap(),
            convention_signed_on: NaiveDate::from_ymd_opt(2025, 4, 2),
            reference_decision: "CONV-2025-017".into(),
            payments: vec![],
            exercice: 2025,
            ..GrantFacts::default()
        }
    }

    #[test]
    fn a_grant_becomes_one_row_in_the_schema_notation() {
        let row = scdl_row(&attribuant(), &grant()).unwrap();
        assert_eq!(row.0[2], "2025-04-02");
        assert_eq!(row.0[5], "");
        assert_eq!(row.0[6], "W623001234");
        assert_eq!(row.0[8], "24500.50");
        assert_eq!(row.0[10], "unique");
        assert_eq!(row.0[11], "2025-01-01/2025-12-31");
        assert_eq!(row.0[13], "non");
        assert_eq!(row.0[14], "1.00");
    }

    #[test]
    fn payments_give_the_conditions_and_the_period() {
        let mut one = grant();
        one.payments = vec![NaiveDate::from_ymd_opt(2025, 5, 6).unwrap()];
        let row = scdl_row(&attribuant(), &one).unwrap();
        assert_eq!(
            (row.0[10].as_str(), row.0[11].as_str()),
            ("unique", "2025-05-06")
        );
        let mut two = grant();
        two.payments = vec![
            NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 5, 6).unwrap(),
        ];
        let row = scdl_row(&attribuant(), &two).unwrap();
        assert_eq!(
            (row.0[10].as_str(), row.0[11].as_str()),
            ("échelonné", "2025-05-06/2026-02-01")
        );
        // An avance paid, the solde to come after the compte rendu financier: échelonné, up to
        // the end of the year after the exercice.
        let mut avance = grant();
        avance.payments = vec![NaiveDate::from_ymd_opt(2025, 5, 6).unwrap()];
        avance.balance_due = true;
        let row = scdl_row(&attribuant(), &avance).unwrap();
        assert_eq!(
            (row.0[10].as_str(), row.0[11].as_str()),
            ("échelonné", "2025-05-06/2026-12-31")
        );
        // Avance and solde paid the same day are still two payments.
        let mut same_day = grant();
        let day = NaiveDate::from_ymd_opt(2025, 5, 6).unwrap();
        same_day.payments = vec![day, day];
        let row = scdl_row(&attribuant(), &same_day).unwrap();
        assert_eq!(
            (row.0[10].as_str(), row.0[11].as_str()),
            ("échelonné", "2025-05-06/2025-05-06")
        );
    }

    #[test]
    fn every_unpublishable_grant_is_reported_at_once() {
        let mut no_convention = grant();
        no_convention.convention_signed_on = None;
        let mut no_id = grant();
        no_id.dossier_id = "dossier-2".into();
        no_id.beneficiary_rna = None;
        let mut long = grant();
        long.dossier_id = "dossier-3".into();
        long.objet = "x".repeat(OBJET_CHARS_MAX + 1);
        let error = scdl_rows(&attribuant(), &[no_convention, no_id, long, grant()]).unwrap_err();
        let ScdlError::Problems(problems) = &error else {
            panic!("{error}")
        };
        assert_eq!(problems.len(), 3, "{error}");
        let text = error.to_string();
        assert!(text.contains("dossier-1: no convention"), "{text}");
        assert!(text.contains("dossier-2: beneficiary"), "{text}");
        assert!(text.contains("dossier-3: objet"), "{text}");
    }

    #[test]
    fn the_csv_has_the_16_columns_in_order() {
        let rows = scdl_rows(&attribuant(), &[grant()]).unwrap();
        let mut bytes = Vec::new();
        write_scdl_csv(&rows, &mut bytes).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let header = text.lines().next().unwrap();
        assert_eq!(header, SCDL_COLUMNS.join(","));
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn publication_is_due_three_months_after_the_convention_above_23000() {
        assert_eq!(
            publication_deadline(&grant()),
            NaiveDate::from_ymd_opt(2025, 7, 2)
        );
        let mut small = grant();
        small.amount = Amount::euros(23_000);
        assert_eq!(publication_deadline(&small), None);
    }
}
