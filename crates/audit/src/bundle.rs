//! The audit bundle: a directory an auditor takes away and re-verifies offline with the binary.
//!
//! ```text
//! DIR/
//!   LISEZMOI.md        in French: what each file and column is, the signed messages, and how
//!                      to re-verify with or without this program
//!   MANIFEST.json      format, exported head (position, hash), and the SHA-256 of every file
//!   MANIFEST.sig       Ed25519 signature of MANIFEST.json's bytes, hex (when a key was given)
//!   SHA256SUMS         the manifest's digests in `sha256sum -c` form (listed in the manifest)
//!   public-key.txt     the ledger's Ed25519 public key, hex (when a key was given)
//!   public-key.pem     the same key as PEM, for openssl (when a key was given)
//!   schemas/events/    the JSON Schemas of every event payload
//!   checkpoint.json    a checkpoint signed at export over the exported head (when a key was given)
//!   checkpoints.jsonl  every checkpoint recorded in the log up to the exported head
//!   events.jsonl       the full log, one row per line, exactly as stored, with its hashes
//!   persons.csv        the names of the persons the events name by pseudonymous id (unless
//!                      left out), as the erasable table holds them at export
//!   referential/       the contract's referential files
//!   reports/*.csv      every report, as of the exported head
//! ```
//!
//! [`verify_bundle`] recomputes the chain of `events.jsonl`, checks every file against the
//! manifest (and nothing unlisted was added), the manifest's signature, and every checkpoint
//! (signature, and the row at its position carrying its hash).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use engagements_projections::Table;
use engagements_store::{ChainChecker, EventRow, Store, VerifyProblem};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::bundle_readme::{lisezmoi, public_key_pem, sha256sums, ReadmeFacts, EVENT_SCHEMAS};
use super::checkpoint::{parse_public_key, Checkpoint, CheckpointEvent, CHECKPOINT_STREAM_ID};
use super::AuditError;

/// The bundle's format tag.
pub const BUNDLE_FORMAT: &str = "engagements/audit-bundle/v1";
/// Longest line of `events.jsonl` read back (a payload is at most 256 KiB, escaped).
const EVENT_LINE_BYTES_MAX: usize = 2 * 1024 * 1024;
/// Most files copied from the referential directory, and their total size.
const REFERENTIAL_FILES_MAX: usize = 1_000;
const REFERENTIAL_BYTES_MAX: u64 = 256 * 1024 * 1024;
/// Rows read per page while exporting.
const EXPORT_PAGE: i64 = 5_000;

const MANIFEST: &str = "MANIFEST.json";
const MANIFEST_SIG: &str = "MANIFEST.sig";
const EVENTS: &str = "events.jsonl";
const PUBLIC_KEY: &str = "public-key.txt";
const CHECKPOINT: &str = "checkpoint.json";
const CHECKPOINTS: &str = "checkpoints.jsonl";
const PUBLIC_KEY_PEM: &str = "public-key.pem";
const README: &str = "LISEZMOI.md";
const SHA256SUMS: &str = "SHA256SUMS";
const PERSONS: &str = "persons.csv";

/// One row of the log in the bundle: every stored column, as hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleRow {
    pub position: i64,
    pub event_id: String,
    pub stream_type: String,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub command_id: String,
    pub payload: String,
    pub metadata: String,
    pub recorded_at: i64,
    pub prev_hash: String,
    pub hash: String,
}

