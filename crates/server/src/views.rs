//! The report views served by `/api/v1/reports/{view}` and the pages: one table each, the same
//! tables as `engagements report`. Adding a view is one entry in [`VIEWS`] and one arm in
//! [`report`].

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use engagements_domain::Amount;
use engagements_projections::tfpb::{TfpbFilter, TfpbView};
use engagements_projections::{labels, Cell, Projections, Table};

/// Who may read a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every role, and anonymous visitors of a public server.
    Published,
    /// Roles that may audit.
    Audit,
}

/// One view: its name in URLs, its French title, who may read it.
#[derive(Debug, Clone, Copy)]
pub struct ViewSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub audience: Audience,
}

/// Every view, in the order the pages list them.
pub const VIEWS: &[ViewSpec] = &[
    ViewSpec {
        name: "signataires",
        title: "Par signataire / financeur : enveloppes, accordé, payé",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "quartiers",
        title: "Par quartier",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "objectifs",
        title: "Par objectif du contrat",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "communes",
        title: "Par commune",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "par-porteur",
        title: "Par porteur",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "dossiers",
        title: "Dossiers (une ligne par financeur sollicité)",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "porteurs",
        title: "Porteurs de projets connus",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "engagements",
        title: "Engagements de droit commun des signataires (et contributions en attente)",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "engagements-quartiers",
        title: "Engagements de droit commun par quartier",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "engagements-totaux",
        title: "Engagements de droit commun : totaux",
        audience: Audience::Published,
    },
    ViewSpec {
        name: "indicateurs",
        title: "Indicateurs des engagements",
        audience: Audience::Published,
    },
];

/// The spec of a view by name.
pub fn spec(name: &str) -> Option<&'static ViewSpec> {
    VIEWS.iter().find(|v| v.name == name)
}

/// The table of view `name`, `None` if there is no such view. Built once per position and
/// filter, then shared by every request until the projections move on.
pub fn report(projections: &Projections, name: &str, year: Option<i32>) -> Option<Arc<Table>> {
    type Build = fn(&Projections, Option<i32>) -> Table;
    let build: Build = match name {
        "signataires" => |p, y| p.subsidy.signatory_table(y, &p.referential),
        "quartiers" => |p, y| p.subsidy.quartier_table(y, &p.referential),
        "objectifs" => |p, y| p.subsidy.objective_table(y, &p.referential),
        "communes" => |p, y| p.subsidy.commune_table(y, &p.referential),
        "par-porteur" => |p, y| p.subsidy.porteur_table(y, &p.porteurs),
        "dossiers" => |p, y| p.subsidy.dossiers_table(y),
        "porteurs" => |p, _| porteurs_table(p),
        "engagements" => |p, _| p.commitments.commitments_table(None, None),
        "engagements-quartiers" => |p, _| p.commitments.quartiers_table(None),
        "engagements-totaux" => |p, _| p.commitments.totals_table(),
        "indicateurs" => |p, _| p.commitments.indicators_table(None, None),
        _ => return None,
    };
    Some(
        projections
            .tables
            .get_or_build(name, year, || build(projections, year)),
    )
}

/// Granted amounts by exercice and financeur, over every exercice (for the bar chart).
pub fn granted_by_year_and_financeur(
    projections: &Projections,
) -> BTreeMap<i32, BTreeMap<String, Amount>> {
    let mut out: BTreeMap<i32, BTreeMap<String, Amount>> = BTreeMap::new();
    for dossier in projections.subsidy.filed(None) {
        let Some(filing) = dossier.filed.as_ref() else {
            continue;
        };
        for ((financeur, _), line) in &dossier.lines {
            if line.granted.is_zero() {
                continue;
            }
            let slot = out
                .entry(filing.exercice)
                .or_default()
                .entry(financeur.clone())
                .or_insert(Amount::ZERO);
            *slot = slot.checked_add(line.granted).unwrap_or(*slot);
        }
    }
    out
}

