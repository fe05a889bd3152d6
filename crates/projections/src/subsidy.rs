//! Subsidies: dossiers with every financeur's part (asked, proposed, granted, paid, reversed),
//! envelopes and CPO, and the funding views the comité des financeurs works from.
//!
//! The dossier and envelope states are the domain's own (`DossierState`, `EnvelopeState`), folded
//! by the domain's own `apply`: the views cannot disagree with the rules that accepted the events.
//! The report tables are in [`reports`]; money spread over quartiers or objectifs is split by
//! [`split::split_cents`]. The aggregate tables are built from running totals (`totals`), kept up
//! to date as dossier events are folded, instead of a walk over every dossier.

pub mod reports;
pub mod split;
pub mod to_do;
mod totals;

use std::collections::BTreeMap;
use std::sync::Arc;

use engagements_domain::cpo::{CpoEvent, CpoId, CpoState, CpoYearStatus};
use engagements_domain::dossier::{DossierEvent, DossierState, ExternalIdKind};
use engagements_domain::envelope::{EnvelopeEvent, EnvelopeKey, EnvelopeState};
use engagements_domain::{Amount, DossierId, RecordedEvent};

/// A CPO with the facts the views show besides its state.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CpoRow {
    pub title: String,
    pub number: String,
    pub state: CpoState,
}

/// Every dossier by id: a persistent map of shared states, so that a copy of the projections
/// (an in-memory checkpoint) shares every dossier with the original until one of them changes.
pub type Dossiers = imbl::OrdMap<DossierId, Arc<DossierState>>;

/// Every dossier, envelope and CPO.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SubsidyView {
    /// Every dossier by id. Change it through [`SubsidyView::apply`] only: the running totals of
    /// the report tables follow it there.
    pub dossiers: Dossiers,
    pub envelopes: BTreeMap<EnvelopeKey, EnvelopeState>,
    pub cpos: BTreeMap<CpoId, CpoRow>,
    /// Identifiers of other systems (Dauphin, GISPRO, Chorus, the programmation sheet), by kind
    /// and normalised value: the dossier each names. Each dossier lists its own in
    /// `DossierState::external_ids`.
    #[serde(default)]
    pub external_ids: BTreeMap<ExternalIdKind, imbl::OrdMap<String, DossierId>>,
    /// Running totals of the aggregate report tables, kept up to date by [`SubsidyView::apply`]
    /// (derived from `dossiers`, which must change through `apply` only).
    #[serde(skip)]
    totals: totals::ReportTotals,
}

impl SubsidyView {
    /// Folds one dossier event.
    pub fn apply(&mut self, _recorded: &RecordedEvent, event: &DossierEvent) {
        let dossier_id = match event {
            DossierEvent::DossierFiled { dossier_id, .. }
            | DossierEvent::DossierAmended { dossier_id, .. }
            | DossierEvent::DossierWithdrawn { dossier_id, .. }
            | DossierEvent::OpinionGiven { dossier_id, .. }
            | DossierEvent::SubsidyGranted { dossier_id, .. }
            | DossierEvent::SubsidyRefused { dossier_id, .. }
            | DossierEvent::DecisionAdjourned { dossier_id, .. }
            | DossierEvent::SubsidyReduced { dossier_id, .. }
            | DossierEvent::SubsidyIncreased { dossier_id, .. }
            | DossierEvent::SubsidyCancelled { dossier_id, .. }
            | DossierEvent::ConventionSigned { dossier_id, .. }
            | DossierEvent::PaymentRecorded { dossier_id, .. }
            | DossierEvent::CrfReceived { dossier_id, .. }
            | DossierEvent::ReversementOrdered { dossier_id, .. }
            | DossierEvent::ReversementReceived { dossier_id, .. }
            | DossierEvent::ExternalIdRecorded { dossier_id, .. } => *dossier_id,
        };
        if let DossierEvent::ExternalIdRecorded { kind, value, .. } = event {
            // The application refuses an identifier already on another dossier; should two
            // concurrent commands slip through, the first recorded keeps it here.
            self.external_ids
                .entry(*kind)
                .or_default()
                .entry(value.clone())
                .or_insert(dossier_id);
        }
        // The report totals take out what the dossier gave before the event and add what it
        // gives after it.
        // A state shared with a checkpoint is copied; one held here alone is moved.
        let before = self
            .dossiers
            .remove(&dossier_id)
            .map(Arc::unwrap_or_clone)
            .unwrap_or_default();
        self.totals.fold(&before, totals::Sign::Subtract);
        let after = before.apply(event.clone());
        self.totals.fold(&after, totals::Sign::Add);
        self.dossiers.insert(dossier_id, Arc::new(after));
    }

