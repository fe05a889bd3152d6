//! The checks a command line passes before its fields are read: no key twice in one object, no
//! date outside [`DATE_MIN`]..=[`DATE_MAX`], no control character in text.
//!
//! serde_json keeps the last of two equal keys without a word, so `{"amount":"1","amount":"2"}`
//! would record 2 where a reader of the line sees 1: the line is read here through a visitor that
//! refuses a repeated key. Dates and text are checked on the JSON itself, whatever the command,
//! so that every command (and its `meta`) is covered by one walk, and a new command cannot forget it.

use std::fmt;

use chrono::NaiveDate;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Earliest date a command may carry: older than any contrat de ville or its financing.
pub const DATE_MIN: NaiveDate = match NaiveDate::from_ymd_opt(1990, 1, 1) {
    Some(date) => date,
    None => panic!("a valid date"),
};
/// Latest date a command may carry: far beyond any programming period.
pub const DATE_MAX: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(date) => date,
    None => panic!("a valid date"),
};

/// Fields of long text where a tab or a line break is part of the text; everywhere else a
/// control character has no business and is refused.
const LONG_TEXT_FIELDS: &[&str] = &[
    "body",
    "comment",
    "description",
    "eligibility",
    "evidence",
    "justification",
    "note",
    "pistes_communales",
    "pistes_intercommunales",
    "reason",
    "remarks",
    "text",
];

/// Why a command line was refused before its fields were read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// Not JSON at all (syntax, truncation, encoding).
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// JSON, but with a key twice in one object.
    #[error("{0}")]
    DuplicateKey(String),
    /// A field whose value may not be recorded.
    #[error("{field}: {problem}")]
    BadValue { field: String, problem: String },
}

/// A JSON value read with every object's keys checked for repeats.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate field \"{}\": each field may appear once",
                    escape_controls(&key)
                )));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Reads one command line as JSON, refusing a key repeated in any object.
pub fn read_line(line: &str) -> Result<Value, LineError> {
    match serde_json::from_str::<StrictValue>(line) {
        Ok(StrictValue(value)) => Ok(value),
        Err(error) if error.is_data() => Err(LineError::DuplicateKey(error.to_string())),
        Err(error) => Err(LineError::Malformed(error.to_string())),
    }
}

/// Checks every date and every text of a command line, naming the first bad field by its path
/// (`meta.effective_date`, `shares[1].bailleur`).
pub fn check_values(value: &Value) -> Result<(), LineError> {
    walk(value, &mut String::new(), None)
}

