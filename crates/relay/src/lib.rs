//! The outbox relay: publishes every event of the ledger's log, in position order and at least
//! once, to a RabbitMQ exchange.
//!
//! - each event is one persistent message; its `message_id` is the event's global position, also
//!   in the headers with the stream, the type and the hash, so that a consumer de-duplicates by
//!   position and can check the chain;
//! - messages are published in batches under publisher confirms; only once the broker has
//!   confirmed a whole batch is the relay's offset moved forward in the store
//!   ([`engagements_store::Store::acknowledge_relay_offset`]);
//! - after a crash or a restart the relay resumes after its last acknowledged position: the events
//!   of an unconfirmed batch are published again (at least once, never lost);
//! - once caught up it follows new events with [`engagements_store::Store::subscribe`].
//!
//! The message format is documented in `docs/exports.md` (section « Flux RabbitMQ »).

pub mod message;

use std::time::Duration;

use engagements_store::relay_offsets::RelayOffsetError;
use engagements_store::{RecordedEvent, Store, StoreError};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::Confirmation;
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};

pub use lapin;
pub use message::{message_body, message_headers, routing_key};

/// The exchange the relay publishes to unless told otherwise.
pub const EXCHANGE_DEFAULT: &str = "engagements.events";
/// Most events published before waiting for the broker's confirmations.
pub const BATCH_EVENTS_MAX: i64 = 10_000;
/// Consecutive failed attempts (connection lost, broker refusing) before the relay gives up.
pub const RETRIES_MAX: u32 = 1_000;
/// Longest wait between two attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What the relay needs to know.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// `amqp://USER:PASSWORD@HOST:PORT/VHOST`.
    pub amqp_url: String,
    /// Durable topic exchange the events are published to (declared if missing).
    pub exchange: String,
    /// Key of this relay's offset in the store; two relays with one name share one offset.
    pub relay_name: String,
    /// Events published per batch, 1 to [`BATCH_EVENTS_MAX`].
    pub batch_events: i64,
    /// Return once every event of the log at start-up time is acknowledged, instead of following.
    pub stop_when_caught_up: bool,
    /// Consecutive failed attempts allowed, 0 to [`RETRIES_MAX`]; 0 fails at the first error.
    pub retries: u32,
}

impl RelayConfig {
    /// A configuration with the defaults: exchange [`EXCHANGE_DEFAULT`], relay name
    /// `amqp:<exchange>`, batches of 500, following the log, retrying up to 10 times in a row.
    pub fn new(amqp_url: impl Into<String>) -> Self {
        RelayConfig {
            amqp_url: amqp_url.into(),
            exchange: EXCHANGE_DEFAULT.to_string(),
            relay_name: format!("amqp:{EXCHANGE_DEFAULT}"),
            batch_events: 500,
            stop_when_caught_up: false,
            retries: 10,
        }
    }

    fn check(&self) -> Result<(), RelayError> {
        if !(1..=BATCH_EVENTS_MAX).contains(&self.batch_events) {
            return Err(RelayError::Config(format!(
                "batch of {} events: give 1 to {BATCH_EVENTS_MAX}",
                self.batch_events
            )));
        }
        if self.retries > RETRIES_MAX {
            return Err(RelayError::Config(format!(
                "{} retries: give 0 to {RETRIES_MAX}",
                self.retries
            )));
        }
        if self.exchange.is_empty() || self.exchange.len() > 255 {
            return Err(RelayError::Config(format!(
                "exchange name '{}' must have 1 to 255 bytes",
                self.exchange
            )));
        }
        Ok(())
    }
}

/// Why the relay stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("relay configuration: {0}")]
    Config(String),
    #[error("RabbitMQ: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("the broker refused the event at position {position}: it stays unacknowledged and will be published again")]
    Refused { position: i64 },
    #[error("event at position {position} cannot be encoded as a message: {reason}")]
    Encode { position: i64, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Offset(#[from] RelayOffsetError),
    #[error("gave up after {attempts} failed attempts in a row; last error: {last}")]
    GaveUp {
        attempts: u32,
        last: Box<RelayError>,
    },
}

impl RelayError {
    /// Errors worth retrying: the broker or the network, not a bad configuration or a bad row.
    fn is_transient(&self) -> bool {
        matches!(self, RelayError::Amqp(_) | RelayError::Refused { .. })
    }
}

/// Where the relay stands, reported after every acknowledged batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayProgress {
    /// Last position the broker confirmed.
    pub position_acknowledged: i64,
    /// Events published since the relay started (including events published again).
    pub events_published: u64,
}

