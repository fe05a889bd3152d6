//! Report tables: named columns and typed cells, rendered by the CLI and the server as text
//! tables, CSV, JSON (an array of flat objects) and spreadsheets.

use chrono::NaiveDate;
use engagements_domain::Amount;
use serde_json::{Map, Value};

/// One cell of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Amount(Amount),
    Date(NaiveDate),
}

impl Cell {
    /// The cell as JSON: amounts are strings with two decimals, so no reader rounds them.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Empty => Value::Null,
            Cell::Text(text) => Value::String(text.clone()),
            Cell::Int(n) => Value::from(*n),
            Cell::Amount(amount) => Value::String(amount.to_string()),
            Cell::Date(date) => Value::String(date.to_string()),
        }
    }

    /// The cell as plain text (CSV and text tables).
    pub fn to_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => text.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Amount(amount) => amount.to_string(),
            Cell::Date(date) => date.to_string(),
        }
    }
}

/// Characters that make a spreadsheet read a cell as a formula (`=`, `+`, `-`, `@`) or that some
/// spreadsheets skip before looking for one (tab, carriage return).
const FORMULA_TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// `text` as a spreadsheet must show it, never run it: a text that begins like a formula gets a
/// leading apostrophe (the OWASP rule against CSV injection). A plain number such as `-12.50` is a
/// number, not a formula, and is left as it is.
pub fn neutralise_formula(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(FORMULA_TRIGGERS) && !is_plain_number(text) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Whether `text` is `-?digits(.digits)?`.
fn is_plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    match unsigned.split_once('.') {
        Some((whole, decimals)) => digits(whole) && digits(decimals),
        None => digits(unsigned),
    }
}

impl Cell {
    /// The cell as text for a file people open in a spreadsheet (CSV): like [`Cell::to_text`],
    /// with texts that begin like a formula neutralised ([`neutralise_formula`]).
    pub fn to_spreadsheet_text(&self) -> String {
        match self {
            Cell::Text(text) => neutralise_formula(text).into_owned(),
            other => other.to_text(),
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_string())
    }
}
impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}
impl From<Amount> for Cell {
    fn from(amount: Amount) -> Self {
        Cell::Amount(amount)
    }
}
impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}
impl From<i32> for Cell {
    fn from(n: i32) -> Self {
        Cell::Int(i64::from(n))
    }
}
impl From<NaiveDate> for Cell {
    fn from(date: NaiveDate) -> Self {
        Cell::Date(date)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map(Into::into).unwrap_or(Cell::Empty)
    }
}

/// A report: a name, stable column keys (documented in `docs/reports.md`) and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: impl Into<String>, columns: &[&str]) -> Self {
        Table {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; it must have one cell per column.
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "row width of {}", self.name);
        self.rows.push(row);
    }

    /// The same table with only `columns` (those it has), in that order.
    pub fn with_columns(&self, columns: &[&str]) -> Table {
        let kept: Vec<usize> = columns
            .iter()
            .filter_map(|wanted| self.columns.iter().position(|c| c == wanted))
            .collect();
        Table {
            name: self.name.clone(),
            columns: kept.iter().map(|&i| self.columns[i].clone()).collect(),
            rows: self
                .rows
                .iter()
                .map(|row| kept.iter().map(|&i| row[i].clone()).collect())
                .collect(),
        }
    }

    /// The rows as an array of flat JSON objects keyed by column.
    pub fn to_json_rows(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|row| {
                    let object: Map<String, Value> = self
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(column, cell)| (column.clone(), cell.to_json()))
                        .collect();
                    Value::Object(object)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_keeps_the_columns_asked_in_their_order() {
        let mut table = Table::new("t", &["a", "b", "c"]);
        table.push(vec![1.into(), 2.into(), 3.into()]);
        let kept = table.with_columns(&["c", "a", "unknown"]);
        assert_eq!(kept.columns, ["c", "a"]);
        assert_eq!(kept.rows, vec![vec![Cell::Int(3), Cell::Int(1)]]);
    }

    #[test]
    fn texts_that_begin_like_formulas_are_neutralised_numbers_are_not() {
        for text in [
            "=1+1",
            "+33 6",
            "-x",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://x\")",
        ] {
            assert_eq!(
                Cell::Text(text.to_string()).to_spreadsheet_text(),
                format!("'{text}"),
                "{text:?}"
            );
        }
        for text in ["-12.50", "-3", "12", "Atelier = jeux", "", "'déjà"] {
            assert_eq!(Cell::Text(text.to_string()).to_spreadsheet_text(), text);
        }
        assert_eq!(Cell::Int(-4).to_spreadsheet_text(), "-4");
        assert_eq!(Cell::Amount(Amount::euros(5)).to_spreadsheet_text(), "5.00");
    }
}
