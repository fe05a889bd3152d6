//! Loading a contract's referential from its directory of JSON files, and publishing it.
//!
//! A contract directory holds `contract.json`, `quartiers.json`, `communes.json`,
//! `organisations.json`, `strategy.json`, `dispositifs.json` and, optionally, `tfpb_axes.json`
//! (schemas in `schemas/referential/`). The CABBALR contract's directory is built into the binary
//! so that `engagements init` works from anywhere; any other contract loads from its own
//! directory: nothing about one contract is written in code.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use engagements_domain::referential::{
    CommunesPart, ContractCommand, ContractInfo, DispositifsPart, FileDigest, OrganisationsPart,
    QuartiersPart, Referential, ReferentialError, StrategyPart, TfpbPart,
};
use engagements_domain::{ActKind, ActRef, Actor, LedgerCommand};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::CommandError;
use crate::ledger::{Ledger, Receipt};
use crate::meta::{CommandMeta, MetaDefaults};

/// The data files of a contract directory, in the order they are hashed.
pub const REFERENTIAL_FILES: [&str; 7] = [
    "contract.json",
    "quartiers.json",
    "communes.json",
    "organisations.json",
    "strategy.json",
    "dispositifs.json",
    "tfpb_axes.json",
];

/// Files a contract may leave out (a contract without social landlords has no TFPB axes).
const OPTIONAL_FILES: [&str; 1] = ["tfpb_axes.json"];

/// Largest data file accepted.
pub const FILE_BYTES_MAX: u64 = 4 * 1024 * 1024;

/// The CABBALR contract's files, built into the binary.
const EMBEDDED_CABBALR: [(&str, &str); 7] = [
    (
        "contract.json",
        include_str!("../../../schemas/contracts/cabbalr-2024-2030/contract.json"),
    ),
    (
        "quartiers.json",
        include_str!("../../../schemas/contracts/cabbalr-2024-2030/quartiers.json"),
    ),
    (
        "communes.json",
        include_str!("../../../schemas/contracts/cabbalr-2024-2030/communes.json"),
    ),
    (
        "organisations.json",
        include_str!("../../../schemas/contracts/cabbalr-2024-2030/organisations.json"),
    ),
    (
        "strategy.json",
        include_str!("../../../schemas/contracts/cabbalr-2024-2030/strategy.json"),
    ),
    (
        "dispositifs.json",
        include_str!("../../../schemas/contracts/cabbalr-2024-2030/dispositifs.json"),
    ),
    (
        "tfpb_axes.json",
        include_str!("../../../schemas/contracts/cabbalr-2024-2030/tfpb_axes.json"),
    ),
];

/// Why a contract directory cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file} is missing from the contract directory {dir} (expected: {expected})")]
    Missing {
        file: &'static str,
        dir: PathBuf,
        expected: String,
    },
    #[error("{path} is {bytes} bytes, above the limit of {FILE_BYTES_MAX}")]
    TooLarge { path: PathBuf, bytes: u64 },
    #[error("{file}, line {line}, column {column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(transparent)]
    Inconsistent(#[from] ReferentialError),
}

/// A contract's referential as read from its files, with their hashes.
#[derive(Debug, Clone)]
pub struct LoadedContract {
    pub referential: Referential,
    /// SHA-256 over every file, in [`REFERENTIAL_FILES`] order (name, length, bytes).
    pub content_hash: String,
    pub files: Vec<FileDigest>,
}

impl LoadedContract {
    /// The built-in CABBALR « Engagements Quartiers 2030 » contract.
    pub fn embedded() -> Result<LoadedContract, LoadError> {
        let files: Vec<(String, String)> = EMBEDDED_CABBALR
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        LoadedContract::from_texts(&files)
    }

    /// Reads the contract directory `dir`.
    pub fn from_dir(dir: &Path) -> Result<LoadedContract, LoadError> {
        let mut files = Vec::new();
        for name in REFERENTIAL_FILES {
            let path = dir.join(name);
            if !path.exists() && OPTIONAL_FILES.contains(&name) {
                continue;
            }
            if !path.exists() {
                return Err(LoadError::Missing {
                    file: name,
                    dir: dir.to_path_buf(),
                    expected: REFERENTIAL_FILES.join(", "),
                });
            }
            let io = |source| LoadError::Io {
                path: path.clone(),
                source,
            };
            let bytes = std::fs::metadata(&path).map_err(io)?.len();
            if bytes > FILE_BYTES_MAX {
                return Err(LoadError::TooLarge { path, bytes });
            }
            let text = std::fs::read_to_string(&path).map_err(io)?;
            files.push((name.to_string(), text));
        }
        LoadedContract::from_texts(&files)
    }

