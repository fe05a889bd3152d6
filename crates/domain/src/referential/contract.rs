//! The contract aggregate: the referential as published, then amended by avenants.
//!
//! Publication records the whole referential in one command (one event per data file, so that no
//! payload grows past the store's limit) with the SHA-256 of the data it was read from. Every later
//! change is an avenant: a fact of its own, with the act it rests on; its business date is the
//! event's effective date, so views can show the referential as it stood on any date.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::document::*;
use super::model::*;
use crate::event::DomainEvent;
use crate::metadata::ActRef;

/// The stream that holds a contract's referential.
pub fn contract_stream_id(contract_id: &str) -> String {
    format!("contract-{contract_id}")
}

/// Commands on a contract's referential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum ContractCommand {
    /// Publishes a contract's referential (what `engagements init` records).
    #[serde(rename = "publish_contract")]
    Publish {
        referential: Box<Referential>,
        /// SHA-256 over the data files (see `files`).
        content_hash: String,
        files: Vec<FileDigest>,
    },
    /// Avenant: a new quartier (its communes must exist).
    #[serde(rename = "add_quartier")]
    AddQuartier { avenant: ActRef, quartier: Quartier },
    /// Avenant: a new commune.
    #[serde(rename = "add_commune")]
    AddCommune { avenant: ActRef, commune: Commune },
    /// Avenant: a quartier's population estimate changes.
    #[serde(rename = "change_quartier_population")]
    ChangeQuartierPopulation {
        avenant: ActRef,
        quartier: String,
        population: u32,
    },
    /// Avenant: an objectif gets a new title.
    #[serde(rename = "rename_objectif")]
    RenameObjectif {
        avenant: ActRef,
        objectif: u32,
        title: String,
    },
    /// Avenant: a new signatory, optionally with the person who signs for it.
    #[serde(rename = "add_signatory")]
    AddSignatory {
        avenant: ActRef,
        organisation: Organisation,
        #[serde(default)]
        representative: Option<Representative>,
    },
    /// A meeting of one of the contract's governance bodies (comité de pilotage, comité
    /// technique, séminaire des élus…), with the act that reports it and what it decided.
    #[serde(rename = "record_governance_meeting")]
    RecordGovernanceMeeting {
        /// A governance body id of the referential (`copil-intercommunal`).
        body: String,
        date: NaiveDate,
        /// The minutes or record of decisions (« Relevé de décisions du COPIL du … »).
        act_reference: String,
        /// What it decided or reviewed, one item per entry.
        decisions: Vec<String>,
        #[serde(default)]
        attendees: Option<Vec<String>>,
    },
}

/// Most decisions (or attendees) one meeting record holds.
pub const MEETING_ITEMS_MAX: usize = 200;
/// Longest decision text.
pub const DECISION_MAX_CHARS: usize = 2_000;
/// Longest act reference or attendee name.
pub const MEETING_LABEL_MAX_CHARS: usize = 400;

/// Facts about a contract's referential.
// Events are decoded one at a time and folded at once: boxing variants would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum ContractEvent {
    ContractPublished {
        contract: ContractInfo,
        content_hash: String,
        files: Vec<FileDigest>,
    },
    QuartiersPublished {
        quartiers: QuartiersPart,
    },
    CommunesPublished {
        communes: CommunesPart,
    },
    OrganisationsPublished {
        organisations: OrganisationsPart,
    },
    StrategyPublished {
        strategy: StrategyPart,
    },
    DispositifsPublished {
        dispositifs: DispositifsPart,
    },
    TfpbAxesPublished {
        tfpb: TfpbPart,
    },
    QuartierAdded {
        avenant: ActRef,
        quartier: Quartier,
    },
    CommuneAdded {
        avenant: ActRef,
        commune: Commune,
    },
    QuartierPopulationChanged {
        avenant: ActRef,
        quartier: String,
        population_before: u32,
        population: u32,
    },
    ObjectifRenamed {
        avenant: ActRef,
        objectif: u32,
        title_before: String,
        title: String,
    },
    SignatoryAdded {
        avenant: ActRef,
        organisation: Organisation,
        representative: Option<Representative>,
    },
    /// Parts of the same contract's data encoded after its first publication (the enjeux
    /// transversaux's orientations and constats, the governance bodies), published without
    /// changing anything already published.
    ReferentialSupplemented {
        content_hash: String,
        files: Vec<FileDigest>,
        governance_bodies: Vec<GovernanceBody>,
        enjeux_transversaux: Vec<EnjeuTransversal>,
    },
    /// A governance body met.
    GovernanceMeetingRecorded {
        body: String,
        /// The body's name when the meeting was recorded.
        body_name: String,
        date: NaiveDate,
        act_reference: String,
        decisions: Vec<String>,
        #[serde(default)]
        attendees: Option<Vec<String>>,
    },
}