/// The relay over one store.
pub struct Relay {
    store: Store,
    config: RelayConfig,
}

impl Relay {
    /// A relay publishing `store`'s log as `config` says.
    pub fn new(store: Store, config: RelayConfig) -> Result<Relay, RelayError> {
        config.check()?;
        Ok(Relay { store, config })
    }

    /// Publishes until caught up (with `stop_when_caught_up`) or forever, reconnecting after
    /// transient failures with a growing pause. `progress` is called after each confirmed batch.
    pub async fn run(
        &self,
        mut progress: impl FnMut(RelayProgress),
    ) -> Result<RelayProgress, RelayError> {
        let mut failures = 0u32;
        let mut published = 0u64;
        loop {
            match self.session(&mut published, &mut progress).await {
                Ok(done) => return Ok(done),
                Err(error) if error.is_transient() && failures < self.config.retries => {
                    failures += 1;
                    let pause = backoff(failures);
                    tracing::warn!(%error, attempt = failures, ?pause, "relay interrupted; resuming from the last acknowledged position");
                    tokio::time::sleep(pause).await;
                }
                Err(error) if error.is_transient() => {
                    return Err(RelayError::GaveUp {
                        attempts: failures + 1,
                        last: Box::new(error),
                    })
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// One connection's life: connect, resume from the stored offset, publish batch after batch.
    async fn session(
        &self,
        published: &mut u64,
        progress: &mut impl FnMut(RelayProgress),
    ) -> Result<RelayProgress, RelayError> {
        let connection =
            Connection::connect(&self.config.amqp_url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        channel
            .exchange_declare(
                self.config.exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        let mut acknowledged = self.store.relay_offset(&self.config.relay_name).await?;
        let position_target = self.store.head().await?.map(|h| h.position).unwrap_or(0);
        tracing::info!(
            relay = %self.config.relay_name,
            from = acknowledged + 1,
            "relay connected"
        );
        let mut subscription = self.store.subscribe(acknowledged + 1);
        loop {
            if self.config.stop_when_caught_up && acknowledged >= position_target {
                let _ = connection.close(200, "caught up".into()).await;
                return Ok(RelayProgress {
                    position_acknowledged: acknowledged,
                    events_published: *published,
                });
            }
            let batch = subscription.next_batch(self.config.batch_events).await?;
            acknowledged = self.publish_batch(&channel, &batch).await?;
            *published += batch.len() as u64;
            progress(RelayProgress {
                position_acknowledged: acknowledged,
                events_published: *published,
            });
        }
    }

    /// Publishes a batch, waits for every confirmation, then records the batch as acknowledged.
    /// Returns the new acknowledged position.
    async fn publish_batch(
        &self,
        channel: &Channel,
        batch: &[RecordedEvent],
    ) -> Result<i64, RelayError> {
        let mut confirms = Vec::with_capacity(batch.len());
        for event in batch {
            let body = message_body(event).map_err(|e| RelayError::Encode {
                position: event.position,
                reason: e.to_string(),
            })?;
            let confirm = channel
                .basic_publish(
                    self.config.exchange.as_str().into(),
                    routing_key(event).into(),
                    BasicPublishOptions::default(),
                    body.as_bytes(),
                    message::properties(event),
                )
                .await?;
            confirms.push((event.position, confirm));
        }
        for (position, confirm) in confirms {
            match confirm.await? {
                Confirmation::Ack(_) | Confirmation::NotRequested => {}
                Confirmation::Nack(_) => return Err(RelayError::Refused { position }),
            }
        }
        let Some(last) = batch.last() else {
            return Ok(self.store.relay_offset(&self.config.relay_name).await?);
        };
        self.store
            .acknowledge_relay_offset(&self.config.relay_name, last.position)
            .await?;
        Ok(last.position)
    }
}

/// 0.5 s, 1 s, 2 s… up to [`BACKOFF_MAX`].
fn backoff(failures: u32) -> Duration {
    let millis = 500u64.saturating_mul(1u64 << failures.saturating_sub(1).min(10));
    Duration::from_millis(millis).min(BACKOFF_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_stops_at_its_ceiling() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(50), BACKOFF_MAX);
    }

    #[test]
    fn configuration_limits_are_checked() {
        let mut config = RelayConfig::new("amqp://127.0.0.1:5672/%2f");
        assert!(config.check().is_ok());
        config.batch_events = 0;
        assert!(config
            .check()
            .unwrap_err()
            .to_string()
            .contains("batch of 0"));
        config.batch_events = 10;
        config.retries = RETRIES_MAX + 1;
        assert!(config.check().unwrap_err().to_string().contains("retries"));
    }
}
