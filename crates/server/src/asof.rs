//! The "as of" parameters every report, page and history accepts, as on the command line:
//! `as_of` (record time), `at_position` (a position of the log) and `effective_on` (business date).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use engagements_projections::AsOf;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;

/// Which moment a view shows. Without any parameter: now.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfParams {
    /// What the ledger said at this record time: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC), or a date
    /// meaning the end of that day (UTC).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub as_of: Option<String>,
    /// What the ledger said just after the event at this position.
    #[serde(default)]
    pub at_position: Option<i64>,
    /// Only facts in force on this business date (YYYY-MM-DD).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub effective_on: Option<String>,
}

/// Web forms send empty fields as `name=`: read them as absent.
pub fn empty_as_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value: Option<String> = Option::deserialize(deserializer)?;
    Ok(value.filter(|v| !v.trim().is_empty()))
}

impl AsOfParams {
    /// The bounds of the view; 400 naming the bad value otherwise.
    pub fn as_of(&self) -> Result<AsOf, ApiError> {
        let recorded_at = self.as_of.as_deref().map(parse_time).transpose()?;
        let effective_on = self
            .effective_on
            .as_deref()
            .map(|text| {
                NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                    ApiError::invalid(format!("effective_on '{text}' is not a date (YYYY-MM-DD)"))
                })
            })
            .transpose()?;
        if let Some(position) = self.at_position.filter(|p| *p < 0) {
            return Err(ApiError::invalid(format!(
                "at_position {position} is negative"
            )));
        }
        Ok(AsOf {
            position: self.at_position,
            recorded_at,
            effective_on,
        })
    }

    /// The parameters as a query string suffix (`&as_of=…`), to keep them across links.
    pub fn to_query(&self) -> String {
        let mut out = String::new();
        if let Some(as_of) = &self.as_of {
            out.push_str(&format!("&as_of={}", encode(as_of)));
        }
        if let Some(position) = self.at_position {
            out.push_str(&format!("&at_position={position}"));
        }
        if let Some(date) = &self.effective_on {
            out.push_str(&format!("&effective_on={}", encode(date)));
        }
        out
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, ApiError> {
    let text = text.trim();
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
    Err(ApiError::invalid(format!(
        "as_of '{text}' is not a time: write 2026-03-01, '2026-03-01 12:00:00' (UTC) or 2026-03-01T12:00:00+01:00"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_means_the_end_of_that_day_and_bad_values_are_named() {
        let params = AsOfParams {
            as_of: Some("2026-03-01".into()),
            at_position: Some(5),
            effective_on: Some("2025-12-31".into()),
        };
        let as_of = params.as_of().unwrap();
        assert_eq!(as_of.position, Some(5));
        assert_eq!(
            as_of.recorded_at.unwrap().to_rfc3339(),
            "2026-03-01T23:59:59.999999+00:00"
        );
        let bad = AsOfParams {
            as_of: Some("yesterday".into()),
            ..AsOfParams::default()
        };
        assert!(bad.as_of().unwrap_err().message.contains("'yesterday'"));
        assert_eq!(encode("a b&c"), "a%20b%26c");
    }
}
