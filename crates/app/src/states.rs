//! Aggregate states: cached in memory so that a command does not replay its stream, with an
//! overlay for the states staged by the earlier commands of an atomic import.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use engagements_domain::event::DomainEvent;
use engagements_store::{ExpectedVersion, NewEvent, Store, StreamAppend};
use esrs::Aggregate;

use crate::error::CommandError;

/// A state as cached: its stream version and the state itself.
pub(crate) type CachedState = (i64, Arc<dyn Any + Send + Sync>);

/// Streams kept in memory before the cache is emptied and refilled on demand.
const CACHE_STREAMS_MAX: usize = 200_000;

/// States of recently used streams, by stream id.
#[derive(Default)]
pub(crate) struct StateCache {
    states: Mutex<HashMap<String, CachedState>>,
}

impl StateCache {
    fn get(&self, stream_id: &str) -> Option<CachedState> {
        self.lock().get(stream_id).cloned()
    }

    /// Keeps the newer of the cached and the given state.
    pub(crate) fn put(&self, stream_id: String, state: CachedState) {
        let mut states = self.lock();
        if states.len() >= CACHE_STREAMS_MAX {
            states.clear();
        }
        let newer = states.get(&stream_id).is_none_or(|(v, _)| *v < state.0);
        if newer {
            states.insert(stream_id, state);
        }
    }

    /// Forgets a stream whose cached state turned out stale.
    pub(crate) fn forget(&self, stream_id: &str) {
        self.lock().remove(stream_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedState>> {
        self.states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where a command's handler loads aggregate states from: staged overlay, then cache, then store.
pub(crate) struct StateView<'a> {
    store: &'a Store,
    cache: &'a StateCache,
    pub(crate) overlay: HashMap<String, CachedState>,
}

impl<'a> StateView<'a> {
    pub(crate) fn new(store: &'a Store, cache: &'a StateCache) -> Self {
        StateView {
            store,
            cache,
            overlay: HashMap::new(),
        }
    }

    /// The state of stream `stream_id` of aggregate `A`, with its version (0: no event yet).
    pub(crate) async fn load<A>(&self, stream_id: &str) -> Result<(i64, A::State), CommandError>
    where
        A: Aggregate,
        A::State: Clone + Send + Sync + 'static,
        A::Event: DomainEvent,
    {
        let cached = self
            .overlay
            .get(stream_id)
            .cloned()
            .or_else(|| self.cache.get(stream_id));
        if let Some((version, state)) = cached {
            if let Some(state) = state.downcast_ref::<A::State>() {
                return Ok((version, state.clone()));
            }
        }
        let events = self.store.read_stream(stream_id, None).await?;
        let version = events.last().map(|e| e.version).unwrap_or(0);
        let mut state = A::State::default();
        for event in &events {
            let decoded = event
                .decode::<A::Event>()
                .map_err(|e| CommandError::Invalid(e.to_string()))?;
            state = A::apply_event(state, decoded);
        }
        self.cache
            .put(stream_id.to_string(), (version, Arc::new(state.clone())));
        Ok((version, state))
    }
}

/// What a command will append, and the states its streams will then have.
#[derive(Default)]
pub(crate) struct Plan {
    pub(crate) streams: Vec<StreamAppend>,
    pub(crate) states: Vec<(String, CachedState)>,
}

impl Plan {
    /// Adds another stream's part of the same command.
    #[allow(dead_code)] // for commands that touch several streams
    pub(crate) fn and(mut self, other: Plan) -> Plan {
        self.streams.extend(other.streams);
        self.states.extend(other.states);
        self
    }
}

/// Decides `command` on stream `stream_id` of aggregate `A`: the aggregate's own rules
/// (`handle_command`), then the new state (`apply_event`), ready to append with the version read.
pub(crate) async fn decide<A>(
    view: &StateView<'_>,
    stream_id: String,
    command: A::Command,
) -> Result<Plan, CommandError>
where
    A: Aggregate,
    A::State: Clone + Send + Sync + 'static,
    A::Event: DomainEvent + Clone,
{
    decide_all::<A>(view, stream_id, vec![command]).await
}

/// Decides several commands on one stream, each on the state the ones before it left: one
/// append, all or nothing (e.g. an action planned by an admin and the shares it confirms).
pub(crate) async fn decide_all<A>(
    view: &StateView<'_>,
    stream_id: String,
    commands: Vec<A::Command>,
) -> Result<Plan, CommandError>
where
    A: Aggregate,
    A::State: Clone + Send + Sync + 'static,
    A::Event: DomainEvent + Clone,
{
    let (version, mut state) = view.load::<A>(&stream_id).await?;
    let mut events = Vec::new();
    for command in commands {
        let decided = A::handle_command(&state, command).map_err(CommandError::rejected)?;
        state = decided.iter().cloned().fold(state, A::apply_event);
        events.extend(decided);
    }
    let new_events = events
        .iter()
        .map(NewEvent::from_event)
        .collect::<Result<Vec<_>, _>>()?;
    let version_after = version + new_events.len() as i64;
    Ok(Plan {
        streams: vec![StreamAppend {
            stream_type: A::Event::STREAM_TYPE.to_string(),
            stream_id: stream_id.clone(),
            expected: ExpectedVersion::from_version(version),
            events: new_events,
        }],
        states: vec![(stream_id, (version_after, Arc::new(state)))],
    })
}
