//! Recording that an export was published: the file's digest, what it lists, when and by whom,
//! as a `record_publication` command, so that the ledger itself knows which grants are published
//! (finding `grant-not-published`).

use chrono::NaiveDate;
use engagements_domain::publication::{PublicationFormat, Published};
use engagements_domain::{DossierId, LedgerCommand};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use engagements_app::auth::Principal;
use engagements_app::{CommandError, CommandMeta, Ledger, MetaDefaults, Receipt};

/// A file about to be recorded as published.
#[derive(Debug, Clone)]
pub struct PublishedFile<'a> {
    pub format: PublicationFormat,
    pub attribuant: &'a str,
    pub exercice: i32,
    /// The dossiers whose grants the file lists, one or more rows each.
    pub dossiers: Vec<DossierId>,
    pub rows: u32,
    /// The file's bytes, exactly as published.
    pub bytes: &'a [u8],
    pub file_name: &'a str,
    pub published_on: NaiveDate,
}

impl PublishedFile<'_> {
    /// SHA-256 of the file, lowercase hex.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.bytes))
    }

    /// The publication as a command. Its id (and the command's) follows from the attribuant,
    /// the exercice, the file's digest and the day: recording the same file the same day twice
    /// records it once.
    pub fn published(&self) -> Published {
        let sha256 = self.sha256();
        Published {
            publication_id: derived_id(&[
                self.attribuant,
                &self.exercice.to_string(),
                &sha256,
                &self.published_on.to_string(),
            ]),
            format: self.format,
            attribuant: self.attribuant.to_string(),
            exercice: self.exercice,
            rows: self.rows,
            dossiers: self.dossiers.clone(),
            sha256,
            file_name: self.file_name.to_string(),
            published_on: self.published_on,
        }
    }
}

/// Records the publication of `file`, sent by `principal` (the authorization table applies:
/// a financeur's staff records its own publications).
pub async fn record_publication(
    ledger: &Ledger,
    principal: &Principal,
    file: &PublishedFile<'_>,
    defaults: &MetaDefaults,
) -> Result<Receipt, CommandError> {
    let published = file.published();
    let meta = CommandMeta {
        command_id: Some(published.publication_id),
        ..CommandMeta::default()
    };
    let command = LedgerCommand::Publication(published.command());
    ledger.execute_as(principal, command, &meta, defaults).await
}

/// A UUID (version 8, custom) from the SHA-256 of `parts`, each preceded by its length.
fn derived_id(parts: &[&str]) -> Uuid {
    let mut hasher = Sha256::new();
    hasher.update(b"engagements/publication/v1");
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(bytes: &[u8], on: u32) -> PublishedFile<'_> {
        PublishedFile {
            format: PublicationFormat::ScdlSubventions,
            attribuant: "cabbalr",
            exercice: 2025,
            dossiers: Vec::new(),
            rows: 0,
            bytes,
            file_name: "scdl.csv",
            published_on: NaiveDate::from_ymd_opt(2025, 7, on).unwrap(),
        }
    }

    #[test]
    fn the_same_file_the_same_day_is_one_publication() {
        assert_eq!(
            file(b"a", 1).published().publication_id,
            file(b"a", 1).published().publication_id
        );
        assert_ne!(
            file(b"a", 1).published().publication_id,
            file(b"b", 1).published().publication_id
        );
        assert_ne!(
            file(b"a", 1).published().publication_id,
            file(b"a", 2).published().publication_id
        );
        assert_eq!(
            file(b"abc", 1).sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
