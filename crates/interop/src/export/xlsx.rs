//! Report tables as an Excel workbook (XLSX): one sheet per table, French headers, euros with a
//! euro number format, dates as dates.
//!
//! Amounts are written as numbers so that a spreadsheet can sum them; every amount of the ledger
//! (at most 10^12 €, two decimals) has at most 15 significant digits, which a spreadsheet's
//! double holds exactly to the cent.

use engagements_projections::table::neutralise_formula;
use engagements_projections::{labels, Cell, Table};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError};

/// Rows per sheet allowed by the format (including the header).
const SHEET_ROWS_MAX: usize = 1_048_576;
/// Longest sheet name the format allows.
const SHEET_NAME_CHARS_MAX: usize = 31;
/// Widest column set on open (characters).
const COLUMN_WIDTH_MAX: usize = 60;

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
pub enum XlsxWriteError {
    #[error("report '{table}' has {rows} rows; a sheet holds at most {} (filter it, e.g. with --year)", SHEET_ROWS_MAX - 1)]
    TooManyRows { table: String, rows: usize },
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] XlsxError),
}

/// The French label of a report column, for headers: the catalogue's (the label test keeps every
/// column of the ledger's tables in it); a key missing there is turned into words, with `_eur`
/// shown as `(€)`, rather than printed raw.
pub fn french_header(column: &str) -> String {
    if let Some(label) = labels::column(column) {
        return label.to_string();
    }
    let (stem, euros) = match column.strip_suffix("_eur") {
        Some(stem) => (stem, true),
        None => (column, false),
    };
    let mut words = stem.replace('_', " ");
    if let Some(first) = words.get(..1) {
        words = first.to_uppercase() + &words[1..];
    }
    if euros {
        words.push_str(" (€)");
    }
    words
}

/// A sheet name the format accepts: no `[]:*?/\`, at most 31 characters, unique in the workbook.
fn sheet_name(table: &str, taken: &[String]) -> String {
    let clean: String = table
        .chars()
        // « TFPB : alertes » reads « TFPB - alertes » (a sheet name has no colon).
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
        .take(SHEET_NAME_CHARS_MAX)
        .collect();
    let base = if clean.trim().is_empty() {
        "rapport".to_string()
    } else {
        clean
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        let suffix = format!(" ({n})");
        let keep = SHEET_NAME_CHARS_MAX - suffix.chars().count();
        name = base.chars().take(keep).collect::<String>() + &suffix;
        n += 1;
    }
    name
}

