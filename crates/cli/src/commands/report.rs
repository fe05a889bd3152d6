//! `engagements report VIEW`: print a view of the ledger.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::asof::AsOfArgs;
use crate::output::{Format, OutputArgs};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum View {
    /// Per financeur × exercice × dispositif: envelope, requested, proposed, granted, refused,
    /// paid, reversed, left to pay, envelope left, CPO forecasts.
    Signatory,
    /// Per quartier × exercice × financeur × dispositif: the money reaching each quartier.
    Quartier,
    /// Per objectif (enjeu → ambition → objectif) × exercice.
    Objective,
    /// Per commune × exercice.
    Commune,
    /// Per porteur × exercice.
    Porteur,
    /// The dossiers, one row per dossier × financeur × dispositif, with their status.
    Dossiers,
    /// Droit-commun commitments: one row per commitment (signatory, kind, scope, figures,
    /// status, latest progress), then the partners « En attente » (--signatory, --objective).
    Commitments,
    /// The droit-commun part of the per-quartier view: quantified, local commitments that name
    /// a quartier (--quartier).
    CommitmentsQuartiers,
    /// Euros committed per scope; départemental, régional and national figures are never
    /// added to the local total.
    CommitmentsTotals,
    /// User-defined indicators with their latest value (--signatory, --objective).
    Indicators,
    /// TFPB per bailleur × QPV × year: a total row (abatement, planned, realised, ratio, gap,
    /// carry-over, bilan, flags) then one row per axis.
    Tfpb,
    /// TFPB per QPV × year across bailleurs.
    TfpbQuartiers,
    /// TFPB per axis × year across the contract.
    TfpbAxes,
    /// TFPB flags: realised below abatement, bilan late, spending on a QPV without convention.
    TfpbFlags,
    /// TFPB actions, one row per action and bailleur sharing it.
    TfpbActions,
    /// The evaluation report (contract l.1099-1117) over --from..--to: per objectif and per
    /// quartier, credits granted and paid by financeur, droit-commun commitments, TFPB, pistes
    /// d'action with their dossiers, and what has neither money nor commitment (several tables;
    /// one sheet each in xlsx).
    Evaluation,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    pub view: View,
    /// Only this exercice.
    #[arg(long)]
    pub year: Option<i32>,
    /// Only this bailleur (TFPB views).
    #[arg(long)]
    pub bailleur: Option<String>,
    /// Only this signatory (an organisation id, e.g. france-travail; commitment views).
    #[arg(long)]
    pub signatory: Option<String>,
    /// Only commitments linked to this objectif number (commitment views).
    #[arg(long)]
    pub objective: Option<u16>,
    /// Only this quartier (commitments-quartiers).
    #[arg(long)]
    pub quartier: Option<String>,
    /// First exercice of the evaluation report (default: --year).
    #[arg(long)]
    pub from: Option<i32>,
    /// Last exercice of the evaluation report (default: --from).
    #[arg(long)]
    pub to: Option<i32>,
    #[command(flatten)]
    pub when: AsOfArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn run(db: &str, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let ledger = super::open_for_reading(db).await?;
    let projections = ledger.projections_as_of(&args.when.as_of()).await?;
    if let View::Evaluation = args.view {
        let report = evaluation(&projections, &args)?;
        args.output.write(&report.tables())?;
        ledger.store().shutdown().await;
        return Ok(ExitCode::SUCCESS);
    }
    let (subsidy, referential) = (&projections.subsidy, &projections.referential);
    let table = match args.view {
        View::Signatory => subsidy.signatory_table(args.year, referential),
        View::Quartier => subsidy.quartier_table(args.year, referential),
        View::Objective => subsidy.objective_table(args.year, referential),
        View::Commune => subsidy.commune_table(args.year, referential),
        View::Porteur => subsidy.porteur_table(args.year, &projections.porteurs),
        View::Dossiers => subsidy.dossiers_table(args.year),
        View::Commitments => projections
            .commitments
            .commitments_table(args.signatory.as_deref(), args.objective),
        View::CommitmentsQuartiers => projections
            .commitments
            .quartiers_table(args.quartier.as_deref()),
        View::CommitmentsTotals => projections.commitments.totals_table(),
        View::Indicators => projections
            .commitments
            .indicators_table(args.signatory.as_deref(), args.objective),
        View::Tfpb | View::TfpbQuartiers | View::TfpbAxes | View::TfpbFlags | View::TfpbActions => {
            tfpb_table(args.view, &projections.tfpb, &args)
        }
        View::Evaluation => unreachable!("printed above"),
    };
    // A workbook is for people: the porteur by its name, not its identifier.
    let table = if args.output.format == Format::Xlsx {
        with_porteur_names(table, &projections.porteurs)
    } else {
        table
    };
    args.output.write(&[&table])?;
    ledger.store().shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// The evaluation report of `--from`..`--to` (TFPB flags judged on `--effective-on`, else
/// today).
fn evaluation(
    projections: &engagements_projections::Projections,
    args: &ReportArgs,
) -> anyhow::Result<engagements_projections::evaluation::EvaluationReport> {
    use engagements_projections::evaluation::{evaluation_report, Span};
    let from = args
        .from
        .or(args.year)
        .ok_or_else(|| anyhow::anyhow!("give the exercices to evaluate: --from 2024 --to 2026"))?;
    let span = Span::new(from, args.to.unwrap_or(from))?;
    let today = args
        .when
        .effective_on
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    Ok(evaluation_report(projections, span, today))
}

/// `table` with its `porteur_id` column replaced by the porteur's name (`porteur_name`).
fn with_porteur_names(
    mut table: engagements_projections::Table,
    porteurs: &engagements_projections::porteurs::PorteursView,
) -> engagements_projections::Table {
    use engagements_projections::Cell;
    let Some(index) = table.columns.iter().position(|c| c == "porteur_id") else {
        return table;
    };
    if table.columns.iter().any(|c| c == "porteur_name") {
        return table;
    }
    let names: std::collections::BTreeMap<String, String> = porteurs
        .by_id
        .iter()
        .map(|(id, row)| (id.to_string(), row.name.clone()))
        .collect();
    table.columns[index] = "porteur_name".to_string();
    for row in &mut table.rows {
        if let Some(Cell::Text(id)) = row.get(index) {
            if let Some(name) = names.get(id) {
                row[index] = Cell::Text(name.clone());
            }
        }
    }
    table
}

/// A TFPB view. Flags are judged on the `--effective-on` date when given, else today.
fn tfpb_table(
    view: View,
    tfpb: &engagements_projections::tfpb::TfpbView,
    args: &ReportArgs,
) -> engagements_projections::Table {
    let filter = engagements_projections::tfpb::TfpbFilter {
        bailleur: args.bailleur.clone(),
        quartier: None,
        year: args.year,
    };
    let today = args
        .when
        .effective_on
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    match view {
        View::TfpbQuartiers => tfpb.quartier_table(&filter, today),
        View::TfpbAxes => tfpb.axis_table(&filter, today),
        View::TfpbFlags => tfpb.flags_table(&filter, today),
        View::TfpbActions => tfpb.actions_table(&filter),
        _ => tfpb.bailleur_table(&filter, today),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engagements_projections::{Cell, Table};

    #[test]
    fn a_workbook_names_the_porteur() {
        let mut porteurs = engagements_projections::porteurs::PorteursView::default();
        let id = engagements_domain::PorteurId::new();
        porteurs.by_id.insert(
            id,
            engagements_projections::porteurs::PorteurRow {
                porteur_id: id,
                name: "Association Exemple (fictive)".into(),
                kind: engagements_domain::porteur::PorteurKind::Association,
                siret: None,
                rna: None,
                cer_signed_on: None,
                registered_at_position: 1,
            },
        );
        let mut table = Table::new("dossiers", &["title", "porteur_id"]);
        table.push(vec![
            "Atelier (fictif)".into(),
            id.to_string().as_str().into(),
        ]);
        let table = with_porteur_names(table, &porteurs);
        assert_eq!(table.columns[1], "porteur_name");
        assert_eq!(
            table.rows[0][1],
            Cell::Text("Association Exemple (fictive)".into())
        );
    }
}
