//! A page's tables as files for people: CSV that French Excel opens directly, or an Excel
//! workbook (one sheet per table, amounts as numbers, dates as dates), and the links to them.

use axum::http::StatusCode;
use axum::response::Response;
use engagements_projections::Table;
use maud::{html, Markup};

use crate::api::reports::{respond, workbook, Format};
use crate::error::ApiError;

/// A file asked of a page with `format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `;`, UTF-8 with a BOM, decimal commas (the `csv-fr` of the API).
    Csv,
    /// An XLSX workbook.
    Xlsx,
}

impl FileFormat {
    /// The file `format` asks for; none is the page itself, another value is refused in French.
    pub fn asked(format: Option<&str>) -> Result<Option<FileFormat>, ApiError> {
        match format {
            None => Ok(None),
            Some("csv") => Ok(Some(FileFormat::Csv)),
            Some("xlsx") => Ok(Some(FileFormat::Xlsx)),
            Some(other) => Err(ApiError::for_people(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!(
                    "Format inconnu : « {} ». Demandez format=csv (tableur) ou format=xlsx (classeur Excel).",
                    other.chars().take(40).collect::<String>()
                ),
            )),
        }
    }

    /// `tables` as this file, named `file_stem-au-AAAA-MM-JJ` (a CSV holds the first table; a
    /// workbook has a sheet per table).
    pub fn respond(
        self,
        tables: &[&Table],
        position: i64,
        file_stem: &str,
    ) -> Result<Response, ApiError> {
        match (self, tables) {
            (FileFormat::Csv, [first, ..]) => respond(first, Format::CsvFr, position, file_stem),
            (FileFormat::Csv, []) => Err(ApiError::not_found("no table to download")),
            (FileFormat::Xlsx, _) => workbook(tables, position, file_stem),
        }
    }
}

/// The address of the workbook beside a CSV link (`format=csv-fr` or `format=csv` → `xlsx`).
pub fn xlsx_href(csv_href: &str) -> String {
    if csv_href.contains("format=csv-fr") {
        csv_href.replacen("format=csv-fr", "format=xlsx", 1)
    } else {
        csv_href.replacen("format=csv", "format=xlsx", 1)
    }
}

/// The download links of a table: Excel workbook and CSV, then what the file holds (`count`).
pub fn links(csv_href: &str, count: Markup) -> Markup {
    html! {
        p.download {
            "Télécharger : "
            a href=(xlsx_href(csv_href)) download { "classeur Excel (XLSX)" }
            " · "
            a href=(csv_href) download { "tableur (CSV)" }
            " — " (count)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workbook_link_asks_the_same_table_as_xlsx() {
        assert_eq!(
            xlsx_href("/api/v1/reports/dossiers?format=csv-fr&year=2025"),
            "/api/v1/reports/dossiers?format=xlsx&year=2025"
        );
        assert_eq!(
            xlsx_href("/quartiers/QN06204?format=csv&exercice=2025"),
            "/quartiers/QN06204?format=xlsx&exercice=2025"
        );
    }

    #[test]
    fn a_format_is_csv_xlsx_or_refused() {
        assert_eq!(FileFormat::asked(None).unwrap(), None);
        assert_eq!(
            FileFormat::asked(Some("xlsx")).unwrap(),
            Some(FileFormat::Xlsx)
        );
        let refused = FileFormat::asked(Some("pdf")).unwrap_err();
        assert!(refused
            .for_people
            .as_deref()
            .is_some_and(|m| m.contains("Format inconnu : « pdf »")));
    }
}