impl From<EventRow> for BundleRow {
    fn from(r: EventRow) -> Self {
        BundleRow {
            position: r.position,
            event_id: r.event_id,
            stream_type: r.stream_type,
            stream_id: r.stream_id,
            version: r.version,
            event_type: r.event_type,
            schema_version: r.schema_version,
            command_id: r.command_id,
            payload: r.payload,
            metadata: r.metadata,
            recorded_at: r.recorded_at,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

impl From<BundleRow> for EventRow {
    fn from(r: BundleRow) -> Self {
        EventRow {
            position: r.position,
            event_id: r.event_id,
            stream_type: r.stream_type,
            stream_id: r.stream_id,
            version: r.version,
            event_type: r.event_type,
            schema_version: r.schema_version,
            command_id: r.command_id,
            payload: r.payload,
            metadata: r.metadata,
            recorded_at: r.recorded_at,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// One file listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Relative path, `/`-separated.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// `MANIFEST.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub exported_at: String,
    pub events: i64,
    pub position_last: i64,
    pub head_hash: String,
    pub files: Vec<ManifestFile>,
}

/// What goes into a bundle besides the log.
pub struct BundleContents<'a> {
    /// The referential directory to copy (its files, recursively).
    pub referential_dir: Option<&'a Path>,
    /// Signs the manifest and a checkpoint over the exported head.
    pub key: Option<&'a SigningKey>,
    /// Every report as of the exported head.
    pub reports: Vec<Table>,
    /// The exported head: rows after it are left out (the log may grow while exporting).
    pub position_last: i64,
    /// Include `persons.csv`, the names of the persons the events name by pseudonymous id.
    pub persons: bool,
}

/// Writes the bundle into `out` (created; must be new or empty). Returns its manifest.
pub async fn export_bundle(
    store: &Store,
    out: &Path,
    contents: BundleContents<'_>,
) -> Result<Manifest, AuditError> {
    prepare_dir(out)?;
    let mut writer = BundleWriter {
        root: out.to_path_buf(),
        files: Vec::new(),
    };
    let exported = writer.write_events(store, contents.position_last).await?;
    let (events, head_hash, checkpoints) =
        (exported.events, exported.head_hash, exported.checkpoints);
    if contents.persons {
        let ids: Vec<String> = exported.person_ids.into_iter().collect();
        let persons = store.persons_by_id(&ids).await?;
        writer.write(PERSONS, &persons_csv(&persons)?)?;
    }
    let mut checkpoint_lines = String::new();
    for checkpoint in &checkpoints {
        checkpoint_lines += &(serde_json::to_string(checkpoint)? + "\n");
    }
    writer.write(CHECKPOINTS, checkpoint_lines.as_bytes())?;
    if let Some(key) = contents.key {
        writer.write(
            PUBLIC_KEY,
            format!("{}\n", hex::encode(key.verifying_key().as_bytes())).as_bytes(),
        )?;
        writer.write(
            PUBLIC_KEY_PEM,
            public_key_pem(key.verifying_key().as_bytes()).as_bytes(),
        )?;
        if events > 0 {
            let checkpoint = Checkpoint::sign(key, contents.position_last, &head_hash);
            writer.write(
                CHECKPOINT,
                (serde_json::to_string_pretty(&checkpoint)? + "\n").as_bytes(),
            )?;
        }
    }
    if let Some(dir) = contents.referential_dir {
        writer.copy_referential(dir)?;
    }
    for table in &contents.reports {
        writer.write(&format!("reports/{}.csv", table.name), &table_csv(table)?)?;
    }
    for (file, text) in EVENT_SCHEMAS {
        writer.write(&format!("schemas/events/{file}"), text.as_bytes())?;
    }
    let facts = ReadmeFacts {
        position_last: contents.position_last,
        head_hash: &head_hash,
        signed: contents.key.is_some(),
        reports: &contents.reports,
    };
    writer.write(README, lisezmoi(&facts).as_bytes())?;
    // Last of the listed files: the digests of all the others, for `sha256sum -c`.
    let sums = sha256sums(&writer.files);
    writer.write(SHA256SUMS, sums.as_bytes())?;
    let manifest = Manifest {
        format: BUNDLE_FORMAT.to_string(),
        exported_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        events,
        position_last: contents.position_last,
        head_hash,
        files: writer.files.clone(),
    };
    let manifest_text = serde_json::to_string_pretty(&manifest)? + "\n";
    write_file(&out.join(MANIFEST), manifest_text.as_bytes())?;
    if let Some(key) = contents.key {
        let signature = key.sign(manifest_text.as_bytes());
        write_file(
            &out.join(MANIFEST_SIG),
            format!("{}\n", hex::encode(signature.to_bytes())).as_bytes(),
        )?;
    }
    Ok(manifest)
}

fn prepare_dir(out: &Path) -> Result<(), AuditError> {
    std::fs::create_dir_all(out).map_err(|e| AuditError::io(out, e))?;
    let mut entries = std::fs::read_dir(out).map_err(|e| AuditError::io(out, e))?;
    if entries.next().is_some() {
        return Err(AuditError::DirectoryNotEmpty(out.to_path_buf()));
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| AuditError::io(parent, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| AuditError::io(path, e))
}

/// What streaming the log into the bundle found.
struct ExportedEvents {
    events: i64,
    head_hash: String,
    checkpoints: Vec<Checkpoint>,
    /// The pseudonymous ids of the persons the events name.
    person_ids: BTreeSet<String>,
}

/// The person ids a row's metadata names (operator, on whose behalf).
fn persons_named(metadata: &str) -> Vec<String> {
    let Ok(metadata) = serde_json::from_str::<serde_json::Value>(metadata) else {
        return Vec::new();
    };
    ["actor", "on_behalf_of"]
        .iter()
        .filter_map(|key| metadata[*key]["person"].as_str())
        .filter(|person| engagements_store::persons::is_person_id(person))
        .map(str::to_string)
        .collect()
}

/// `persons.csv`: `person_id,name,erased_at` (an erased person has no name).
fn persons_csv(
    persons: &BTreeMap<String, engagements_store::persons::PersonRecord>,
) -> Result<Vec<u8>, AuditError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| AuditError::LimitExceeded(format!("CSV of {PERSONS}: {e}"));
    writer
        .write_record(["person_id", "name", "erased_at"])
        .map_err(csv_error)?;
    for person in persons.values() {
        let erased_at = person
            .erased_at
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_default();
        writer
            .write_record([
                person.person_id.as_str(),
                person.name.as_deref().unwrap_or(""),
                erased_at.as_str(),
            ])
            .map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| AuditError::LimitExceeded(format!("CSV of {PERSONS}: {e}")))
}

struct BundleWriter {
    root: PathBuf,
    files: Vec<ManifestFile>,
}

impl BundleWriter {
    fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<(), AuditError> {
        write_file(&self.root.join(relative), bytes)?;
        self.files.push(ManifestFile {
            path: relative.to_string(),
            sha256: hex::encode(Sha256::digest(bytes)),
            bytes: bytes.len() as u64,
        });
        Ok(())
    }

    /// Streams the log into `events.jsonl`.
    async fn write_events(
        &mut self,
        store: &Store,
        position_last: i64,
    ) -> Result<ExportedEvents, AuditError> {
        let path = self.root.join(EVENTS);
        let file = std::fs::File::create(&path).map_err(|e| AuditError::io(&path, e))?;
        let mut out = BufWriter::new(file);
        let mut hasher = Sha256::new();
        let (mut events, mut bytes) = (0i64, 0u64);
        let mut head_hash = engagements_store::hash::GENESIS_HASH.to_string();
        let mut checkpoints = Vec::new();
        let mut person_ids = BTreeSet::new();
        let mut from = 1;
        while from <= position_last {
            let rows = store
                .read_rows(from, EXPORT_PAGE.min(position_last - from + 1))
                .await?;
            let Some(last) = rows.last() else { break };
            from = last.position + 1;
            for row in rows {
                if row.stream_id == CHECKPOINT_STREAM_ID {
                    if let Ok(CheckpointEvent::CheckpointSigned { checkpoint }) =
                        serde_json::from_str(&row.payload)
                    {
                        checkpoints.push(checkpoint);
                    }
                }
                person_ids.extend(persons_named(&row.metadata));
                head_hash = row.hash.clone();
                let line = serde_json::to_string(&BundleRow::from(row))? + "\n";
                hasher.update(line.as_bytes());
                bytes += line.len() as u64;
                events += 1;
                out.write_all(line.as_bytes())
                    .map_err(|e| AuditError::io(&path, e))?;
            }
        }
        out.flush().map_err(|e| AuditError::io(&path, e))?;
        self.files.push(ManifestFile {
            path: EVENTS.to_string(),
            sha256: hex::encode(hasher.finalize()),
            bytes,
        });
        Ok(ExportedEvents {
            events,
            head_hash,
            checkpoints,
            person_ids,
        })
    }

    fn copy_referential(&mut self, dir: &Path) -> Result<(), AuditError> {
        let mut files = Vec::new();
        collect_files(dir, dir, &mut files)?;
        files.sort();
        let mut total = 0u64;
        for (relative, path) in files {
            let bytes = std::fs::read(&path).map_err(|e| AuditError::io(&path, e))?;
            total += bytes.len() as u64;
            if total > REFERENTIAL_BYTES_MAX {
                return Err(AuditError::LimitExceeded(format!(
                    "the referential {} is larger than {REFERENTIAL_BYTES_MAX} bytes",
                    dir.display()
                )));
            }
            self.write(&format!("referential/{relative}"), &bytes)?;
        }
        Ok(())
    }
}

/// Every regular file under `dir`, as (relative `/`-separated path, full path).
fn collect_files(
    root: &Path,
    dir: &Path,
    files: &mut Vec<(String, PathBuf)>,
) -> Result<(), AuditError> {
    let entries = std::fs::read_dir(dir).map_err(|e| AuditError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| AuditError::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| AuditError::io(&path, e))?;
        if kind.is_dir() {
            collect_files(root, &path, files)?;
        } else if kind.is_file() {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, path));
            if files.len() > REFERENTIAL_FILES_MAX {
                return Err(AuditError::LimitExceeded(format!(
                    "the referential {} has more than {REFERENTIAL_FILES_MAX} files",
                    root.display()
                )));
            }
        }
    }
    Ok(())
}

/// A table as CSV (header line, UTF-8).
pub fn table_csv(table: &Table) -> Result<Vec<u8>, AuditError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_error =
        |e: csv::Error| AuditError::LimitExceeded(format!("CSV of {}: {e}", table.name));
    writer.write_record(&table.columns).map_err(csv_error)?;
    for row in &table.rows {
        writer
            .write_record(row.iter().map(|c| c.to_text()))
            .map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| AuditError::LimitExceeded(format!("CSV of {}: {e}", table.name)))
}

