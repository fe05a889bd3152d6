//! What the ledger knows of one dossier: its filing and, per financeur and dispositif, the money.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{
    ActOfGrant, DossierEvent, ExternalIdKind, ExternalIdRecord, FundingRequest, ObjectifWeight,
    Opinion, PaymentKind, QuartierShare,
};
use crate::ids::{DossierId, PorteurId};
use crate::money::Amount;

/// The dossier as filed (and amended).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DossierFiling {
    pub dossier_id: DossierId,
    pub porteur_id: PorteurId,
    pub exercice: i32,
    pub title: String,
    pub description: String,
    pub total_budget: Amount,
    pub quartiers: Vec<QuartierShare>,
    pub objectifs: Vec<ObjectifWeight>,
    pub requests: Vec<FundingRequest>,
    /// Pistes d'action cited (see [`super::piste_objectif`]).
    #[serde(default)]
    pub pistes: Vec<String>,
}

/// Where one financeur's part of a dossier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum LineStatus {
    /// Asked, not decided yet.
    #[default]
    Requested,
    Adjourned,
    Refused,
    Granted,
    Cancelled,
}

impl LineStatus {
    /// The status as a report shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            LineStatus::Requested => "requested",
            LineStatus::Adjourned => "adjourned",
            LineStatus::Refused => "refused",
            LineStatus::Granted => "granted",
            LineStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the comité has given a final answer (a grant changes only through reduce,
    /// increase or cancel; a refusal or cancellation is final).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            LineStatus::Refused | LineStatus::Granted | LineStatus::Cancelled
        )
    }
}

/// One financeur × dispositif of a dossier: asked, proposed, granted, paid, reversed.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct FundingLine {
    pub requested: Amount,
    pub opinion: Option<Opinion>,
    pub proposed: Option<Amount>,
    pub status: LineStatus,
    /// What is granted now (after reductions and increases; zero once cancelled).
    pub granted: Amount,
    /// Sum of payments.
    pub paid: Amount,
    pub solde_paid: bool,
    pub reversement_ordered: Amount,
    pub reversement_received: Amount,
    /// The date of the decision that granted the line (a payment cannot precede it).
    #[serde(default)]
    pub decided_on: Option<NaiveDate>,
    /// Why the comité granted more than was asked, when it did (kept so that an export of the
    /// programmation carries it back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majoration_reason: Option<String>,
}

impl FundingLine {
    /// Paid, less what came back: the money the porteur holds.
    pub fn net_paid(&self) -> Amount {
        self.paid.saturating_sub(self.reversement_received)
    }
}

/// A convention or arrêté signed for one financeur.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConventionRecord {
    pub kind: ActOfGrant,
    pub number: String,
    pub signed_on: NaiveDate,
}

/// The figures of a compte rendu financier (Cerfa 15059), each as entered (or not).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrfFigures {
    pub budget_realised: Option<Amount>,
    pub expenses: Option<Amount>,
    pub grant_used: Option<Amount>,
    pub comment: Option<String>,
}

/// What the ledger knows of a dossier.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DossierState {
    pub filed: Option<DossierFiling>,
    pub withdrawn: bool,
    /// Per (financeur, dispositif). Serialised as a list of entries: JSON map keys are strings.
    #[serde(with = "lines_as_entries")]
    pub lines: BTreeMap<(String, String), FundingLine>,
    /// Per financeur.
    pub conventions: BTreeMap<String, ConventionRecord>,
    pub crf_received_on: Option<NaiveDate>,
    /// The CRF's Cerfa 15059 figures, when they were entered.
    #[serde(default)]
    pub crf: Option<CrfFigures>,
    /// Identifiers other systems give the dossier, in the order recorded.
    #[serde(default)]
    pub external_ids: Vec<ExternalIdRecord>,
}

impl DossierState {
    /// The identifier of this kind and (normalised) value, if recorded on the dossier.
    pub fn external_id(&self, kind: ExternalIdKind, value: &str) -> Option<&ExternalIdRecord> {
        self.external_ids
            .iter()
            .find(|r| r.kind == kind && r.value == value)
    }

    /// The identifiers of one kind, in the order recorded.
    pub fn external_ids_of(&self, kind: ExternalIdKind) -> impl Iterator<Item = &ExternalIdRecord> {
        self.external_ids.iter().filter(move |r| r.kind == kind)
    }

    /// Total granted on the dossier, all financeurs.
    pub fn granted_total(&self) -> Amount {
        self.lines.values().map(|l| l.granted).sum()
    }

    fn line_mut(&mut self, financeur: &str, dispositif: &str) -> &mut FundingLine {
        self.lines
            .entry((financeur.to_string(), dispositif.to_string()))
            .or_default()
    }

    fn set_requests(&mut self, requests: &[FundingRequest]) {
        let mut lines = BTreeMap::new();
        for request in requests {
            let key = (request.financeur.clone(), request.dispositif.clone());
            let mut line = self.lines.remove(&key).unwrap_or_default();
            line.requested = request.amount;
            lines.insert(key, line);
        }
        // Lines no longer asked but with money or a decision stay visible (the rules refuse to
        // drop them, this only guards an older log).
        for (key, line) in std::mem::take(&mut self.lines) {
            if line.status != LineStatus::Requested || !line.paid.is_zero() {
                lines.insert(
                    key,
                    FundingLine {
                        requested: Amount::ZERO,
                        ..line
                    },
                );
            }
        }
        self.lines = lines;
    }