fn walk(value: &Value, path: &mut String, key: Option<&str>) -> Result<(), LineError> {
    match value {
        Value::String(text) => check_text(text, path, key),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = path.len();
                path.push_str(&format!("[{index}]"));
                walk(item, path, key)?;
                path.truncate(length);
            }
            Ok(())
        }
        Value::Object(object) => {
            for (name, item) in object {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                check_text(name, path, None)?;
                walk(item, path, Some(name))?;
                path.truncate(length);
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn check_text(text: &str, path: &str, key: Option<&str>) -> Result<(), LineError> {
    let long_text = key.is_some_and(|k| LONG_TEXT_FIELDS.contains(&k));
    if let Some(bad) = text
        .chars()
        .find(|c| is_forbidden(*c) && !(long_text && matches!(c, '\t' | '\n')))
    {
        return Err(LineError::BadValue {
            field: escape_controls(path),
            problem: format!(
                "control character U+{:04X} in text: {}",
                u32::from(bad),
                if long_text {
                    "only tabs and line breaks are allowed here"
                } else {
                    "write plain text on one line"
                }
            ),
        });
    }
    if looks_like_date(text) && text.parse::<NaiveDate>().is_err() {
        return Err(LineError::BadValue {
            field: path.to_string(),
            problem: format!("'{text}' is not a date{}", why_not_a_date(text)),
        });
    }
    if let Ok(date) = text.parse::<NaiveDate>() {
        if !(DATE_MIN..=DATE_MAX).contains(&date) {
            return Err(LineError::BadValue {
                field: path.to_string(),
                problem: format!("date {date} is outside {DATE_MIN}..={DATE_MAX}"),
            });
        }
    }
    Ok(())
}

/// Whether `text` is written as a date, `YYYY-MM-DD` (serde would otherwise refuse an impossible
/// one such as `2025-02-30` with only "input is out of range", naming neither field nor value).
fn looks_like_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

/// Why a `YYYY-MM-DD` text is no date: the month, or the days the month has.
fn why_not_a_date(text: &str) -> String {
    let year: i32 = text[0..4].parse().unwrap_or(0);
    let month: u32 = text[5..7].parse().unwrap_or(0);
    if !(1..=12).contains(&month) {
        return format!(": there is no month {month:02} (01 to 12)");
    }
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let days = next
        .and_then(|n| n.pred_opt())
        .map(|last| chrono::Datelike::day(&last));
    match days {
        Some(days) => format!(": {year}-{month:02} has {days} days (write the date as YYYY-MM-DD)"),
        None => " (write the date as YYYY-MM-DD)".to_string(),
    }
}

/// Characters that must not reach a terminal or a page from a command's text: C0 and C1
/// controls and DEL, and the bidirectional overrides and isolates that make text read
/// differently from what it is.
pub fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every forbidden character written as `\u{…}`, so that printing it cannot move the
/// cursor, clear a screen or reverse a line.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(is_forbidden) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if is_forbidden(c) {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        let error = read_line(r#"{"command":"x","amount":"1","amount":"2"}"#).unwrap_err();
        assert!(matches!(error, LineError::DuplicateKey(_)), "{error}");
        assert!(error.to_string().contains("duplicate field \"amount\""));
        let nested = read_line(r#"{"meta":{"act":{"kind":"a","kind":"b"}}}"#).unwrap_err();
        assert!(nested.to_string().contains("\"kind\""), "{nested}");
        let fine = read_line(r#"{"a":{"x":1},"b":{"x":1.5},"c":[{"x":null}]}"#).unwrap();
        assert_eq!(fine["b"]["x"], serde_json::json!(1.5));
        assert!(matches!(
            read_line(r#"{"a":"#),
            Err(LineError::Malformed(_))
        ));
    }

    #[test]
    fn dates_outside_the_window_are_refused_with_their_field() {
        for (line, field) in [
            (r#"{"signed_on":"0000-01-01"}"#, "signed_on"),
            (
                r#"{"meta":{"effective_date":"9999-12-31"}}"#,
                "meta.effective_date",
            ),
            (
                r#"{"payments":[{"paid_on":"1989-12-31"}]}"#,
                "payments[0].paid_on",
            ),
        ] {
            let value = read_line(line).unwrap();
            match check_values(&value) {
                Err(LineError::BadValue { field: named, .. }) => assert_eq!(named, field),
                other => panic!("{line}: {other:?}"),
            }
        }
        let edges = read_line(r#"{"a":"1990-01-01","b":"2100-12-31","c":"2025-06-30"}"#).unwrap();
        check_values(&edges).unwrap();
    }

    #[test]
    fn impossible_dates_name_their_field_and_value() {
        for (line, field, why) in [
            (
                r#"{"decided_on":"2025-02-30"}"#,
                "decided_on",
                "2025-02 has 28 days",
            ),
            (
                r#"{"meta":{"effective_date":"2024-13-01"}}"#,
                "meta.effective_date",
                "no month 13",
            ),
            (
                r#"{"paid_on":"2024-04-31"}"#,
                "paid_on",
                "2024-04 has 30 days",
            ),
        ] {
            let value = read_line(line).unwrap();
            match check_values(&value) {
                Err(LineError::BadValue {
                    field: named,
                    problem,
                }) => {
                    assert_eq!(named, field);
                    assert!(problem.contains(why), "{problem}");
                    assert!(problem.contains("is not a date"), "{problem}");
                }
                other => panic!("{line}: {other:?}"),
            }
        }
        let leap = read_line(r#"{"a":"2024-02-29","b":"not-a-date","c":"2025-1-1"}"#).unwrap();
        check_values(&leap).unwrap();
    }

    #[test]
    fn control_characters_are_refused_except_tabs_and_breaks_in_long_text() {
        for line in [
            "{\"title\":\"A\\u001b[2Jtitle\"}",
            "{\"name\":\"line\\nbreak\"}",
            "{\"title\":\"bell\\u0007\"}",
            "{\"title\":\"c1\\u009b\"}",
            "{\"title\":\"rtl\\u202egnp.exe\"}",
            "{\"description\":\"escape \\u001b in long text\"}",
            "{\"x\\u001b\":\"key\"}",
        ] {
            let value = read_line(line).unwrap();
            let error = check_values(&value).unwrap_err();
            assert!(
                error.to_string().contains("control character"),
                "{line}: {error}"
            );
            assert!(!error.to_string().chars().any(is_forbidden), "{error:?}");
        }
        let long = read_line("{\"description\":\"a\\tb\\nc\",\"comment\":\"ok\"}").unwrap();
        check_values(&long).unwrap();
    }

    #[test]
    fn escaping_shows_controls_and_leaves_the_rest() {
        assert_eq!(escape_controls("plain é €"), "plain é €");
        assert_eq!(
            escape_controls("a\u{1b}[2J\u{202e}"),
            "a\\u{1b}[2J\\u{202e}"
        );
    }
}
