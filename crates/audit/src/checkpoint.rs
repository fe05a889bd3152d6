//! Signed checkpoints: an Ed25519 signature over (position, head hash) that an auditor keeps, so
//! that later they can prove the log still extends what they saw, however it is stored.
//!
//! The hash chain alone proves that rows agree with each other; someone able to rewrite the whole
//! table could recompute every hash. A checkpoint kept outside the ledger closes that door: the
//! row at the checkpoint's position must still carry the signed hash, and the chain up to it must
//! still be intact.
//!
//! The signed message is the ASCII tag `engagements/checkpoint/v1` followed by the position
//! (decimal), the head hash (hex) and the signing time (RFC 3339, as written in the checkpoint),
//! each preceded by its length in bytes (8 bytes, big-endian), as in the event hash.
//!
//! The log records its own signing key and checkpoints (stream [`CHECKPOINT_STREAM_ID`]): the key
//! is recorded by `engagements keys init` (or, failing that, by the first checkpoint, whose key
//! becomes the ledger's); a new key is recorded only by a rotation endorsed by the previous key
//! (`engagements keys rotate`). [`check_recorded`] (run by every `verify`) checks each recorded
//! checkpoint against the key in force when it was recorded and against the log, and
//! [`record_checkpoint`] refuses to sign a head that does not extend the last one.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, Verifier};
use engagements_domain::event::DomainEvent;
use engagements_domain::Metadata;
use engagements_store::{AppendRequest, ExpectedVersion, NewEvent, Store};
use serde::{Deserialize, Serialize};

use super::AuditError;

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// The version tag of checkpoints and of their signed message.
pub const CHECKPOINT_FORMAT: &str = "engagements/checkpoint/v1";
/// The stream where recorded checkpoints are kept in the log itself.
pub const CHECKPOINT_STREAM_ID: &str = "checkpoints";
/// Largest checkpoint file read (a checkpoint is a few hundred bytes).
const CHECKPOINT_FILE_BYTES_MAX: u64 = 64 * 1024;

/// A signed statement: "the log's event at `position` has hash `head_hash`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Always [`CHECKPOINT_FORMAT`].
    pub format: String,
    pub position: i64,
    pub head_hash: String,
    /// When it was signed (RFC 3339, UTC); part of the signed message.
    pub signed_at: String,
    /// The signer's Ed25519 public key, hex.
    pub public_key: String,
    /// Ed25519 signature of the message described in the module docs, hex.
    pub signature: String,
}

/// The events recorded in the log's own stream of checkpoints (stream [`CHECKPOINT_STREAM_ID`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CheckpointEvent {
    /// A checkpoint signed over the log's head at the time.
    CheckpointSigned { checkpoint: Checkpoint },
    /// The ledger's signing key (Ed25519 public key, hex), recorded once.
    SigningKeyRecorded { public_key: String },
    /// A new signing key, endorsed by the key it replaces: `endorsement` is the previous key's
    /// signature of [`rotation_message`].
    SigningKeyRotated {
        previous_public_key: String,
        public_key: String,
        endorsement: String,
    },
}

impl DomainEvent for CheckpointEvent {
    const STREAM_TYPE: &'static str = "checkpoint";
    engagements_domain::event_names!(CheckpointEvent {
        CheckpointSigned,
        SigningKeyRecorded,
        SigningKeyRotated
    });
}

/// The version tag of key rotations and of their endorsed message.
pub const KEY_ROTATION_FORMAT: &str = "engagements/key-rotation/v1";

/// The message the previous key signs to endorse its successor: the tag
/// [`KEY_ROTATION_FORMAT`], then the previous and the new public keys (hex), each preceded by its
/// length in bytes (8 bytes, big-endian).
pub fn rotation_message(previous_public_key: &str, public_key: &str) -> Vec<u8> {
    let mut message = KEY_ROTATION_FORMAT.as_bytes().to_vec();
    for field in [previous_public_key.as_bytes(), public_key.as_bytes()] {
        message.extend_from_slice(&(field.len() as u64).to_be_bytes());
        message.extend_from_slice(field);
    }
    message
}

