//! The "as of" options shared by every report and by `history`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::Args;
use engagements_projections::AsOf;

/// Which moment a view shows. Without any option: now.
#[derive(Debug, Clone, Args, Default)]
pub struct AsOfArgs {
    /// What the ledger said at this record time (RFC 3339, `YYYY-MM-DD HH:MM:SS` UTC, or a date
    /// meaning the end of that day UTC).
    #[arg(long, value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// What the ledger said just after the event at this position.
    #[arg(long)]
    pub at_position: Option<i64>,
    /// Only facts in force on this business date (YYYY-MM-DD), as known at the record time chosen.
    #[arg(long)]
    pub effective_on: Option<NaiveDate>,
}

impl AsOfArgs {
    pub fn as_of(&self) -> AsOf {
        AsOf {
            position: self.at_position,
            recorded_at: self.as_of,
            effective_on: self.effective_on,
        }
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Ok(time.and_utc());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if let Some(end) = date.and_hms_micro_opt(23, 59, 59, 999_999) {
            return Ok(end.and_utc());
        }
    }
    Err(format!(
        "'{text}' is not a time: write 2026-03-01, '2026-03-01 12:00:00' (UTC) or 2026-03-01T12:00:00+01:00"
    ))
}
