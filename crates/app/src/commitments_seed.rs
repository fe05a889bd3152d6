//! Recording the droit-commun commitments a contract states (Annex 3 of the CABBALR contract,
//! `commitments.json` beside the referential), as `engagements init` does.
//!
//! Idempotent: a commitment already recorded with the same terms is left alone; one whose terms
//! differ in the file (a corrected transcription) gets a revision, never an edit; each command
//! id is derived from the contract, the record and its content, so that running twice, or two
//! processes at once, records each fact once.

use std::path::Path;

use chrono::NaiveDate;
use engagements_domain::commitment::contribution::ContributionCommand;
use engagements_domain::commitment::{
    AmountPeriod, Baseline, Carrier, CommitmentCommand, CommitmentId, CommitmentKind,
    CommitmentTerms, Flag, LineRange, ObjectifLink, Scope, Target, YearPeriod,
};
use engagements_domain::{ActKind, ActRef, Actor, Amount, LedgerCommand};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::CommandError;
use crate::ledger::Ledger;
use crate::meta::{CommandMeta, MetaDefaults};

/// The file name of a contract's commitments, in its directory.
pub const COMMITMENTS_FILE: &str = "commitments.json";
/// Largest commitments file accepted.
pub const FILE_BYTES_MAX: u64 = 8 * 1024 * 1024;
/// Most records in one file (the schema's own limit).
pub const RECORDS_MAX: usize = 5_000;
/// Commands recorded per atomic group: one transaction each, so that a failure leaves whole
/// groups and a re-run completes the rest.
const GROUP_COMMANDS_MAX: usize = 200;

/// The CABBALR contract's Annex 3, built into the binary like its referential.
const EMBEDDED_CABBALR: &str =
    include_str!("../../../schemas/contracts/cabbalr-2024-2030/commitments.json");

/// Why the commitments could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is {bytes} bytes, above the limit of {FILE_BYTES_MAX}")]
    TooLarge { path: String, bytes: u64 },
    #[error("{COMMITMENTS_FILE}, line {line}, column {column}: {message}")]
    Parse {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{COMMITMENTS_FILE}: {count} records, above the limit of {RECORDS_MAX}")]
    TooManyRecords { count: usize },
    #[error("{COMMITMENTS_FILE}, commitment {id}: {message}")]
    BadRecord { id: String, message: String },
    #[error("no contract is published in this ledger: publish the referential first")]
    NoContract,
    #[error("commitment command {index} of the batch was refused: {source}")]
    Refused { index: usize, source: CommandError },
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// What [`record_initial_commitments`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub pledged: usize,
    pub revised: usize,
    pub pending_declared: usize,
    /// Records already in the ledger with the same terms.
    pub unchanged: usize,
    /// Partners listed « En attente » in the file.
    pub pending_partners: usize,
}

/// The commitments file, as `schemas/referential/commitments.schema.json` describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnexFile {
    pub partners: Vec<AnnexPartner>,
    pub commitments: Vec<AnnexRecord>,
    /// The annex's lines no record cites, with why (checked by `schemas/check_commitments.py`;
    /// nothing is recorded from them).
    #[serde(default)]
    pub not_commitments: Vec<UncitedLines>,
}

/// Lines of the annex that hold no commitment, and why.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UncitedLines {
    pub source_lines: Vec<LineRange>,
    pub reason: String,
}

/// Words of a partner's section that state a record's territory or years when its own lines do
/// not (checked against the source by `schemas/check_commitments.py`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub quote: String,
    pub source_lines: Vec<LineRange>,
}

/// A partner's section of the annex.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnexPartner {
    pub id: String,
    pub name: String,
    /// `committed` or `pending` (« En attente »).
    pub status: String,
    pub section_lines: LineRange,
    pub source_lines: Vec<LineRange>,
}

/// One commitment record of the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnexRecord {
    pub id: String,
    pub signatory: String,
    pub service: Option<String>,
    pub title: String,
    pub text: String,
    pub kind: String,
    pub amount_eur: Option<Amount>,
    pub amount_period: Option<AmountPeriod>,
    pub staff_count: Option<u32>,
    pub staff_unit: Option<String>,
    pub programme: Option<String>,
    pub period: YearPeriod,
    pub scope: Scope,
    pub scope_ref: Option<String>,
    pub enjeux: Vec<String>,
    pub ambitions: Vec<String>,
    pub objectifs: Vec<u16>,
    pub quartiers: Vec<String>,
    pub source_lines: Vec<LineRange>,
    #[serde(default)]
    pub context: Vec<Context>,
    /// Several signatories carrying it, each with its part when given (optional: files written
    /// before carriers existed still load).
    #[serde(default)]
    pub carriers: Vec<Carrier>,
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub baselines: Vec<Baseline>,
    #[serde(default)]
    pub flags: Vec<Flag>,
    #[serde(default)]
    pub objectif_links: Vec<ObjectifLink>,
}

