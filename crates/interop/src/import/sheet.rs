//! Spreadsheets as the imports read them, from files saved the way French users save them: CSV in
//! UTF-8, UTF-16 or Windows-1252 (`;`, tab or `,` separated), or an XLSX workbook.
//!
//! A file is first read into a grid of cells, each row with its **physical line** in the file
//! (CRLF or LF alike; in XLSX, the spreadsheet's row number). A file kind's [`HeaderTable`] then
//! finds the header row — below any title rows, through merged header cells — and keys each
//! row's cells by the ledger's column names. Columns with neither title nor value (a trailing
//! `;;`) are ignored.

use std::collections::BTreeMap;

use super::encoding::{decode, EncodingError, TextEncoding};
use super::headers::{column_letters, title_key, HeaderTable};
use super::problems::{problem, RowProblem};

/// Largest file accepted.
pub const FILE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most rows in one file (one more is read, so that the caller can say the file is too long).
pub const ROWS_MAX: usize = 20_000;
/// How many rows from the top may hold titles before the header row.
pub const HEADER_SEARCH_ROWS: usize = 20;

/// Why a file could not be read as a sheet.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the file is {0} bytes, above the limit of {FILE_BYTES_MAX}: split it")]
    TooLarge(usize),
    #[error("unreadable spreadsheet: {0}")]
    Unreadable(String),
    #[error("{0}")]
    Encoding(#[from] EncodingError),
    #[error("the workbook has no sheet named '{wanted}': its sheets are {}", .sheets.join(", "))]
    NoSuchSheet { wanted: String, sheets: Vec<String> },
}

/// A data row: its physical line in the file and its cells by column name.
#[derive(Debug, Clone)]
pub struct SheetRow {
    pub line: usize,
    pub cells: BTreeMap<String, String>,
}

impl SheetRow {
    /// The cell of `column`, trimmed; empty when the row has none.
    pub fn get(&self, column: &str) -> &str {
        self.cells.get(column).map(|s| s.trim()).unwrap_or("")
    }
}

/// One row of the grid, before any header is known.
#[derive(Debug, Clone)]
struct GridRow {
    line: usize,
    cells: Vec<String>,
}

/// A cell the reader could not take a value from (a formula without a saved value, an error).
#[derive(Debug, Clone)]
struct CellIssue {
    line: usize,
    column: usize,
    message: String,
}

/// What to read, and how to recognise the data.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    /// The file kind's columns: they find the header row and, in a workbook, the sheet.
    pub table: Option<&'a HeaderTable>,
    /// The workbook's sheet to read (`--sheet NAME`); else the first whose header matches.
    pub sheet: Option<&'a str>,
}

/// The header and rows of a sheet, read from CSV or XLSX.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// The columns' names: the table's names for the columns it knows, else the title's
    /// [`title_key`] (without a table, the title lower-cased).
    pub headers: Vec<String>,
    pub rows: Vec<SheetRow>,
    /// The header's physical line.
    pub header_line: usize,
    /// How the file was read, e.g. `CSV, Windows-1252, ';'-separated`.
    pub source: String,
    /// The text encoding, for a text file.
    pub encoding: Option<TextEncoding>,
    /// Problems of the file itself: unknown, missing or repeated columns (with a table), values
    /// under no title, formulas without a saved value.
    pub problems: Vec<RowProblem>,
    /// The title as written in the file of each column name, where it differs.
    pub titles: BTreeMap<String, String>,
    grid: Vec<GridRow>,
    issues: Vec<CellIssue>,
}

impl Sheet {
    /// The same file keyed by `table`'s column names (header row found again below any title
    /// rows), with the problems of its header.
    pub fn keyed(&self, table: &HeaderTable) -> Sheet {
        let mut sheet = key_grid(self.grid.clone(), self.issues.clone(), Some(table));
        sheet.source = self.source.clone();
        sheet.encoding = self.encoding;
        sheet
    }

    /// Problems named with the titles the file uses (`Accordé` rather than `granted`).
    pub fn name_columns(&self, mut problems: Vec<RowProblem>) -> Vec<RowProblem> {
        for problem in &mut problems {
            if let Some(title) = problem.column.as_ref().and_then(|c| self.titles.get(c)) {
                problem.column = Some(title.clone());
            }
        }
        problems
    }
}

