//! Printing report tables as text, CSV or JSON.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;
use engagements_app::command_json::escape_controls;
use engagements_projections::{labels, Table};

/// How a table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Aligned columns for a terminal.
    #[default]
    Table,
    /// Comma-separated values with a header line (UTF-8).
    Csv,
    /// An array of flat objects keyed by column.
    Json,
    /// An Excel workbook, one sheet per table, French headers, euro formats (give --out FILE).
    Xlsx,
    /// Markdown tables for people: a French title per table, French headers, numbers and dates.
    Markdown,
}

/// How and where a command prints its tables: `--format` and `--out`.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Write to this file instead of standard output (required for xlsx on a terminal).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

impl OutputArgs {
    /// Writes `tables` as asked.
    pub fn write(&self, tables: &[&Table]) -> anyhow::Result<()> {
        write_tables(tables, self.format, self.out.as_deref())
    }
}

/// Writes `tables` in `format` to the file `out`, or to standard output without one. In XLSX
/// each table is a sheet of one workbook; in the other formats they follow one another.
pub fn write_tables(tables: &[&Table], format: Format, out: Option<&Path>) -> anyhow::Result<()> {
    if format == Format::Xlsx {
        let bytes = engagements_interop::export::xlsx::workbook_bytes(tables)?;
        return match out {
            Some(path) => std::fs::write(path, bytes)
                .with_context(|| format!("cannot write {}", path.display())),
            None if std::io::stdout().is_terminal() => Err(anyhow::anyhow!(
                "a workbook is binary: give --out FILE.xlsx (or redirect standard output)"
            )),
            None => std::io::stdout()
                .lock()
                .write_all(&bytes)
                .context("writing the workbook"),
        };
    }
    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    for table in tables {
        write_table(table, format, &mut sink)?;
    }
    sink.flush().context("writing the report")?;
    Ok(())
}

fn write_table(table: &Table, format: Format, mut out: &mut dyn Write) -> anyhow::Result<()> {
    match format {
        Format::Table => {
            let mut text = comfy_table::Table::new();
            text.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            // Recorded text is printed with its control characters escaped: a terminal would
            // obey them (clear the screen, move the cursor, reverse a line).
            // A terminal is read by a person: French headers, values, numbers and dates (the
            // label catalogue); csv and json keep the machine keys.
            text.set_header(
                table
                    .columns
                    .iter()
                    .map(|c| escape_controls(labels::header(c))),
            );
            for row in &table.rows {
                text.add_row(
                    table
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(key, cell)| escape_controls(&labels::cell_text(key, cell))),
                );
            }
            writeln!(out, "{text}")?;
            writeln!(out, "{} lignes", table.rows.len())?;
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(&table.columns)?;
            for row in &table.rows {
                writer.write_record(row.iter().map(|c| c.to_spreadsheet_text()))?;
            }
            writer.flush()?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &table.to_json_rows())
                .context("writing JSON")?;
            writeln!(out)?;
        }
        Format::Xlsx => {
            let bytes = engagements_interop::export::xlsx::workbook_bytes(&[table])?;
            out.write_all(&bytes).context("writing the workbook")?;
        }
        Format::Markdown => write_markdown(table, out)?,
    }
    Ok(())
}

/// One table as Markdown: its French name as a heading, then the table (cells escaped so that
/// a `|` or a line break in recorded text cannot break the table).
fn write_markdown(table: &Table, out: &mut dyn Write) -> anyhow::Result<()> {
    let cell = |text: &str| {
        escape_controls(text)
            .replace('|', "\\|")
            .replace(['\n', '\r'], " ")
    };
    writeln!(
        out,
        "## {}\n",
        labels::table(&table.name).unwrap_or(&table.name)
    )?;
    let headers: Vec<String> = table
        .columns
        .iter()
        .map(|c| cell(labels::header(c)))
        .collect();
    writeln!(out, "| {} |", headers.join(" | "))?;
    writeln!(out, "|{}|", vec!["---"; headers.len()].join("|"))?;
    for row in &table.rows {
        let cells: Vec<String> = table
            .columns
            .iter()
            .zip(row)
            .map(|(key, value)| cell(&labels::cell_text(key, value)))
            .collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use engagements_projections::Cell;

    fn written(table: &Table, format: Format) -> String {
        let mut out = Vec::new();
        write_table(table, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn recorded_table() -> Table {
        let mut table = Table::new("porteurs", &["name", "granted_eur", "gap"]);
        table.push(vec![
            "Asso\u{1b}[2J\u{7}\u{202e}fictive".into(),
            engagements_domain::Amount::euros(12).into(),
            Cell::Text("-3.50".into()),
        ]);
        table.push(vec![
            "=HYPERLINK(\"http://exemple.invalid\")".into(),
            Cell::Empty,
            Cell::Int(-2),
        ]);
        table
    }

    #[test]
    fn the_text_table_escapes_control_characters_of_recorded_data() {
        let text = written(&recorded_table(), Format::Table);
        assert!(
            !text
                .chars()
                .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}'),
            "{text:?}"
        );
        assert!(
            text.contains("Asso\\u{1b}[2J\\u{7}\\u{202e}fictive"),
            "{text}"
        );
    }

    #[test]
    fn csv_cells_that_begin_like_formulas_are_neutralised_numbers_are_not() {
        let text = written(&recorded_table(), Format::Csv);
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://exemple.invalid\"\")\""),
            "{text}"
        );
        assert!(
            text.contains(",-3.50\n") && text.contains(",-2\n"),
            "{text}"
        );
        assert!(text.contains("12.00"), "{text}");
    }
}
