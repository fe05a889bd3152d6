//! The porteurs the ledger knows.

use chrono::NaiveDate;
use engagements_domain::porteur::{PorteurEvent, PorteurKind};
use engagements_domain::{PorteurId, RecordedEvent};

/// One porteur as the ledger knows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PorteurRow {
    pub porteur_id: PorteurId,
    pub name: String,
    pub kind: PorteurKind,
    pub siret: Option<String>,
    pub rna: Option<String>,
    pub cer_signed_on: Option<NaiveDate>,
    pub registered_at_position: i64,
}

/// All porteurs, by id (a persistent map: copies of the projections share it until it changes).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PorteursView {
    pub by_id: imbl::OrdMap<PorteurId, PorteurRow>,
}

impl PorteursView {
    pub fn apply(&mut self, recorded: &RecordedEvent, event: &PorteurEvent) {
        match event {
            PorteurEvent::PorteurRegistered {
                porteur_id,
                name,
                kind,
                siret,
                rna,
            } => {
                self.by_id.insert(
                    *porteur_id,
                    PorteurRow {
                        porteur_id: *porteur_id,
                        name: name.clone(),
                        kind: *kind,
                        siret: siret.as_ref().map(|s| s.as_str().to_string()),
                        rna: rna.clone().map(String::from),
                        cer_signed_on: None,
                        registered_at_position: recorded.position,
                    },
                );
            }
            PorteurEvent::ContratEngagementRepublicainSigned {
                porteur_id,
                signed_on,
            } => {
                if let Some(row) = self.by_id.get_mut(porteur_id) {
                    row.cer_signed_on = Some(*signed_on);
                }
            }
        }
    }

    pub fn get(&self, porteur_id: &PorteurId) -> Option<&PorteurRow> {
        self.by_id.get(porteur_id)
    }
}
