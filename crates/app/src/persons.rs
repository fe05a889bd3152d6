//! Persons' names, joined to the events at display time: events name people by a pseudonymous id
//! (`person-<uuid>`, see `engagements_store::persons`), the names live in an erasable table.
//! An erased person reads « personne effacée »; a name recorded before pseudonymisation existed
//! reads as it was recorded.

use std::collections::BTreeMap;

use engagements_domain::{Actor, RecordedEvent};
use engagements_store::persons::{is_person_id, PersonRecord};
use engagements_store::{Store, StoreError};

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
