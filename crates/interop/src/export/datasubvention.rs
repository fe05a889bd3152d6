//! The second SCDL file: the columns of the Data.Subvention team's draft of the subventions
//! schema (`../shared/anchors/scdl/schema-subventions-datasubvention-proposal-2024-09.json`, not
//! official yet), in the draft's order, filled with what the ledger knows beyond the 16 official
//! columns: the decision date, the amount requested, the budget year, the dispositif, the EJ
//! Chorus and the co-financeurs. Columns the ledger does not know are left empty; every row is
//! first checked as an official row ([`scdl_row`]). `docs/exports.md` lists each column's source.

use std::io::Write;

use super::scdl::{scdl_row, Attribuant, GrantFacts, ScdlError, ScdlProblem, ScdlRow};

/// The columns of the Data.Subvention draft, in its order.
pub const DATASUBVENTION_COLUMNS: [&str; 40] = [
    "idSubvention",
    "nomAttribuant",
    "idAttribuant",
    "nomServiceInstructeur",
    "idServiceInstructeur",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "exerciceBudgetaire",
    "pluriannualite",
    "anneesPluriannualite",
    "dateDecision",
    "dateConvention",
    "referenceDecision",
    "dateCreation",
    "dateDebut",
    "dateFin",
    "dispositif",
    "sousDispositif",
    "statutLabel",
    "objet",
    "nature",
    "montantDemande",
    "montant",
    "nomOutilInstruction",
    "nomOutilVersement",
    "ej",
    "cléVersement",
    "conditionsVersement",
    "descriptionConditionsVersement",
    "datesPeriodeVersement",
    "cofinancement",
    "attribuantsCofinanceurs",
    "idCofinancement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "evaluationCout",
    "evaluation",
    "dateMiseAJour",
];

/// One grant as a row of the draft, or why it cannot be published.
pub fn datasubvention_row(
    attribuant: &Attribuant,
    grant: &GrantFacts,
) -> Result<Vec<String>, ScdlProblem> {
    let ScdlRow(official) = scdl_row(attribuant, grant)?;
    let column = |name: &str| {
        super::scdl::SCDL_COLUMNS
            .iter()
            .position(|c| *c == name)
            .map(|i| official[i].clone())
            .unwrap_or_default()
    };
    let conditions = column("conditionsVersement");
    let description = match (conditions.as_str(), grant.payments.is_empty()) {
        ("échelonné", _) if grant.balance_due => {
            "avance ou acomptes versés, solde après le compte rendu financier"
        }
        ("échelonné", _) => "versée en plusieurs fois",
        (_, true) => "versement unique à venir",
        _ => "versement unique",
    };
    let mut row: Vec<String> = Vec::with_capacity(DATASUBVENTION_COLUMNS.len());
    for name in DATASUBVENTION_COLUMNS {
        let value = match name {
            "idSubvention" => grant.dossier_id.clone(),
            // The draft requires the instructing service's id; the ledger knows the
            // attribuant's only.
            "idServiceInstructeur" => column("idAttribuant"),
            "exerciceBudgetaire" => grant.exercice.to_string(),
            "dateDecision" => grant
                .decided_on
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            "dispositif" => grant.dispositif.clone(),
            "statutLabel" => "attribuée".to_string(),
            "montantDemande" => grant.requested.to_string(),
            "ej" => grant.ej.join("|"),
            "descriptionConditionsVersement" => description.to_string(),
            "cofinancement" => if grant.cofinanceurs.is_empty() {
                "non"
            } else {
                "oui"
            }
            .to_string(),
            "attribuantsCofinanceurs" => grant.cofinanceurs.join("|"),
            official_name => column(official_name),
        };
        row.push(value);
    }
    Ok(row)
}

/// Writes the draft's header and the rows of the grants that can be published (the others are
/// the official file's left-out grants) as UTF-8 CSV.
pub fn write_datasubvention_csv(
    attribuant: &Attribuant,
    grants: &[GrantFacts],
    out: impl Write,
) -> Result<usize, ScdlError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(DATASUBVENTION_COLUMNS)?;
    let mut written = 0;
    for grant in grants {
        if let Ok(row) = datasubvention_row(attribuant, grant) {
            writer.write_record(&row)?;
            written += 1;
        }
    }
    writer.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use engagements_domain::porteur::{Rna, Siret};
    use engagements_domain::Amount;

    #[test]
    fn the_draft_columns_carry_what_the_ledger_knows() {
        let attribuant = Attribuant {
            name: "Préfecture (fictive)".into(),
            siret: Siret::try_from("20004143300018".to_string()).unwrap(),
        };
        let grant = GrantFacts {
            dossier_id: "dossier-1".into(),
            beneficiary_name: "Association Exemple (fictive)".into(),
            beneficiary_rna: Some(Rna::try_from("W623001234".to_string()).unwrap()),
            objet: "Atelier d'écriture (fictif)".into(),
            amount: Amount::euros(6_000),
            requested: Amount::euros(8_000),
            convention_signed_on: NaiveDate::from_ymd_opt(2025, 4, 2),
            decided_on: NaiveDate::from_ymd_opt(2025, 3, 14),
            reference_decision: "CONV-2025-017".into(),
            payments: vec![NaiveDate::from_ymd_opt(2025, 5, 6).unwrap()],
            balance_due: true,
            exercice: 2025,
            dispositif: "bop147-aap".into(),
            ej: vec!["2103456789".into()],
            cofinanceurs: vec!["CABBALR (fictive)".into()],
            ..GrantFacts::default()
        };
        let row = datasubvention_row(&attribuant, &grant).unwrap();
        let get = |name: &str| {
            row[DATASUBVENTION_COLUMNS
                .iter()
                .position(|c| *c == name)
                .unwrap()]
            .as_str()
        };
        assert_eq!(get("dateDecision"), "2025-03-14");
        assert_eq!(get("montantDemande"), "8000.00");
        assert_eq!(get("montant"), "6000.00");
        assert_eq!(get("exerciceBudgetaire"), "2025");
        assert_eq!(get("ej"), "2103456789");
        assert_eq!(
            (get("cofinancement"), get("attribuantsCofinanceurs")),
            ("oui", "CABBALR (fictive)")
        );
        assert_eq!(get("conditionsVersement"), "échelonné");
        assert_eq!(get("datesPeriodeVersement"), "2025-05-06/2026-12-31");
        assert_eq!(get("rnaBeneficiaire"), "W623001234");
        assert_eq!(get("idServiceInstructeur"), "20004143300018");
    }
}