/// The message a checkpoint's signature covers.
pub fn signed_message(position: i64, head_hash: &str, signed_at: &str) -> Vec<u8> {
    let mut message = CHECKPOINT_FORMAT.as_bytes().to_vec();
    for field in [
        position.to_string().as_bytes(),
        head_hash.as_bytes(),
        signed_at.as_bytes(),
    ] {
        message.extend_from_slice(&(field.len() as u64).to_be_bytes());
        message.extend_from_slice(field);
    }
    message
}

impl Checkpoint {
    /// Signs (position, head hash) now.
    pub fn sign(key: &SigningKey, position: i64, head_hash: &str) -> Checkpoint {
        let signed_at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let signature = key.sign(&signed_message(position, head_hash, &signed_at));
        Checkpoint {
            format: CHECKPOINT_FORMAT.to_string(),
            position,
            head_hash: head_hash.to_string(),
            signed_at,
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Checks the signature with the embedded key, and that this key is `trusted` when given
    /// (an auditor passes the public key they obtained separately). Returns what is wrong.
    pub fn check_signature(&self, trusted: Option<&VerifyingKey>) -> Result<(), String> {
        if self.format != CHECKPOINT_FORMAT {
            return Err(format!("unknown checkpoint format '{}'", self.format));
        }
        let key = parse_public_key(&self.public_key).map_err(|e| e.to_string())?;
        if let Some(trusted) = trusted {
            if trusted != &key {
                return Err(format!(
                    "signed by key {}, not by the trusted key {}",
                    self.public_key,
                    hex::encode(trusted.as_bytes())
                ));
            }
        }
        let bytes: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| "the signature is not 128 hexadecimal characters".to_string())?;
        let message = signed_message(self.position, &self.head_hash, &self.signed_at);
        key.verify(&message, &Signature::from_bytes(&bytes))
            .map_err(|_| "the signature does not match: the checkpoint was altered".to_string())
    }

    /// Reads a checkpoint file (JSON).
    pub fn read(path: &Path) -> Result<Checkpoint, AuditError> {
        let text = read_small(path, CHECKPOINT_FILE_BYTES_MAX)?;
        serde_json::from_str(&text).map_err(|e| AuditError::BadCheckpoint {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Writes the checkpoint as pretty JSON; refuses to overwrite an existing file.
    pub fn write(&self, path: &Path) -> Result<(), AuditError> {
        let text = serde_json::to_string_pretty(self)? + "\n";
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| AuditError::io(path, e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| AuditError::io(path, e))
    }
}

/// Reads a text file, refusing one larger than `bytes_max`.
pub(crate) fn read_small(path: &Path, bytes_max: u64) -> Result<String, AuditError> {
    let size = std::fs::metadata(path)
        .map_err(|e| AuditError::io(path, e))?
        .len();
    if size > bytes_max {
        return Err(AuditError::LimitExceeded(format!(
            "{} has {size} bytes, at most {bytes_max} expected",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(|e| AuditError::io(path, e))
}

/// Parses a hex Ed25519 public key.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, AuditError> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| AuditError::BadPublicKey(text.trim().to_string()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| AuditError::BadPublicKey(text.trim().to_string()))
}

/// Reads a public key file (hex, as written by `engagements keys public`).
pub fn read_public_key(path: &Path) -> Result<VerifyingKey, AuditError> {
    parse_public_key(&read_small(path, 1024)?)
}

/// Creates a new signing key at `path`, readable by its owner only (0600), and returns it.
/// Refuses to overwrite an existing key: losing a key orphans every checkpoint signed with it.
pub fn init_key(path: &Path) -> Result<SigningKey, AuditError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| AuditError::BadKey {
        path: path.to_path_buf(),
        reason: format!("no randomness from the system: {e}"),
    })?;
    let key = SigningKey::from_bytes(&seed);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            AuditError::KeyExists(path.to_path_buf())
        } else {
            AuditError::io(path, e)
        }
    })?;
    let text = format!("{}\n", hex::encode(seed));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| AuditError::io(path, e))?;
    Ok(key)
}

/// Reads the signing key at `path`. On Unix, refuses a key that others can read.
pub fn read_key(path: &Path) -> Result<SigningKey, AuditError> {
    let bad = |reason: String| AuditError::BadKey {
        path: path.to_path_buf(),
        reason,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| AuditError::io(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(bad(format!(
                "its permissions are {:o}; run `chmod 600 {}`",
                mode & 0o777,
                path.display()
            )));
        }
    }
    let text = read_small(path, 1024)?;
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("expected 64 hexadecimal characters".into()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The default place of the signing key: `$ENGAGEMENTS_KEY`, else `engagements.key`.
pub fn default_key_path() -> PathBuf {
    std::env::var_os("ENGAGEMENTS_KEY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("engagements.key"))
}

/// Verifies the whole chain and the checkpoints recorded in it, signs its head, and records the
/// checkpoint in the log (stream [`CHECKPOINT_STREAM_ID`]). Refuses to sign a broken chain, a
/// head that does not extend every recorded checkpoint, or with a key that is not the ledger's.
pub async fn record_checkpoint(
    store: &Store,
    key: &SigningKey,
    metadata: Metadata,
) -> Result<Checkpoint, AuditError> {
    let report = store.verify(|_| {}).await?;
    if let Some(problem) = report.problem {
        return Err(AuditError::BrokenLog {
            position: problem.position,
            what: problem.what,
        });
    }
    record_verified_checkpoint(store, key, metadata, &report, ExpectedVersion::Any).await
}

/// Signs the head a walk of the chain found intact (`verified`: its last position and hash) and
/// records the checkpoint, after the checks of the recorded checkpoints and of the ledger's key.
/// `expected` is the version the stream of checkpoints must be at (so that two servers sharing
/// a ledger do not both sign the same head); [`ExpectedVersion::Any`] records in any case.
pub async fn record_verified_checkpoint(
    store: &Store,
    key: &SigningKey,
    metadata: Metadata,
    verified: &engagements_store::VerifyReport,
    expected: ExpectedVersion,
) -> Result<Checkpoint, AuditError> {
    if let Some(problem) = &verified.problem {
        return Err(AuditError::BrokenLog {
            position: problem.position,
            what: problem.what.clone(),
        });
    }
    if verified.position_last == 0 {
        return Err(AuditError::EmptyLedger);
    }
    ensure_signable(store, &key.verifying_key()).await?;
    let checkpoint = Checkpoint::sign(key, verified.position_last, &verified.head_hash);
    let event = CheckpointEvent::CheckpointSigned {
        checkpoint: checkpoint.clone(),
    };
    append_checkpoint_events_expecting(store, metadata, &[event], expected).await?;
    Ok(checkpoint)
}

/// Refuses to sign with `key` when the checkpoints recorded in the log do not hold (the head does
/// not extend them) or when another key is the ledger's. Assumes the chain was verified.
pub async fn ensure_signable(store: &Store, key: &VerifyingKey) -> Result<(), AuditError> {
    let recorded = check_recorded(store).await?;
    if let Some(problem) = recorded.problems.first() {
        return Err(AuditError::CheckpointNotExtended(problem.to_string()));
    }
    let public_key = hex::encode(key.as_bytes());
    match recorded.key {
        Some(ledger_key) if ledger_key != public_key => Err(AuditError::NotTheLedgerKey {
            key: public_key,
            ledger_key,
        }),
        _ => Ok(()),
    }
}

/// Records in the log a checkpoint signed elsewhere (e.g. the one an audit bundle carries), after
/// the same checks as [`record_checkpoint`]: its signature, the ledger's key, the recorded
/// checkpoints, and the log's hash at its position.
pub async fn record_signed_checkpoint(
    store: &Store,
    checkpoint: &Checkpoint,
    metadata: Metadata,
) -> Result<(), AuditError> {
    let key = parse_public_key(&checkpoint.public_key)?;
    if let Some(problem) = verify_checkpoint(store, checkpoint, Some(&key)).await? {
        return Err(AuditError::CheckpointNotExtended(problem.to_string()));
    }
    ensure_signable(store, &key).await?;
    let event = CheckpointEvent::CheckpointSigned {
        checkpoint: checkpoint.clone(),
    };
    append_checkpoint_events(store, metadata, &[event]).await
}

async fn append_checkpoint_events(
    store: &Store,
    metadata: Metadata,
    events: &[CheckpointEvent],
) -> Result<(), AuditError> {
    append_checkpoint_events_expecting(store, metadata, events, ExpectedVersion::Any).await
}

async fn append_checkpoint_events_expecting(
    store: &Store,
    metadata: Metadata,
    events: &[CheckpointEvent],
    expected: ExpectedVersion,
) -> Result<(), AuditError> {
    let events = events
        .iter()
        .map(NewEvent::from_event)
        .collect::<Result<Vec<_>, _>>()?;
    store
        .append(AppendRequest::single(
            metadata,
            CheckpointEvent::STREAM_TYPE,
            CHECKPOINT_STREAM_ID,
            expected,
            events,
        ))
        .await?;
    Ok(())
}

/// What recording a signing key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRecording {
    /// The key is now the ledger's recorded key.
    Recorded,
    /// It was already.
    AlreadyRecorded,
}

/// Records `key` as the ledger's signing key. Refuses when another key is recorded already: a
/// new key is recorded only by [`rotate_key`].
pub async fn record_key(
    store: &Store,
    key: &VerifyingKey,
    metadata: Metadata,
) -> Result<KeyRecording, AuditError> {
    let public_key = hex::encode(key.as_bytes());
    match check_recorded(store).await?.key {
        Some(recorded) if recorded == public_key => Ok(KeyRecording::AlreadyRecorded),
        Some(recorded) => Err(AuditError::NotTheLedgerKey {
            key: public_key,
            ledger_key: recorded,
        }),
        None => {
            let event = CheckpointEvent::SigningKeyRecorded { public_key };
            append_checkpoint_events(store, metadata, &[event]).await?;
            Ok(KeyRecording::Recorded)
        }
    }
}

/// Records `next` as the ledger's signing key in place of `current`, which endorses it. When no
/// key is recorded yet, `current` is recorded first (in the same command).
pub async fn rotate_key(
    store: &Store,
    current: &SigningKey,
    next: &VerifyingKey,
    metadata: Metadata,
) -> Result<(), AuditError> {
    let previous_public_key = hex::encode(current.verifying_key().as_bytes());
    let public_key = hex::encode(next.as_bytes());
    let mut events = Vec::new();
    match check_recorded(store).await?.key {
        Some(recorded) if recorded == previous_public_key => {}
        Some(recorded) => {
            return Err(AuditError::NotTheLedgerKey {
                key: previous_public_key,
                ledger_key: recorded,
            })
        }
        None => events.push(CheckpointEvent::SigningKeyRecorded {
            public_key: previous_public_key.clone(),
        }),
    }
    let endorsement = current.sign(&rotation_message(&previous_public_key, &public_key));
    events.push(CheckpointEvent::SigningKeyRotated {
        previous_public_key,
        public_key,
        endorsement: hex::encode(endorsement.to_bytes()),
    });
    append_checkpoint_events(store, metadata, &events).await
}

/// Every checkpoint recorded in the log, oldest first.
pub async fn recorded_checkpoints(store: &Store) -> Result<Vec<Checkpoint>, AuditError> {
    let events = store.read_stream(CHECKPOINT_STREAM_ID, None).await?;
    let mut checkpoints = Vec::with_capacity(events.len());
    for event in events {
        if let CheckpointEvent::CheckpointSigned { checkpoint } = event.decode()? {
            checkpoints.push(checkpoint);
        }
    }
    Ok(checkpoints)
}

/// A recorded checkpoint or key that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedProblem {
    /// Position of the event that recorded it.
    pub recorded_at_position: i64,
    /// The checkpoint concerned, if it is one.
    pub checkpoint: Option<Checkpoint>,
    pub what: String,
}

impl std::fmt::Display for RecordedProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.checkpoint {
            Some(checkpoint) => write!(
                f,
                "the checkpoint recorded at position {} over position {} (signed {}) does not hold: {}",
                self.recorded_at_position, checkpoint.position, checkpoint.signed_at, self.what
            ),
            None => write!(
                f,
                "the signing key recorded at position {} does not hold: {}",
                self.recorded_at_position, self.what
            ),
        }
    }
}

