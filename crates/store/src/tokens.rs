//! API tokens: secrets that bind a caller to a person, an organisation and a role.
//!
//! Only the SHA-256 of a secret is stored (table `api_tokens`, migration `0002_tokens.sql`); the
//! secret is returned once, by [`Store::create_token`], and cannot be recovered. Tokens are kept
//! apart from the event log: they are credentials, not facts, and revoking one is an update of
//! its row, never an event.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::backend::Backend;
use crate::error::StoreError;
use crate::store::Store;

/// Prefix of every secret, so that a leaked one is recognisable (e.g. by secret scanners).
pub const SECRET_PREFIX: &str = "eng_";
/// Random bytes in a secret (256 bits).
const SECRET_RANDOM_BYTES: usize = 32;
/// Longest person or organisation name a token may carry.
pub const TOKEN_FIELD_CHARS_MAX: usize = 200;
/// Longest secret accepted when looking one up (anything longer is not a secret of ours).
pub const SECRET_CHARS_MAX: usize = 128;

/// A token as stored: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub token_id: Uuid,
    pub person: String,
    pub organisation: String,
    /// The role's name (`admin`, `instructeur`, `bailleur`, `auditeur`, `lecteur`); the
    /// application layer gives it meaning.
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    /// Whether the token still opens the door.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A token just created, with its secret: the only time the secret is known.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub record: TokenRecord,
    pub secret: String,
}

/// Why a token could not be created.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{field} is empty, longer than {TOKEN_FIELD_CHARS_MAX} characters or holds a control character: '{value}'")]
    BadField { field: &'static str, value: String },
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> Result<String, TokenError> {
    let mut bytes = [0u8; SECRET_RANDOM_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(format!("{SECRET_PREFIX}{}", hex::encode(bytes)))
}

fn check_field(field: &'static str, value: &str) -> Result<(), TokenError> {
    let chars = value.trim().chars().count();
    // A control character would reach terminals (`tokens list`) and pages as it is.
    if chars == 0 || chars > TOKEN_FIELD_CHARS_MAX || value.chars().any(char::is_control) {
        return Err(TokenError::BadField {
            field,
            value: value
                .chars()
                .take(TOKEN_FIELD_CHARS_MAX)
                .map(|c| if c.is_control() { '?' } else { c })
                .collect(),
        });
    }
    Ok(())
}

type TokenRow = (String, String, String, String, i64, Option<i64>);

fn record_of(row: TokenRow) -> Result<TokenRecord, StoreError> {
    let (token_id, person, organisation, role, created_at, revoked_at) = row;
    let token_id = Uuid::parse_str(&token_id).map_err(|e| StoreError::Corrupt {
        position: 0,
        reason: format!("api token id '{token_id}': {e}"),
    })?;
    Ok(TokenRecord {
        token_id,
        person,
        organisation,
        role,
        created_at: micros_to_time(created_at),
        revoked_at: revoked_at.map(micros_to_time),
    })
}

fn micros_to_time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

const SELECT_TOKEN: &str =
    "SELECT token_id, person, organisation, role, created_at, revoked_at FROM api_tokens";

macro_rules! token_ops {
    ($module:ident, $db:ty, $pool:ty) => {
        mod $module {
            use super::*;
            use sqlx::QueryBuilder;

            pub(super) async fn insert(
                pool: &$pool,
                record: &TokenRecord,
                secret_hash: &str,
            ) -> Result<(), sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(
                    "INSERT INTO api_tokens (token_id, secret_hash, person, organisation, role, created_at) VALUES (",
                );
                let mut values = query.separated(", ");
                values.push_bind(record.token_id.to_string());
                values.push_bind(secret_hash.to_string());
                values.push_bind(record.person.clone());
                values.push_bind(record.organisation.clone());
                values.push_bind(record.role.clone());
                values.push_bind(record.created_at.timestamp_micros());
                query.push(")");
                query.build().execute(pool).await?;
                Ok(())
            }

            pub(super) async fn by_hash(
                pool: &$pool,
                secret_hash: &str,
            ) -> Result<Option<TokenRow>, sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new(format!("{SELECT_TOKEN} WHERE secret_hash = "));
                query.push_bind(secret_hash.to_string());
                query.build_query_as().fetch_optional(pool).await
            }

            pub(super) async fn all(pool: &$pool) -> Result<Vec<TokenRow>, sqlx::Error> {
                QueryBuilder::<$db>::new(format!("{SELECT_TOKEN} ORDER BY created_at, token_id"))
                    .build_query_as()
                    .fetch_all(pool)
                    .await
            }

            pub(super) async fn revoke(
                pool: &$pool,
                token_id: Uuid,
                now: i64,
            ) -> Result<u64, sqlx::Error> {
                let mut query = QueryBuilder::<$db>::new("UPDATE api_tokens SET revoked_at = ");
                query.push_bind(now);
                query.push(" WHERE revoked_at IS NULL AND token_id = ");
                query.push_bind(token_id.to_string());
                Ok(query.build().execute(pool).await?.rows_affected())
            }
        }
    };
}

token_ops!(sqlite_tokens, sqlx::Sqlite, sqlx::SqlitePool);
token_ops!(postgres_tokens, sqlx::Postgres, sqlx::PgPool);

macro_rules! on_backend {
    ($store:expr, $function:ident ( $($arg:expr),* )) => {
        match $store.backend() {
            Backend::Sqlite(pool) => sqlite_tokens::$function(pool, $($arg),*).await,
            Backend::Postgres(pool) => postgres_tokens::$function(pool, $($arg),*).await,
        }
    };
}

impl Store {
    /// Creates a token for `person` of `organisation` with `role`; returns it with its secret,
    /// which is not stored and cannot be shown again.
    pub async fn create_token(
        &self,
        person: &str,
        organisation: &str,
        role: &str,
    ) -> Result<CreatedToken, TokenError> {
        check_field("person", person)?;
        check_field("organisation", organisation)?;
        check_field("role", role)?;
        let secret = new_secret()?;
        let record = TokenRecord {
            token_id: Uuid::now_v7(),
            person: person.trim().to_string(),
            organisation: organisation.trim().to_string(),
            role: role.trim().to_string(),
            created_at: micros_to_time(Utc::now().timestamp_micros()),
            revoked_at: None,
        };
        on_backend!(self, insert(&record, &hash_secret(&secret))).map_err(StoreError::from)?;
        Ok(CreatedToken { record, secret })
    }

    /// The token whose secret is `secret`, revoked or not; `None` if no token has it.
    pub async fn find_token(&self, secret: &str) -> Result<Option<TokenRecord>, StoreError> {
        if secret.is_empty() || secret.len() > SECRET_CHARS_MAX {
            return Ok(None);
        }
        let row = on_backend!(self, by_hash(&hash_secret(secret)))?;
        row.map(record_of).transpose()
    }

    /// Every token, oldest first, without secrets.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = on_backend!(self, all())?;
        rows.into_iter().map(record_of).collect()
    }

    /// Revokes a token and ends its web sessions; returns false if no active token has this id.
    pub async fn revoke_token(&self, token_id: Uuid) -> Result<bool, StoreError> {
        let now = Utc::now().timestamp_micros();
        let revoked = on_backend!(self, revoke(token_id, now))? == 1;
        // A session is refused anyway once its token is revoked; deleting them keeps the
        // table to the live sessions.
        self.close_sessions_of(token_id).await?;
        Ok(revoked)
    }
}