/// Reads a file: an XLSX workbook (by its content, not its name) or text in one of the
/// encodings French spreadsheets are saved in.
pub fn read(bytes: &[u8], options: &ReadOptions) -> Result<Sheet, SheetError> {
    if bytes.len() > FILE_BYTES_MAX {
        return Err(SheetError::TooLarge(bytes.len()));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_workbook(bytes, options);
    }
    let (text, encoding) = decode(bytes)?;
    let (grid, delimiter) = csv_grid(&text)?;
    let mut sheet = key_grid(grid, Vec::new(), options.table);
    sheet.encoding = Some(encoding);
    sheet.source = format!(
        "CSV, {}, {}-separated",
        encoding.label(),
        match delimiter {
            b'\t' => "tab".to_string(),
            other => format!("'{}'", other as char),
        }
    );
    Ok(sheet)
}

/// Reads a CSV text (`;`, tab or `,` separated, as the first lines say; optional BOM); the
/// header is the first row that is not empty.
pub fn read_csv(text: &str) -> Result<Sheet, SheetError> {
    if text.len() > FILE_BYTES_MAX {
        return Err(SheetError::TooLarge(text.len()));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (grid, _) = csv_grid(text)?;
    let mut sheet = key_grid(grid, Vec::new(), None);
    sheet.source = "CSV".into();
    Ok(sheet)
}

/// Reads the first sheet of an XLSX workbook; line numbers are the spreadsheet's row numbers.
pub fn read_xlsx(bytes: &[u8]) -> Result<Sheet, SheetError> {
    read_workbook(bytes, &ReadOptions::default())
}

/// The delimiter the first lines use most: `;` (French Excel), tab (« Texte Unicode ») or `,`.
fn delimiter_of(text: &str) -> u8 {
    let head: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(HEADER_SEARCH_ROWS)
        .collect();
    let count = |d: char| head.iter().map(|l| l.matches(d).count()).sum::<usize>();
    let (semicolons, tabs, commas) = (count(';'), count('\t'), count(','));
    if tabs > semicolons && tabs >= commas {
        b'\t'
    } else if semicolons >= commas {
        b';'
    } else {
        b','
    }
}

/// Every row of a CSV text with its physical line (counted on `\n`, so CRLF files count right).
fn csv_grid(text: &str) -> Result<(Vec<GridRow>, u8), SheetError> {
    let delimiter = delimiter_of(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let bytes = text.as_bytes();
    let (mut counted_to, mut line) = (0usize, 1usize);
    let mut grid = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let at = e.position().map(|p| p.byte() as usize).unwrap_or(0);
            let line = line_at(bytes, 0, 1, at);
            SheetError::Unreadable(format!("line {line}: {e}"))
        })?;
        // The reader puts a record's start on the `\n` of the CRLF before it: the record
        // starts after any line ends.
        let mut start = record.position().map(|p| p.byte() as usize).unwrap_or(0);
        while bytes.get(start).is_some_and(|b| *b == b'\r' || *b == b'\n') {
            start += 1;
        }
        line = line_at(bytes, counted_to, line, start);
        counted_to = start.min(bytes.len());
        grid.push(GridRow {
            line,
            cells: record.iter().map(str::to_string).collect(),
        });
        if grid.len() > ROWS_MAX + HEADER_SEARCH_ROWS {
            break;
        }
    }
    Ok((grid, delimiter))
}

/// The line of byte `at`, counting on from `line` at byte `from`.
fn line_at(bytes: &[u8], from: usize, line: usize, at: usize) -> usize {
    let at = at.min(bytes.len());
    let from = from.min(at);
    line + bytes[from..at].iter().filter(|b| **b == b'\n').count()
}

