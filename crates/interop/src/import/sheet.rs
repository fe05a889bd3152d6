//! Spreadsheets as the imports read them: a header line and data rows, from CSV or from the first
//! sheet of an XLSX workbook, with each row's line number in the file.

use std::collections::BTreeMap;

/// Largest file accepted.
pub const FILE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most rows in one file (one more is read, so that the caller can say the file is too long).
pub const ROWS_MAX: usize = 20_000;

/// Why a file could not be read as a sheet.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the file is {0} bytes, above the limit of {FILE_BYTES_MAX}: split it")]
    TooLarge(usize),
    #[error("unreadable spreadsheet: {0}")]
    Unreadable(String),
}

/// A data row: its line in the file and its cells by (lower-cased) column name.
#[derive(Debug, Clone)]
pub struct SheetRow {
    pub line: usize,
    pub cells: BTreeMap<String, String>,
}

impl SheetRow {
    /// The cell of `column` (lower-cased name), trimmed; empty when the row has none.
    pub fn get(&self, column: &str) -> &str {
        self.cells.get(column).map(|s| s.trim()).unwrap_or("")
    }
}

/// The header and rows of a sheet, read from CSV or XLSX.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<SheetRow>,
}

/// A CSV reader of `text`: `;` or `,` separated (whichever the header line has more of), an
/// optional BOM skipped, rows of any length (their checks report short rows).
pub(crate) fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// Reads a CSV text (`;` or `,` separated, as the header line says; optional BOM).
pub fn read_csv(text: &str) -> Result<Sheet, SheetError> {
    if text.len() > FILE_BYTES_MAX {
        return Err(SheetError::TooLarge(text.len()));
    }
    let mut reader = csv_reader(text);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| SheetError::Unreadable(format!("header: {e}")))?
        .iter()
        .map(|c| c.trim().to_lowercase())
        .collect();
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| SheetError::Unreadable(format!("line {}: {e}", index + 2)))?;
        let line = record
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or(index + 2);
        rows.push(SheetRow {
            line,
            cells: headers
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect(),
        });
        if rows.len() > ROWS_MAX {
            break;
        }
    }
    Ok(Sheet { headers, rows })
}

/// Reads the first sheet of an XLSX workbook; line numbers are the spreadsheet's row numbers.
pub fn read_xlsx(bytes: &[u8]) -> Result<Sheet, SheetError> {
    use calamine::{Data, Reader, Xlsx};
    if bytes.len() > FILE_BYTES_MAX {
        return Err(SheetError::TooLarge(bytes.len()));
    }
    let mut workbook = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| SheetError::Unreadable(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| SheetError::Unreadable("the workbook has no sheet".into()))?
        .map_err(|e| SheetError::Unreadable(e.to_string()))?;
    let first_row = range.start().map(|(row, _)| row as usize).unwrap_or(0);
    let cell_text = |cell: &Data| match cell {
        Data::Empty => String::new(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
        other => other.to_string(),
    };
    let mut lines = range.rows().enumerate();
    let headers: Vec<String> = match lines.next() {
        Some((_, cells)) => cells
            .iter()
            .map(|c| cell_text(c).trim().to_lowercase())
            .collect(),
        None => return Ok(Sheet::default()),
    };
    let mut rows = Vec::new();
    for (index, cells) in lines {
        rows.push(SheetRow {
            line: first_row + index + 1,
            cells: headers
                .iter()
                .cloned()
                .zip(cells.iter().map(cell_text))
                .collect(),
        });
        if rows.len() > ROWS_MAX {
            break;
        }
    }
    Ok(Sheet { headers, rows })
}

/// Whether every cell of the row is empty (such rows are skipped).
pub fn is_blank(row: &SheetRow) -> bool {
    row.cells.values().all(|c| c.trim().is_empty())
}