    /// Builds now the report totals of a bounded size (signatory, quartier, objective and
    /// commune tables), which every later event then keeps up to date: the live read model and
    /// its checkpoints answer these tables without walking the dossiers.
    pub fn prepare_report_totals(&self, referential: &crate::referential::ReferentialView) {
        self.totals.prepare(&self.dossiers, referential);
    }

    /// Forgets the per-porteur report totals (built again on first use).
    pub fn forget_porteur_totals(&mut self) {
        self.totals.forget_porteur();
    }

    /// Follows a change of the contract's referential: totals resting on the quartiers' facts
    /// (ids, codes, populations, communes) are dropped if those changed, and built again on use.
    pub fn follow_referential(&mut self, referential: &crate::referential::ReferentialView) {
        self.totals.follow_referential(referential);
    }

    /// Folds one envelope event.
    pub fn apply_envelope(&mut self, _recorded: &RecordedEvent, event: &EnvelopeEvent) {
        let key = match event {
            EnvelopeEvent::EnvelopeOpened { key, .. }
            | EnvelopeEvent::EnvelopeRaised { key, .. }
            | EnvelopeEvent::EnvelopeLowered { key, .. }
            | EnvelopeEvent::OverCommitmentAuthorised { key, .. }
            | EnvelopeEvent::EnvelopeCommitted { key, .. }
            | EnvelopeEvent::EnvelopeReleased { key, .. } => key.clone(),
        };
        let state = self.envelopes.remove(&key).unwrap_or_default();
        self.envelopes.insert(key, state.apply(event.clone()));
    }

    /// Folds one CPO event.
    pub fn apply_cpo(&mut self, _recorded: &RecordedEvent, event: &CpoEvent) {
        let cpo_id = match event {
            CpoEvent::CpoSigned { cpo_id, .. }
            | CpoEvent::CpoYearConfirmed { cpo_id, .. }
            | CpoEvent::CpoRevised { cpo_id, .. }
            | CpoEvent::CpoTerminated { cpo_id, .. } => *cpo_id,
        };
        let mut row = self.cpos.remove(&cpo_id).unwrap_or_default();
        if let CpoEvent::CpoSigned { title, number, .. } = event {
            row.title = title.clone();
            row.number = number.clone();
        }
        row.state = row.state.apply(event.clone());
        self.cpos.insert(cpo_id, row);
    }

    /// The dossier another system's identifier names: `value` is normalised first, so any
    /// spelling the kind accepts finds it (`12345` finds `DA00012345`).
    pub fn dossier_by_external_id(&self, kind: ExternalIdKind, value: &str) -> Option<DossierId> {
        let value = kind.normalise(value).ok()?;
        self.external_ids.get(&kind)?.get(&value).copied()
    }

    /// A dossier, if filed.
    pub fn dossier(&self, dossier_id: &DossierId) -> Option<&DossierState> {
        self.dossiers
            .get(dossier_id)
            .map(Arc::as_ref)
            .filter(|d| d.filed.is_some())
    }

    /// What `financeur` grants to `porteur` in `exercice`, all dossiers and dispositifs together
    /// (the base of the 23,000 € convention rule).
    pub fn granted_to_porteur(
        &self,
        porteur_id: &engagements_domain::PorteurId,
        financeur: &str,
        exercice: i32,
    ) -> Amount {
        self.dossiers
            .values()
            .filter(|d| {
                d.filed
                    .as_ref()
                    .is_some_and(|f| f.porteur_id == *porteur_id && f.exercice == exercice)
            })
            .flat_map(|d| d.lines.iter())
            .filter(|((f, _), _)| f == financeur)
            .map(|(_, line)| line.granted)
            .sum()
    }

    /// Sum of every grant in force, optionally for one exercice: what every view reconciles to.
    pub fn granted_total(&self, year: Option<i32>) -> Amount {
        self.filed(year).map(|d| d.granted_total()).sum()
    }

    /// Filed dossiers, optionally of one exercice, in id order.
    pub fn filed(&self, year: Option<i32>) -> impl Iterator<Item = &DossierState> {
        self.dossiers.values().map(Arc::as_ref).filter(move |d| {
            d.filed
                .as_ref()
                .is_some_and(|f| year.is_none_or(|y| y == f.exercice))
        })
    }

    /// Planned amounts of CPO years not yet confirmed (promises for later years), per
    /// financeur × dispositif × exercice.
    pub fn cpo_forecasts(&self) -> BTreeMap<EnvelopeKey, Amount> {
        let mut forecasts: BTreeMap<EnvelopeKey, Amount> = BTreeMap::new();
        for row in self.cpos.values() {
            for line in &row.state.schedule {
                if row.state.year_status(line.exercice) == CpoYearStatus::Forecast {
                    let key = EnvelopeKey::new(&line.financeur, &line.dispositif, line.exercice);
                    let entry = forecasts.entry(key).or_default();
                    *entry = entry.checked_add(line.amount).unwrap_or(*entry);
                }
            }
        }
        forecasts
    }
}
