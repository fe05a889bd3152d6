//! Routine checkpoints: `engagements serve` signs and records a checkpoint of the log's head
//! every N events and/or every M minutes, and may publish each one to a file outside the
//! database, so that a forged append at the end or a truncated tail is exposed without anyone
//! having to remember to run `engagements checkpoint`.
//!
//! The routine follows the log by polling its head (events recorded by other processes count
//! too). It verifies the chain incrementally (every row once, as `verify` does) and signs only
//! the position it verified. When the chain, a recorded checkpoint or the ledger's key does not
//! hold, it stops signing and says why; the server keeps serving.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use engagements_domain::{Actor, Metadata, Source};
use engagements_store::{AppendError, ChainChecker, ExpectedVersion, Store};

use super::checkpoint::{
    record_verified_checkpoint, Checkpoint, CheckpointEvent, SigningKey, CHECKPOINT_STREAM_ID,
};
use super::publish::publish;
use super::AuditError;

/// Default number of events after which a checkpoint is due.
pub const ROUTINE_EVERY_EVENTS_DEFAULT: i64 = 10_000;
/// Default number of minutes after which a checkpoint is due (when events were recorded since).
pub const ROUTINE_EVERY_MINUTES_DEFAULT: u64 = 60;
/// How often the routine looks at the log's head.
pub const ROUTINE_POLL_DEFAULT: Duration = Duration::from_secs(2);
/// Rows read per page while verifying the chain.
const VERIFY_PAGE: i64 = 5_000;

/// When routine checkpoints are due, and where they go besides the log.
#[derive(Debug, Clone)]
pub struct RoutineConfig {
    /// A checkpoint is due once this many events were recorded after the last one (0: never by
    /// count).
    pub every_events: i64,
    /// A checkpoint is due once this long has passed since the last one was signed and at least
    /// one event was recorded after it (`None`: never by time).
    pub every: Option<chrono::Duration>,
    /// A file where each checkpoint signed is appended as a JSON line.
    pub publish: Option<PathBuf>,
    /// How often the head is looked at.
    pub poll: Duration,
}

impl RoutineConfig {
    /// Whether any checkpoint can ever be due.
    pub fn is_enabled(&self) -> bool {
        self.every_events > 0 || self.every.is_some()
    }
}

/// The last checkpoint recorded in the log, as far as the routine needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastCheckpoint {
    /// Position of the event that recorded it: events after it are not covered.
    pub recorded_at_position: i64,
    pub signed_at: DateTime<Utc>,
}

/// Whether a checkpoint is due on a log whose head is at `head`, at time `now`: never when no
/// event was recorded after the last checkpoint (its own record aside); at once when there is
/// none yet; else after `every_events` events or `every` time.
pub fn is_due(
    config: &RoutineConfig,
    last: Option<&LastCheckpoint>,
    head: i64,
    now: DateTime<Utc>,
) -> bool {
    if !config.is_enabled() || head <= 0 {
        return false;
    }
    let Some(last) = last else {
        return true;
    };
    let uncovered = head - last.recorded_at_position;
    if uncovered <= 0 {
        return false;
    }
    let by_count = config.every_events > 0 && uncovered >= config.every_events;
    let by_time = config
        .every
        .is_some_and(|every| now - last.signed_at >= every);
    by_count || by_time
}

/// The routine of one server.
pub struct Routine {
    store: Store,
    key: SigningKey,
    config: RoutineConfig,
    checker: ChainChecker,
    /// The last position the checker verified.
    verified: i64,
    /// The version of the stream of checkpoints when `last` was read.
    stream_version: Option<i64>,
    last: Option<LastCheckpoint>,
}

impl Routine {
    pub fn new(store: Store, key: SigningKey, config: RoutineConfig) -> Routine {
        Routine {
            store,
            key,
            config,
            checker: ChainChecker::default(),
            verified: 0,
            stream_version: None,
            last: None,
        }
    }

