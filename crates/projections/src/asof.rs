//! The two times of the ledger.
//!
//! - **record time** (`position`, `recorded_at`): what the ledger *said* at a moment, including
//!   facts later corrected;
//! - **business time** (`effective_on`): what was *in force* on a date, according to what was
//!   known at the record time chosen.
//!
//! Both combine: "what did we know on 1 March 2026 about grants in force on 31 December 2025".

use chrono::{DateTime, NaiveDate, Utc};
use engagements_domain::RecordedEvent;

/// Which events a view is folded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AsOf {
    /// Only events at or before this position.
    pub position: Option<i64>,
    /// Only events recorded at or before this instant.
    pub recorded_at: Option<DateTime<Utc>>,
    /// Only facts whose effective (business) date is on or before this date.
    pub effective_on: Option<NaiveDate>,
}

impl AsOf {
    /// Now: every event.
    pub fn now() -> Self {
        AsOf::default()
    }

    pub fn is_now(&self) -> bool {
        *self == AsOf::default()
    }

    /// Whether the log has gone past what this view may see (events are in position order, so
    /// once true it stays true for the record-time bounds).
    pub fn is_past_record_bound(&self, event: &RecordedEvent) -> bool {
        self.position.is_some_and(|p| event.position > p)
            || self.recorded_at.is_some_and(|t| event.recorded_at > t)
    }

    /// Whether a fact within the record-time bound is in force on the effective date.
    pub fn is_in_force(&self, event: &RecordedEvent) -> bool {
        self.effective_on
            .is_none_or(|date| event.metadata.effective_date <= date)
    }
}
