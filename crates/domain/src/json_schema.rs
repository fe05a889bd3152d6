//! Closing the JSON Schemas generated from the Rust types, so that another system validating what
//! it sends (commands) or receives (events) is refused what the ledger refuses.
//!
//! `schemars` describes the shape of a type; it leaves objects open, dates and identifiers as any
//! string and years as any integer. [`close`] adds what the ledger checks: no property it does not
//! know, the pattern of a date, a UUID, a SIRET or an RNA, the range of an exercice, and, in event
//! payloads, amounts written as the strings the ledger writes (never a JSON number).

use serde_json::{json, Map, Value};

use crate::dossier::{EXERCICE_MAX, EXERCICE_MIN};

/// What a schema describes: what the ledger reads, or what it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// Commands as `engagements apply` and the API read them: amounts may be JSON numbers.
    Command,
    /// Event payloads as the ledger writes them: amounts are always strings.
    Event,
}

/// Properties holding a year of the contract, checked by the ledger against
/// [`EXERCICE_MIN`]..=[`EXERCICE_MAX`].
pub const YEAR_PROPERTIES: &[&str] = &[
    "exercice",
    "first_exercice",
    "year",
    "start_year",
    "end_year",
    "year_first",
    "year_last",
];

/// `YYYY-MM-DD`, as chrono writes and reads a `NaiveDate`.
pub const DATE_PATTERN: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// A UUID in its hyphenated form.
pub const UUID_PATTERN: &str =
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// 14 digits; commands may space them as people write them (`123 456 789 00012`).
pub const SIRET_PATTERN: &str = r"^\s*([0-9]\s*){14}$";
/// `W` followed by 9 digits or capitals.
pub const RNA_PATTERN: &str = "^W[0-9A-Z]{9}$";
/// An amount as the ledger writes it: euros, at most two decimals, at most 13 integer digits.
pub const AMOUNT_PATTERN: &str = r"^[0-9]{1,13}(\.[0-9]{1,2})?$";

/// Closes `schema` in place (see the module's documentation).
pub fn close(schema: &mut Value, kind: SchemaKind) {
    if let Some(defs) = schema.get_mut("$defs").and_then(Value::as_object_mut) {
        close_definitions(defs, kind);
    }
    close_node(schema);
}

/// The definitions whose shape is a named type of the domain.
fn close_definitions(defs: &mut Map<String, Value>, kind: SchemaKind) {
    if let Some(siret) = defs.get_mut("Siret") {
        siret["pattern"] = json!(SIRET_PATTERN);
    }
    if let Some(rna) = defs.get_mut("Rna") {
        rna["pattern"] = json!(RNA_PATTERN);
    }
    if kind == SchemaKind::Event {
        if let Some(amount) = defs.get_mut("Amount") {
            *amount = json!({
                "description": "Euros ≥ 0 with at most 2 decimals, written as a string such as \"1500.50\".",
                "type": "string",
                "pattern": AMOUNT_PATTERN,
            });
        }
    }
}

/// Walks every sub-schema: closes objects, bounds years, patterns dates and UUIDs.
fn close_node(node: &mut Value) {
    match node {
        Value::Array(items) => items.iter_mut().for_each(close_node),
        Value::Object(object) => {
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                for (name, property) in properties.iter_mut() {
                    if YEAR_PROPERTIES.contains(&name.as_str()) {
                        bound_year(property);
                    }
                    close_node(property);
                }
                object
                    .entry("additionalProperties")
                    .or_insert(Value::Bool(false));
            }
            match object.get("format").and_then(Value::as_str) {
                Some("date") => {
                    object.insert("pattern".into(), json!(DATE_PATTERN));
                }
                Some("uuid") => {
                    object.insert("pattern".into(), json!(UUID_PATTERN));
                }
                _ => {}
            }
            for (key, value) in object.iter_mut() {
                if key != "properties" {
                    close_node(value);
                }
            }
        }
        _ => {}
    }
}

/// Gives an integer schema (or the integer branch of an `anyOf`) the exercice's range.
fn bound_year(node: &mut Value) {
    let Some(object) = node.as_object_mut() else {
        return;
    };
    let is_integer = match object.get("type") {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(types)) => types.iter().any(|t| t == "integer"),
        _ => false,
    };
    if is_integer {
        object.insert("minimum".into(), json!(EXERCICE_MIN));
        object.insert("maximum".into(), json!(EXERCICE_MAX));
    }
    for branch in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = object.get_mut(branch) {
            branches.iter_mut().for_each(bound_year);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_closed_and_years_bounded() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "exercice": {"type": "integer", "format": "int32"},
                "year": {"type": ["integer", "null"]},
                "on": {"type": "string", "format": "date"},
                "map": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        });
        close(&mut schema, SchemaKind::Command);
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["properties"]["exercice"]["minimum"], json!(2000));
        assert_eq!(schema["properties"]["year"]["maximum"], json!(2100));
        assert_eq!(schema["properties"]["on"]["pattern"], json!(DATE_PATTERN));
        assert_eq!(
            schema["properties"]["map"]["additionalProperties"],
            json!({"type": "string"}),
            "a map keeps its open keys"
        );
    }
}
