//! TFPB: the bailleurs' conventions, abatements, action programmes, spending and bilans, and the
//! views the comité, the State, the auditors and each bailleur read.
//!
//! Figures are *attributed* to bailleurs: a cross-landlord action (l.1070) counts, for each
//! bailleur, its planned share, and the realised amount is split in proportion to the planned
//! shares (to the cent, remainders to the largest fractions, so that the parts add up to the
//! action's realised amount). Every table can be restricted to one bailleur, which is how a
//! bailleur reads only its own figures.
//!
//! Carry-over: for a bailleur × QPV × year, the sum over the earlier years of (abatement −
//! realised); positive means abatement not yet matched by actions, negative means actions beyond
//! the abatement.

mod figures;
mod tables;

use std::collections::BTreeMap;

use engagements_domain::tfpb::convention::{apply_to_terms, ConventionTerms};
use engagements_domain::tfpb::programme::apply;
use engagements_domain::tfpb::{
    TfpbConventionEvent, TfpbConventionId, TfpbProgrammeEvent, TfpbProgrammeKey, TfpbProgrammeState,
};
use engagements_domain::RecordedEvent;

pub use figures::{AxisFigures, Flag, FlagKind, YearFigures};

/// Which rows a TFPB table shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TfpbFilter {
    /// Only this bailleur's figures (what a bailleur is restricted to).
    pub bailleur: Option<String>,
    pub quartier: Option<String>,
    pub year: Option<i32>,
}

impl TfpbFilter {
    /// Only this bailleur.
    pub fn bailleur(bailleur: impl Into<String>) -> Self {
        TfpbFilter {
            bailleur: Some(bailleur.into()),
            ..TfpbFilter::default()
        }
    }

    pub(crate) fn keeps(&self, bailleur: &str, quartier: &str, year: i32) -> bool {
        self.bailleur.as_deref().is_none_or(|b| b == bailleur)
            && self.quartier.as_deref().is_none_or(|q| q == quartier)
            && self.year.is_none_or(|y| y == year)
    }
}

/// Every TFPB convention and programme, as the log says now.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct TfpbView {
    pub conventions: BTreeMap<TfpbConventionId, ConventionTerms>,
    /// One programme per bailleur × QPV × tax year.
    pub programmes: BTreeMap<TfpbProgrammeKey, TfpbProgrammeState>,
}

impl TfpbView {
    pub fn apply_convention(&mut self, _recorded: &RecordedEvent, event: &TfpbConventionEvent) {
        let convention_id = match event {
            TfpbConventionEvent::TfpbConventionSigned { convention_id, .. }
            | TfpbConventionEvent::TfpbConventionAmended { convention_id, .. }
            | TfpbConventionEvent::TfpbConventionTerminated { convention_id, .. } => *convention_id,
        };
        let mut terms = self.conventions.remove(&convention_id);
        apply_to_terms(&mut terms, event.clone());
        if let Some(terms) = terms {
            self.conventions.insert(convention_id, terms);
        }
    }

    pub fn apply_programme(&mut self, _recorded: &RecordedEvent, event: &TfpbProgrammeEvent) {
        let key = event.programme().clone();
        let state = self.programmes.remove(&key).unwrap_or_default();
        self.programmes.insert(key, apply(state, event.clone()));
    }

    /// The bailleur a convention belongs to.
    pub fn convention_bailleur(&self, convention_id: &TfpbConventionId) -> Option<&str> {
        self.conventions
            .get(convention_id)
            .map(|t| t.bailleur.as_str())
    }

    /// Whether a convention of `bailleur` covers `quartier` in tax year `year`.
    pub fn is_covered(&self, bailleur: &str, quartier: &str, year: i32) -> bool {
        self.conventions
            .values()
            .any(|t| t.bailleur == bailleur && t.covers(quartier, year))
    }

    /// The programme of a bailleur in a QPV for a year, if anything was recorded.
    pub fn programme(&self, key: &TfpbProgrammeKey) -> Option<&TfpbProgrammeState> {
        self.programmes.get(key)
    }
}

#[cfg(test)]
mod tests;