/// Reads a workbook's sheet: the one named, else the first whose header matches the table,
/// else the first.
fn read_workbook(bytes: &[u8], options: &ReadOptions) -> Result<Sheet, SheetError> {
    use calamine::{Reader, Xlsx};
    if bytes.len() > FILE_BYTES_MAX {
        return Err(SheetError::TooLarge(bytes.len()));
    }
    let mut workbook = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| SheetError::Unreadable(e.to_string()))?;
    let names = workbook.sheet_names();
    if names.is_empty() {
        return Err(SheetError::Unreadable("the workbook has no sheet".into()));
    }
    let candidates: Vec<String> = match options.sheet {
        Some(wanted) => {
            let found = names
                .iter()
                .find(|n| n.as_str() == wanted)
                .or_else(|| names.iter().find(|n| title_key(n) == title_key(wanted)));
            match found {
                Some(name) => vec![name.clone()],
                None => {
                    return Err(SheetError::NoSuchSheet {
                        wanted: wanted.to_string(),
                        sheets: names,
                    })
                }
            }
        }
        None => names.clone(),
    };
    let mut first = None;
    for name in &candidates {
        let (grid, issues) = workbook_grid(&mut workbook, name)?;
        let mut sheet = key_grid(grid, issues, options.table);
        sheet.source = format!("XLSX, sheet '{name}'");
        let matches = options.table.is_some_and(|table| {
            table
                .required()
                .all(|c| sheet.headers.iter().any(|h| h == c.name))
        });
        if matches || options.table.is_none() || options.sheet.is_some() {
            return Ok(sheet);
        }
        first.get_or_insert(sheet);
    }
    // No sheet has the table's header: the first one is read, and its problems say why.
    first.ok_or_else(|| SheetError::Unreadable("the workbook has no sheet".into()))
}

/// One sheet's cells as text by physical row, merged regions filled with their value, and the
/// cells that have no usable value.
fn workbook_grid<R: std::io::Read + std::io::Seek>(
    workbook: &mut calamine::Xlsx<R>,
    name: &str,
) -> Result<(Vec<GridRow>, Vec<CellIssue>), SheetError> {
    use calamine::{Data, Reader};
    let unreadable =
        |e: calamine::XlsxError| SheetError::Unreadable(format!("sheet '{name}': {e}"));
    let range = workbook.worksheet_range(name).map_err(unreadable)?;
    let formulas = workbook.worksheet_formula(name).map_err(unreadable)?;
    let merged = workbook
        .merge_cells_by_sheet_name(name)
        .map_err(unreadable)?;
    let mut issues = Vec::new();
    let mut cells: BTreeMap<(u32, u32), String> = BTreeMap::new();
    for (row, column, value) in range.used_cells() {
        let (row, column) = absolute(range.start(), row, column);
        let text = match value {
            Data::Error(error) => {
                issues.push(CellIssue {
                    line: row as usize + 1,
                    column: column as usize,
                    message: format!("the cell holds the error {error}: correct it and save"),
                });
                String::new()
            }
            other => cell_text(other),
        };
        cells.insert((row, column), text);
    }
    for (row, column, formula) in formulas.used_cells() {
        let (row, column) = absolute(formulas.start(), row, column);
        let empty = cells.get(&(row, column)).is_none_or(|t| t.is_empty());
        if !formula.is_empty() && empty {
            issues.push(CellIssue {
                line: row as usize + 1,
                column: column as usize,
                message: format!(
                    "the formula ={formula} has no saved value: open the file in Excel or LibreOffice and save it (or paste the values)"
                ),
            });
        }
    }
    for region in merged {
        let Some(value) = cells.get(&region.start).cloned() else {
            continue;
        };
        for row in region.start.0..=region.end.0 {
            for column in region.start.1..=region.end.1 {
                cells.entry((row, column)).or_insert_with(|| value.clone());
            }
        }
    }
    let mut grid: Vec<GridRow> = Vec::new();
    for ((row, column), text) in cells {
        let line = row as usize + 1;
        if grid.last().is_none_or(|r| r.line != line) {
            if grid.len() > ROWS_MAX + HEADER_SEARCH_ROWS {
                break;
            }
            grid.push(GridRow {
                line,
                cells: Vec::new(),
            });
        }
        if let Some(last) = grid.last_mut() {
            let column = column as usize;
            if last.cells.len() <= column {
                last.cells.resize(column + 1, String::new());
            }
            last.cells[column] = text;
        }
    }
    Ok((grid, issues))
}

fn absolute(start: Option<(u32, u32)>, row: usize, column: usize) -> (u32, u32) {
    let (row0, column0) = start.unwrap_or((0, 0));
    (row0 + row as u32, column0 + column as u32)
}

/// A cell as the readers read text: numbers without float noise (`1234.56`, not
/// `1234.5600000000002`), dates as `AAAA-MM-JJ`.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty => String::new(),
        Data::Float(f) => number_text(*f),
        Data::Int(i) => i.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(text) => text.get(..10).unwrap_or(text).to_string(),
        other => other.to_string(),
    }
}