    /// Builds the referential from `(file name, text)` pairs, checks it, and hashes the files.
    pub fn from_texts(files: &[(String, String)]) -> Result<LoadedContract, LoadError> {
        let text_of = |name: &str| files.iter().find(|(n, _)| n == name).map(|(_, t)| t);
        let required = |name: &'static str| {
            text_of(name).ok_or_else(|| LoadError::Missing {
                file: name,
                dir: PathBuf::from("."),
                expected: REFERENTIAL_FILES.join(", "),
            })
        };
        let contract: ContractInfo = parse("contract.json", required("contract.json")?)?;
        let referential = Referential {
            contract,
            quartiers: parse::<QuartiersPart>("quartiers.json", required("quartiers.json")?)?,
            communes: parse::<CommunesPart>("communes.json", required("communes.json")?)?,
            organisations: parse::<OrganisationsPart>(
                "organisations.json",
                required("organisations.json")?,
            )?,
            strategy: parse::<StrategyPart>("strategy.json", required("strategy.json")?)?,
            dispositifs: parse::<DispositifsPart>(
                "dispositifs.json",
                required("dispositifs.json")?,
            )?,
            tfpb: text_of("tfpb_axes.json")
                .map(|text| parse::<TfpbPart>("tfpb_axes.json", text))
                .transpose()?,
        };
        referential.check()?;
        let (content_hash, digests) = hash_files(files);
        Ok(LoadedContract {
            referential,
            content_hash,
            files: digests,
        })
    }

    /// The command that publishes this referential.
    pub fn publish_command(&self) -> LedgerCommand {
        LedgerCommand::Contract(ContractCommand::Publish {
            referential: Box::new(self.referential.clone()),
            content_hash: self.content_hash.clone(),
            files: self.files.clone(),
        })
    }

    /// A command id derived from the contract and its content: publishing the same data twice
    /// is recognised as the same command and records nothing the second time.
    pub fn publish_command_id(&self) -> Uuid {
        let digest = Sha256::digest(
            format!(
                "publish_contract\n{}\n{}",
                self.referential.contract.id, self.content_hash
            )
            .as_bytes(),
        );
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// The business date of the publication: the first day of the contract's period. The contract
    /// covers its whole period (a 2024 dossier filed before the April 2024 approval still refers
    /// to its quartiers and objectifs), so views as of any date of the period see the referential;
    /// the approval itself is the act recorded with it.
    pub fn effective_date(&self) -> NaiveDate {
        let contract = &self.referential.contract;
        NaiveDate::from_ymd_opt(contract.period.start_year, 1, 1)
            .unwrap_or(contract.approval.date)
            .min(contract.approval.date)
    }

    /// Metadata of the publication: the approval's deliberation as the act.
    pub fn publish_meta(&self) -> CommandMeta {
        let approval = &self.referential.contract.approval;
        let reference = approval.deliberation_reference.clone().unwrap_or_else(|| {
            format!(
                "{} du {} — {}",
                approval.body, approval.date, self.referential.contract.name
            )
        });
        CommandMeta {
            actor: Some(Actor::system()),
            effective_date: Some(self.effective_date()),
            act: Some(ActRef {
                kind: ActKind::Deliberation,
                reference,
                date: Some(approval.date),
            }),
            command_id: Some(self.publish_command_id()),
            ..CommandMeta::default()
        }
    }

    /// Records the publication on `ledger`. Idempotent: the same data again returns the first
    /// receipt, marked duplicate.
    pub async fn publish(
        &self,
        ledger: &Ledger,
        defaults: &MetaDefaults,
    ) -> Result<Receipt, CommandError> {
        ledger
            .execute(self.publish_command(), &self.publish_meta(), defaults)
            .await
    }
}

fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, LoadError> {
    serde_json::from_str(text).map_err(|e| LoadError::Parse {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// SHA-256 of each file, and of all of them in [`REFERENTIAL_FILES`] order.
fn hash_files(files: &[(String, String)]) -> (String, Vec<FileDigest>) {
    let mut all = Sha256::new();
    let mut digests = Vec::new();
    for name in REFERENTIAL_FILES {
        let Some((_, text)) = files.iter().find(|(n, _)| n == name) else {
            continue;
        };
        all.update(format!("{name}\n{}\n", text.len()).as_bytes());
        all.update(text.as_bytes());
        digests.push(FileDigest {
            file: name.to_string(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
        });
    }
    (hex::encode(all.finalize()), digests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_contract_loads_and_hashes_stably() {
        let first = LoadedContract::embedded().unwrap();
        let second = LoadedContract::embedded().unwrap();
        assert_eq!(first.content_hash, second.content_hash);
        assert_eq!(first.publish_command_id(), second.publish_command_id());
        assert_eq!(first.files.len(), 7);
        assert_eq!(first.content_hash.len(), 64);
    }
}
