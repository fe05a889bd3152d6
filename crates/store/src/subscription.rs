//! Following the log as it grows.

use std::time::Duration;

use tokio::sync::watch;

use crate::error::StoreError;
use crate::store::Store;
use engagements_domain::RecordedEvent;

/// How often a follower looks for events written by other processes.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// A cursor over the log that waits for new events.
pub struct Subscription {
    store: Store,
    position_next: i64,
    local_appends: watch::Receiver<i64>,
}

impl Subscription {
    pub(crate) fn new(
        store: Store,
        from_position: i64,
        local_appends: watch::Receiver<i64>,
    ) -> Self {
        Subscription {
            store,
            position_next: from_position.max(1),
            local_appends,
        }
    }

    /// The position of the next event this subscription will return.
    pub fn position_next(&self) -> i64 {
        self.position_next
    }

    /// Waits for at least one new event and returns up to `limit` of them, in order.
    pub async fn next_batch(&mut self, limit: i64) -> Result<Vec<RecordedEvent>, StoreError> {
        loop {
            let events = self.store.read_all(self.position_next, limit).await?;
            if let Some(last) = events.last() {
                self.position_next = last.position + 1;
                return Ok(events);
            }
            tokio::select! {
                _ = self.local_appends.changed() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }
}