/// A float as written: integral values without decimals, values within a millionth of a cent
/// rounded to cents (a sum computed in floating point), others as they are.
fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let cents = (value * 100.0).round();
    if ((value * 100.0) - cents).abs() < 1e-6 {
        let text = format!("{:.2}", cents / 100.0);
        return text.trim_end_matches('0').to_string();
    }
    value.to_string()
}

/// The grid keyed by column names: the header row found (with a table: the row, among the first
/// [`HEADER_SEARCH_ROWS`], that names most of its columns), then one row per line below it.
fn key_grid(grid: Vec<GridRow>, issues: Vec<CellIssue>, table: Option<&HeaderTable>) -> Sheet {
    let Some(header_index) = header_row(&grid, table) else {
        return Sheet {
            grid,
            issues,
            ..Sheet::default()
        };
    };
    let header_line = grid[header_index].line;
    let titles = column_titles(&grid, header_index, table);
    let mut problems = Vec::new();
    let width = grid[header_index..]
        .iter()
        .map(|r| r.cells.len())
        .max()
        .unwrap_or(0);
    let mut keys: Vec<Option<String>> = Vec::with_capacity(width);
    let mut named = BTreeMap::new();
    for index in 0..width {
        let title = titles.get(index).map(String::as_str).unwrap_or("");
        let key = match table {
            Some(table) => table
                .find(title)
                .map(|c| c.name.to_string())
                .or_else(|| (!title_key(title).is_empty()).then(|| title_key(title))),
            None => (!title.trim().is_empty()).then(|| title.trim().to_lowercase()),
        };
        if let Some(key) = &key {
            if title.trim() != key {
                named.insert(key.clone(), title.trim().to_string());
            }
        }
        keys.push(key);
    }
    if let Some(table) = table {
        header_problems(table, header_line, &keys, &titles, &mut problems);
    }
    let mut rows = Vec::new();
    for row in &grid[header_index + 1..] {
        let mut cells = BTreeMap::new();
        for (index, value) in row.cells.iter().enumerate() {
            match keys.get(index).and_then(Option::as_ref) {
                Some(key) => {
                    cells.entry(key.clone()).or_insert_with(|| value.clone());
                }
                None if !value.trim().is_empty() => problems.push(problem(
                    row.line,
                    Some(&column_letters(index)),
                    format!(
                        "'{}' is under a column with no title: give the column a title or empty it",
                        value.trim()
                    ),
                )),
                None => {}
            }
        }
        rows.push(SheetRow {
            line: row.line,
            cells,
        });
    }
    let refused = |key: &str| table.is_none_or(|t| t.others_refused || t.find(key).is_some());
    for issue in issues.iter().filter(|i| i.line >= header_line) {
        if let Some(Some(key)) = keys.get(issue.column) {
            if refused(key) {
                problems.push(problem(issue.line, Some(key), issue.message.clone()));
            }
        }
    }
    Sheet {
        headers: keys.iter().flatten().cloned().collect(),
        rows,
        header_line,
        problems,
        titles: named,
        grid,
        issues,
        ..Sheet::default()
    }
}

/// The header row: with a table, the row naming most of its columns (the first on a tie, at
/// least one), else the first row that is not empty.
fn header_row(grid: &[GridRow], table: Option<&HeaderTable>) -> Option<usize> {
    let first = grid
        .iter()
        .position(|r| r.cells.iter().any(|c| !c.trim().is_empty()))?;
    let Some(table) = table else {
        return Some(first);
    };
    let mut best = (0, first);
    for index in first..grid.len().min(first + HEADER_SEARCH_ROWS) {
        let titles = column_titles(grid, index, Some(table));
        let known = titles.iter().filter(|t| table.find(t).is_some()).count();
        if known > best.0 {
            best = (known, index);
        }
    }
    Some(best.1)
}

