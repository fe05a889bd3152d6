//! Decides workload commands with the domain's aggregates over states kept by the client, as the
//! ledger's command handler does, and turns the resulting events into what the store appends.

use std::collections::HashMap;

use anyhow::{anyhow, Context};
use engagements_domain::dossier::{Dossier, DossierEvent, DossierState};
use engagements_domain::porteur::{Porteur, PorteurEvent, PorteurState};
use engagements_domain::DomainEvent;
use engagements_store::{AppendRequest, ExpectedVersion, NewEvent, Store, StreamAppend};
use esrs::Aggregate;
use uuid::Uuid;

use crate::workload::{WorkCommand, WorkItem};

/// Events decided but not yet recorded: folded into the client's states once the append is
/// acknowledged.
pub enum Decided {
    Porteur(Uuid, Vec<PorteurEvent>),
    Dossier(Uuid, Vec<DossierEvent>),
}

/// The states of the aggregates one client works on, with their stream versions.
#[derive(Default)]
pub struct Decider {
    porteurs: HashMap<Uuid, (i64, PorteurState)>,
    dossiers: HashMap<Uuid, (i64, DossierState)>,
}

impl Decider {
    /// Decides a command: the stream to append to (with its expected version) and the events.
    pub fn decide(&self, command: &WorkCommand) -> anyhow::Result<(StreamAppend, Decided)> {
        match command {
            WorkCommand::Porteur(id, command) => {
                let (stream, events) =
                    decide_one::<Porteur>(&self.porteurs, id.0, id.stream_id(), command.clone())?;
                Ok((stream, Decided::Porteur(id.0, events)))
            }
            WorkCommand::Dossier(id, command) => {
                let (stream, events) =
                    decide_one::<Dossier>(&self.dossiers, id.0, id.stream_id(), command.clone())?;
                Ok((stream, Decided::Dossier(id.0, events)))
            }
        }
    }

    /// Folds events once they are recorded.
    pub fn recorded(&mut self, decided: Decided) {
        match decided {
            Decided::Porteur(id, events) => fold_in::<Porteur>(&mut self.porteurs, id, events),
            Decided::Dossier(id, events) => fold_in::<Dossier>(&mut self.dossiers, id, events),
        }
    }

    /// Decides a workload item, appends it as one command and, once it is durable, folds its
    /// events in: what a client of the ledger does for each command.
    pub async fn append(&mut self, store: &Store, item: WorkItem) -> anyhow::Result<()> {
        let (stream, decided) = self.decide(&item.command)?;
        store
            .append(AppendRequest {
                metadata: item.metadata,
                streams: vec![stream],
            })
            .await?;
        self.recorded(decided);
        Ok(())
    }
}

fn decide_one<A>(
    states: &HashMap<Uuid, (i64, A::State)>,
    id: Uuid,
    stream_id: String,
    command: A::Command,
) -> anyhow::Result<(StreamAppend, Vec<A::Event>)>
where
    A: Aggregate,
    A::Event: DomainEvent,
    A::Error: Send + Sync + 'static,
{
    let fresh = A::State::default();
    let (version, state) = states
        .get(&id)
        .map(|(version, state)| (*version, state))
        .unwrap_or((0, &fresh));
    let events = A::handle_command(state, command)
        .map_err(|e| anyhow!("the workload made a command the domain refuses: {e}"))?;
    let new_events = events
        .iter()
        .map(NewEvent::from_event)
        .collect::<Result<Vec<_>, _>>()
        .context("serialise an event")?;
    Ok((
        StreamAppend {
            stream_type: A::Event::STREAM_TYPE.to_string(),
            stream_id,
            expected: ExpectedVersion::from_version(version),
            events: new_events,
        },
        events,
    ))
}

fn fold_in<A: Aggregate>(
    states: &mut HashMap<Uuid, (i64, A::State)>,
    id: Uuid,
    events: Vec<A::Event>,
) {
    let (version, state) = states.remove(&id).unwrap_or_default();
    let count = events.len() as i64;
    let state = events.into_iter().fold(state, A::apply_event);
    states.insert(id, (version + count, state));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Workload;

    #[test]
    fn the_domain_accepts_every_generated_command() {
        let mut decider = Decider::default();
        for (index, item) in Workload::new(11, 3).take(20_000).enumerate() {
            let (stream, decided) = decider
                .decide(&item.command)
                .unwrap_or_else(|e| panic!("command {index} refused: {e}: {:?}", item.command));
            assert_eq!(stream.events.len(), 1);
            decider.recorded(decided);
        }
    }
}
