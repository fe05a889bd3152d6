//! Persons out of the chain: the events this store appends name people only by a pseudonymous
//! id (`person-<uuid>`); their names live in table `persons` (migration `0007_persons.sql`),
//! outside the hash-chained log, where they can be erased without touching a hash.
//!
//! [`Store::append`] replaces the name in `metadata.actor.person` and
//! `metadata.on_behalf_of.person` by the person's id (created on first use, the same id for the
//! same name ever after), so no caller can put a name into the chain by mistake. The ledger
//! itself (organisation `system`) is not a person and keeps its name. Events recorded before
//! this existed keep the names they were recorded with: their bytes are hashed.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use engagements_domain::{Actor, Metadata, RecordedEvent};
use uuid::Uuid;

use crate::backend::Backend;
use crate::error::StoreError;
use crate::store::Store;

/// The prefix of every person id.
pub const PERSON_ID_PREFIX: &str = "person-";
/// The organisation of the ledger's own facts, whose actor is not a person.
pub const SYSTEM_ORGANISATION: &str = "system";
/// Longest name kept for a person.
pub const PERSON_NAME_CHARS_MAX: usize = 1_000;
/// How long a name → id lookup is reused without asking the database: after an erasure by
/// another process, a name acting again gets a new id within this delay.
const LOOKUP_TTL: Duration = Duration::from_secs(60);

/// Whether `text` is a person id (`person-` followed by a UUID).
pub fn is_person_id(text: &str) -> bool {
    text.strip_prefix(PERSON_ID_PREFIX)
        .is_some_and(|rest| Uuid::parse_str(rest).is_ok())
}

/// A person as the table keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub person_id: String,
    /// `None` once erased.
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
}

/// Name → (person id, when it was looked up).
#[derive(Debug, Default)]
pub(crate) struct LookupCache(std::sync::Mutex<HashMap<String, (String, Instant)>>);

impl LookupCache {
    fn get(&self, name: &str) -> Option<String> {
        let cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(name)
            .filter(|(_, at)| at.elapsed() < LOOKUP_TTL)
            .map(|(id, _)| id.clone())
    }

    fn put(&self, name: &str, id: &str) {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(name.to_string(), (id.to_string(), Instant::now()));
    }

    fn forget_id(&self, id: &str) {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, (cached, _)| cached != id);
    }
}

type PersonRow = (String, Option<String>, i64, Option<i64>);

fn record_of((person_id, name, created_at, erased_at): PersonRow) -> PersonRecord {
    let time = |micros: i64| DateTime::from_timestamp_micros(micros).unwrap_or_default();
    PersonRecord {
        person_id,
        name,
        created_at: time(created_at),
        erased_at: erased_at.map(time),
    }
}

const SELECT_PERSON: &str = "SELECT person_id, name, created_at, erased_at FROM persons";

