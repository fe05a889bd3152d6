//! Where each outbox relay stands: the last log position a downstream broker acknowledged.
//!
//! A relay publishes the log in position order and, once the broker has confirmed a batch, moves
//! its offset forward (table `relay_offsets`, migration `0003_relay_offsets.sql`). After a crash it
//! resumes after that offset: events published but not yet acknowledged are published again, so
//! delivery is at least once and consumers de-duplicate by position. The offset is bookkeeping of
//! a reader, not a fact of the ledger, so it lives outside the event log.

use crate::backend::Backend;
use crate::error::StoreError;
use crate::store::Store;

/// Longest relay name (it is a key, e.g. `amqp:engagements.events`).
pub const RELAY_NAME_CHARS_MAX: usize = 200;

/// Why an offset could not be read or moved.
#[derive(Debug, thiserror::Error)]
pub enum RelayOffsetError {
    #[error("relay name '{0}' is empty or longer than {RELAY_NAME_CHARS_MAX} characters")]
    BadName(String),
    #[error("relay '{relay_name}' cannot acknowledge position {position}: the log ends at {position_last}")]
    BeyondHead {
        relay_name: String,
        position: i64,
        position_last: i64,
    },
    #[error("relay '{relay_name}' cannot acknowledge position {position}: positions start at 1")]
    Negative { relay_name: String, position: i64 },
    #[error(
        "relay '{relay_name}' stands at {position_acknowledged}; it cannot move back to {position}"
    )]
    Backwards {
        relay_name: String,
        position_acknowledged: i64,
        position: i64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RelayOffsetError {
    fn from(error: sqlx::Error) -> Self {
        RelayOffsetError::Store(StoreError::Database(error))
    }
}

fn check_name(relay_name: &str) -> Result<(), RelayOffsetError> {
    let chars = relay_name.chars().count();
    if chars == 0 || chars > RELAY_NAME_CHARS_MAX || relay_name.trim() != relay_name {
        return Err(RelayOffsetError::BadName(
            relay_name.chars().take(RELAY_NAME_CHARS_MAX).collect(),
        ));
    }
    Ok(())
}

macro_rules! offset_ops {
    ($module:ident, $db:ty, $pool:ty) => {
        mod $module {
            use sqlx::QueryBuilder;

            pub(super) async fn read(
                pool: &$pool,
                relay_name: &str,
            ) -> Result<Option<i64>, sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(
                    "SELECT position_acknowledged FROM relay_offsets WHERE relay_name = ",
                );
                query.push_bind(relay_name.to_string());
                let row: Option<(i64,)> = query.build_query_as().fetch_optional(pool).await?;
                Ok(row.map(|(position,)| position))
            }

            /// Moves the offset forward only: a concurrent, slower writer cannot move it back.
            pub(super) async fn advance(
                pool: &$pool,
                relay_name: &str,
                position: i64,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(
                    "INSERT INTO relay_offsets (relay_name, position_acknowledged, updated_at) VALUES (",
                );
                let mut values = query.separated(", ");
                values.push_bind(relay_name.to_string());
                values.push_bind(position);
                values.push_bind(now);
                query.push(
                    ") ON CONFLICT (relay_name) DO UPDATE SET \
                     position_acknowledged = excluded.position_acknowledged, \
                     updated_at = excluded.updated_at \
                     WHERE relay_offsets.position_acknowledged < excluded.position_acknowledged",
                );
                query.build().execute(pool).await?;
                Ok(())
            }
        }
    };
}

offset_ops!(sqlite_offsets, sqlx::Sqlite, sqlx::SqlitePool);
offset_ops!(postgres_offsets, sqlx::Postgres, sqlx::PgPool);

macro_rules! on_backend {
    ($store:expr, $function:ident ( $($arg:expr),* )) => {
        match $store.backend() {
            Backend::Sqlite(pool) => sqlite_offsets::$function(pool, $($arg),*).await,
            Backend::Postgres(pool) => postgres_offsets::$function(pool, $($arg),*).await,
        }
    };
}

impl Store {
    /// The last position relay `relay_name` had acknowledged by its broker; 0 if it never ran.
    pub async fn relay_offset(&self, relay_name: &str) -> Result<i64, RelayOffsetError> {
        check_name(relay_name)?;
        Ok(on_backend!(self, read(relay_name))?.unwrap_or(0))
    }

    /// Records that the broker acknowledged every event up to `position` for `relay_name`.
    ///
    /// The position must be in the log, and an offset never moves back: both would lose or
    /// invent deliveries. Acknowledging the current offset again changes nothing.
    pub async fn acknowledge_relay_offset(
        &self,
        relay_name: &str,
        position: i64,
    ) -> Result<(), RelayOffsetError> {
        check_name(relay_name)?;
        if position < 0 {
            return Err(RelayOffsetError::Negative {
                relay_name: relay_name.to_string(),
                position,
            });
        }
        let position_last = self.head().await?.map(|h| h.position).unwrap_or(0);
        if position > position_last {
            return Err(RelayOffsetError::BeyondHead {
                relay_name: relay_name.to_string(),
                position,
                position_last,
            });
        }
        let position_acknowledged = on_backend!(self, read(relay_name))?.unwrap_or(0);
        if position < position_acknowledged {
            return Err(RelayOffsetError::Backwards {
                relay_name: relay_name.to_string(),
                position_acknowledged,
                position,
            });
        }
        let now = chrono::Utc::now().timestamp_micros();
        on_backend!(self, advance(relay_name, position, now))?;
        Ok(())
    }
}
