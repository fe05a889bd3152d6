//! Web sessions: what the pages' cookie stands for, once a token has logged in.
//!
//! The cookie holds a random 256-bit session id; only its SHA-256 is stored (table
//! `web_sessions`, migration `0004_web_sessions.sql`), with the token it is bound to, a CSRF token
//! for the session's forms, and the times that end it: [`SessionLimits::idle`] after its last use,
//! [`SessionLimits::absolute`] after the login. A session is over as soon as its token is revoked.
//! Like tokens, sessions are credentials, not facts: they live outside the event log, and an
//! ended session is deleted.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::backend::Backend;
use crate::error::StoreError;
use crate::store::Store;
use crate::tokens::{hash_secret, TokenError, TokenRecord};

/// Random bytes in a session id and in a CSRF token (256 bits).
const RANDOM_BYTES: usize = 32;
/// Length of a session id or CSRF token: hex of [`RANDOM_BYTES`].
pub const SESSION_ID_CHARS: usize = RANDOM_BYTES * 2;

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long is over.
    pub idle: Duration,
    /// A session is over this long after it was opened, however much it is used.
    pub absolute: Duration,
}

/// A session just opened: its id (for the cookie, never stored) and its CSRF token.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub id: String,
    pub csrf_token: String,
}

/// A session in use, with the token it is bound to.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub token: TokenRecord,
    /// What the session's forms must post back.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
}