macro_rules! person_ops {
    ($module:ident, $db:ty, $pool:ty) => {
        mod $module {
            use super::*;
            use sqlx::QueryBuilder;

            /// The id of `name`, created if it has none (two processes racing get the same).
            pub(super) async fn id_for(
                pool: &$pool,
                name: &str,
                now: i64,
            ) -> Result<String, sqlx::Error> {
                let mut insert = QueryBuilder::<$db>::new(
                    "INSERT INTO persons (person_id, name, name_key, created_at) VALUES (",
                );
                let mut values = insert.separated(", ");
                values.push_bind(format!("{PERSON_ID_PREFIX}{}", Uuid::now_v7()));
                values.push_bind(name.to_string());
                values.push_bind(name.to_string());
                values.push_bind(now);
                insert.push(") ON CONFLICT (name_key) DO NOTHING");
                insert.build().execute(pool).await?;
                let mut select =
                    QueryBuilder::<$db>::new("SELECT person_id FROM persons WHERE name_key = ");
                select.push_bind(name.to_string());
                let (id,): (String,) = select.build_query_as().fetch_one(pool).await?;
                Ok(id)
            }

            pub(super) async fn by_ids(
                pool: &$pool,
                ids: &[String],
            ) -> Result<Vec<PersonRow>, sqlx::Error> {
                let mut rows = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(500) {
                    let mut query =
                        QueryBuilder::<$db>::new(format!("{SELECT_PERSON} WHERE person_id IN ("));
                    let mut values = query.separated(", ");
                    for id in chunk {
                        values.push_bind(id.clone());
                    }
                    query.push(")");
                    rows.extend(query.build_query_as().fetch_all(pool).await?);
                }
                Ok(rows)
            }

            pub(super) async fn all(pool: &$pool) -> Result<Vec<PersonRow>, sqlx::Error> {
                QueryBuilder::<$db>::new(format!("{SELECT_PERSON} ORDER BY created_at, person_id"))
                    .build_query_as()
                    .fetch_all(pool)
                    .await
            }

            /// Blanks the name of `id`, and of the API tokens that carried it; returns the
            /// name it had (`None` if the person was unknown or already erased).
            pub(super) async fn erase(
                pool: &$pool,
                id: &str,
                now: i64,
            ) -> Result<Option<String>, sqlx::Error> {
                let mut tx = pool.begin().await?;
                let mut select =
                    QueryBuilder::<$db>::new("SELECT name FROM persons WHERE person_id = ");
                select.push_bind(id.to_string());
                let name: Option<(Option<String>,)> =
                    select.build_query_as().fetch_optional(&mut *tx).await?;
                let Some((Some(name),)) = name else {
                    return Ok(None);
                };
                let mut update = QueryBuilder::<$db>::new(
                    "UPDATE persons SET name = NULL, name_key = NULL, erased_at = ",
                );
                update.push_bind(now);
                update.push(" WHERE person_id = ");
                update.push_bind(id.to_string());
                update.build().execute(&mut *tx).await?;
                // A token keeps working, under the person's id instead of the name.
                let mut tokens = QueryBuilder::<$db>::new("UPDATE api_tokens SET person = ");
                tokens.push_bind(id.to_string());
                tokens.push(" WHERE person = ");
                tokens.push_bind(name.clone());
                tokens.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(Some(name))
            }
        }
    };
}

person_ops!(sqlite_persons, sqlx::Sqlite, sqlx::SqlitePool);
person_ops!(postgres_persons, sqlx::Postgres, sqlx::PgPool);

macro_rules! on_backend {
    ($store:expr, $function:ident ( $($arg:expr),* )) => {
        match $store.backend() {
            Backend::Sqlite(pool) => sqlite_persons::$function(pool, $($arg),*).await,
            Backend::Postgres(pool) => postgres_persons::$function(pool, $($arg),*).await,
        }
    };
}

impl Store {
    /// The pseudonymous id of the person called `name`, created on first use.
    pub async fn person_id(&self, name: &str) -> Result<String, StoreError> {
        let name = name.trim();
        if let Some(id) = self.person_cache().get(name) {
            return Ok(id);
        }
        let now = Utc::now().timestamp_micros();
        let id = on_backend!(self, id_for(name, now))?;
        self.person_cache().put(name, &id);
        Ok(id)
    }

    /// The persons among `ids` the table knows, by id.
    pub async fn persons_by_id(
        &self,
        ids: &[String],
    ) -> Result<BTreeMap<String, PersonRecord>, StoreError> {
        let mut ids: Vec<String> = ids.iter().filter(|id| is_person_id(id)).cloned().collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let rows = on_backend!(self, by_ids(&ids))?;
        Ok(rows
            .into_iter()
            .map(record_of)
            .map(|record| (record.person_id.clone(), record))
            .collect())
    }

    /// Every person of the table, oldest first (erased ones without their name).
    pub async fn list_persons(&self) -> Result<Vec<PersonRecord>, StoreError> {
        let rows = on_backend!(self, all())?;
        Ok(rows.into_iter().map(record_of).collect())
    }