impl DomainEvent for ContractEvent {
    const STREAM_TYPE: &'static str = "contract";
    crate::event_names!(ContractEvent {
        ContractPublished,
        QuartiersPublished,
        CommunesPublished,
        OrganisationsPublished,
        StrategyPublished,
        DispositifsPublished,
        TfpbAxesPublished,
        QuartierAdded,
        CommuneAdded,
        QuartierPopulationChanged,
        ObjectifRenamed,
        SignatoryAdded,
        ReferentialSupplemented,
        GovernanceMeetingRecorded
    });
}

impl ContractEvent {
    /// The avenant this event records, if it is one (publication events are not).
    pub fn avenant(&self) -> Option<&ActRef> {
        match self {
            ContractEvent::QuartierAdded { avenant, .. }
            | ContractEvent::CommuneAdded { avenant, .. }
            | ContractEvent::QuartierPopulationChanged { avenant, .. }
            | ContractEvent::ObjectifRenamed { avenant, .. }
            | ContractEvent::SignatoryAdded { avenant, .. } => Some(avenant),
            _ => None,
        }
    }

    /// One line saying what the event changes, for histories.
    pub fn describe(&self) -> String {
        match self {
            ContractEvent::ContractPublished { contract, .. } => {
                format!("contract '{}' published", contract.id)
            }
            ContractEvent::QuartiersPublished { quartiers } => {
                format!("{} quartiers published", quartiers.quartiers.len())
            }
            ContractEvent::CommunesPublished { communes } => {
                format!("{} communes published", communes.communes.len())
            }
            ContractEvent::OrganisationsPublished { organisations } => format!(
                "{} organisations and {} representatives published",
                organisations.organisations.len(),
                organisations.representatives.len()
            ),
            ContractEvent::StrategyPublished { strategy } => format!(
                "strategy published: {} enjeux, {} ambitions, {} objectifs",
                strategy.enjeux.len(),
                strategy.ambitions.len(),
                strategy.objectifs.len()
            ),
            ContractEvent::DispositifsPublished { dispositifs } => {
                format!("{} dispositifs published", dispositifs.dispositifs.len())
            }
            ContractEvent::TfpbAxesPublished { tfpb } => {
                format!("{} TFPB axes published", tfpb.axes.len())
            }
            ContractEvent::QuartierAdded { quartier, .. } => {
                format!("quartier '{}' ({}) added", quartier.id, quartier.name)
            }
            ContractEvent::CommuneAdded { commune, .. } => {
                format!("commune '{}' added", commune.id)
            }
            ContractEvent::QuartierPopulationChanged {
                quartier,
                population_before,
                population,
                ..
            } => format!("population of '{quartier}': {population_before} -> {population}"),
            ContractEvent::ObjectifRenamed {
                objectif,
                title_before,
                title,
                ..
            } => format!("objectif {objectif} renamed from « {title_before} » to « {title} »"),
            ContractEvent::SignatoryAdded { organisation, .. } => {
                format!("signatory '{}' added", organisation.id)
            }
            ContractEvent::ReferentialSupplemented {
                governance_bodies,
                enjeux_transversaux,
                ..
            } => format!(
                "referential supplemented: {} governance bodies, {} orientations of the enjeux transversaux",
                governance_bodies.len(),
                enjeux_transversaux
                    .iter()
                    .map(|t| t.orientations.len())
                    .sum::<usize>()
            ),
            ContractEvent::GovernanceMeetingRecorded {
                body_name, date, ..
            } => format!("{body_name} met on {date}"),
        }
    }