/// 256 random bits as lowercase hex: a session id, a CSRF token.
pub fn random_hex() -> Result<String, TokenError> {
    let mut bytes = [0u8; RANDOM_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// Whether a session created at `created_at` and last used at `last_seen_at` is still open at
/// `now` (all in microseconds).
fn is_open(limits: SessionLimits, created_at: i64, last_seen_at: i64, now: i64) -> bool {
    now.saturating_sub(last_seen_at) < micros(limits.idle)
        && now.saturating_sub(created_at) < micros(limits.absolute)
}

type SessionRow = (
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

const SELECT_SESSION: &str = "SELECT s.csrf_token, s.created_at, s.last_seen_at, \
    t.token_id, t.person, t.organisation, t.role, t.created_at, t.revoked_at \
    FROM web_sessions s JOIN api_tokens t ON t.token_id = s.token_id WHERE s.session_hash = ";

macro_rules! session_ops {
    ($module:ident, $db:ty, $pool:ty) => {
        mod $module {
            use super::*;
            use sqlx::QueryBuilder;

            pub(super) async fn insert(
                pool: &$pool,
                session_hash: &str,
                token_id: Uuid,
                csrf_token: &str,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(
                    "INSERT INTO web_sessions (session_hash, token_id, csrf_token, created_at, last_seen_at) VALUES (",
                );
                let mut values = query.separated(", ");
                values.push_bind(session_hash.to_string());
                values.push_bind(token_id.to_string());
                values.push_bind(csrf_token.to_string());
                values.push_bind(now);
                values.push_bind(now);
                query.push(")");
                query.build().execute(pool).await?;
                Ok(())
            }

            pub(super) async fn by_hash(
                pool: &$pool,
                session_hash: &str,
            ) -> Result<Option<SessionRow>, sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(SELECT_SESSION);
                query.push_bind(session_hash.to_string());
                query.build_query_as().fetch_optional(pool).await
            }

            pub(super) async fn touch(
                pool: &$pool,
                session_hash: &str,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new("UPDATE web_sessions SET last_seen_at = ");
                query.push_bind(now);
                query.push(" WHERE session_hash = ");
                query.push_bind(session_hash.to_string());
                query.build().execute(pool).await?;
                Ok(())
            }

            pub(super) async fn delete(
                pool: &$pool,
                session_hash: &str,
            ) -> Result<u64, sqlx::Error> {
                let mut query =
                    QueryBuilder::<$db>::new("DELETE FROM web_sessions WHERE session_hash = ");
                query.push_bind(session_hash.to_string());
                Ok(query.build().execute(pool).await?.rows_affected())
            }

            pub(super) async fn delete_of_token(
                pool: &$pool,
                token_id: Uuid,
            ) -> Result<u64, sqlx::Error> {
                let mut query =
                    QueryBuilder::<$db>::new("DELETE FROM web_sessions WHERE token_id = ");
                query.push_bind(token_id.to_string());
                Ok(query.build().execute(pool).await?.rows_affected())
            }

            pub(super) async fn delete_expired(
                pool: &$pool,
                idle_before: i64,
                created_before: i64,
            ) -> Result<u64, sqlx::Error> {
                let mut query =
                    QueryBuilder::<$db>::new("DELETE FROM web_sessions WHERE last_seen_at <= ");
                query.push_bind(idle_before);
                query.push(" OR created_at <= ");
                query.push_bind(created_before);
                Ok(query.build().execute(pool).await?.rows_affected())
            }
        }
    };
}

session_ops!(sqlite_sessions, sqlx::Sqlite, sqlx::SqlitePool);
session_ops!(postgres_sessions, sqlx::Postgres, sqlx::PgPool);

macro_rules! on_backend {
    ($store:expr, $function:ident ( $($arg:expr),* )) => {
        match $store.backend() {
            Backend::Sqlite(pool) => sqlite_sessions::$function(pool, $($arg),*).await,
            Backend::Postgres(pool) => postgres_sessions::$function(pool, $($arg),*).await,
        }
    };
}

fn token_of(row: &SessionRow) -> Result<TokenRecord, StoreError> {
    let (_, _, _, token_id, person, organisation, role, created_at, revoked_at) = row;
    let token_id = Uuid::parse_str(token_id).map_err(|e| StoreError::Corrupt {
        position: 0,
        reason: format!("web session's token id '{token_id}': {e}"),
    })?;
    Ok(TokenRecord {
        token_id,
        person: person.clone(),
        organisation: organisation.clone(),
        role: role.clone(),
        created_at: time_of(*created_at),
        revoked_at: revoked_at.map(time_of),
    })
}

fn time_of(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn looks_like_session_id(id: &str) -> bool {
    id.len() == SESSION_ID_CHARS && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Store {
    /// Opens a session for the token `token_id`; returns its id, which is not stored and cannot
    /// be shown again, and its CSRF token. Sessions already expired under `limits` are deleted
    /// on the way, so the table holds only live ones.
    pub async fn open_session(
        &self,
        token_id: Uuid,
        limits: SessionLimits,
    ) -> Result<OpenedSession, TokenError> {
        let now = Utc::now().timestamp_micros();
        on_backend!(
            self,
            delete_expired(now - micros(limits.idle), now - micros(limits.absolute))
        )
        .map_err(StoreError::from)?;
        let opened = OpenedSession {
            id: random_hex()?,
            csrf_token: random_hex()?,
        };
        on_backend!(
            self,
            insert(&hash_secret(&opened.id), token_id, &opened.csrf_token, now)
        )
        .map_err(StoreError::from)?;
        Ok(opened)
    }

    /// The open session whose id is `id`, marked as used now; `None` if there is none, if it
    /// expired under `limits` (it is then deleted) or if its token was revoked.
    pub async fn use_session(
        &self,
        id: &str,
        limits: SessionLimits,
    ) -> Result<Option<ActiveSession>, StoreError> {
        if !looks_like_session_id(id) {
            return Ok(None);
        }
        let hash = hash_secret(id);
        let Some(row) = on_backend!(self, by_hash(&hash))? else {
            return Ok(None);
        };
        let token = token_of(&row)?;
        let (csrf_token, created_at, last_seen_at, ..) = row;
        let now = Utc::now().timestamp_micros();
        if !token.is_active() || !is_open(limits, created_at, last_seen_at, now) {
            on_backend!(self, delete(&hash))?;
            return Ok(None);
        }
        on_backend!(self, touch(&hash, now))?;
        Ok(Some(ActiveSession {
            token,
            csrf_token,
            created_at: time_of(created_at),
        }))
    }

    /// Ends the session whose id is `id`; returns false if there was none.
    pub async fn close_session(&self, id: &str) -> Result<bool, StoreError> {
        if !looks_like_session_id(id) {
            return Ok(false);
        }
        Ok(on_backend!(self, delete(&hash_secret(id)))? > 0)
    }

    /// Ends every session of a token (when it is revoked); returns how many there were.
    pub(crate) async fn close_sessions_of(&self, token_id: Uuid) -> Result<u64, StoreError> {
        Ok(on_backend!(self, delete_of_token(token_id))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_idle_or_old() {
        let limits = SessionLimits {
            idle: Duration::from_secs(10),
            absolute: Duration::from_secs(100),
        };
        let second = 1_000_000;
        assert!(is_open(limits, 0, 0, 9 * second));
        assert!(!is_open(limits, 0, 0, 10 * second));
        assert!(is_open(limits, 0, 95 * second, 99 * second));
        assert!(!is_open(limits, 0, 95 * second, 100 * second));
    }

    #[test]
    fn ids_are_256_bit_hex_and_differ() {
        let a = random_hex().unwrap();
        let b = random_hex().unwrap();
        assert!(looks_like_session_id(&a) && looks_like_session_id(&b));
        assert_ne!(a, b);
        assert!(!looks_like_session_id("eng_0123"));
    }
}
