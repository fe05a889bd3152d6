//! Printing report tables as text, CSV or JSON.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;
use engagements_projections::Table;

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
}

/// Writes `table` to standard output in `format`.
pub fn print_table(table: &Table, format: Format) -> anyhow::Result<()> {
    write_tables(&[table], format, None)
}

/// Writes `tables` in `format` to the file `out`, or to standard output without one. In XLSX
/// each table is a sheet of one workbook; in the other formats they follow one another.
pub fn write_tables(tables: &[&Table], format: Format, out: Option<&Path>) -> anyhow::Result<()> {
    if format == Format::Xlsx {
        let bytes = crate::xlsx::workbook_bytes(tables)?;
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
            text.set_header(&table.columns);
            for row in &table.rows {
                text.add_row(row.iter().map(|c| c.to_text()));
            }
            writeln!(out, "{text}")?;
            writeln!(out, "{} rows", table.rows.len())?;
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(&table.columns)?;
            for row in &table.rows {
                writer.write_record(row.iter().map(|c| c.to_text()))?;
            }
            writer.flush()?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &table.to_json_rows())
                .context("writing JSON")?;
            writeln!(out)?;
        }
        Format::Xlsx => {
            let bytes = crate::xlsx::workbook_bytes(&[table])?;
            out.write_all(&bytes).context("writing the workbook")?;
        }
    }
    Ok(())
}
