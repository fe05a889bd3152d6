//! Checkpoints published outside the database: a file of JSON lines, one signed checkpoint per
//! line, that the operator ships elsewhere (another machine, a mail to the auditors, a webhook,
//! a timestamping authority: see `docs/audit.md`).
//!
//! Someone able to rewrite the database can also delete the checkpoints recorded in it, together
//! with the tail of the log they cover. A checkpoint that left the database cannot be recalled:
//! `engagements verify --checkpoints FILE` proves the log still extends every line of the file.

use std::io::Write;
use std::path::Path;

use super::checkpoint::{read_small, Checkpoint};
use super::AuditError;

/// Largest file of published checkpoints read (about 100,000 checkpoints).
const PUBLISHED_FILE_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// Appends `checkpoint` as one JSON line to `path` (created if missing), and waits until the
/// line is on disk: a checkpoint reported published is published.
pub fn publish(checkpoint: &Checkpoint, path: &Path) -> Result<(), AuditError> {
    let line = serde_json::to_string(checkpoint)? + "\n";
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| AuditError::io(path, e))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| AuditError::io(path, e))
}

/// Reads a file of published checkpoints (one JSON object per line; blank lines are skipped).
/// A line that is not a checkpoint is an error naming the line: a damaged file is not read as a
/// shorter one.
pub fn read_published(path: &Path) -> Result<Vec<Checkpoint>, AuditError> {
    let text = read_small(path, PUBLISHED_FILE_BYTES_MAX)?;
    let mut checkpoints = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let checkpoint = serde_json::from_str(line).map_err(|e| AuditError::BadCheckpoint {
            path: path.to_path_buf(),
            reason: format!("line {}: {e}", index + 1),
        })?;
        checkpoints.push(checkpoint);
    }
    if checkpoints.is_empty() {
        return Err(AuditError::BadCheckpoint {
            path: path.to_path_buf(),
            reason: "the file holds no checkpoint".to_string(),
        });
    }
    Ok(checkpoints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::SigningKey;

    #[test]
    fn published_lines_are_appended_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("published.jsonl");
        let key = SigningKey::from_bytes(&[7; 32]);
        let first = Checkpoint::sign(&key, 10, &"a".repeat(64));
        let second = Checkpoint::sign(&key, 20, &"b".repeat(64));
        publish(&first, &path).unwrap();
        publish(&second, &path).unwrap();
        assert_eq!(read_published(&path).unwrap(), vec![first, second]);
    }

    #[test]
    fn a_damaged_line_is_named_and_an_empty_file_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("published.jsonl");
        let key = SigningKey::from_bytes(&[7; 32]);
        publish(&Checkpoint::sign(&key, 10, &"a".repeat(64)), &path).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"{\"position\": 3}\n").unwrap();
        let error = read_published(&path).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
        std::fs::write(&path, "\n").unwrap();
        let error = read_published(&path).unwrap_err().to_string();
        assert!(error.contains("no checkpoint"), "{error}");
    }
}