/// The title of each column of the header row `index`. Where merged header rows stand above it,
/// an empty title takes the one above (merged down), and a title the table does not know is
/// tried with the group title above it (`Montant` over `demandé`).
fn column_titles(grid: &[GridRow], index: usize, table: Option<&HeaderTable>) -> Vec<String> {
    let row = &grid[index];
    let above = index
        .checked_sub(1)
        .map(|i| &grid[i])
        .filter(|r| r.line + 1 == row.line);
    let mut titles = Vec::with_capacity(row.cells.len());
    let mut group = String::new();
    let width = row.cells.len().max(above.map_or(0, |a| a.cells.len()));
    for column in 0..width {
        let own = row.cells.get(column).map(|c| c.trim()).unwrap_or("");
        let over = above
            .and_then(|a| a.cells.get(column))
            .map(|c| c.trim())
            .unwrap_or("");
        if !over.is_empty() {
            group = over.to_string();
        }
        let Some(table) = table else {
            titles.push(own.to_string());
            continue;
        };
        let title = if own.is_empty() && table.find(over).is_some() {
            over.to_string()
        } else if table.find(own).is_none() && !group.is_empty() {
            let combined = format!("{group} {own}");
            if table.find(&combined).is_some() {
                combined
            } else {
                own.to_string()
            }
        } else {
            own.to_string()
        };
        titles.push(title);
    }
    titles
}

/// Missing required columns, columns given twice and, for the ledger's own sheets, unknown
/// columns.
fn header_problems(
    table: &HeaderTable,
    line: usize,
    keys: &[Option<String>],
    titles: &[String],
    problems: &mut Vec<RowProblem>,
) {
    for required in table.required() {
        if !keys.iter().any(|k| k.as_deref() == Some(required.name)) {
            problems.push(problem(
                line,
                Some(required.name),
                format!(
                    "required column is missing (is this a {} file? the columns and the titles accepted are in docs/imports.md)",
                    table.kind
                ),
            ));
        }
    }
    for (index, key) in keys.iter().enumerate() {
        let Some(key) = key else { continue };
        let title = titles.get(index).map(String::as_str).unwrap_or(key);
        if table.find(key).is_none() {
            if table.others_refused {
                problems.push(problem(
                    line,
                    Some(title),
                    format!(
                        "unknown column: the columns are {} and optionally {} (other titles accepted: docs/imports.md)",
                        names(table, true),
                        names(table, false)
                    ),
                ));
            }
        } else if keys[..index].iter().flatten().any(|k| k == key) {
            problems.push(problem(line, Some(title), "column given twice".into()));
        }
    }
}

fn names(table: &HeaderTable, required: bool) -> String {
    table
        .columns
        .iter()
        .filter(|c| c.required == required)
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether every cell of the row is empty (such rows are skipped).
pub fn is_blank(row: &SheetRow) -> bool {
    row.cells.values().all(|c| c.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::headers::column;

    static COLUMNS: [crate::import::headers::Column; 2] = [
        column("asked", &["Demandé"], true),
        column("granted", &["Accordé"], false),
    ];
    static TABLE: HeaderTable = HeaderTable {
        kind: "test",
        columns: &COLUMNS,
        others_refused: true,
    };

    fn options() -> ReadOptions<'static> {
        ReadOptions {
            table: Some(&TABLE),
            sheet: None,
        }
    }

    #[test]
    fn physical_lines_with_crlf_title_rows_and_trailing_columns() {
        let text = "Titre;;;\r\n;;;\r\nDemandé;Accordé;;\r\n1;2;;\r\n\r\n3;4;;\r\n";
        let sheet = read(text.as_bytes(), &options()).unwrap();
        assert_eq!(sheet.header_line, 3);
        assert!(sheet.problems.is_empty(), "{:?}", sheet.problems);
        let lines: Vec<(usize, &str)> = sheet
            .rows
            .iter()
            .map(|r| (r.line, r.get("granted")))
            .collect();
        assert_eq!(lines, vec![(4, "2"), (6, "4")]);
        assert_eq!(
            sheet.titles.get("granted").map(String::as_str),
            Some("Accordé")
        );
        assert_eq!(sheet.source, "CSV, UTF-8, ';'-separated");
    }

    #[test]
    fn a_value_under_no_title_and_an_unknown_column_are_problems() {
        let text = "Demandé;Octroyé;\n1;2;3\n";
        let sheet = read(text.as_bytes(), &options()).unwrap();
        let found: Vec<(usize, Option<&str>)> = sheet
            .problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        assert_eq!(found, vec![(1, Some("Octroyé")), (2, Some("C"))]);
    }

    #[test]
    fn numbers_of_workbooks_read_without_float_noise() {
        assert_eq!(number_text(2025.0), "2025");
        assert_eq!(number_text(1234.5600000000002), "1234.56");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(12.345), "12.345");
    }
}
