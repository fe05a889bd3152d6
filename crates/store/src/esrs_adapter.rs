//! The store as an [`esrs::store::EventStore`], so that [`esrs::AggregateManager`] works on both
//! backends.
//!
//! esrs's trait has no place for metadata, so each adapter carries the actor and source of the
//! commands it persists, and records today's date as their effective date. The ledger's own
//! command handler (crate `engagements-app`) uses the store directly instead: it supplies full
//! metadata, appends to several streams atomically and keeps aggregate states cached (see
//! `docs/adr/0001-event-store.md`).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use engagements_domain::event::DomainEvent;
use engagements_domain::{Actor, Metadata, Source};
use esrs::store::{EventStore, EventStoreLockGuard, StoreEvent, UnlockOnDrop};
use esrs::{Aggregate, AggregateState};
use uuid::Uuid;

use crate::error::{AppendError, StoreError};
use crate::model::{AppendRequest, ExpectedVersion, NewEvent};
use crate::store::Store;

/// Why the esrs adapter failed.
#[derive(Debug, thiserror::Error)]
pub enum EsrsStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error("the ledger is append-only: deleting aggregate {0} is refused")]
    DeleteRefused(Uuid),
}

/// Adapts [`Store`] to esrs for aggregate `A`.
pub struct EsrsStore<A> {
    store: Store,
    actor: Actor,
    source: Source,
    locks: Arc<Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>>,
    _aggregate: PhantomData<fn() -> A>,
}

impl<A> EsrsStore<A> {
    pub fn new(store: Store, actor: Actor, source: Source) -> Self {
        EsrsStore {
            store,
            actor,
            source,
            locks: Arc::default(),
            _aggregate: PhantomData,
        }
    }
}

/// The stream id of aggregate `name` with id `id`: `name-uuid`, as the domain's ids produce.
pub fn stream_id(name: &str, id: Uuid) -> String {
    format!("{name}-{id}")
}

struct LockGuard(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);
impl UnlockOnDrop for LockGuard {}

#[async_trait]
impl<A> EventStore for EsrsStore<A>
where
    A: Aggregate + Send + Sync,
    A::Event: DomainEvent,
    A::State: Send + Sync,
{
    type Aggregate = A;
    type Error = EsrsStoreError;

    async fn lock(&self, aggregate_id: Uuid) -> Result<EventStoreLockGuard, Self::Error> {
        let mutex = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(aggregate_id).or_default().clone()
        };
        Ok(EventStoreLockGuard::new(LockGuard(
            mutex.lock_owned().await,
        )))
    }

    async fn by_aggregate_id(
        &self,
        aggregate_id: Uuid,
    ) -> Result<Vec<StoreEvent<A::Event>>, Self::Error> {
        let events = self
            .store
            .read_stream(&stream_id(A::NAME, aggregate_id), None)
            .await?;
        events
            .into_iter()
            .map(|event| {
                Ok(StoreEvent {
                    id: event.event_id,
                    aggregate_id,
                    payload: event
                        .decode::<A::Event>()
                        .map_err(|e| StoreError::Corrupt {
                            position: e.position,
                            reason: e.reason,
                        })?,
                    occurred_on: event.recorded_at,
                    sequence_number: i32::try_from(event.version).unwrap_or(i32::MAX),
                    version: Some(event.schema_version),
                })
            })
            .collect()
    }

    async fn persist(
        &self,
        aggregate_state: &mut AggregateState<A::State>,
        events: Vec<A::Event>,
    ) -> Result<Vec<StoreEvent<A::Event>>, Self::Error> {
        let aggregate_id = *aggregate_state.id();
        let expected = ExpectedVersion::from_version(i64::from(*aggregate_state.sequence_number()));
        let new_events = events
            .iter()
            .map(NewEvent::from_event)
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = Metadata::new(
            self.actor.clone(),
            self.source,
            chrono::Utc::now().date_naive(),
        );
        let appended = self
            .store
            .append(AppendRequest::single(
                metadata,
                A::NAME,
                stream_id(A::NAME, aggregate_id),
                expected,
                new_events,
            ))
            .await?;
        Ok(events
            .into_iter()
            .zip(appended.events)
            .map(|(payload, recorded)| StoreEvent {
                id: recorded.event_id,
                aggregate_id,
                payload,
                occurred_on: recorded.recorded_at,
                sequence_number: aggregate_state.next_sequence_number(),
                version: Some(recorded.schema_version),
            })
            .collect())
    }

    async fn publish(&self, _store_events: &[StoreEvent<A::Event>]) {
        // The ledger publishes from the log itself (the outbox relay), never from here.
    }

    async fn delete(&self, aggregate_id: Uuid) -> Result<(), Self::Error> {
        Err(EsrsStoreError::DeleteRefused(aggregate_id))
    }
}
