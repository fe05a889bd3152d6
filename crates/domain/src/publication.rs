//! Publications: the open-data files a financeur publishes about its grants (SCDL subventions,
//! décret 2017-779), recorded so that the ledger knows which grants were published, when, by
//! whom, and in which file (its SHA-256).
//!
//! A grant above 23,000 € must be published within 3 months of its convention; the finding
//! `grant-not-published` clears once a recorded publication of its financeur names its dossier.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::DomainEvent;
use crate::ids::DossierId;

/// Most dossiers one publication may name (a year of a financeur's grants fits many times).
pub const PUBLICATION_DOSSIERS_MAX: usize = 100_000;
/// Longest file name recorded.
pub const FILE_NAME_CHARS_MAX: usize = 255;

/// The open-data format of a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublicationFormat {
    /// SCDL subventions v2.1.1 (CSV, 16 columns).
    ScdlSubventions,
}

/// What was published: the financeur (attribuant), the exercice, the file and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub publication_id: Uuid,
    pub format: PublicationFormat,
    /// The financeur whose grants the file lists (an organisation id of the referential).
    pub attribuant: String,
    pub exercice: i32,
    /// Rows of the file (one per grant line).
    pub rows: u32,
    /// The dossiers whose grants the file lists.
    pub dossiers: Vec<DossierId>,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// The file's name as published.
    pub file_name: String,
    /// The day it was published.
    pub published_on: NaiveDate,
}

/// Commands on a publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum PublicationCommand {
    /// Records that a file was published (written by `engagements export scdl --publish`).
    #[serde(rename = "record_publication")]
    Record {
        publication_id: Uuid,
        format: PublicationFormat,
        /// The financeur whose grants the file lists (an organisation id of the referential).
        attribuant: String,
        exercice: i32,
        /// Rows of the file (one per grant line).
        rows: u32,
        /// The dossiers whose grants the file lists.
        dossiers: Vec<DossierId>,
        /// SHA-256 of the file's bytes, lowercase hex.
        sha256: String,
        /// The file's name as published.
        file_name: String,
        /// The day it was published.
        published_on: NaiveDate,
    },
}

impl PublicationCommand {
    /// What the command says was published.
    pub fn published(&self) -> Published {
        let PublicationCommand::Record {
            publication_id,
            format,
            attribuant,
            exercice,
            rows,
            dossiers,
            sha256,
            file_name,
            published_on,
        } = self;
        Published {
            publication_id: *publication_id,
            format: *format,
            attribuant: attribuant.clone(),
            exercice: *exercice,
            rows: *rows,
            dossiers: dossiers.clone(),
            sha256: sha256.clone(),
            file_name: file_name.clone(),
            published_on: *published_on,
        }
    }

    /// The publication's stream id.
    pub fn stream_id(&self) -> String {
        let PublicationCommand::Record { publication_id, .. } = self;
        stream_id(*publication_id)
    }

    /// The financeur whose grants it publishes.
    pub fn attribuant(&self) -> &str {
        let PublicationCommand::Record { attribuant, .. } = self;
        attribuant
    }
}

impl Published {
    /// The command that records this publication.
    pub fn command(self) -> PublicationCommand {
        PublicationCommand::Record {
            publication_id: self.publication_id,
            format: self.format,
            attribuant: self.attribuant,
            exercice: self.exercice,
            rows: self.rows,
            dossiers: self.dossiers,
            sha256: self.sha256,
            file_name: self.file_name,
            published_on: self.published_on,
        }
    }

    fn event(self) -> PublicationEvent {
        PublicationEvent::OpenDataPublished {
            publication_id: self.publication_id,
            format: self.format,
            attribuant: self.attribuant,
            exercice: self.exercice,
            rows: self.rows,
            dossiers: self.dossiers,
            sha256: self.sha256,
            file_name: self.file_name,
            published_on: self.published_on,
        }
    }
}

/// The stream of a publication.
pub fn stream_id(publication_id: Uuid) -> String {
    format!("publication-{publication_id}")
}

/// Facts about a publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum PublicationEvent {
    /// An open-data file was published (its type ends in `Published`, as findings expect).
    OpenDataPublished {
        publication_id: Uuid,
        format: PublicationFormat,
        /// The financeur whose grants the file lists (an organisation id of the referential).
        attribuant: String,
        exercice: i32,
        /// Rows of the file (one per grant line).
        rows: u32,
        /// The dossiers whose grants the file lists.
        dossiers: Vec<DossierId>,
        /// SHA-256 of the file's bytes, lowercase hex.
        sha256: String,
        /// The file's name as published.
        file_name: String,
        /// The day it was published.
        published_on: NaiveDate,
    },
}

impl DomainEvent for PublicationEvent {
    const STREAM_TYPE: &'static str = "publication";
    crate::event_names!(PublicationEvent { OpenDataPublished });
}