/// What [`check_recorded`] found in the log's own stream of checkpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedCheck {
    /// Checkpoints recorded, and how many of them hold.
    pub checkpoints: usize,
    pub checkpoints_ok: usize,
    /// The last recorded checkpoint that holds (with the position of its event).
    pub last_ok: Option<(i64, Checkpoint)>,
    /// The ledger's signing key now (hex), once one is recorded.
    pub key: Option<String>,
    pub problems: Vec<RecordedProblem>,
}

/// Checks the keys and checkpoints recorded in the log, in order: each checkpoint is signed by
/// the key in force when it was recorded (the recorded key, or the first checkpoint's when none
/// was recorded before it), covers a position before its own record, and the log still carries
/// the signed hash at that position. A key is replaced only by a rotation the previous key
/// endorsed. Assumes the chain itself was verified.
pub async fn check_recorded(store: &Store) -> Result<RecordedCheck, AuditError> {
    let events = store.read_stream(CHECKPOINT_STREAM_ID, None).await?;
    let mut check = RecordedCheck::default();
    for event in events {
        let position = event.position;
        match event.decode::<CheckpointEvent>()? {
            CheckpointEvent::SigningKeyRecorded { public_key } => match &check.key {
                None => check.key = Some(public_key),
                Some(current) if *current == public_key => {}
                Some(current) => check.problems.push(RecordedProblem {
                    recorded_at_position: position,
                    checkpoint: None,
                    what: format!(
                        "key {public_key} recorded while {current} is the ledger's key, without a rotation it endorsed"
                    ),
                }),
            },
            CheckpointEvent::SigningKeyRotated {
                previous_public_key,
                public_key,
                endorsement,
            } => {
                let what = check_rotation(
                    check.key.as_deref(),
                    &previous_public_key,
                    &public_key,
                    &endorsement,
                );
                match what {
                    None => check.key = Some(public_key),
                    Some(what) => check.problems.push(RecordedProblem {
                        recorded_at_position: position,
                        checkpoint: None,
                        what,
                    }),
                }
            }
            CheckpointEvent::CheckpointSigned { checkpoint } => {
                check.checkpoints += 1;
                let key = check
                    .key
                    .get_or_insert_with(|| checkpoint.public_key.clone())
                    .clone();
                match check_one_recorded(store, position, &checkpoint, &key).await? {
                    None => {
                        check.checkpoints_ok += 1;
                        check.last_ok = Some((position, checkpoint));
                    }
                    Some(what) => check.problems.push(RecordedProblem {
                        recorded_at_position: position,
                        checkpoint: Some(checkpoint),
                        what,
                    }),
                }
            }
        }
    }
    Ok(check)
}