/// What the verification of a bundle found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    pub events: i64,
    pub position_last: i64,
    pub head_hash: String,
    /// Whether the manifest carried a valid signature.
    pub signed: bool,
    pub checkpoints_checked: usize,
    /// Every problem found; empty when the bundle is intact.
    pub problems: Vec<String>,
}

impl BundleReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies a bundle offline. `trusted` is a public key the auditor obtained separately; `kept`
/// are checkpoints the auditor kept. Errors only when the bundle cannot be read at all.
pub fn verify_bundle(
    dir: &Path,
    trusted: Option<&VerifyingKey>,
    kept: &[Checkpoint],
) -> Result<BundleReport, AuditError> {
    let manifest_path = dir.join(MANIFEST);
    let manifest_text =
        std::fs::read_to_string(&manifest_path).map_err(|e| AuditError::io(&manifest_path, e))?;
    let mut problems = Vec::new();
    let manifest: Option<Manifest> = match serde_json::from_str(&manifest_text) {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(format!("{MANIFEST} does not parse: {e}"));
            None
        }
    };
    if let Some(manifest) = &manifest {
        check_files(dir, manifest, &mut problems)?;
    }
    let key = bundle_key(dir, trusted, &mut problems);
    let signed = check_manifest_signature(dir, &manifest_text, key.as_ref(), &mut problems);
    let (report, hashes) = check_events(dir)?;
    if let Some(problem) = &report.problem {
        problems.push(format!(
            "{EVENTS}: position {}: {}",
            problem.position, problem.what
        ));
    }
    if let Some(m) = &manifest {
        if m.position_last != report.position_last || m.head_hash != report.head_hash {
            problems.push(format!(
                "{EVENTS} ends at position {} ({}), the manifest says {} ({})",
                report.position_last, report.head_hash, m.position_last, m.head_hash
            ));
        }
    }
    let mut checkpoints = read_bundle_checkpoints(dir, &mut problems);
    checkpoints.extend(
        kept.iter()
            .cloned()
            .map(|c| ("kept checkpoint".to_string(), c)),
    );
    for (origin, checkpoint) in &checkpoints {
        let trusted_key = if origin == "kept checkpoint" {
            trusted
        } else {
            key.as_ref().or(trusted)
        };
        if let Err(what) = checkpoint.check_signature(trusted_key) {
            problems.push(format!(
                "{origin} at position {}: {what}",
                checkpoint.position
            ));
        } else if hashes.get(&checkpoint.position) != Some(&checkpoint.head_hash) {
            problems.push(format!(
                "{origin} at position {}: the bundle's row there does not carry the signed hash {}: history was changed",
                checkpoint.position, checkpoint.head_hash
            ));
        }
    }
    Ok(BundleReport {
        events: report.events,
        position_last: report.position_last,
        head_hash: report.head_hash,
        signed,
        checkpoints_checked: checkpoints.len(),
        problems,
    })
}