/// Why a publication command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicationError {
    #[error("publication {0} is already recorded")]
    AlreadyRecorded(Uuid),
    #[error("sha256 '{0}' is not 64 lowercase hexadecimal characters")]
    BadDigest(String),
    #[error("the file name is empty, longer than {FILE_NAME_CHARS_MAX} characters or holds a '/'")]
    BadFileName,
    #[error("the publication names {0} dossiers, at most {PUBLICATION_DOSSIERS_MAX} are accepted")]
    TooManyDossiers(usize),
    #[error("the publication names {dossiers} dossiers but has {rows} rows: each dossier is at least one row")]
    FewerRowsThanDossiers { rows: u32, dossiers: usize },
    #[error("exercice {0} is outside 2000..=2100")]
    BadExercice(i32),
}

/// What the ledger knows of a publication.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublicationState {
    pub recorded: Option<Published>,
}

/// The publication aggregate.
pub struct Publication;

impl esrs::Aggregate for Publication {
    const NAME: &'static str = "publication";
    type State = PublicationState;
    type Command = PublicationCommand;
    type Event = PublicationEvent;
    type Error = PublicationError;

    fn handle_command(
        state: &PublicationState,
        command: PublicationCommand,
    ) -> Result<Vec<PublicationEvent>, PublicationError> {
        let publication = command.published();
        if state.recorded.is_some() {
            return Err(PublicationError::AlreadyRecorded(
                publication.publication_id,
            ));
        }
        check(&publication)?;
        Ok(vec![publication.event()])
    }

    fn apply_event(mut state: PublicationState, event: PublicationEvent) -> PublicationState {
        let PublicationEvent::OpenDataPublished {
            publication_id,
            format,
            attribuant,
            exercice,
            rows,
            dossiers,
            sha256,
            file_name,
            published_on,
        } = event;
        state.recorded = Some(Published {
            publication_id,
            format,
            attribuant,
            exercice,
            rows,
            dossiers,
            sha256,
            file_name,
            published_on,
        });
        state
    }
}

fn check(publication: &Published) -> Result<(), PublicationError> {
    let digest = &publication.sha256;
    if digest.len() != 64
        || !digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(PublicationError::BadDigest(digest.clone()));
    }
    let name = publication.file_name.trim();
    if name.is_empty()
        || name.chars().count() > FILE_NAME_CHARS_MAX
        || name.contains('/')
        || name.chars().any(char::is_control)
    {
        return Err(PublicationError::BadFileName);
    }
    let dossiers = publication.dossiers.len();
    if dossiers > PUBLICATION_DOSSIERS_MAX {
        return Err(PublicationError::TooManyDossiers(dossiers));
    }
    if (publication.rows as usize) < dossiers {
        return Err(PublicationError::FewerRowsThanDossiers {
            rows: publication.rows,
            dossiers,
        });
    }
    if !(2000..=2100).contains(&publication.exercice) {
        return Err(PublicationError::BadExercice(publication.exercice));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use esrs::Aggregate;

    fn published() -> Published {
        Published {
            publication_id: Uuid::now_v7(),
            format: PublicationFormat::ScdlSubventions,
            attribuant: "cabbalr".into(),
            exercice: 2025,
            rows: 2,
            dossiers: vec![DossierId::new()],
            sha256: "ab".repeat(32),
            file_name: "scdl-cabbalr-2025.csv".into(),
            published_on: NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
        }
    }

    fn record(publication: Published) -> PublicationCommand {
        publication.command()
    }

    #[test]
    fn a_publication_is_recorded_once() {
        let command = record(published());
        let events =
            Publication::handle_command(&PublicationState::default(), command.clone()).unwrap();
        let state = events
            .into_iter()
            .fold(PublicationState::default(), Publication::apply_event);
        assert!(matches!(
            Publication::handle_command(&state, command),
            Err(PublicationError::AlreadyRecorded(_))
        ));
    }

    #[test]
    fn a_bad_digest_name_or_count_is_refused() {
        let empty = PublicationState::default();
        let mut bad = published();
        bad.sha256 = "AB".repeat(32);
        assert!(matches!(
            Publication::handle_command(&empty, record(bad)),
            Err(PublicationError::BadDigest(_))
        ));
        let mut bad = published();
        bad.file_name = "../etc/passwd".into();
        assert_eq!(
            Publication::handle_command(&empty, record(bad)),
            Err(PublicationError::BadFileName)
        );
        let mut bad = published();
        bad.rows = 0;
        assert!(matches!(
            Publication::handle_command(&empty, record(bad)),
            Err(PublicationError::FewerRowsThanDossiers { .. })
        ));
    }

    #[test]
    fn the_wire_form_is_flat() {
        let command: PublicationCommand = serde_json::from_value(serde_json::json!({
            "command": "record_publication",
            "publication_id": "0190f2a0-0000-7000-8000-000000000001",
            "format": "scdl_subventions",
            "attribuant": "cabbalr",
            "exercice": 2025,
            "rows": 1,
            "dossiers": ["0190f2a0-0000-7000-8000-000000000002"],
            "sha256": "ab".repeat(32),
            "file_name": "scdl.csv",
            "published_on": "2025-07-01"
        }))
        .unwrap();
        assert_eq!(command.attribuant(), "cabbalr");
    }
}