/// Why a rotation does not hold, if it does not.
fn check_rotation(
    current: Option<&str>,
    previous_public_key: &str,
    public_key: &str,
    endorsement: &str,
) -> Option<String> {
    if current.is_some_and(|current| current != previous_public_key) {
        return Some(format!(
            "rotation from key {previous_public_key}, which is not the ledger's key"
        ));
    }
    if let Err(error) = parse_public_key(public_key) {
        return Some(error.to_string());
    }
    let previous = match parse_public_key(previous_public_key) {
        Ok(previous) => previous,
        Err(error) => return Some(error.to_string()),
    };
    let bytes: Option<[u8; 64]> = hex::decode(endorsement)
        .ok()
        .and_then(|b| b.try_into().ok());
    let endorsed = bytes.is_some_and(|bytes| {
        previous
            .verify(
                &rotation_message(previous_public_key, public_key),
                &Signature::from_bytes(&bytes),
            )
            .is_ok()
    });
    (!endorsed).then(|| "the rotation is not endorsed by the previous key".to_string())
}

/// Why a checkpoint recorded at `recorded_at_position` does not hold, if it does not.
async fn check_one_recorded(
    store: &Store,
    recorded_at_position: i64,
    checkpoint: &Checkpoint,
    ledger_key: &str,
) -> Result<Option<String>, AuditError> {
    if checkpoint.public_key != ledger_key {
        return Ok(Some(format!(
            "signed by key {}, not by the ledger's key {ledger_key}",
            checkpoint.public_key
        )));
    }
    if let Err(what) = checkpoint.check_signature(None) {
        return Ok(Some(what));
    }
    if checkpoint.position >= recorded_at_position {
        return Ok(Some(format!(
            "it covers position {}, not before its own record",
            checkpoint.position
        )));
    }
    let rows = store.read_rows(checkpoint.position, 1).await?;
    Ok(match rows.first() {
        Some(row) if row.position == checkpoint.position && row.hash == checkpoint.head_hash => {
            None
        }
        Some(row) if row.position == checkpoint.position => Some(format!(
            "the log no longer extends it: the event at position {} now has hash {}, the checkpoint signed {} (history was rewritten)",
            checkpoint.position, row.hash, checkpoint.head_hash
        )),
        _ => Some(format!(
            "the log has no event at position {} any more",
            checkpoint.position
        )),
    })
}