    /// Folds this event into a referential (`None` before publication). Pure: the aggregate and
    /// every view use it, so they cannot disagree.
    pub fn apply_to(&self, referential: &mut Option<Referential>) {
        if let ContractEvent::ContractPublished { contract, .. } = self {
            *referential = Some(Referential::new(contract.clone()));
            return;
        }
        let Some(r) = referential.as_mut() else {
            return;
        };
        match self {
            ContractEvent::ContractPublished { .. }
            | ContractEvent::GovernanceMeetingRecorded { .. } => {}
            ContractEvent::ReferentialSupplemented {
                governance_bodies,
                enjeux_transversaux,
                ..
            } => {
                r.contract.governance_bodies = governance_bodies.clone();
                for supplement in enjeux_transversaux {
                    if let Some(t) = r
                        .strategy
                        .enjeux_transversaux
                        .iter_mut()
                        .find(|t| t.id == supplement.id)
                    {
                        t.orientations = supplement.orientations.clone();
                        t.constats = supplement.constats.clone();
                    }
                }
            }
            ContractEvent::QuartiersPublished { quartiers } => r.quartiers = quartiers.clone(),
            ContractEvent::CommunesPublished { communes } => r.communes = communes.clone(),
            ContractEvent::OrganisationsPublished { organisations } => {
                r.organisations = organisations.clone()
            }
            ContractEvent::StrategyPublished { strategy } => r.strategy = strategy.clone(),
            ContractEvent::DispositifsPublished { dispositifs } => {
                r.dispositifs = dispositifs.clone()
            }
            ContractEvent::TfpbAxesPublished { tfpb } => r.tfpb = Some(tfpb.clone()),
            ContractEvent::QuartierAdded { quartier, .. } => {
                for commune in r.communes.communes.iter_mut() {
                    if quartier.communes.contains(&commune.id)
                        && !commune.quartiers.contains(&quartier.id)
                    {
                        commune.quartiers.push(quartier.id.clone());
                    }
                }
                r.quartiers.quartiers.push(quartier.clone());
            }
            ContractEvent::CommuneAdded { commune, .. } => {
                r.communes.communes.push(commune.clone())
            }
            ContractEvent::QuartierPopulationChanged {
                quartier,
                population,
                ..
            } => {
                if let Some(q) = r.quartiers.quartiers.iter_mut().find(|q| &q.id == quartier) {
                    q.population = *population;
                }
            }
            ContractEvent::ObjectifRenamed {
                objectif, title, ..
            } => {
                if let Some(o) = r
                    .strategy
                    .objectifs
                    .iter_mut()
                    .find(|o| o.number == *objectif)
                {
                    o.title = title.clone();
                }
            }
            ContractEvent::SignatoryAdded {
                organisation,
                representative,
                ..
            } => {
                r.organisations.organisations.push(organisation.clone());
                if let Some(representative) = representative {
                    match r
                        .organisations
                        .representatives
                        .iter_mut()
                        .find(|p| p.id == representative.id)
                    {
                        // One person can sign for two organisations: attach, do not duplicate.
                        Some(person) => {
                            for id in &representative.organisations {
                                if !person.organisations.contains(id) {
                                    person.organisations.push(id.clone());
                                }
                            }
                        }
                        None => r.organisations.representatives.push(representative.clone()),
                    }
                }
            }
        }
    }
}