    /// Runs until the task is dropped: looks at the head every `poll`, signs when due. Stops
    /// signing (and says why) when the log or its recorded checkpoints do not hold.
    pub async fn run(mut self) {
        loop {
            match self.tick(Utc::now()).await {
                Ok(Some(checkpoint)) => tracing::info!(
                    position = checkpoint.position,
                    head_hash = %checkpoint.head_hash,
                    "routine checkpoint signed and recorded"
                ),
                Ok(None) => {}
                Err(
                    error @ (AuditError::BrokenLog { .. }
                    | AuditError::CheckpointNotExtended(_)
                    | AuditError::NotTheLedgerKey { .. }),
                ) => {
                    tracing::error!(%error, "routine checkpoints stopped: run `engagements verify`");
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "routine checkpoint failed; tried again later")
                }
            }
            tokio::time::sleep(self.config.poll).await;
        }
    }

    /// Signs, records and publishes a checkpoint if one is due at `now`; returns it.
    pub async fn tick(&mut self, now: DateTime<Utc>) -> Result<Option<Checkpoint>, AuditError> {
        let head = self.store.head().await?.map(|h| h.position).unwrap_or(0);
        let version = self.refresh_last().await?;
        if !is_due(&self.config, self.last.as_ref(), head, now) {
            return Ok(None);
        }
        self.verify_up_to(head).await?;
        let report = self.checker.report(None);
        let metadata = Metadata::new(Actor::system(), Source::System, now.date_naive());
        let expected = ExpectedVersion::from_version(version.unwrap_or(0));
        let recorded =
            record_verified_checkpoint(&self.store, &self.key, metadata, &report, expected).await;
        let checkpoint = match recorded {
            Ok(checkpoint) => checkpoint,
            // Another server sharing the ledger recorded one first: look again next time.
            Err(AuditError::Append(AppendError::Conflict { .. })) => {
                self.stream_version = None;
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        if let Some(path) = &self.config.publish {
            publish(&checkpoint, path)?;
        }
        Ok(Some(checkpoint))
    }

    /// Reads the last recorded checkpoint again when the stream of checkpoints changed; returns
    /// the stream's version.
    async fn refresh_last(&mut self) -> Result<Option<i64>, AuditError> {
        let version = self.store.stream_version(CHECKPOINT_STREAM_ID).await?;
        if version != self.stream_version {
            let events = self
                .store
                .read_stream(CHECKPOINT_STREAM_ID, version)
                .await?;
            self.last = events.iter().rev().find_map(|event| {
                match event.decode::<CheckpointEvent>().ok()? {
                    CheckpointEvent::CheckpointSigned { checkpoint } => Some(LastCheckpoint {
                        recorded_at_position: event.position,
                        signed_at: DateTime::parse_from_rfc3339(&checkpoint.signed_at)
                            .ok()?
                            .with_timezone(&Utc),
                    }),
                    _ => None,
                }
            });
            self.stream_version = version;
        }
        Ok(version)
    }

    /// Feeds the rows after the last verified one, up to `head`, to the chain checker.
    async fn verify_up_to(&mut self, head: i64) -> Result<(), AuditError> {
        while self.verified < head {
            let limit = VERIFY_PAGE.min(head - self.verified);
            let rows = self.store.read_rows(self.verified + 1, limit).await?;
            let Some(last) = rows.last().map(|row| row.position) else {
                break;
            };
            for row in &rows {
                if let Err(what) = self.checker.check(row) {
                    return Err(AuditError::BrokenLog {
                        position: row.position,
                        what,
                    });
                }
            }
            self.verified = last;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(every_events: i64, minutes: Option<i64>) -> RoutineConfig {
        RoutineConfig {
            every_events,
            every: minutes.map(chrono::Duration::minutes),
            publish: None,
            poll: ROUTINE_POLL_DEFAULT,
        }
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    fn last(recorded_at_position: i64) -> LastCheckpoint {
        LastCheckpoint {
            recorded_at_position,
            signed_at: at(0),
        }
    }

    #[test]
    fn the_first_checkpoint_is_due_as_soon_as_there_is_an_event() {
        assert!(!is_due(&config(100, Some(60)), None, 0, at(0)));
        assert!(is_due(&config(100, Some(60)), None, 1, at(0)));
        assert!(!is_due(&config(0, None), None, 1, at(0)));
    }

    #[test]
    fn due_after_n_events_not_counting_its_own_record() {
        let c = config(3, None);
        assert!(!is_due(&c, Some(&last(10)), 10, at(600)));
        assert!(!is_due(&c, Some(&last(10)), 12, at(600)));
        assert!(is_due(&c, Some(&last(10)), 13, at(0)));
    }

    #[test]
    fn due_after_m_minutes_only_when_something_was_recorded_since() {
        let c = config(0, Some(60));
        assert!(!is_due(&c, Some(&last(10)), 11, at(59)));
        assert!(is_due(&c, Some(&last(10)), 11, at(60)));
        assert!(!is_due(&c, Some(&last(10)), 10, at(600)));
    }

    #[test]
    fn either_condition_is_enough() {
        let c = config(5, Some(60));
        assert!(is_due(&c, Some(&last(10)), 15, at(1)));
        assert!(is_due(&c, Some(&last(10)), 11, at(61)));
        assert!(!is_due(&c, Some(&last(10)), 14, at(59)));
    }
}