/// What is wrong between the log and a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointProblem {
    /// The checkpoint itself does not hold (altered, or signed by another key).
    Signature(String),
    /// The log ends before the checkpoint's position: events were removed.
    Truncated { position_last: i64, checkpoint: i64 },
    /// The chain is broken at or before the checkpoint: history it covers was changed.
    ChangedBefore { position: i64, what: String },
    /// The chain is intact but the event at the checkpoint's position has another hash: the
    /// history was rewritten and every hash recomputed.
    Rewritten { stored: String, signed: String },
    /// The chain is broken after the checkpoint (what the checkpoint covers is intact).
    BrokenAfter { position: i64, what: String },
}

impl std::fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckpointProblem::Signature(what) => write!(f, "checkpoint not valid: {what}"),
            CheckpointProblem::Truncated {
                position_last,
                checkpoint,
            } => write!(
                f,
                "the log ends at position {position_last} but the checkpoint covers up to {checkpoint}: events were removed"
            ),
            CheckpointProblem::ChangedBefore { position, what } => write!(
                f,
                "history covered by the checkpoint was changed at position {position}: {what}"
            ),
            CheckpointProblem::Rewritten { stored, signed } => write!(
                f,
                "the event at the checkpoint's position now has hash {stored}, the checkpoint signed {signed}: history was rewritten"
            ),
            CheckpointProblem::BrokenAfter { position, what } => write!(
                f,
                "the log is broken after the checkpoint, at position {position}: {what}"
            ),
        }
    }
}

