//! `engagements referential [SECTION]`: the contract's referential, now or as it stood.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use engagements_projections::referential::tables;

use crate::asof::AsOfArgs;
use crate::output::{Format, OutputArgs};

/// Which part of the referential to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Section {
    /// The contract and the counts of each part (`--format json`: the whole referential).
    #[default]
    Summary,
    Quartiers,
    Communes,
    Organisations,
    Objectifs,
    Dispositifs,
    TfpbAxes,
    /// The enjeux transversaux's orientations and constats (baseline figures).
    Transversaux,
    /// The governance bodies (comités, référents, séminaire, délégués du Préfet).
    Governance,
    /// The governance meetings recorded.
    Meetings,
    /// The avenants recorded since publication.
    Avenants,
}

#[derive(Debug, Args)]
pub struct ReferentialArgs {
    #[arg(value_enum, default_value_t)]
    pub section: Section,
    #[command(flatten)]
    pub when: AsOfArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn run(db: &str, args: ReferentialArgs) -> anyhow::Result<ExitCode> {
    let ledger = super::open_for_reading(db).await?;
    let projections = ledger.projections_as_of(&args.when.as_of()).await;
    ledger.store().shutdown().await;
    let view = &projections?.referential;
    let Some(referential) = view.current() else {
        eprintln!("no contract recorded at that moment: run `engagements init` (or choose a later --as-of)");
        return Ok(ExitCode::from(1));
    };
    let table = match args.section {
        Section::Summary if args.output.format == Format::Json => {
            let document = serde_json::json!({
                "content_hash": view.content_hash,
                "published_on": view.published_on,
                "avenants": view.amendments.len(),
                "referential": referential,
            });
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &document).context("writing JSON")?;
            writeln!(out)?;
            return Ok(ExitCode::SUCCESS);
        }
        Section::Summary => tables::summary(referential, view.content_hash.as_deref()),
        Section::Quartiers => tables::quartiers(referential),
        Section::Communes => tables::communes(referential),
        Section::Organisations => tables::organisations(referential),
        Section::Objectifs => tables::objectifs(referential),
        Section::Dispositifs => tables::dispositifs(referential),
        Section::TfpbAxes => tables::tfpb_axes(referential),
        Section::Transversaux => tables::transversaux(referential),
        Section::Governance => tables::governance(referential),
        Section::Meetings => view.meetings_table(),
        Section::Avenants => view.amendments_table(),
    };
    args.output.write(&[&table])?;
    Ok(ExitCode::SUCCESS)
}