    /// Erases the name of person `person_id` (the row stays, as a tombstone, so that the id is
    /// never given to anyone else) and replaces it by the id on the API tokens that carried it.
    /// On SQLite the freed bytes are overwritten (`secure_delete`) and the write-ahead log is
    /// emptied into the file, so that the name is nowhere in the database's files. Returns the
    /// erased name, `None` when the id is unknown or already erased. The log is not touched.
    pub async fn erase_person(&self, person_id: &str) -> Result<Option<String>, StoreError> {
        let now = Utc::now().timestamp_micros();
        let erased = on_backend!(self, erase(person_id, now))?;
        self.person_cache().forget_id(person_id);
        if erased.is_some() {
            if let Backend::Sqlite(pool) = self.backend() {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(pool)
                    .await?;
            }
        }
        Ok(erased)
    }

    /// Replaces persons' names in `metadata` by their ids (see the module's docs).
    pub(crate) async fn pseudonymise(&self, metadata: &mut Metadata) -> Result<(), StoreError> {
        self.pseudonymise_actor(&mut metadata.actor).await?;
        if let Some(actor) = &mut metadata.on_behalf_of {
            self.pseudonymise_actor(actor).await?;
        }
        Ok(())
    }

    async fn pseudonymise_actor(&self, actor: &mut Actor) -> Result<(), StoreError> {
        if actor.organisation == SYSTEM_ORGANISATION || is_person_id(&actor.person) {
            return Ok(());
        }
        let name: String = actor.person.chars().take(PERSON_NAME_CHARS_MAX).collect();
        actor.person = self.person_id(&name).await?;
        Ok(())
    }
}

// Names joined at display time: events name people by their pseudonymous id; an erased person
// reads « personne effacée »; a name recorded before pseudonymisation existed reads as recorded.

/// What an erased person reads as.
pub const ERASED: &str = "personne effacée";

/// The names of the persons some events name.
#[derive(Debug, Clone, Default)]
pub struct Names(BTreeMap<String, PersonRecord>);

impl Names {
    /// The names of every person `events` name (operators and on whose behalf).
    pub async fn of_events<'a>(
        store: &Store,
        events: impl IntoIterator<Item = &'a RecordedEvent>,
    ) -> Result<Names, StoreError> {
        let ids: Vec<String> = events
            .into_iter()
            .flat_map(|event| {
                std::iter::once(&event.metadata.actor)
                    .chain(event.metadata.on_behalf_of.as_ref())
                    .map(|actor| actor.person.clone())
            })
            .filter(|person| is_person_id(person))
            .collect();
        Ok(Names(store.persons_by_id(&ids).await?))
    }

    /// The names of `persons` (pseudonymous ids; names recorded before ids existed are left
    /// out: they read as they are).
    pub async fn of_persons<'a>(
        store: &Store,
        persons: impl IntoIterator<Item = &'a str>,
    ) -> Result<Names, StoreError> {
        let ids: Vec<String> = persons
            .into_iter()
            .filter(|person| is_person_id(person))
            .map(str::to_string)
            .collect();
        Ok(Names(store.persons_by_id(&ids).await?))
    }

    /// How `person` (an id, or a name recorded before ids existed) reads.
    pub fn display(&self, person: &str) -> String {
        if !is_person_id(person) {
            return person.to_string();
        }
        match self.0.get(person) {
            Some(record) => record.name.clone().unwrap_or_else(|| ERASED.to_string()),
            // Not in this database's table (e.g. a copy of the log without it).
            None => person.to_string(),
        }
    }

    /// `Person (organisation)`.
    pub fn actor(&self, actor: &Actor) -> String {
        format!("{} ({})", self.display(&actor.person), actor.organisation)
    }
}

/// The pseudonymous id of `person`, when it is one.
pub fn id_of(person: &str) -> Option<String> {
    is_person_id(person).then(|| person.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_ids_are_recognised() {
        assert!(is_person_id("person-0190f2a0-0000-7000-8000-000000000001"));
        assert!(!is_person_id("person-Marie"));
        assert!(!is_person_id("Marie Fictive"));
    }
}