/// Proves that the log extends `checkpoint`: signature valid (by `trusted` when given), chain
/// intact, and the event at the checkpoint's position carrying the signed hash.
pub async fn verify_checkpoint(
    store: &Store,
    checkpoint: &Checkpoint,
    trusted: Option<&VerifyingKey>,
) -> Result<Option<CheckpointProblem>, AuditError> {
    let mut problems = verify_checkpoints(store, std::slice::from_ref(checkpoint), trusted).await?;
    Ok(problems.pop().flatten())
}

/// [`verify_checkpoint`] for many checkpoints (e.g. a file of published ones), with one walk of
/// the chain: what is wrong with each, in the same order.
pub async fn verify_checkpoints(
    store: &Store,
    checkpoints: &[Checkpoint],
    trusted: Option<&VerifyingKey>,
) -> Result<Vec<Option<CheckpointProblem>>, AuditError> {
    let report = store.verify(|_| {}).await?;
    let mut problems = Vec::with_capacity(checkpoints.len());
    for checkpoint in checkpoints {
        let stored = if checkpoint.position >= 1 && checkpoint.position <= report.position_last {
            let rows = store.read_rows(checkpoint.position, 1).await?;
            rows.into_iter()
                .find(|row| row.position == checkpoint.position)
                .map(|row| row.hash)
        } else {
            None
        };
        problems.push(checkpoint_problem(checkpoint, trusted, &report, stored));
    }
    Ok(problems)
}