/// The workbook of `tables`, one sheet each, as XLSX bytes.
pub fn workbook_bytes(tables: &[&Table]) -> Result<Vec<u8>, XlsxWriteError> {
    let mut workbook = Workbook::new();
    let mut taken = Vec::new();
    for table in tables {
        if table.rows.len() >= SHEET_ROWS_MAX {
            return Err(XlsxWriteError::TooManyRows {
                table: table.name.clone(),
                rows: table.rows.len(),
            });
        }
        let name = sheet_name(labels::table(&table.name).unwrap_or(&table.name), &taken);
        let sheet = workbook.add_worksheet();
        sheet.set_name(&name)?;
        taken.push(name);
        write_sheet(sheet, table)?;
    }
    if tables.is_empty() {
        workbook.add_worksheet().set_name("rapport")?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn write_sheet(sheet: &mut Worksheet, table: &Table) -> Result<(), XlsxWriteError> {
    let header = Format::new().set_bold().set_align(FormatAlign::Center);
    let euros = Format::new().set_num_format("#,##0.00\\ \"€\"");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let date_time = Format::new().set_num_format("dd/mm/yyyy hh:mm:ss");
    let quoted = Format::new().set_quote_prefix();
    let percent = Format::new().set_num_format("0.0\\ \"%\"");
    let mut widths: Vec<usize> = Vec::with_capacity(table.columns.len());
    for (index, column) in table.columns.iter().enumerate() {
        let label = french_header(column);
        widths.push(label.chars().count());
        sheet.write_string_with_format(0, column_index(index), &label, &header)?;
    }
    for (row_index, row) in table.rows.iter().enumerate() {
        let row_number = u32::try_from(row_index + 1).unwrap_or(u32::MAX);
        for (index, cell) in row.iter().enumerate() {
            let column = column_index(index);
            match cell {
                Cell::Empty => {}
                // A text that begins like a formula is marked "quote prefix" (what typing a
                // leading apostrophe does): shown as written, never turned into a formula when
                // someone edits the cell.
                // Signed amounts (a TFPB gap, a carry-over) and percentages are kept as text
                // in the tables: in a workbook they are numbers, so that they can be summed.
                Cell::Text(text) if number_column(&table.columns[index], text).is_some() => {
                    let (value, is_percent) =
                        number_column(&table.columns[index], text).unwrap_or_default();
                    let format = if is_percent { &percent } else { &euros };
                    sheet.write_number_with_format(row_number, column, value, format)?;
                }
                // Record times (RFC 3339, UTC) are dates and times to the second.
                Cell::Text(text) if table.columns[index] == "recorded_at" => {
                    match record_time(text) {
                        Some(at) => {
                            let excel = ExcelDateTime::parse_from_str(&at)?;
                            sheet.write_datetime_with_format(
                                row_number, column, &excel, &date_time,
                            )?
                        }
                        None => sheet.write_string(row_number, column, text)?,
                    };
                }
                // Codes (statuses, opinions, flags) are shown with their French label.
                Cell::Text(_) if labels::is_coded(&table.columns[index]) => {
                    let label = labels::cell_text(&table.columns[index], cell);
                    sheet.write_string(row_number, column, &label)?;
                }
                Cell::Text(text) if neutralise_formula(text) != text.as_str() => {
                    sheet.write_string_with_format(row_number, column, text, &quoted)?;
                }
                Cell::Text(text) => {
                    sheet.write_string(row_number, column, text)?;
                }
                Cell::Int(n) => {
                    // Whole numbers up to 2^53 are exact in a spreadsheet's double.
                    sheet.write_number(row_number, column, *n as f64)?;
                }
                Cell::Amount(amount) => {
                    let value: f64 = amount.to_string().parse().unwrap_or(f64::NAN);
                    sheet.write_number_with_format(row_number, column, value, &euros)?;
                }
                Cell::Date(day) => {
                    let excel = ExcelDateTime::parse_from_str(&day.to_string())?;
                    sheet.write_datetime_with_format(row_number, column, &excel, &date)?;
                }
            }
            if let Some(width) = widths.get_mut(index) {
                *width = (*width).max(cell.to_text().chars().count());
            }
        }
    }
    for (index, width) in widths.into_iter().enumerate() {
        sheet.set_column_width(
            column_index(index),
            (width.min(COLUMN_WIDTH_MAX) + 2) as f64,
        )?;
    }
    if !table.columns.is_empty() {
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(
            0,
            0,
            u32::try_from(table.rows.len()).unwrap_or(u32::MAX),
            column_index(table.columns.len() - 1),
        )?;
    }
    Ok(())
}

/// The number a text cell of an `_eur` or `_pct` column holds (and whether it is a percentage).
fn number_column(column: &str, text: &str) -> Option<(f64, bool)> {
    let is_percent = column.ends_with("_pct");
    if !is_percent && !column.ends_with("_eur") {
        return None;
    }
    let value = text.trim().parse::<rust_decimal::Decimal>().ok()?;
    Some((value.to_string().parse::<f64>().ok()?, is_percent))
}

/// A record time (RFC 3339) as the workbook reads it: `2025-04-15T09:30:12` in UTC.
fn record_time(text: &str) -> Option<String> {
    let at = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(
        at.with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string(),
    )
}

fn column_index(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use engagements_domain::Amount;

    #[test]
    fn headers_are_french_and_unknown_keys_stay_readable() {
        // The catalogue of labels comes first: a workbook says what the pages and CSV say.
        assert_eq!(
            french_header("granted_eur"),
            labels::column("granted_eur").unwrap()
        );
        assert_eq!(french_header("droit_commun_eur"), "Droit commun (€)");
        assert_eq!(french_header("x"), "X");
    }

    #[test]
    fn sheet_names_are_legal_and_unique() {
        let taken = vec!["dossiers".to_string()];
        assert_eq!(sheet_name("dossiers", &taken), "dossiers (2)");
        assert_eq!(sheet_name("a/b", &[]), "a-b");
        assert_eq!(sheet_name("TFPB : alertes", &[]), "TFPB - alertes");
        assert_eq!(sheet_name(&"x".repeat(40), &[]).chars().count(), 31);
    }

    #[test]
    fn a_workbook_is_a_zip_with_one_sheet_per_table() {
        let mut table = Table::new("dossiers", &["title", "granted_eur", "exercice"]);
        table.push(vec![
            "Atelier (fictif)".into(),
            Amount::from_cents(123_456).unwrap().into(),
            2025.into(),
        ]);
        let other = Table::new("dossiers", &["title"]);
        let bytes = workbook_bytes(&[&table, &other]).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.is_empty());
    }

    fn zipped_file(bytes: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
        text
    }

    #[test]
    fn texts_that_begin_like_formulas_are_quote_prefixed_and_kept_as_written() {
        let mut table = Table::new("porteurs", &["name"]);
        table.push(vec!["=HYPERLINK(\"http://exemple.invalid\")".into()]);
        table.push(vec!["Association ordinaire".into()]);
        let bytes = workbook_bytes(&[&table]).unwrap();
        let styles = zipped_file(&bytes, "xl/styles.xml");
        assert!(styles.contains("quotePrefix=\"1\""), "{styles}");
        let sheet = zipped_file(&bytes, "xl/worksheets/sheet1.xml");
        assert!(!sheet.contains("<f>"), "no formula cell: {sheet}");
        let strings = zipped_file(&bytes, "xl/sharedStrings.xml");
        assert!(strings.contains("=HYPERLINK"), "{strings}");

        let mut plain = Table::new("porteurs", &["name"]);
        plain.push(vec!["Association ordinaire".into()]);
        let styles = zipped_file(&workbook_bytes(&[&plain]).unwrap(), "xl/styles.xml");
        assert!(!styles.contains("quotePrefix"), "{styles}");
    }

    #[test]
    fn sheets_are_french_and_signed_amounts_and_percentages_are_numbers() {
        let mut table = Table::new(
            "tfpb",
            &[
                "bailleur",
                "status",
                "realised_ratio_pct",
                "gap_eur",
                "carry_over_eur",
            ],
        );
        table.push(vec![
            "maisons-et-cites".into(),
            "granted".into(),
            "78.9".into(),
            "-1200.50".into(),
            "350.25".into(),
        ]);
        let bytes = workbook_bytes(&[&table]).unwrap();
        let book = zipped_file(&bytes, "xl/workbook.xml");
        assert!(book.contains("name=\"TFPB par bailleur\""), "{book}");
        let sheet = zipped_file(&bytes, "xl/worksheets/sheet1.xml");
        for number in ["<v>78.9</v>", "<v>-1200.5</v>", "<v>350.25</v>"] {
            assert!(sheet.contains(number), "{number} missing: {sheet}");
        }
        let strings = zipped_file(&bytes, "xl/sharedStrings.xml");
        assert!(!strings.contains("-1200.50"), "{strings}");
        assert!(
            strings.contains(labels::value("granted").unwrap()),
            "{strings}"
        );
        assert!(
            strings.contains(labels::column("gap_eur").unwrap_or("Gap")),
            "{strings}"
        );
    }
}
