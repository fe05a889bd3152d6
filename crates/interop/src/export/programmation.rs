//! `engagements export programmation`: the comité's programmation sheet as the ledger records
//! it, in the import's own columns (`docs/imports.md`), one row per dossier and financeur, so
//! that `engagements import programmation` reads it back into an empty ledger (with the same
//! envelopes open) to the same figures.
//!
//! The sheet carries what a programmation is: porteurs (name, SIRET, RNA), dossiers (title,
//! description, exercice, quartiers and objectifs with their declared shares, budget), the
//! amounts asked, the opinions, the comité's decisions (granted now, refused or adjourned, with
//! the comité and the date) and the identifiers the import keeps (programmation reference,
//! Dauphin code, EJ). It does not carry what follows the decisions — conventions, payments,
//! changes' history, reversements, CRF — nor withdrawn dossiers, which are counted apart.
//!
//! French spreadsheet conventions: `;`, UTF-8 with BOM, amounts `8000,00`, dates `14/03/2025`.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::NaiveDate;
use engagements_app::{CommandError, Ledger};
use engagements_domain::dossier::{
    DossierEvent, DossierState, ExternalIdKind, LineStatus, Opinion,
};
use engagements_domain::porteur::PorteurKind;
use engagements_domain::{Amount, DossierId};
use engagements_projections::Projections;