/// What is wrong between a checkpoint and a log whose walk gave `report` and whose event at the
/// checkpoint's position has hash `stored` (when there is one).
fn checkpoint_problem(
    checkpoint: &Checkpoint,
    trusted: Option<&VerifyingKey>,
    report: &engagements_store::VerifyReport,
    stored: Option<String>,
) -> Option<CheckpointProblem> {
    if let Err(what) = checkpoint.check_signature(trusted) {
        return Some(CheckpointProblem::Signature(what));
    }
    if let Some(problem) = &report.problem {
        let (position, what) = (problem.position, problem.what.clone());
        return Some(if position <= checkpoint.position {
            CheckpointProblem::ChangedBefore { position, what }
        } else {
            CheckpointProblem::BrokenAfter { position, what }
        });
    }
    if report.position_last < checkpoint.position {
        return Some(CheckpointProblem::Truncated {
            position_last: report.position_last,
            checkpoint: checkpoint.position,
        });
    }
    let stored = stored.unwrap_or_default();
    (stored != checkpoint.head_hash).then(|| CheckpointProblem::Rewritten {
        stored,
        signed: checkpoint.head_hash.clone(),
    })
}

/// The rows from `position` to the checkpoint's position: with them, anyone can recompute the
/// chain from that event to the signed hash, proving the event is covered by the checkpoint.
pub async fn inclusion_proof(
    store: &Store,
    position: i64,
    checkpoint: &Checkpoint,
) -> Result<Vec<engagements_store::EventRow>, AuditError> {
    if position < 1 || position > checkpoint.position {
        return Err(AuditError::BadInput {
            what: "position",
            value: position.to_string(),
            reason: format!(
                "the checkpoint covers positions 1 to {}",
                checkpoint.position
            ),
        });
    }
    Ok(store
        .read_rows(position, checkpoint.position - position + 1)
        .await?)
}

/// Checks an inclusion proof: each row hashes to its stored hash, links to the one before, and
/// the last one is the checkpoint's signed head.
pub fn check_inclusion(
    rows: &[engagements_store::EventRow],
    checkpoint: &Checkpoint,
) -> Result<(), String> {
    checkpoint.check_signature(None)?;
    let mut previous: Option<&engagements_store::EventRow> = None;
    for row in rows {
        if engagements_store::hash::event_hash(row) != row.hash {
            return Err(format!(
                "row at position {} does not hash to its hash",
                row.position
            ));
        }
        if let Some(previous) = previous {
            if row.prev_hash != previous.hash || row.position != previous.position + 1 {
                return Err(format!(
                    "row at position {} does not follow the previous one",
                    row.position
                ));
            }
        }
        previous = Some(row);
    }
    match previous {
        Some(last) if last.position == checkpoint.position && last.hash == checkpoint.head_hash => {
            Ok(())
        }
        _ => Err("the proof does not end at the checkpoint's signed head".into()),
    }
}
