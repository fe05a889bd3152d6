//! Printing report tables as text, CSV or JSON.

use std::io::Write;

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
}

/// Writes `table` to standard output in `format`.
pub fn print_table(table: &Table, format: Format) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
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
    }
    Ok(())
}
