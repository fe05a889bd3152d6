//! Gathers, from the ledger, the grants of one attribuant for one exercice as the SCDL export
//! needs them: the dossier and porteur from the read model, payment dates from the dossiers' logs.

use chrono::NaiveDate;
use engagements_domain::dossier::{DossierEvent, ExternalIdKind};
use engagements_domain::porteur::{Rna, Siret};
use engagements_domain::{Amount, DossierId};
use engagements_projections::Projections;

use super::scdl::{Attribuant, GrantFacts};
use engagements_app::{CommandError, Ledger};

/// Why the export's input could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum ScdlSourceError {
    #[error("'{0}' is not an organisation of the contract's referential (see `engagements referential`)")]
    UnknownAttribuant(String),
    #[error("the referential has no SIRET for '{0}': give it with --attribuant-siret")]
    NoAttribuantSiret(String),
    #[error("attribuant SIRET '{siret}' is invalid: {reason}")]
    BadAttribuantSiret { siret: String, reason: String },
    #[error(transparent)]
    Ledger(#[from] CommandError),
    #[error(transparent)]
    Store(#[from] engagements_store::StoreError),
    #[error(transparent)]
    Decode(#[from] engagements_domain::DecodeError),
}

/// The attribuant `organisation` (a referential id) with its official name and `siret`.
pub fn attribuant(
    projections: &Projections,
    organisation: &str,
    siret: Option<&str>,
) -> Result<Attribuant, ScdlSourceError> {
    let name = projections
        .referential
        .organisation(organisation)
        .map(|o| o.name.clone())
        .ok_or_else(|| ScdlSourceError::UnknownAttribuant(organisation.to_string()))?;
    let siret =
        siret.ok_or_else(|| ScdlSourceError::NoAttribuantSiret(organisation.to_string()))?;
    let siret = Siret::try_from(siret.trim().to_string()).map_err(|e| {
        ScdlSourceError::BadAttribuantSiret {
            siret: siret.to_string(),
            reason: e.to_string(),
        }
    })?;
    Ok(Attribuant { name, siret })
}

/// Every dossier of `exercice` to which `organisation` has granted something (after changes),
/// as export input, in dossier order.
pub async fn scdl_grants(
    ledger: &Ledger,
    organisation: &str,
    exercice: i32,
) -> Result<Vec<GrantFacts>, ScdlSourceError> {
    let granted = {
        let projections = ledger.projections().await?;
        granted_by(&projections, organisation, exercice)
    };
    let mut grants = Vec::with_capacity(granted.len());
    for mut grant in granted {
        let dossier_id: DossierId = grant
            .dossier_id
            .parse()
            .map_err(|_| ScdlSourceError::UnknownAttribuant(grant.dossier_id.clone()))?;
        grant.payments = payment_dates(ledger, &dossier_id, organisation).await?;
        grants.push(grant);
    }
    Ok(grants)
}

/// The grants as the read model knows them (payments not yet filled in).
pub fn granted_by(projections: &Projections, organisation: &str, exercice: i32) -> Vec<GrantFacts> {
    let mut grants = Vec::new();
    let is_state = projections
        .referential
        .organisation(organisation)
        .is_some_and(|o| o.kind == engagements_domain::referential::OrganisationKind::Etat);
    for dossier in projections.subsidy.dossiers.values() {
        let Some(filed) = &dossier.filed else {
            continue;
        };
        if filed.exercice != exercice {
            continue;
        }
        let mine = || {
            dossier
                .lines
                .iter()
                .filter(|((financeur, _), _)| financeur == organisation)
        };
        let amount: Amount = mine().map(|(_, line)| line.granted).sum();
        if amount.is_zero() {
            continue;
        }
        let porteur = projections.porteurs.by_id.get(&filed.porteur_id);
        let convention = dossier.conventions.get(organisation);
        // Something paid, the solde not: a balance is to come (paid in several payments).
        let balance_due =
            mine().any(|(_, l)| !l.paid.is_zero() && !l.solde_paid && l.paid < l.granted);
        let mut cofinanceurs: Vec<String> = dossier
            .lines
            .iter()
            .filter(|((financeur, _), line)| financeur != organisation && !line.granted.is_zero())
            .map(|((financeur, _), _)| {
                projections
                    .referential
                    .organisation(financeur)
                    .map(|o| o.name.clone())
                    .unwrap_or_else(|| financeur.clone())
            })
            .collect();
        cofinanceurs.dedup();
        grants.push(GrantFacts {
            dossier_id: filed.dossier_id.to_string(),
            beneficiary_name: porteur.map(|p| p.name.clone()).unwrap_or_default(),
            beneficiary_siret: porteur
                .and_then(|p| p.siret.clone())
                .and_then(|s| Siret::try_from(s).ok()),
            beneficiary_rna: porteur
                .and_then(|p| p.rna.clone())
                .and_then(|r| Rna::try_from(r).ok()),
            objet: filed.title.clone(),
            amount,
            convention_signed_on: convention.map(|c| c.signed_on),
            reference_decision: convention.map(|c| c.number.clone()).unwrap_or_default(),
            payments: Vec::new(),
            exercice,
            balance_due,
            requested: mine().map(|(_, line)| line.requested).sum(),
            decided_on: mine().filter_map(|(_, line)| line.decided_on).max(),
            dispositif: mine()
                .map(|((_, dispositif), _)| dispositif.as_str())
                .collect::<Vec<_>>()
                .join("|"),
            ej: dossier
                .external_ids
                .iter()
                .filter(|e| {
                    // An EJ commits the State: one recorded on no line is the State's.
                    e.kind == ExternalIdKind::ChorusEj
                        && match e.financeur.as_deref() {
                            Some(financeur) => financeur == organisation,
                            None => is_state,
                        }
                })
                .map(|e| e.value.clone())
                .collect(),
            cofinanceurs,
        });
    }
    grants
}

async fn payment_dates(
    ledger: &Ledger,
    dossier_id: &DossierId,
    organisation: &str,
) -> Result<Vec<NaiveDate>, ScdlSourceError> {
    let mut dates = Vec::new();
    for recorded in ledger
        .store()
        .read_stream(&dossier_id.stream_id(), None)
        .await?
    {
        if recorded.event_type != "PaymentRecorded" {
            continue;
        }
        if let DossierEvent::PaymentRecorded {
            financeur, paid_on, ..
        } = recorded.decode::<DossierEvent>()?
        {
            if financeur == organisation {
                dates.push(paid_on);
            }
        }
    }
    Ok(dates)
}