/// (label, amount) pairs of a table: the text of `label_column` and the amount of
/// `amount_column`, added up per label, largest first.
pub fn column_breakdown(
    table: &Table,
    label_column: &str,
    amount_column: &str,
) -> Vec<(String, Amount)> {
    let (Some(label), Some(amount)) = (
        table.columns.iter().position(|c| c == label_column),
        table.columns.iter().position(|c| c == amount_column),
    ) else {
        return Vec::new();
    };
    let mut sums: BTreeMap<String, Amount> = BTreeMap::new();
    for row in &table.rows {
        if let (Some(text), Some(engagements_projections::Cell::Amount(value))) =
            (row.get(label), row.get(amount))
        {
            let slot = sums.entry(text.to_text()).or_insert(Amount::ZERO);
            *slot = slot.checked_add(*value).unwrap_or(*slot);
        }
    }
    let mut out: Vec<(String, Amount)> = sums.into_iter().filter(|(_, a)| !a.is_zero()).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

fn porteurs_table(projections: &Projections) -> Table {
    let mut table = Table::new(
        "porteurs",
        &[
            "porteur_id",
            "name",
            "kind",
            "siret",
            "rna",
            "cer_signed_on",
        ],
    );
    for porteur in projections.porteurs.by_id.values() {
        let kind = serde_json::to_value(porteur.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        table.push(vec![
            porteur.porteur_id.to_string().into(),
            porteur.name.as_str().into(),
            kind.into(),
            porteur.siret.clone().into(),
            porteur.rna.clone().into(),
            porteur.cer_signed_on.into(),
        ]);
    }
    table
}

/// The columns `keys` of `table`, in that order (the others left out), e.g. for a page that
/// must fit a screen.
pub fn select_columns(table: &Table, keys: &[&str]) -> Table {
    let indexes: Vec<usize> = keys
        .iter()
        .filter_map(|key| table.columns.iter().position(|c| c == key))
        .collect();
    let mut out = Table::new(
        table.name.clone(),
        &indexes
            .iter()
            .map(|i| table.columns[*i].as_str())
            .collect::<Vec<_>>(),
    );
    for row in &table.rows {
        out.push(indexes.iter().map(|i| row[*i].clone()).collect());
    }
    out
}

/// A table as CSV text (UTF-8, header line, amounts with two decimals); texts that begin like a
/// formula are neutralised, since people open these files in a spreadsheet.
pub fn to_csv(table: &Table) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&table.columns)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(|c| c.to_spreadsheet_text()))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One TFPB view: its name in URLs (`/api/v1/reports/tfpb/{name}`) and its French title.
#[derive(Debug, Clone, Copy)]
pub struct TfpbViewSpec {
    pub name: &'static str,
    pub title: &'static str,
}

/// The TFPB views, the same tables as `engagements report tfpb…`. A bailleur reads only its own
/// rows; a lecteur none.
pub const TFPB_VIEWS: &[TfpbViewSpec] = &[
    TfpbViewSpec {
        name: "bailleurs",
        title: "TFPB par bailleur, QPV et année (total puis axes)",
    },
    TfpbViewSpec {
        name: "quartiers",
        title: "TFPB par QPV et année",
    },
    TfpbViewSpec {
        name: "axes",
        title: "TFPB par axe et année",
    },
    TfpbViewSpec {
        name: "flags",
        title: "TFPB : alertes (réalisé sous l'abattement, bilan en retard, QPV hors convention)",
    },
    TfpbViewSpec {
        name: "actions",
        title: "TFPB : actions (une ligne par action et bailleur)",
    },
];

/// The TFPB table `name` under `filter`, flags judged on `today`; `None` if there is no such view.
pub fn tfpb_report(
    tfpb: &TfpbView,
    name: &str,
    filter: &TfpbFilter,
    today: NaiveDate,
) -> Option<Table> {
    Some(match name {
        "bailleurs" => tfpb.bailleur_table(filter, today),
        "quartiers" => tfpb.quartier_table(filter, today),
        "axes" => tfpb.axis_table(filter, today),
        "flags" => tfpb.flags_table(filter, today),
        "actions" => tfpb.actions_table(filter),
        _ => return None,
    })
}

/// Columns holding an id of the referential, shown by name on pages (the id stays in the
/// table for the link, hidden).
pub const NAMED_COLUMNS: &[&str] = &[
    "porteur_id",
    "financeur",
    "signatory",
    "commune",
    "dispositif",
    "programme",
    "bailleur",
    "recorded_by",
    "axis",
];

/// `table` with a `…_name` column beside each id column of [`NAMED_COLUMNS`] that has none, read
/// from the referential: people read « Préfecture du Pas-de-Calais » and « Fonds de Cohésion
/// Sociale (FCS) », the links still follow the ids.
pub fn with_names(mut table: Table, projections: &Projections) -> Table {
    let referential = &projections.referential;
    for column in NAMED_COLUMNS {
        let name_column = match column.strip_suffix("_id") {
            Some(stem) => format!("{stem}_name"),
            None => format!("{column}_name"),
        };
        if table.columns.contains(&name_column) {
            continue;
        }
        let Some(index) = table.columns.iter().position(|c| c == column) else {
            continue;
        };
        table.columns.insert(index + 1, name_column);
        for row in &mut table.rows {
            let id = row.get(index).map(Cell::to_text).unwrap_or_default();
            let name = match *column {
                "dispositif" | "programme" => referential.dispositif(&id).map(|d| d.name.clone()),
                "commune" => referential.commune(&id).map(|c| c.name.clone()),
                "porteur_id" => id
                    .parse()
                    .ok()
                    .and_then(|porteur| projections.porteurs.get(&porteur))
                    .map(|p| p.name.clone()),
                "axis" => referential
                    .tfpb_axis(&id)
                    .map(|a| format!("{}. {}", a.number, a.title)),
                _ => referential.organisation(&id).map(|o| o.name.clone()),
            };
            // Not in the referential (a « total » row, free text): as the id column reads.
            let shown = name.unwrap_or_else(|| {
                row.get(index)
                    .map(|cell| labels::cell_text(column, cell))
                    .unwrap_or(id)
            });
            row.insert(index + 1, Cell::Text(shown));
        }
    }
    table
}
