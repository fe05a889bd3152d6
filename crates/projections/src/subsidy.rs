//! Subsidy dossiers and what each financeur decided.

use std::collections::BTreeMap;

use engagements_domain::dossier::{DossierEvent, FundingRequest};
use engagements_domain::{Amount, DossierId, PorteurId, RecordedEvent};

use crate::table::{Cell, Table};

/// One dossier with its requests and decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct DossierRow {
    pub dossier_id: DossierId,
    pub porteur_id: PorteurId,
    pub exercice: i32,
    pub title: String,
    pub total_budget: Amount,
    pub requests: Vec<FundingRequest>,
    pub granted: BTreeMap<String, Amount>,
    pub refused: Vec<String>,
}

/// All dossiers, by id.
#[derive(Debug, Clone, Default)]
pub struct SubsidyView {
    pub dossiers: BTreeMap<DossierId, DossierRow>,
}

impl SubsidyView {
    pub fn apply(&mut self, _recorded: &RecordedEvent, event: &DossierEvent) {
        match event {
            DossierEvent::DossierFiled {
                dossier_id,
                porteur_id,
                exercice,
                title,
                total_budget,
                requests,
            } => {
                self.dossiers.insert(
                    *dossier_id,
                    DossierRow {
                        dossier_id: *dossier_id,
                        porteur_id: *porteur_id,
                        exercice: *exercice,
                        title: title.clone(),
                        total_budget: *total_budget,
                        requests: requests.clone(),
                        granted: BTreeMap::new(),
                        refused: Vec::new(),
                    },
                );
            }
            DossierEvent::SubsidyGranted {
                dossier_id,
                financeur,
                amount,
            } => {
                if let Some(row) = self.dossiers.get_mut(dossier_id) {
                    row.granted.insert(financeur.clone(), *amount);
                }
            }
            DossierEvent::SubsidyRefused {
                dossier_id,
                financeur,
            } => {
                if let Some(row) = self.dossiers.get_mut(dossier_id) {
                    row.refused.push(financeur.clone());
                }
            }
            DossierEvent::DecisionAdjourned { .. } => {}
        }
    }

    /// The list of dossiers: one row per dossier and financeur asked.
    pub fn dossiers_table(&self, year: Option<i32>) -> Table {
        let mut table = Table::new(
            "dossiers",
            &[
                "dossier_id",
                "exercice",
                "porteur_id",
                "title",
                "financeur",
                "dispositif",
                "requested_eur",
                "granted_eur",
            ],
        );
        for dossier in self.dossiers.values() {
            if year.is_some_and(|y| y != dossier.exercice) {
                continue;
            }
            for request in &dossier.requests {
                table.push(vec![
                    dossier.dossier_id.to_string().into(),
                    dossier.exercice.into(),
                    dossier.porteur_id.to_string().into(),
                    dossier.title.as_str().into(),
                    request.financeur.as_str().into(),
                    request.dispositif.as_str().into(),
                    request.amount.into(),
                    Cell::from(dossier.granted.get(&request.financeur).copied()),
                ]);
            }
        }
        table
    }
}