/// Why a contract command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("contract '{contract}' is already published with content hash {published}; the data given hashes to {given}: record the differences as avenants")]
    PublishedWithOtherContent {
        contract: String,
        published: String,
        given: String,
    },
    #[error("contract '{0}' is already published with this content")]
    AlreadyPublished(String),
    #[error("no contract is published yet: run `engagements init` first")]
    NotPublished,
    #[error("the publication is incomplete: {0}")]
    IncompletePublication(String),
    #[error("the avenant's act has no reference: say which avenant or délibération it rests on")]
    AvenantWithoutReference,
    #[error("{kind} '{value}' already exists")]
    AlreadyExists { kind: &'static str, value: String },
    #[error("unknown {kind} '{value}'")]
    Unknown { kind: &'static str, value: String },
    #[error("the new title of objectif {0} is the same as the current one")]
    SameTitle(u32),
    #[error("the population of quartier '{0}' is already {1}")]
    SamePopulation(String, u32),
    #[error("instance de gouvernance inconnue « {body} » : les instances du contrat sont {known}")]
    UnknownGovernanceBody { body: String, known: String },
    #[error("la réunion de « {body} » du {date} (acte « {act_reference} ») est déjà enregistrée")]
    MeetingAlreadyRecorded {
        body: String,
        date: String,
        act_reference: String,
    },
    #[error("{0}")]
    BadMeeting(String),
    #[error(transparent)]
    Inconsistent(#[from] super::check::ReferentialError),
}

/// What the ledger knows of a contract: its referential as amended, and the published hash.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContractState {
    pub referential: Option<Referential>,
    pub content_hash: Option<String>,
    /// Governance meetings recorded: (body, date, act reference).
    pub meetings: BTreeSet<(String, NaiveDate, String)>,
}

/// The contract aggregate.
pub struct Contract;

impl esrs::Aggregate for Contract {
    const NAME: &'static str = "contract";
    type State = ContractState;
    type Command = ContractCommand;
    type Event = ContractEvent;
    type Error = ContractError;

    fn handle_command(
        state: &ContractState,
        command: ContractCommand,
    ) -> Result<Vec<ContractEvent>, ContractError> {
        match command {
            ContractCommand::Publish {
                referential,
                content_hash,
                files,
            } => publish(state, *referential, content_hash, files),
            ContractCommand::RecordGovernanceMeeting {
                body,
                date,
                act_reference,
                decisions,
                attendees,
            } => record_meeting(state, body, date, act_reference, decisions, attendees),
            amendment => amend(state, amendment),
        }
    }

    fn apply_event(mut state: ContractState, event: ContractEvent) -> ContractState {
        match &event {
            ContractEvent::ContractPublished { content_hash, .. }
            | ContractEvent::ReferentialSupplemented { content_hash, .. } => {
                state.content_hash = Some(content_hash.clone());
            }
            ContractEvent::GovernanceMeetingRecorded {
                body,
                date,
                act_reference,
                ..
            } => {
                state
                    .meetings
                    .insert((body.clone(), *date, act_reference.clone()));
            }
            _ => {}
        }
        event.apply_to(&mut state.referential);
        state
    }
}

fn publish(
    state: &ContractState,
    referential: Referential,
    content_hash: String,
    files: Vec<FileDigest>,
) -> Result<Vec<ContractEvent>, ContractError> {
    if let Some(published) = &state.content_hash {
        let contract = referential.contract.id.clone();
        if let Some(current) = &state.referential {
            // The same data with the parts encoded since (orientations, constats, governance
            // bodies): published as a supplement; anything else is an avenant's business.
            if *published != content_hash
                && !current.has_supplements()
                && referential.has_supplements()
                && current.without_supplements() == referential.without_supplements()
            {
                referential.check()?;
                return Ok(vec![ContractEvent::ReferentialSupplemented {
                    content_hash,
                    files,
                    governance_bodies: referential.contract.governance_bodies.clone(),
                    enjeux_transversaux: referential.strategy.enjeux_transversaux.clone(),
                }]);
            }
        }
        return Err(if *published == content_hash {
            ContractError::AlreadyPublished(contract)
        } else {
            ContractError::PublishedWithOtherContent {
                contract,
                published: published.clone(),
                given: content_hash,
            }
        });
    }
    referential.check()?;
    let Referential {
        contract,
        quartiers,
        communes,
        organisations,
        strategy,
        dispositifs,
        tfpb,
    } = referential;
    let mut events = vec![
        ContractEvent::ContractPublished {
            contract,
            content_hash,
            files,
        },
        ContractEvent::QuartiersPublished { quartiers },
        ContractEvent::CommunesPublished { communes },
        ContractEvent::OrganisationsPublished { organisations },
        ContractEvent::StrategyPublished { strategy },
        ContractEvent::DispositifsPublished { dispositifs },
    ];
    if let Some(tfpb) = tfpb {
        events.push(ContractEvent::TfpbAxesPublished { tfpb });
    }
    Ok(events)
}

/// Decides a governance meeting: the body must be one of the referential's, the record complete.
fn record_meeting(
    state: &ContractState,
    body: String,
    date: NaiveDate,
    act_reference: String,
    decisions: Vec<String>,
    attendees: Option<Vec<String>>,
) -> Result<Vec<ContractEvent>, ContractError> {
    let current = state
        .referential
        .as_ref()
        .ok_or(ContractError::NotPublished)?;
    let body = body.trim().to_string();
    let Some(found) = current.governance_body(&body) else {
        let known: Vec<String> = current
            .governance_bodies()
            .map(|b| format!("{} ({})", b.id, b.name))
            .collect();
        return Err(ContractError::UnknownGovernanceBody {
            body,
            known: if known.is_empty() {
                "aucune : le référentiel publié n'en décrit pas (relancer `engagements init` pour le compléter)".to_string()
            } else {
                known.join(", ")
            },
        });
    };
    let bad = |message: String| Err(ContractError::BadMeeting(message));
    let period = &current.contract.period;
    if !period.contains(date.year()) {
        return bad(format!(
            "la date de la réunion ({}) est hors de la période du contrat ({}-{})",
            date.format("%d/%m/%Y"),
            period.start_year,
            period.end_year
        ));
    }
    let act_reference = act_reference.trim().to_string();
    if act_reference.is_empty() {
        return bad(
            "la référence de l'acte (compte rendu, relevé de décisions) est vide".to_string(),
        );
    }
    if act_reference.chars().count() > MEETING_LABEL_MAX_CHARS {
        return bad(format!(
            "la référence de l'acte dépasse {MEETING_LABEL_MAX_CHARS} caractères"
        ));
    }
    let decisions: Vec<String> = decisions.iter().map(|d| d.trim().to_string()).collect();
    if decisions.is_empty() {
        return bad(
            "aucune décision : indiquer au moins ce que l'instance a décidé ou examiné".to_string(),
        );
    }
    if decisions.len() > MEETING_ITEMS_MAX {
        return bad(format!(
            "{} décisions, au plus {MEETING_ITEMS_MAX}",
            decisions.len()
        ));
    }
    for (index, decision) in decisions.iter().enumerate() {
        if decision.is_empty() {
            return bad(format!("la décision n°{} est vide", index + 1));
        }
        if decision.chars().count() > DECISION_MAX_CHARS {
            return bad(format!(
                "la décision n°{} dépasse {DECISION_MAX_CHARS} caractères",
                index + 1
            ));
        }
    }
    let attendees = match attendees {
        None => None,
        Some(list) => {
            let list: Vec<String> = list.iter().map(|a| a.trim().to_string()).collect();
            if list.len() > MEETING_ITEMS_MAX {
                return bad(format!(
                    "{} participants, au plus {MEETING_ITEMS_MAX}",
                    list.len()
                ));
            }
            if let Some(index) = list
                .iter()
                .position(|a| a.is_empty() || a.chars().count() > MEETING_LABEL_MAX_CHARS)
            {
                return bad(format!(
                    "le participant n°{} est vide ou dépasse {MEETING_LABEL_MAX_CHARS} caractères",
                    index + 1
                ));
            }
            Some(list)
        }
    };
    if state
        .meetings
        .contains(&(found.id.clone(), date, act_reference.clone()))
    {
        return Err(ContractError::MeetingAlreadyRecorded {
            body: found.name.clone(),
            date: date.format("%d/%m/%Y").to_string(),
            act_reference,
        });
    }
    Ok(vec![ContractEvent::GovernanceMeetingRecorded {
        body: found.id.clone(),
        body_name: found.name.clone(),
        date,
        act_reference,
        decisions,
        attendees,
    }])
}

/// Decides an avenant: specific checks first (clear errors), then the amended referential must
/// still hold together.
fn amend(
    state: &ContractState,
    command: ContractCommand,
) -> Result<Vec<ContractEvent>, ContractError> {
    let current = state
        .referential
        .as_ref()
        .ok_or(ContractError::NotPublished)?;
    let event = amendment_event(current, command)?;
    if event
        .avenant()
        .is_some_and(|a| a.reference.trim().is_empty())
    {
        return Err(ContractError::AvenantWithoutReference);
    }
    let mut amended = Some(current.clone());
    event.apply_to(&mut amended);
    if let Some(amended) = &amended {
        amended.check_structure()?;
    }
    Ok(vec![event])
}

fn amendment_event(
    current: &Referential,
    command: ContractCommand,
) -> Result<ContractEvent, ContractError> {
    let exists = |kind, value: &str| ContractError::AlreadyExists {
        kind,
        value: value.to_string(),
    };
    let unknown = |kind, value: &str| ContractError::Unknown {
        kind,
        value: value.to_string(),
    };
    match command {
        ContractCommand::Publish { referential, .. } => {
            Err(ContractError::AlreadyPublished(referential.contract.id))
        }
        ContractCommand::RecordGovernanceMeeting { .. } => Err(ContractError::BadMeeting(
            "a governance meeting is not an avenant".to_string(),
        )),
        ContractCommand::AddQuartier { avenant, quartier } => {
            if current.quartier(&quartier.id).is_some() {
                return Err(exists("quartier", &quartier.id));
            }
            Ok(ContractEvent::QuartierAdded { avenant, quartier })
        }
        ContractCommand::AddCommune { avenant, commune } => {
            if current.commune(&commune.id).is_some() {
                return Err(exists("commune", &commune.id));
            }
            Ok(ContractEvent::CommuneAdded { avenant, commune })
        }
        ContractCommand::ChangeQuartierPopulation {
            avenant,
            quartier,
            population,
        } => {
            let found = current
                .quartier(&quartier)
                .ok_or_else(|| unknown("quartier", &quartier))?;
            if found.population == population {
                return Err(ContractError::SamePopulation(found.id.clone(), population));
            }
            Ok(ContractEvent::QuartierPopulationChanged {
                avenant,
                quartier: found.id.clone(),
                population_before: found.population,
                population,
            })
        }
        ContractCommand::RenameObjectif {
            avenant,
            objectif,
            title,
        } => {
            let found = current
                .objectif(objectif)
                .ok_or_else(|| unknown("objectif", &objectif.to_string()))?;
            let title = title.trim().to_string();
            if found.objectif.title == title {
                return Err(ContractError::SameTitle(objectif));
            }
            Ok(ContractEvent::ObjectifRenamed {
                avenant,
                objectif,
                title_before: found.objectif.title.clone(),
                title,
            })
        }
        ContractCommand::AddSignatory {
            avenant,
            organisation,
            representative,
        } => {
            if current.organisation(&organisation.id).is_some() {
                return Err(exists("organisation", &organisation.id));
            }
            Ok(ContractEvent::SignatoryAdded {
                avenant,
                organisation,
                representative,
            })
        }
    }
}