/// The columns written, in the order of the import's documentation.
pub const PROGRAMMATION_COLUMNS: [&str; 23] = [
    "dossier",
    "porteur",
    "siret",
    "rna",
    "porteur_kind",
    "action",
    "description",
    "exercice",
    "quartiers",
    "objectifs",
    "budget",
    "financeur",
    "dispositif",
    "asked",
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

/// Why the export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProgrammationExportError {
    #[error(transparent)]
    Ledger(#[from] CommandError),
    #[error(transparent)]
    Store(#[from] engagements_store::StoreError),
    #[error(transparent)]
    Decode(#[from] engagements_domain::DecodeError),
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the CSV: {0}")]
    Io(#[from] std::io::Error),
}

/// The sheet: its rows (cells as written) and the withdrawn dossiers left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgrammationExport {
    pub rows: Vec<Vec<String>>,
    pub dossiers: usize,
    pub withdrawn_left_out: usize,
}

/// The comité and date of the latest decision on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DecisionFacts {
    comite: String,
    decided_on: NaiveDate,
}

/// The programmation of `year` (every year without it), from the ledger.
pub async fn programmation_export(
    ledger: &Ledger,
    year: Option<i32>,
) -> Result<ProgrammationExport, ProgrammationExportError> {
    let dossiers: Vec<DossierState> = {
        let projections = ledger.projections().await?;
        projections.subsidy.filed(year).cloned().collect()
    };
    let mut decisions = BTreeMap::new();
    for dossier in &dossiers {
        if let Some(filed) = &dossier.filed {
            decisions.insert(
                filed.dossier_id,
                decisions_of(ledger, &filed.dossier_id).await?,
            );
        }
    }
    let projections = ledger.projections().await?;
    Ok(rows(&projections, &dossiers, &decisions))
}

/// The comité and date of each line's latest decision, from the dossier's log (the read model
/// keeps the amounts, not who decided when).
async fn decisions_of(
    ledger: &Ledger,
    dossier_id: &DossierId,
) -> Result<BTreeMap<(String, String), DecisionFacts>, ProgrammationExportError> {
    let mut facts = BTreeMap::new();
    for recorded in ledger
        .store()
        .read_stream(&dossier_id.stream_id(), None)
        .await?
    {
        if !matches!(
            recorded.event_type.as_str(),
            "SubsidyGranted" | "SubsidyRefused" | "DecisionAdjourned"
        ) {
            continue;
        }
        let (financeur, dispositif, comite, decided_on) = match recorded.decode::<DossierEvent>()? {
            DossierEvent::SubsidyGranted {
                financeur,
                dispositif,
                comite,
                decided_on,
                ..
            }
            | DossierEvent::SubsidyRefused {
                financeur,
                dispositif,
                comite,
                decided_on,
                ..
            }
            | DossierEvent::DecisionAdjourned {
                financeur,
                dispositif,
                comite,
                decided_on,
                ..
            } => (financeur, dispositif, comite, decided_on),
            _ => continue,
        };
        facts.insert(
            (financeur, dispositif),
            DecisionFacts { comite, decided_on },
        );
    }
    Ok(facts)
}

type Decisions = BTreeMap<DossierId, BTreeMap<(String, String), DecisionFacts>>;

fn rows(
    projections: &Projections,
    dossiers: &[DossierState],
    decisions: &Decisions,
) -> ProgrammationExport {
    let mut export = ProgrammationExport::default();
    for dossier in dossiers {
        let Some(filed) = &dossier.filed else {
            continue;
        };
        if dossier.withdrawn {
            export.withdrawn_left_out += 1;
            continue;
        }
        export.dossiers += 1;
        let porteur = projections.porteurs.get(&filed.porteur_id);
        let reference = dossier
            .external_ids_of(ExternalIdKind::Programmation)
            .next()
            .map(|e| e.value.clone())
            .unwrap_or_else(|| filed.dossier_id.to_string());
        let code_dossier = dossier
            .external_ids_of(ExternalIdKind::DauphinDossier)
            .find(|e| e.exercice.is_none_or(|y| y == filed.exercice))
            .map(|e| e.value.clone())
            .unwrap_or_default();
        let quartiers = filed
            .quartiers
            .iter()
            .map(|q| match q.share_pct {
                Some(share) => format!("{}:{}", q.quartier, share.normalize()),
                None => q.quartier.clone(),
            })
            .collect::<Vec<_>>()
            .join("|");
        let objectifs = filed
            .objectifs
            .iter()
            .map(|o| match o.weight {
                Some(weight) => format!("{}:{}", o.objectif, weight.normalize()),
                None => o.objectif.to_string(),
            })
            .collect::<Vec<_>>()
            .join("|");
        // Lines in the order the dossier asked them.
        let mut keys: Vec<(String, String)> = filed
            .requests
            .iter()
            .map(|r| (r.financeur.clone(), r.dispositif.clone()))
            .collect();
        for key in dossier.lines.keys() {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        for key in keys {
            let Some(line) = dossier.lines.get(&key) else {
                continue;
            };
            let decided = decisions.get(&filed.dossier_id).and_then(|d| d.get(&key));
            let (granted, decision) = match line.status {
                LineStatus::Granted => (amount_text(line.granted), "accordé"),
                LineStatus::Refused | LineStatus::Cancelled => (String::new(), "refusé"),
                LineStatus::Adjourned => (String::new(), "ajourné"),
                LineStatus::Requested => (String::new(), ""),
            };
            let ej = dossier
                .external_ids_of(ExternalIdKind::ChorusEj)
                .find(|e| {
                    e.financeur.as_deref() == Some(key.0.as_str())
                        && e.dispositif.as_deref().is_none_or(|d| d == key.1)
                })
                .map(|e| e.value.clone())
                .unwrap_or_default();
            export.rows.push(vec![
                reference.clone(),
                porteur.map(|p| p.name.clone()).unwrap_or_default(),
                porteur.and_then(|p| p.siret.clone()).unwrap_or_default(),
                porteur.and_then(|p| p.rna.clone()).unwrap_or_default(),
                porteur
                    .map(|p| porteur_kind_text(p.kind))
                    .unwrap_or_default()
                    .to_string(),
                filed.title.clone(),
                filed.description.clone(),
                filed.exercice.to_string(),
                quartiers.clone(),
                objectifs.clone(),
                amount_text(filed.total_budget),
                key.0.clone(),
                key.1.clone(),
                amount_text(line.requested),
                line.proposed.map(amount_text).unwrap_or_default(),
                line.opinion
                    .map(opinion_text)
                    .unwrap_or_default()
                    .to_string(),
                granted,
                if decided.is_some() { decision } else { "" }.to_string(),
                decided.map(|d| d.comite.clone()).unwrap_or_default(),
                decided
                    .map(|d| d.decided_on.format("%d/%m/%Y").to_string())
                    .unwrap_or_default(),
                line.majoration_reason.clone().unwrap_or_default(),
                code_dossier.clone(),
                ej,
            ]);
        }
    }
    export
}

/// `8000,00`: the decimal comma French spreadsheets read as a number.
fn amount_text(amount: Amount) -> String {
    amount.to_string().replace('.', ",")
}

/// A porteur's kind as a French sheet writes it (the import reads it back).
fn porteur_kind_text(kind: PorteurKind) -> &'static str {
    match kind {
        PorteurKind::Association => "association",
        PorteurKind::Commune => "commune",
        PorteurKind::Ccas => "CCAS",
        PorteurKind::Bailleur => "bailleur",
        PorteurKind::Other => "autre",
    }
}

fn opinion_text(opinion: Opinion) -> &'static str {
    match opinion {
        Opinion::Favourable => "favorable",
        Opinion::Reserved => "réservé",
        Opinion::Unfavourable => "défavorable",
    }
}

/// Writes the sheet: `;`, UTF-8 with BOM, CRLF, as French Excel opens it directly.
pub fn write_programmation_csv(
    export: &ProgrammationExport,
    mut out: impl Write,
) -> Result<(), ProgrammationExportError> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(PROGRAMMATION_COLUMNS)?;
    for row in &export.rows {
        let row: Vec<String> = row
            .iter()
            .map(|cell| engagements_projections::table::neutralise_formula(cell).into_owned())
            .collect();
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}