    /// Folds one event.
    pub fn apply(mut self, event: DossierEvent) -> DossierState {
        match event {
            DossierEvent::DossierFiled {
                dossier_id,
                porteur_id,
                exercice,
                title,
                description,
                total_budget,
                quartiers,
                objectifs,
                requests,
                pistes,
            } => {
                self.set_requests(&requests);
                self.filed = Some(DossierFiling {
                    dossier_id,
                    porteur_id,
                    exercice,
                    title,
                    description,
                    total_budget,
                    quartiers,
                    objectifs,
                    requests,
                    pistes,
                });
            }
            DossierEvent::DossierAmended {
                title,
                description,
                total_budget,
                quartiers,
                objectifs,
                requests,
                pistes,
                ..
            } => {
                self.set_requests(&requests);
                if let Some(filing) = self.filed.as_mut() {
                    filing.title = title;
                    filing.description = description;
                    filing.total_budget = total_budget;
                    filing.quartiers = quartiers;
                    filing.objectifs = objectifs;
                    filing.requests = requests;
                    filing.pistes = pistes;
                }
            }
            DossierEvent::DossierWithdrawn { .. } => self.withdrawn = true,
            DossierEvent::OpinionGiven {
                financeur,
                dispositif,
                opinion,
                proposed_amount,
                ..
            } => {
                let line = self.line_mut(&financeur, &dispositif);
                line.opinion = Some(opinion);
                line.proposed = Some(proposed_amount);
            }
            DossierEvent::SubsidyGranted {
                financeur,
                dispositif,
                amount,
                decided_on,
                majoration_reason,
                ..
            } => {
                let line = self.line_mut(&financeur, &dispositif);
                line.status = LineStatus::Granted;
                line.granted = amount;
                line.decided_on = Some(decided_on);
                line.majoration_reason = majoration_reason;
            }
            DossierEvent::SubsidyRefused {
                financeur,
                dispositif,
                ..
            } => self.line_mut(&financeur, &dispositif).status = LineStatus::Refused,
            DossierEvent::DecisionAdjourned {
                financeur,
                dispositif,
                ..
            } => self.line_mut(&financeur, &dispositif).status = LineStatus::Adjourned,
            DossierEvent::SubsidyReduced {
                financeur,
                dispositif,
                granted_after,
                ..
            }
            | DossierEvent::SubsidyIncreased {
                financeur,
                dispositif,
                granted_after,
                ..
            } => self.line_mut(&financeur, &dispositif).granted = granted_after,
            DossierEvent::SubsidyCancelled {
                financeur,
                dispositif,
                ..
            } => {
                let line = self.line_mut(&financeur, &dispositif);
                line.status = LineStatus::Cancelled;
                line.granted = Amount::ZERO;
            }
            DossierEvent::ConventionSigned {
                financeur,
                kind,
                number,
                signed_on,
                ..
            } => {
                self.conventions.insert(
                    financeur,
                    ConventionRecord {
                        kind,
                        number,
                        signed_on,
                    },
                );
            }
            DossierEvent::PaymentRecorded {
                financeur,
                dispositif,
                kind,
                amount,
                ..
            } => {
                let line = self.line_mut(&financeur, &dispositif);
                line.paid = line.paid.checked_add(amount).unwrap_or(line.paid);
                line.solde_paid |= kind == PaymentKind::Solde;
            }
            DossierEvent::CrfReceived {
                received_on,
                budget_realised,
                expenses,
                grant_used,
                comment,
                ..
            } => {
                self.crf_received_on = Some(received_on);
                let figures = CrfFigures {
                    budget_realised,
                    expenses,
                    grant_used,
                    comment,
                };
                self.crf = (figures != CrfFigures::default()).then_some(figures);
            }
            DossierEvent::ReversementOrdered {
                financeur,
                dispositif,
                amount,
                ..
            } => {
                let line = self.line_mut(&financeur, &dispositif);
                line.reversement_ordered = line
                    .reversement_ordered
                    .checked_add(amount)
                    .unwrap_or(line.reversement_ordered);
            }
            DossierEvent::ReversementReceived {
                financeur,
                dispositif,
                amount,
                ..
            } => {
                let line = self.line_mut(&financeur, &dispositif);
                line.reversement_received = line
                    .reversement_received
                    .checked_add(amount)
                    .unwrap_or(line.reversement_received);
            }
            DossierEvent::ExternalIdRecorded {
                kind,
                value,
                exercice,
                financeur,
                dispositif,
                ..
            } => {
                if self.external_id(kind, &value).is_none() {
                    self.external_ids.push(ExternalIdRecord {
                        kind,
                        value,
                        exercice,
                        financeur,
                        dispositif,
                    });
                }
            }
        }
        self
    }
}

/// (De)serialises the lines map as `[[[financeur, dispositif], line], …]`.
mod lines_as_entries {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::FundingLine;

    type Lines = BTreeMap<(String, String), FundingLine>;

    pub(super) fn serialize<S: Serializer>(
        lines: &Lines,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let entries: Vec<(&(String, String), &FundingLine)> = lines.iter().collect();
        entries.serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Lines, D::Error> {
        let entries: Vec<((String, String), FundingLine)> = Vec::deserialize(deserializer)?;
        Ok(entries.into_iter().collect())
    }
}
