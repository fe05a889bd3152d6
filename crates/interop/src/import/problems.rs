//! What every reader shares: a problem's place (physical line, column), the list of a refused
//! file's problems, and the cells written the way French spreadsheets write them (amounts with a
//! decimal comma, dates `JJ/MM/AAAA` or `AAAA-MM-JJ`).

use chrono::NaiveDate;
use engagements_domain::{Amount, AmountError};

/// Problems listed before the rest are only counted.
pub const PROBLEMS_LISTED_MAX: usize = 1_000;

/// One problem in the file: where (line, column) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// Physical line in the file (in a workbook, the row number); 0 for the command line.
    pub line: usize,
    /// The column, when the problem is in one cell: its title in the file.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A problem of one line and, where it is known, one column.
pub fn problem(line: usize, column: Option<&str>, message: String) -> RowProblem {
    RowProblem {
        line,
        column: column.map(str::to_string),
        message,
    }
}

/// Every problem of a refused file, one a line, up to [`PROBLEMS_LISTED_MAX`].
pub fn list(problems: &[RowProblem]) -> String {
    let mut text: Vec<String> = problems
        .iter()
        .take(PROBLEMS_LISTED_MAX)
        .map(|p| format!("  {p}"))
        .collect();
    if problems.len() > PROBLEMS_LISTED_MAX {
        text.push(format!(
            "  … and {} more",
            problems.len() - PROBLEMS_LISTED_MAX
        ));
    }
    text.join("\n")
}

/// Reads an amount as spreadsheets write it: `1234.50`, `1234,50`, `1 234,50`, `1.234,50 €`.
pub fn parse_amount(text: &str) -> Result<Amount, String> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '€')
        .collect();
    let normalised = match (compact.rfind(','), compact.rfind('.')) {
        // `1.234,50`: dots group thousands, the comma is the decimal mark.
        (Some(comma), Some(dot)) if comma > dot => compact.replace('.', "").replace(',', "."),
        // `1,234.50`: the other way round.
        (Some(_), Some(_)) => compact.replace(',', ""),
        (Some(_), None) => compact.replace(',', "."),
        _ => compact,
    };
    normalised.parse::<Amount>().map_err(|error| match error {
        AmountError::Unparsable(_) => {
            format!("'{text}' is not an amount: write euros, e.g. 1500.50 or 1500,50")
        }
        other => other.to_string(),
    })
}

/// Reads a date as French spreadsheets write it: `14/03/2025` (or `14-03-2025`, `14.03.2025`),
/// `2025-03-14`, a date cell of a workbook, or those followed by a time (`2025-03-14 00:00:00`).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let day = text.split_whitespace().next().unwrap_or("");
    let day = day.split('T').next().unwrap_or(day);
    ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(day, format).ok())
        // Four-digit years only: `14/03/25` could be 1925 or 2025.
        .filter(|date| {
            let year = chrono::Datelike::year(date);
            (1000..=9999).contains(&year) && day.contains(&year.to_string())
        })
}

/// The message for a cell that is not a date.
pub fn not_a_date(text: &str) -> String {
    format!("'{text}' is not a date: write JJ/MM/AAAA (14/03/2025) or AAAA-MM-JJ (2025-03-14)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_spreadsheets_write_them() {
        for (text, cents) in [
            ("1234.50", 123450),
            ("1234,50", 123450),
            ("1 234,50", 123450),
            ("1\u{a0}234,50 €", 123450),
            ("1\u{202f}234,5", 123450),
            ("1.234,50", 123450),
            ("1,234.50", 123450),
            ("12500", 1250000),
        ] {
            let amount = parse_amount(text).unwrap();
            assert_eq!(
                amount.to_string(),
                format!("{}.{:02}", cents / 100, cents % 100),
                "{text}"
            );
        }
        assert!(parse_amount("dix").is_err());
        assert!(
            parse_amount("12,345").unwrap_err().contains("2 decimals")
                || parse_amount("12,345").is_err()
        );
    }

    #[test]
    fn dates_as_french_spreadsheets_write_them() {
        let expected = NaiveDate::from_ymd_opt(2025, 3, 14);
        for text in [
            "14/03/2025",
            "2025-03-14",
            "14-03-2025",
            "14.03.2025",
            "2025-03-14 00:00:00",
            "2025-03-14T00:00:00",
            "14/3/2025",
        ] {
            assert_eq!(parse_date(text), expected, "{text}");
        }
        for text in ["14/03/25", "2025-13-01", "31/02/2025", "mars 2025", ""] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }
}