impl AnnexFile {
    /// The CABBALR contract's Annex 3.
    pub fn embedded() -> Result<AnnexFile, SeedError> {
        AnnexFile::parse(EMBEDDED_CABBALR)
    }

    /// `commitments.json` of a contract directory; `None` when the contract has none.
    pub fn from_dir(dir: &Path) -> Result<Option<AnnexFile>, SeedError> {
        let path = dir.join(COMMITMENTS_FILE);
        let shown = path.display().to_string();
        let bytes = match std::fs::metadata(&path) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(SeedError::Io {
                    path: shown,
                    source,
                })
            }
        };
        if bytes > FILE_BYTES_MAX {
            return Err(SeedError::TooLarge { path: shown, bytes });
        }
        let text = std::fs::read_to_string(&path).map_err(|source| SeedError::Io {
            path: shown,
            source,
        })?;
        AnnexFile::parse(&text).map(Some)
    }

    /// Reads the file's text.
    pub fn parse(text: &str) -> Result<AnnexFile, SeedError> {
        let file: AnnexFile = serde_json::from_str(text).map_err(|e| SeedError::Parse {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if file.commitments.len() > RECORDS_MAX {
            return Err(SeedError::TooManyRecords {
                count: file.commitments.len(),
            });
        }
        Ok(file)
    }
}

impl AnnexRecord {
    /// The record's id as a commitment id.
    pub fn commitment_id(&self) -> Result<CommitmentId, SeedError> {
        self.id.parse().map_err(|e| self.bad(e))
    }

    /// The record as commitment terms (checked as a pledge would check them).
    pub fn terms(&self) -> Result<CommitmentTerms, SeedError> {
        let terms = CommitmentTerms {
            service: self.service.clone(),
            title: self.title.clone(),
            text: self.text.clone(),
            kind: self.kind()?,
            programme: self.programme.clone(),
            period: self.period,
            scope: self.scope,
            scope_ref: self.scope_ref.clone(),
            enjeux: self.enjeux.clone(),
            ambitions: self.ambitions.clone(),
            objectifs: self.objectifs.clone(),
            quartiers: self.quartiers.clone(),
            source_lines: self.source_lines.clone(),
            carriers: self.carriers.clone(),
            targets: self.targets.clone(),
            baselines: self.baselines.clone(),
            flags: self.flags.clone(),
            objectif_links: self.objectif_links.clone(),
        };
        terms.checked().map_err(|e| self.bad(e))
    }

    fn kind(&self) -> Result<CommitmentKind, SeedError> {
        let refuse_figures = |kind| {
            if self.amount_eur.is_some() || self.staff_count.is_some() {
                Err(self.bad(format!(
                    "a {kind} commitment carries no amount or staff count"
                )))
            } else {
                Ok(())
            }
        };
        Ok(match self.kind.as_str() {
            "financial" => CommitmentKind::Financial {
                amount_eur: self
                    .amount_eur
                    .ok_or_else(|| self.bad("a financial commitment needs amount_eur"))?,
                amount_period: self.amount_period,
            },
            "staffing" => CommitmentKind::Staffing {
                staff_count: self.staff_count,
                staff_unit: self
                    .staff_unit
                    .clone()
                    .ok_or_else(|| self.bad("a staffing commitment needs staff_unit"))?,
            },
            "programme" => refuse_figures("programme").map(|_| CommitmentKind::Programme)?,
            "qualitative" => refuse_figures("qualitative").map(|_| CommitmentKind::Qualitative)?,
            "governance" => refuse_figures("governance").map(|_| CommitmentKind::Governance)?,
            "condition" => refuse_figures("condition").map(|_| CommitmentKind::Condition)?,
            other => return Err(self.bad(format!("unknown kind '{other}'"))),
        })
    }

    fn bad(&self, message: impl std::fmt::Display) -> SeedError {
        SeedError::BadRecord {
            id: self.id.clone(),
            message: message.to_string(),
        }
    }
}

/// Records a contract's commitments on `ledger`: the built-in CABBALR Annex 3 when
/// `contract_dir` is `None`, else `contract_dir/commitments.json` (nothing when absent).
/// The contract's referential must be published first (signatories are checked against it).
pub async fn record_initial_commitments(
    ledger: &Ledger,
    contract_dir: Option<&Path>,
    defaults: &MetaDefaults,
) -> Result<SeedReport, SeedError> {
    let file = match contract_dir {
        None => AnnexFile::embedded()?,
        Some(dir) => match AnnexFile::from_dir(dir)? {
            Some(file) => file,
            None => return Ok(SeedReport::default()),
        },
    };
    record_annex(ledger, &file, defaults).await
}

/// Records the commitments of `file` that the ledger does not hold yet (see the module docs).
pub async fn record_annex(
    ledger: &Ledger,
    file: &AnnexFile,
    defaults: &MetaDefaults,
) -> Result<SeedReport, SeedError> {
    let (contract_id, effective_date, act) = contract_of(ledger).await?;
    let mut report = SeedReport::default();
    let mut commands = Vec::new();
    {
        let projections = ledger.projections().await?;
        let view = &projections.commitments;
        for partner in file.partners.iter().filter(|p| p.status == "pending") {
            report.pending_partners += 1;
            if view.pending.contains_key(&partner.id) {
                continue;
            }
            report.pending_declared += 1;
            let command = LedgerCommand::Contribution(ContributionCommand::DeclarePending {
                signatory: partner.id.clone(),
                name_in_source: partner.name.clone(),
                source_lines: partner.source_lines.clone(),
                note: Some("« En attente » dans l'annexe 3 du contrat".to_string()),
            });
            let id = derived_id(&contract_id, &["pending", &partner.id]);
            commands.push((command, id));
        }
        for record in &file.commitments {
            let commitment_id = record.commitment_id()?;
            let terms = record.terms()?;
            let (command, id) = match view.get(&commitment_id) {
                Some(row) if row.terms == terms => {
                    report.unchanged += 1;
                    continue;
                }
                Some(_) => {
                    report.revised += 1;
                    let content = serde_json::to_string(&terms).unwrap_or_default();
                    let id = derived_id(&contract_id, &["revise", &record.id, &content]);
                    let command = CommitmentCommand::Revise {
                        commitment_id,
                        terms,
                        reason: format!("Transcription de l'annexe corrigée ({COMMITMENTS_FILE})"),
                    };
                    (command, id)
                }
                None => {
                    report.pledged += 1;
                    let id = derived_id(&contract_id, &["pledge", &record.id]);
                    let command = CommitmentCommand::Pledge {
                        commitment_id,
                        signatory: record.signatory.clone(),
                        terms,
                    };
                    (command, id)
                }
            };
            commands.push((LedgerCommand::Commitment(command), id));
        }
    }
    let metas = commands.into_iter().map(|(command, id)| {
        let meta = CommandMeta {
            actor: Some(Actor::system()),
            effective_date: Some(effective_date),
            act: Some(act.clone()),
            command_id: Some(id),
            ..CommandMeta::default()
        };
        (command, meta)
    });
    let all: Vec<_> = metas.collect();
    for (group_index, group) in all.chunks(GROUP_COMMANDS_MAX).enumerate() {
        ledger
            .execute_atomic(group.to_vec(), defaults)
            .await
            .map_err(|(index, source)| SeedError::Refused {
                index: group_index * GROUP_COMMANDS_MAX + index,
                source,
            })?;
    }
    Ok(report)
}

/// The published contract's id, the business date of its commitments (the contract's
/// approval) and the act they rest on.
async fn contract_of(ledger: &Ledger) -> Result<(String, NaiveDate, ActRef), SeedError> {
    let projections = ledger.projections().await?;
    let contract = projections
        .referential
        .contract()
        .ok_or(SeedError::NoContract)?;
    let approval = &contract.approval;
    let effective_date = approval.executory_date.unwrap_or(approval.date);
    let act = ActRef {
        kind: ActKind::Deliberation,
        reference: approval.deliberation_reference.clone().unwrap_or_else(|| {
            format!(
                "{} du {} — {}, annexe 3 (engagements des partenaires)",
                approval.body, approval.date, contract.name
            )
        }),
        date: Some(approval.date),
    };
    Ok((contract.id.clone(), effective_date, act))
}

/// A command id derived from the contract and the parts that make the fact unique.
fn derived_id(contract_id: &str, parts: &[&str]) -> Uuid {
    let mut hasher = Sha256::new();
    hasher.update(b"commitments\n");
    hasher.update(contract_id.as_bytes());
    for part in parts {
        hasher.update(b"\n");
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_annex_converts_record_by_record() {
        let file = AnnexFile::embedded().unwrap();
        assert_eq!(file.partners.len(), 19);
        for record in &file.commitments {
            record.terms().unwrap();
        }
        let pending = file
            .partners
            .iter()
            .filter(|p| p.status == "pending")
            .count();
        assert_eq!(pending, 5);
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let a = derived_id("c", &["pledge", "etat-01"]);
        assert_eq!(a, derived_id("c", &["pledge", "etat-01"]));
        assert_ne!(a, derived_id("c", &["pledge", "etat-02"]));
        assert_ne!(a, derived_id("d", &["pledge", "etat-01"]));
    }
}
