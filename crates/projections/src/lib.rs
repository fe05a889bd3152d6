//! Pure folds of the ledger's log into read models, and the report tables built from them.
//!
//! [`Projections`] holds every read model; [`Projections::apply`] folds one recorded event into
//! all of them, in position order. Folding the log up to a position gives the ledger as it was
//! then; nothing here does I/O.

pub mod asof;
pub mod cache;
pub mod comite;
pub mod commitments;
pub mod evaluation;
pub mod labels;
pub mod porteurs;
pub mod referential;
pub mod subsidy;
pub mod table;
#[cfg(test)]
mod test_log;
pub mod tfpb;

use chrono::{DateTime, Utc};
use engagements_domain::comite::ComiteEvent;
use engagements_domain::commitment::contribution::ContributionEvent;
use engagements_domain::commitment::indicator::IndicatorEvent;
use engagements_domain::commitment::CommitmentEvent;
use engagements_domain::cpo::CpoEvent;
use engagements_domain::dossier::DossierEvent;
use engagements_domain::envelope::EnvelopeEvent;
use engagements_domain::porteur::PorteurEvent;
use engagements_domain::referential::ContractEvent;
use engagements_domain::tfpb::{TfpbConventionEvent, TfpbProgrammeEvent};
use engagements_domain::{DecodeError, DomainEvent, RecordedEvent};

pub use asof::AsOf;
pub use table::{Cell, Table};

/// The version of the folds' code. Bump it whenever a change makes [`Projections::apply`] fold
/// the same events into something else: snapshots are bound to it, so that one folded by other
/// code is never read as this code's fold.
pub const FOLD_VERSION: u32 = 3;

/// Every read model, as of `position`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Projections {
    /// Position of the last event folded in (0 for an empty ledger).
    pub position: i64,
    /// Record time of the last event folded in.
    pub recorded_at: Option<DateTime<Utc>>,
    pub porteurs: porteurs::PorteursView,
    pub subsidy: subsidy::SubsidyView,
    /// Droit-commun commitments, pending contributions and indicators.
    pub commitments: commitments::CommitmentsView,
    /// The contract's referential (quartiers, organisations, objectifs…), with its avenants.
    pub referential: referential::ReferentialView,
    /// TFPB conventions, abatements, programmes, spending and bilans.
    pub tfpb: tfpb::TfpbView,
    /// Sessions of the comité des financeurs and the decisions recorded under their reference.
    #[serde(default)]
    pub comite: comite::ComiteView,
    /// Report tables built at this position (not part of the state: never serialised).
    #[serde(skip)]
    pub tables: cache::TableCache,
}

/// Why an event could not be folded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(
        "event at position {got} arrives after position {last}: projections fold the log in order"
    )]
    OutOfOrder { last: i64, got: i64 },
}

impl Projections {
    /// Folds one event into every read model. Events must come in position order.
    pub fn apply(&mut self, event: &RecordedEvent) -> Result<(), ProjectionError> {
        if event.position <= self.position {
            return Err(ProjectionError::OutOfOrder {
                last: self.position,
                got: event.position,
            });
        }
        self.tables.clear();
        match event.stream_type.as_str() {
            PorteurEvent::STREAM_TYPE => self.porteurs.apply(event, &event.decode()?),
            DossierEvent::STREAM_TYPE => {
                let decoded = event.decode()?;
                self.comite.follow_dossier(&decoded);
                self.subsidy.apply(event, &decoded);
            }
            EnvelopeEvent::STREAM_TYPE => self.subsidy.apply_envelope(event, &event.decode()?),
            CpoEvent::STREAM_TYPE => self.subsidy.apply_cpo(event, &event.decode()?),
            CommitmentEvent::STREAM_TYPE => {
                self.commitments.apply_commitment(event, &event.decode()?)
            }
            ContributionEvent::STREAM_TYPE => {
                self.commitments.apply_contribution(event, &event.decode()?)
            }
            IndicatorEvent::STREAM_TYPE => {
                self.commitments.apply_indicator(event, &event.decode()?)
            }
            ContractEvent::STREAM_TYPE => {
                self.referential.apply(event, &event.decode()?);
                // The quartier and commune totals rest on the quartiers' populations and communes.
                // (Porteur events need nothing: the porteur table reads names when it is built.)
                self.subsidy.follow_referential(&self.referential);
            }
            TfpbConventionEvent::STREAM_TYPE => self.tfpb.apply_convention(event, &event.decode()?),
            TfpbProgrammeEvent::STREAM_TYPE => self.tfpb.apply_programme(event, &event.decode()?),
            ComiteEvent::STREAM_TYPE => self.comite.apply(event, &event.decode()?),
            // Streams of kinds this version does not fold are kept in the log untouched.
            _ => {}
        }
        self.position = event.position;
        self.recorded_at = Some(event.recorded_at);
        Ok(())
    }

    /// Builds the report totals of a bounded size now, so that later events keep them up to
    /// date (see [`subsidy::SubsidyView::prepare_report_totals`]).
    pub fn prepare_report_totals(&self) {
        self.subsidy.prepare_report_totals(&self.referential);
    }

    /// A copy to keep as a checkpoint: it shares the large maps (dossiers, porteurs) with
    /// `self`, and leaves out what grows with every porteur and can be rebuilt (per-porteur
    /// totals, built tables).
    pub fn checkpoint(&self) -> Projections {
        let mut copy = self.clone();
        copy.subsidy.forget_porteur_totals();
        copy
    }

    /// Folds the events a view `as_of` may see, from an empty ledger. Events past the record-time
    /// bound end the fold; events not yet in force on the effective date are skipped (their
    /// position still counts as seen).
    pub fn fold_as_of<'a>(
        events: impl IntoIterator<Item = &'a RecordedEvent>,
        as_of: &AsOf,
    ) -> Result<Projections, ProjectionError> {
        let mut projections = Projections::default();
        for event in events {
            if as_of.is_past_record_bound(event) {
                break;
            }
            if as_of.is_in_force(event) {
                projections.apply(event)?;
            }
        }
        Ok(projections)
    }

    /// Folds a sequence of events from an empty ledger.
    pub fn fold<'a>(
        events: impl IntoIterator<Item = &'a RecordedEvent>,
    ) -> Result<Projections, ProjectionError> {
        let mut projections = Projections::default();
        for event in events {
            projections.apply(event)?;
        }
        Ok(projections)
    }
}