fn check_files(
    dir: &Path,
    manifest: &Manifest,
    problems: &mut Vec<String>,
) -> Result<(), AuditError> {
    let mut listed = BTreeMap::new();
    for file in &manifest.files {
        listed.insert(file.path.clone(), file);
        let path = dir.join(&file.path);
        match hash_file(&path) {
            Ok(sha256) if sha256 == file.sha256 => {}
            Ok(_) => problems.push(format!(
                "{}: its SHA-256 differs from the manifest: the file was changed",
                file.path
            )),
            Err(_) => problems.push(format!("{}: listed in the manifest but missing", file.path)),
        }
    }
    let mut present = Vec::new();
    collect_files(dir, dir, &mut present)?;
    for (relative, _) in present {
        if relative != MANIFEST && relative != MANIFEST_SIG && !listed.contains_key(&relative) {
            problems.push(format!(
                "{relative}: not listed in the manifest: the file was added"
            ));
        }
    }
    Ok(())
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// The key the bundle names, checked against the trusted one when given.
fn bundle_key(
    dir: &Path,
    trusted: Option<&VerifyingKey>,
    problems: &mut Vec<String>,
) -> Option<VerifyingKey> {
    let text = std::fs::read_to_string(dir.join(PUBLIC_KEY)).ok()?;
    match parse_public_key(&text) {
        Ok(key) => {
            if trusted.is_some_and(|t| t != &key) {
                problems.push(format!("{PUBLIC_KEY} is not the trusted public key"));
            }
            Some(key)
        }
        Err(e) => {
            problems.push(format!("{PUBLIC_KEY}: {e}"));
            None
        }
    }
}

fn check_manifest_signature(
    dir: &Path,
    manifest_text: &str,
    key: Option<&VerifyingKey>,
    problems: &mut Vec<String>,
) -> bool {
    let signature = std::fs::read_to_string(dir.join(MANIFEST_SIG)).ok();
    match (signature, key) {
        (None, None) => false,
        (None, Some(_)) => {
            problems.push(format!(
                "{MANIFEST_SIG} is missing although the bundle has a public key"
            ));
            false
        }
        (Some(_), None) => {
            problems.push(format!(
                "{MANIFEST_SIG} is present but there is no public key to check it"
            ));
            false
        }
        (Some(signature), Some(key)) => {
            let bytes: Option<[u8; 64]> = hex::decode(signature.trim())
                .ok()
                .and_then(|b| b.try_into().ok());
            let valid = bytes.is_some_and(|b| {
                key.verify(manifest_text.as_bytes(), &Signature::from_bytes(&b))
                    .is_ok()
            });
            if !valid {
                problems.push(format!(
                    "{MANIFEST_SIG} does not match {MANIFEST}: the manifest was changed"
                ));
            }
            valid
        }
    }
}

/// Recomputes the chain of `events.jsonl`; returns the report and each position's hash.
fn check_events(
    dir: &Path,
) -> Result<(engagements_store::VerifyReport, BTreeMap<i64, String>), AuditError> {
    let path = dir.join(EVENTS);
    let file = std::fs::File::open(&path).map_err(|e| AuditError::io(&path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let mut checker = ChainChecker::default();
    let mut hashes = BTreeMap::new();
    let mut line = String::new();
    let mut line_number = 0i64;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(EVENT_LINE_BYTES_MAX as u64 + 1)
            .read_line(&mut line)
            .map_err(|e| AuditError::io(&path, e))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        let problem = |what: String| VerifyProblem {
            position: line_number,
            what,
        };
        if read > EVENT_LINE_BYTES_MAX {
            let report = checker.report(Some(problem(format!(
                "line {line_number} is longer than {EVENT_LINE_BYTES_MAX} bytes"
            ))));
            return Ok((report, hashes));
        }
        let row: BundleRow = match serde_json::from_str(line.trim_end()) {
            Ok(row) => row,
            Err(e) => {
                return Ok((
                    checker.report(Some(problem(format!(
                        "line {line_number} does not parse: {e}"
                    )))),
                    hashes,
                ))
            }
        };
        let row = EventRow::from(row);
        if let Err(what) = checker.check(&row) {
            let position = row.position;
            return Ok((
                checker.report(Some(VerifyProblem { position, what })),
                hashes,
            ));
        }
        hashes.insert(row.position, row.hash);
    }
    Ok((checker.report(None), hashes))
}

fn read_bundle_checkpoints(dir: &Path, problems: &mut Vec<String>) -> Vec<(String, Checkpoint)> {
    let mut checkpoints = Vec::new();
    if let Ok(text) = std::fs::read_to_string(dir.join(CHECKPOINT)) {
        match serde_json::from_str(&text) {
            Ok(c) => checkpoints.push((CHECKPOINT.to_string(), c)),
            Err(e) => problems.push(format!("{CHECKPOINT} does not parse: {e}")),
        }
    }
    if let Ok(text) = std::fs::read_to_string(dir.join(CHECKPOINTS)) {
        for (index, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match serde_json::from_str(line) {
                Ok(c) => checkpoints.push((format!("{CHECKPOINTS} line {}", index + 1), c)),
                Err(e) => problems.push(format!(
                    "{CHECKPOINTS} line {} does not parse: {e}",
                    index + 1
                )),
            }
        }
    }
    checkpoints
}

/// Every report of the ledger, for the bundle: the views of each family, and the findings.
/// `today` is the reference date of the reports with deadlines.
pub fn all_reports(
    projections: &engagements_projections::Projections,
    findings: &[super::findings::Finding],
    today: chrono::NaiveDate,
) -> Vec<Table> {
    let p = projections;
    let tfpb = engagements_projections::tfpb::TfpbFilter::default();
    vec![
        p.subsidy.dossiers_table(None),
        p.subsidy.signatory_table(None, &p.referential),
        p.subsidy.quartier_table(None, &p.referential),
        p.subsidy.objective_table(None, &p.referential),
        p.subsidy.commune_table(None, &p.referential),
        p.subsidy.porteur_table(None, &p.porteurs),
        p.commitments.commitments_table(None, None),
        p.commitments.quartiers_table(None),
        p.commitments.totals_table(),
        p.commitments.indicators_table(None, None),
        p.tfpb.bailleur_table(&tfpb, today),
        p.tfpb.quartier_table(&tfpb, today),
        p.tfpb.axis_table(&tfpb, today),
        p.tfpb.flags_table(&tfpb, today),
        p.tfpb.actions_table(&tfpb),
        super::findings::findings_table(findings),
    ]
}
