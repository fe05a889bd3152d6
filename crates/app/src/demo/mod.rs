//! The demo: the CABBALR referential and a realistic, **clearly fictitious** programmation
//! (porteurs, envelopes, CPO, dossiers from filing to reversement), deterministic from a seed.
//!
//! Every command has an id derived from the seed and is recorded in atomic batches; a batch
//! whose last command is already in the log is skipped, so running the demo twice on the same
//! database records nothing new, and an interrupted run resumes where it stopped.

mod generator;
mod random;

use std::collections::BTreeMap;

use engagements_domain::{Amount, Source};

pub use generator::{generate, DemoCommand, DemoConfig};

use crate::error::CommandError;
use crate::ledger::Ledger;
use crate::meta::MetaDefaults;
use crate::referential::LoadedContract;

/// Commands recorded per atomic batch (one transaction each).
pub const BATCH_COMMANDS: usize = 250;

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the built-in contract does not load: {0}")]
    Contract(String),
    #[error("demo command n°{index} ({name}) was refused: {source}")]
    Refused {
        index: usize,
        name: String,
        source: CommandError,
    },
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// What the ledger holds after the demo (computed from the ledger, so the same on every run).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSummary {
    pub seed: u64,
    pub contract: String,
    pub commands_total: usize,
    /// Commands recorded by this run (0 when the demo was already recorded).
    pub commands_recorded_now: usize,
    pub porteurs: usize,
    pub dossiers_by_year: BTreeMap<i32, usize>,
    pub envelopes: usize,
    pub cpos: usize,
    pub grants: usize,
    pub granted_total: Amount,
    pub paid_total: Amount,
    pub reversed_total: Amount,
    pub events: i64,
}

/// Records the referential and the demo on `ledger`; `progress(done, total)` follows the batches.
pub async fn run(
    ledger: &Ledger,
    config: &DemoConfig,
    defaults: &MetaDefaults,
    mut progress: impl FnMut(usize, usize),
) -> Result<DemoSummary, DemoError> {
    let contract = LoadedContract::embedded().map_err(|e| DemoError::Contract(e.to_string()))?;
    let demo_defaults = MetaDefaults {
        source: Source::Demo,
        ..defaults.clone()
    };
    contract.publish(ledger, &demo_defaults).await?;
    let commands = generate(config, &contract.referential);
    let mut recorded_now = 0;
    let mut done = 0;
    for (batch_index, batch) in commands.chunks(BATCH_COMMANDS).enumerate() {
        let last_id = batch.last().and_then(|c| c.meta.command_id);
        let recorded = match last_id {
            Some(id) => !ledger
                .store()
                .read_command(id)
                .await
                .map_err(CommandError::from)?
                .is_empty(),
            None => false,
        };
        if !recorded {
            let group = batch
                .iter()
                .map(|c| (c.command.clone(), c.meta.clone()))
                .collect();
            ledger
                .execute_atomic(group, &demo_defaults)
                .await
                .map_err(|(index, source)| {
                    let index = batch_index * BATCH_COMMANDS + index;
                    DemoError::Refused {
                        index,
                        name: commands
                            .get(index)
                            .map(|c| c.command.name())
                            .unwrap_or_default(),
                        source,
                    }
                })?;
            recorded_now += batch.len();
        }
        done += batch.len();
        progress(done, commands.len());
    }
    summarise(ledger, config, &contract, commands.len(), recorded_now).await
}

async fn summarise(
    ledger: &Ledger,
    config: &DemoConfig,
    contract: &LoadedContract,
    commands_total: usize,
    commands_recorded_now: usize,
) -> Result<DemoSummary, DemoError> {
    let projections = ledger.projections().await?;
    let subsidy = &projections.subsidy;
    let mut dossiers_by_year = BTreeMap::new();
    let mut grants = 0;
    let mut paid = Vec::new();
    let mut reversed = Vec::new();
    for dossier in subsidy.filed(None) {
        if let Some(filing) = dossier.filed.as_ref() {
            *dossiers_by_year.entry(filing.exercice).or_insert(0) += 1;
        }
        for line in dossier.lines.values() {
            grants += usize::from(!line.granted.is_zero());
            paid.push(line.paid);
            reversed.push(line.reversement_received);
        }
    }
    Ok(DemoSummary {
        seed: config.seed,
        contract: contract.referential.contract.id.clone(),
        commands_total,
        commands_recorded_now,
        porteurs: projections.porteurs.by_id.len(),
        dossiers_by_year,
        envelopes: subsidy.envelopes.len(),
        cpos: subsidy.cpos.len(),
        grants,
        granted_total: subsidy.granted_total(None),
        paid_total: paid.into_iter().sum(),
        reversed_total: reversed.into_iter().sum(),
        events: projections.position,
    })
}
