//! The trail of one thing (dossier, CPO, envelope, convention, commitment…): every event of its
//! stream and every event elsewhere that names it, in log order, each with who, when (record time
//! and effective date), on which act, and a readable description of what changed.
//!
//! A thing is found by its stream id (`dossier-…`), its uuid, or a reference that appears as a
//! value in payloads or as the act reference of the metadata (a convention number, a comité
//! reference…). A reference pulls in the whole streams where it appears, since a convention or a
//! comité is about the dossiers that carry it.
//!
//! Descriptions are built from the payload's JSON, so events of every family get one: known event
//! types get a sentence with old → new amounts and statuses, the others list their fields.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use engagements_domain::event::DomainEvent;
use engagements_domain::referential::ContractEvent;
use engagements_domain::RecordedEvent;
use engagements_projections::referential::ReferentialView;
use engagements_projections::{AsOf, Table};
use engagements_store::Store;
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::AuditError;
use engagements_store::persons::{id_of, Names};

/// Most events one trail may list; a bigger trail is an error (narrow the query).
pub const TRAIL_EVENTS_MAX: usize = 100_000;
/// Longest description of one event.
const DESCRIPTION_CHARS_MAX: usize = 500;
/// Longest query accepted.
const QUERY_CHARS_MAX: usize = 300;
/// Events read per page while scanning the log.
const SCAN_PAGE: i64 = 10_000;

/// One line of a trail.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailEntry {
    pub position: i64,
    pub recorded_at: DateTime<Utc>,
    pub effective_date: NaiveDate,
    /// The operator: who recorded it (their name, « personne effacée » once erased), and the
    /// organisation they act for.
    pub actor: String,
    pub organisation: String,
    /// The operator's pseudonymous id as the event carries it (`person-…`), when it is one.
    pub actor_id: Option<String>,
    /// On whose behalf the operator recorded it, when the command said so.
    pub on_behalf_of: Option<String>,
    pub on_behalf_of_organisation: Option<String>,
    pub on_behalf_of_id: Option<String>,
    /// The act referenced (kind, reference, date), if any.
    pub act: Option<String>,
    pub stream_id: String,
    pub event_type: String,
    pub description: String,
    /// The command that recorded it (its idempotency key), and what it belongs to and follows.
    pub command_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// The payload as recorded (JSON text), so that the trail holds everything hashed.
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The trail of one thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Trail {
    /// What was asked for.
    pub query: String,
    pub entries: Vec<TrailEntry>,
}

impl Trail {
    /// The trail as a report table.
    pub fn to_table(&self) -> Table {
        let mut table = Table::new(
            "history",
            &[
                "position",
                "recorded_at",
                "effective_date",
                "actor",
                "organisation",
                "actor_id",
                "on_behalf_of",
                "on_behalf_of_organisation",
                "on_behalf_of_id",
                "act",
                "stream_id",
                "event_type",
                "description",
                "command_id",
                "correlation_id",
                "causation_id",
                "payload",
                "prev_hash",
                "hash",
            ],
        );
        for e in &self.entries {
            table.push(vec![
                e.position.into(),
                e.recorded_at.to_rfc3339().into(),
                e.effective_date.into(),
                e.actor.as_str().into(),
                e.organisation.as_str().into(),
                e.actor_id.clone().into(),
                e.on_behalf_of.clone().into(),
                e.on_behalf_of_organisation.clone().into(),
                e.on_behalf_of_id.clone().into(),
                e.act.clone().into(),
                e.stream_id.as_str().into(),
                e.event_type.as_str().into(),
                e.description.as_str().into(),
                e.command_id.to_string().into(),
                e.correlation_id.to_string().into(),
                e.causation_id.map(|c| c.to_string()).into(),
                e.payload.as_str().into(),
                e.prev_hash.as_str().into(),
                e.hash.as_str().into(),
            ]);
        }
        table
    }
}

/// How a query selects events.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Needle {
    /// A uuid: the streams whose id contains it, and events whose payload names it.
    Id(String),
    /// A stream id or a reference: the streams where it appears.
    Reference(String),
}

impl Needle {
    fn parse(query: &str) -> Needle {
        let without_prefix = query
            .split_once('-')
            .filter(|(prefix, _)| prefix.chars().all(|c| c.is_ascii_lowercase()))
            .map(|(_, rest)| rest);
        let uuid = Uuid::from_str(query)
            .ok()
            .or_else(|| without_prefix.and_then(|rest| Uuid::from_str(rest).ok()));
        match uuid {
            Some(uuid) => Needle::Id(uuid.to_string()),
            None => Needle::Reference(query.to_string()),
        }
    }

    /// Whether the event belongs to the trail directly.
    fn matches(&self, event: &RecordedEvent) -> bool {
        match self {
            Needle::Id(uuid) => {
                event.stream_id.contains(uuid.as_str())
                    || event.payload.contains(&format!("\"{uuid}\""))
            }
            Needle::Reference(reference) => {
                event.stream_id == *reference
                    || payload_has_value(&event.payload, reference)
                    || event
                        .metadata
                        .act
                        .as_ref()
                        .is_some_and(|act| act.reference == *reference)
            }
        }
    }
}

/// Whether `value` appears as a JSON string value in the payload (cheap text test first).
fn payload_has_value(payload: &str, value: &str) -> bool {
    let quoted = Value::String(value.to_string()).to_string();
    payload.contains(&quoted)
}

/// The trail of `query` as the ledger says it `as_of` (record-time bounds and effective date).
pub async fn history(store: &Store, query: &str, as_of: &AsOf) -> Result<Trail, AuditError> {
    let query = query.trim();
    if query.is_empty() || query.chars().count() > QUERY_CHARS_MAX {
        return Err(AuditError::BadInput {
            what: "history query",
            value: query.chars().take(40).collect(),
            reason: format!("give 1 to {QUERY_CHARS_MAX} characters"),
        });
    }
    let needle = Needle::parse(query);
    let (events, referential) = scan(store, &needle, as_of).await?;
    if events.is_empty() {
        return Err(AuditError::NotFound(query.to_string()));
    }
    let names = Names::of_events(store, &events).await?;
    Ok(Trail {
        query: query.to_string(),
        entries: describe_all(&events, &names, &referential),
    })
}

/// Scans the log within the record-time bound: the events that match, plus for a reference the
/// other events of the streams where it appears; and the referential as it then stood, so that
/// financeurs, dispositifs and bailleurs are named.
async fn scan(
    store: &Store,
    needle: &Needle,
    as_of: &AsOf,
) -> Result<(Vec<RecordedEvent>, ReferentialView), AuditError> {
    let mut referential = ReferentialView::default();
    let mut matched: BTreeMap<i64, RecordedEvent> = BTreeMap::new();
    let mut streams: BTreeSet<String> = BTreeSet::new();
    let mut from = 1;
    'pages: loop {
        let page = store.read_all(from, SCAN_PAGE).await?;
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        for event in page {
            if as_of.is_past_record_bound(&event) {
                break 'pages;
            }
            if event.stream_type == ContractEvent::STREAM_TYPE {
                if let Ok(contract) = event.decode::<ContractEvent>() {
                    referential.apply(&event, &contract);
                }
            }
            if needle.matches(&event) {
                if matches!(needle, Needle::Reference(_)) {
                    streams.insert(event.stream_id.clone());
                }
                matched.insert(event.position, event);
                if matched.len() > TRAIL_EVENTS_MAX {
                    return Err(too_many());
                }
            }
        }
    }
    for stream_id in streams {
        for event in store.read_stream(&stream_id, None).await? {
            if !as_of.is_past_record_bound(&event) {
                matched.insert(event.position, event);
            }
        }
        if matched.len() > TRAIL_EVENTS_MAX {
            return Err(too_many());
        }
    }
    let events = matched
        .into_values()
        .filter(|event| as_of.is_in_force(event))
        .collect();
    Ok((events, referential))
}

fn too_many() -> AuditError {
    AuditError::LimitExceeded(format!(
        "the trail has more than {TRAIL_EVENTS_MAX} events: ask for a narrower thing or an earlier --at-position"
    ))
}

/// Describes each event in order, remembering amounts so that changes read old → new.
fn describe_all(
    events: &[RecordedEvent],
    names: &Names,
    referential: &ReferentialView,
) -> Vec<TrailEntry> {
    let mut memory = Memory {
        referential,
        granted: BTreeMap::new(),
        paid: BTreeMap::new(),
        budget: BTreeMap::new(),
    };
    events
        .iter()
        .map(|event| {
            let payload: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
            let mut description = memory.describe(event, &payload);
            if description.chars().count() > DESCRIPTION_CHARS_MAX {
                description = description
                    .chars()
                    .take(DESCRIPTION_CHARS_MAX)
                    .collect::<String>()
                    + "…";
            }
            TrailEntry {
                position: event.position,
                recorded_at: event.recorded_at,
                effective_date: event.metadata.effective_date,
                actor: names.display(&event.metadata.actor.person),
                organisation: event.metadata.actor.organisation.clone(),
                actor_id: id_of(&event.metadata.actor.person),
                on_behalf_of: event
                    .metadata
                    .on_behalf_of
                    .as_ref()
                    .map(|a| names.display(&a.person)),
                on_behalf_of_id: event
                    .metadata
                    .on_behalf_of
                    .as_ref()
                    .and_then(|a| id_of(&a.person)),
                on_behalf_of_organisation: event
                    .metadata
                    .on_behalf_of
                    .as_ref()
                    .map(|a| a.organisation.clone()),
                act: event.metadata.act.as_ref().map(|act| {
                    let code = serde_json::to_value(act.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    let kind = engagements_projections::labels::value(&code).unwrap_or(&code);
                    match act.date {
                        Some(date) => format!(
                            "{kind} {} ({})",
                            act.reference,
                            engagements_projections::labels::date_fr(date)
                        ),
                        None => format!("{kind} {}", act.reference),
                    }
                }),
                stream_id: event.stream_id.clone(),
                event_type: event.event_type.clone(),
                description,
                command_id: event.metadata.command_id,
                correlation_id: event.metadata.correlation_id,
                causation_id: event.metadata.causation_id,
                payload: event.payload.clone(),
                prev_hash: event.prev_hash.clone(),
                hash: event.hash.clone(),
            }
        })
        .collect()
}

/// Amounts seen so far in the trail, per stream and financeur line.
struct Memory<'r> {
    /// The referential the events were recorded under: names for ids.
    referential: &'r ReferentialView,
    granted: BTreeMap<String, Decimal>,
    paid: BTreeMap<String, Decimal>,
    budget: BTreeMap<String, Decimal>,
}

fn text<'a>(payload: &'a Value, field: &str) -> &'a str {
    payload.get(field).and_then(Value::as_str).unwrap_or("")
}

fn amount(payload: &Value, field: &str) -> Option<Decimal> {
    match payload.get(field)? {
        Value::String(s) => Decimal::from_str(s).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

fn eur(value: Decimal) -> String {
    engagements_projections::labels::eur_decimal(value)
}

/// A payload's date field the French way (`15/04/2025`), or as written if it is not a date.
fn date(payload: &Value, field: &str) -> String {
    let raw = text(payload, field);
    NaiveDate::from_str(raw)
        .map(engagements_projections::labels::date_fr)
        .unwrap_or_else(|_| raw.to_string())
}

/// A coded value in French (`favourable` → `favorable`).
fn coded(payload: &Value, field: &str) -> String {
    let raw = text(payload, field);
    engagements_projections::labels::value(raw)
        .unwrap_or(raw)
        .to_string()
}

/// An envelope's key as people read it: `État / BOP 147 - AAP / 2025`.
fn envelope_key(payload: &Value, names: &ReferentialView) -> String {
    let key = payload.get("key").unwrap_or(&Value::Null);
    format!(
        "{} / {}",
        line(key, names),
        key.get("exercice")
            .map(Value::to_string)
            .unwrap_or_default()
    )
}

impl Memory<'_> {
    fn describe(&mut self, event: &RecordedEvent, p: &Value) -> String {
        let line_key = format!(
            "{}/{}/{}",
            event.stream_id,
            text(p, "financeur"),
            text(p, "dispositif")
        );
        let names = self.referential;
        let line = line(p, names);
        let granted_before = self.granted.get(&line_key).copied().unwrap_or_default();
        let paid_before = self.paid.get(&line_key).copied().unwrap_or_default();
        let amt = amount(p, "amount").unwrap_or_default();
        let reason = match text(p, "reason") {
            "" => String::new(),
            r => format!(" ; motif : {r}"),
        };
        match event.event_type.as_str() {
            "ContractPublished" | "QuartiersPublished" | "CommunesPublished"
            | "OrganisationsPublished" | "StrategyPublished" | "DispositifsPublished"
            | "TfpbAxesPublished" => publication(p),
            "CpoYearConfirmed" => format!(
                "exercice {} de la CPO confirmé par le dossier {}",
                p.get("exercice").map(Value::to_string).unwrap_or_default(),
                text(p, "dossier_id")
            ),
            "DossierFiled" => {
                if let Some(b) = amount(p, "total_budget") {
                    self.budget.insert(event.stream_id.clone(), b);
                }
                format!(
                    "dossier déposé : « {} », exercice {}, budget {} ; demandes : {}",
                    text(p, "title"),
                    p.get("exercice").map(Value::to_string).unwrap_or_default(),
                    amount(p, "total_budget").map(eur).unwrap_or_default(),
                    requests_text(p, names)
                )
            }
            "DossierAmended" => {
                let after = amount(p, "total_budget").unwrap_or_default();
                let before = self.budget.insert(event.stream_id.clone(), after);
                let budget = match before {
                    Some(b) if b != after => format!("budget {} → {}", eur(b), eur(after)),
                    _ => format!("budget {}", eur(after)),
                };
                format!(
                    "dossier modifié : {budget} ; demandes : {}{reason}",
                    requests_text(p, names)
                )
            }
            "DossierWithdrawn" => format!("statut → retiré{reason}"),
            "OpinionGiven" => format!(
                "{line} : avis {}, montant proposé {}",
                coded(p, "opinion"),
                amount(p, "proposed_amount").map(eur).unwrap_or_default()
            ),
            "SubsidyGranted" => {
                self.granted.insert(line_key, amt);
                format!(
                    "{line} : accordé {} → {} (comité {})",
                    eur(granted_before),
                    eur(amt),
                    text(p, "comite")
                )
            }
            "SubsidyRefused" => format!("{line} : statut → refusé (comité {})", text(p, "comite")),
            "DecisionAdjourned" => {
                format!("{line} : statut → ajourné (comité {})", text(p, "comite"))
            }
            "SubsidyIncreased" | "SubsidyReduced" => {
                let after = amount(p, "granted_after").unwrap_or(granted_before);
                let before = if self.granted.contains_key(&line_key) {
                    granted_before
                } else if event.event_type == "SubsidyIncreased" {
                    after - amt
                } else {
                    after + amt
                };
                self.granted.insert(line_key, after);
                let verb = if event.event_type == "SubsidyIncreased" {
                    "augmentée"
                } else {
                    "réduite"
                };
                format!(
                    "{line} : subvention {verb}, {} → {}{reason}",
                    eur(before),
                    eur(after)
                )
            }
            "SubsidyCancelled" => {
                self.granted.insert(line_key, Decimal::ZERO);
                format!(
                    "{line} : subvention annulée, {} → {}, statut → annulé{reason}",
                    eur(amt),
                    eur(Decimal::ZERO)
                )
            }
            "ConventionSigned" => format!(
                "{} : {} n° {} {} le {}",
                names.organisation_name(text(p, "financeur")),
                coded(p, "kind"),
                text(p, "number"),
                agreed(text(p, "kind"), "signé", "signée"),
                date(p, "signed_on")
            ),
            "PaymentRecorded" => {
                let after = paid_before + amt;
                self.paid.insert(line_key, after);
                format!(
                    "{line} : {} de {} {} le {} (mandat {}) ; payé {} → {} sur {} accordés",
                    coded(p, "kind"),
                    eur(amt),
                    agreed(text(p, "kind"), "versé", "versée"),
                    date(p, "paid_on"),
                    text(p, "mandate_reference"),
                    eur(paid_before),
                    eur(after),
                    eur(granted_before)
                )
            }
            "CrfReceived" => {
                let mut figures = Vec::new();
                for (field, label) in [
                    ("budget_realised", "budget réalisé"),
                    ("expenses", "dépenses"),
                    ("grant_used", "part de la subvention utilisée"),
                ] {
                    if let Some(value) = amount(p, field) {
                        figures.push(format!("{label} {}", eur(value)));
                    }
                }
                if !text(p, "comment").is_empty() {
                    figures.push(format!("commentaire : {}", text(p, "comment")));
                }
                format!(
                    "compte rendu financier reçu le {}{}",
                    date(p, "received_on"),
                    if figures.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", figures.join(" ; "))
                    }
                )
            }
            "ComiteSessionPrepared" => format!(
                "séance {} du comité des financeurs préparée pour le {} (exercice {}) : {} ligne(s) à l'ordre du jour",
                text(p, "reference"),
                date(p, "held_on"),
                p.get("exercice").and_then(Value::as_i64).unwrap_or_default(),
                p.get("agenda").and_then(Value::as_array).map(Vec::len).unwrap_or_default()
            ),
            "ComiteSessionHeld" => format!(
                "décisions de la séance du {} enregistrées",
                date(p, "decided_on")
            ),
            "ExternalIdRecorded" => {
                let mut details = Vec::new();
                if let Some(year) = p.get("exercice").and_then(Value::as_i64) {
                    details.push(format!("exercice {year}"));
                }
                if !text(p, "financeur").is_empty() {
                    details.push(format!("ligne {line}"));
                }
                format!(
                    "identifiant d'un autre système : {} {}{}",
                    coded(p, "kind"),
                    text(p, "value"),
                    if details.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", details.join(", "))
                    }
                )
            }
            "ReversementOrdered" => format!(
                "{line} : reversement de {} demandé le {}{reason}",
                eur(amt),
                date(p, "ordered_on")
            ),
            "ReversementReceived" => {
                let after = paid_before - amt;
                self.paid.insert(line_key, after);
                format!(
                    "{line} : reversement de {} reçu le {} ; payé net {} → {}",
                    eur(amt),
                    date(p, "received_on"),
                    eur(paid_before),
                    eur(after)
                )
            }
            "CheckpointSigned" => {
                let cp = p.get("checkpoint").unwrap_or(&Value::Null);
                format!(
                    "point de contrôle signé sur l'événement n° {} (empreinte {})",
                    cp.get("position").map(Value::to_string).unwrap_or_default(),
                    cp.get("head_hash").and_then(Value::as_str).unwrap_or("")
                )
            }
            "OpenDataPublished" => format!(
                "publication en données ouvertes ({}) des subventions de {} pour l'exercice {} : {} ligne(s), {} dossier(s), fichier {} (SHA-256 {}) publié le {}",
                coded(p, "format"),
                text(p, "attribuant"),
                p.get("exercice").map(Value::to_string).unwrap_or_default(),
                p.get("rows").map(Value::to_string).unwrap_or_default(),
                p.get("dossiers")
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    .unwrap_or(0),
                text(p, "file_name"),
                text(p, "sha256"),
                date(p, "published_on")
            ),
            "EnvelopeOpened" => format!(
                "enveloppe {} ouverte : {}",
                envelope_key(p, names),
                eur(amt)
            ),
            "EnvelopeRaised" | "EnvelopeLowered" => format!(
                "enveloppe {} {} de {} → {}{reason}",
                envelope_key(p, names),
                if event.event_type == "EnvelopeRaised" {
                    "augmentée"
                } else {
                    "diminuée"
                },
                eur(amt),
                amount(p, "amount_after").map(eur).unwrap_or_default()
            ),
            "OverCommitmentAuthorised" => format!(
                "enveloppe {} : dépassement autorisé de {} (total autorisé {}) ; justification : {}",
                envelope_key(p, names),
                eur(amt),
                amount(p, "authorised_after").map(eur).unwrap_or_default(),
                text(p, "justification")
            ),
            "EnvelopeCommitted" | "EnvelopeReleased" => format!(
                "enveloppe {} : {} de {} → engagé {}",
                envelope_key(p, names),
                if event.event_type == "EnvelopeCommitted" {
                    "engagement"
                } else {
                    "libération"
                },
                eur(amt),
                amount(p, "committed_after").map(eur).unwrap_or_default()
            ),
            "GovernanceMeetingRecorded" => {
                let list = |field: &str| {
                    p.get(field)
                        .and_then(Value::as_array)
                        .map(|items| {
                            items
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(" ; ")
                        })
                        .unwrap_or_default()
                };
                let attendees = match list("attendees") {
                    a if a.is_empty() => String::new(),
                    a => format!(" ; participants : {a}"),
                };
                format!(
                    "réunion de l'instance « {} » le {} ; acte : {} ; décisions : {}{attendees}",
                    text(p, "body_name"),
                    date(p, "date"),
                    text(p, "act_reference"),
                    list("decisions")
                )
            }
            "ReferentialSupplemented" => format!(
                "référentiel complété : {} instances de gouvernance, orientations et constats des enjeux transversaux",
                p.get("governance_bodies")
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    .unwrap_or(0)
            ),
            "SigningKeyRecorded" => format!(
                "clé de signature {} enregistrée",
                p.get("public_key").and_then(Value::as_str).unwrap_or("")
            ),
            "SigningKeyRotated" => format!(
                "clé de signature {} remplacée par {}",
                p.get("previous_public_key")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                p.get("public_key").and_then(Value::as_str).unwrap_or("")
            ),
            _ => generic(p, names),
        }
    }
}

fn requests_text(p: &Value, names: &ReferentialView) -> String {
    let Some(requests) = p.get("requests").and_then(Value::as_array) else {
        return String::new();
    };
    requests
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                line(r, names),
                amount(r, "amount").map(eur).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Payload fields that hold an organisation's id.
const ORGANISATION_FIELDS: &[&str] = &[
    "financeur",
    "bailleur",
    "signatory",
    "signatories",
    "organisation",
];

/// A funding line (`financeur`, `dispositif` of `payload`) by its names: `État / FIPD`.
fn line(payload: &Value, names: &ReferentialView) -> String {
    format!(
        "{} / {}",
        names.organisation_name(text(payload, "financeur")),
        names.dispositif_short_name(text(payload, "dispositif"))
    )
}

/// The fields of any payload, ids left out, in French from the catalogue:
/// `Champ : valeur ; …` (dates `15/04/2025`, amounts `12 345,50 €`, codes translated, a small
/// object in parentheses, a list by its values or its length).
fn generic(p: &Value, names: &ReferentialView) -> String {
    let Some(object) = p.as_object() else {
        return String::new();
    };
    object
        .iter()
        .filter(|(k, _)| k.as_str() != "type" && !k.ends_with("_id"))
        .map(|(k, v)| labelled(k, field_value(k, v, true, names)))
        .collect::<Vec<_>>()
        .join(" ; ")
}

/// `Champ : valeur`, the label's `(€)` left out when the value says `€` itself.
fn labelled(key: &str, value: String) -> String {
    let label = field_label(key);
    let label = match value.ends_with(" €") {
        true => label.trim_end_matches(" (€)"),
        false => &label,
    };
    format!("{label} : {value}")
}

/// A payload field's name for people: the catalogue's, else the key with spaces.
fn field_label(key: &str) -> String {
    engagements_projections::labels::field(key)
        .map(str::to_string)
        .unwrap_or_else(|| key.replace('_', " "))
}

/// A payload value for people; objects are spelled out one level deep (`nested`).
fn field_value(key: &str, value: &Value, nested: bool, names: &ReferentialView) -> String {
    use engagements_projections::labels;
    // Amounts are strings with two decimals in every event (`"12345.50"`).
    let money = |s: &str| {
        key == "amount"
            || key.ends_with("_eur")
            || key.ends_with("_amount")
            || s.split_once('.').is_some_and(|(_, cents)| cents.len() == 2)
    };
    match value {
        Value::String(id) if ORGANISATION_FIELDS.contains(&key) => names.organisation_name(id),
        Value::String(id) if key == "dispositif" => names.dispositif_short_name(id),
        Value::String(id) if key == "quartier" || key == "quartiers" => names.quartier_label(id),
        Value::String(id) if key == "axis" => names.tfpb_axis_label(id),
        Value::String(s) if money(s) && Decimal::from_str(s).is_ok() => {
            eur(Decimal::from_str(s).unwrap_or_default())
        }
        Value::String(s) => match NaiveDate::from_str(s) {
            Ok(day) => labels::date_fr(day),
            Err(_) => labels::value(s).unwrap_or(s).to_string(),
        },
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => items
            .iter()
            .map(|i| field_value(key, i, false, names))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => match items.len() {
            1 => "1 élément".to_string(),
            n => format!("{n} éléments"),
        },
        Value::Object(fields) if nested => {
            let inner: Vec<String> = fields
                .iter()
                .filter(|(k, _)| !k.ends_with("_id"))
                .map(|(k, v)| labelled(k, field_value(k, v, false, names)))
                .collect();
            format!("({})", inner.join(", "))
        }
        Value::Object(fields) => match fields.len() {
            1 => "1 champ".to_string(),
            n => format!("{n} champs"),
        },
        Value::Null => "—".to_string(),
        other => other.to_string(),
    }
}

/// A part of the referential published: what it holds, counted (`25 quartiers`), and for the
/// contract the digest of its data files. (The data's notes are read in the referential itself.)
fn publication(p: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(hash) = p.get("content_hash").and_then(Value::as_str) {
        parts.push(format!("empreinte SHA-256 des données {hash}"));
    }
    let counted = |key: &str, items: &Vec<Value>| {
        format!("{} {}", items.len(), field_label(key).to_lowercase())
    };
    for (key, value) in p.as_object().into_iter().flatten() {
        match value {
            Value::Array(items) => parts.push(counted(key, items)),
            Value::Object(inner) => parts.extend(
                inner
                    .iter()
                    .filter(|(k, _)| k.as_str() != "source_lines")
                    .filter_map(|(k, v)| v.as_array().map(|items| counted(k, items))),
            ),
            _ => {}
        }
    }
    format!("référentiel publié : {}", parts.join(", "))
}

/// The participle agreeing with the coded noun `code` (une avance versée, un solde versé, une
/// convention signée, un arrêté signé).
fn agreed<'a>(code: &str, masculine: &'a str, feminine: &'a str) -> &'a str {
    match code {
        "avance" | "convention" => feminine,
        _ => masculine,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_ids_or_references() {
        let uuid = "0190f2a0-0000-7000-8000-000000000001";
        assert_eq!(Needle::parse(uuid), Needle::Id(uuid.into()));
        assert_eq!(
            Needle::parse(&format!("dossier-{uuid}")),
            Needle::Id(uuid.into())
        );
        assert_eq!(
            Needle::parse("CONV-2025-001"),
            Needle::Reference("CONV-2025-001".into())
        );
    }

    #[test]
    fn references_match_whole_values_only() {
        let payload = r#"{"number":"CONV-2025-0012","type":"ConventionSigned"}"#;
        assert!(payload_has_value(payload, "CONV-2025-0012"));
        assert!(!payload_has_value(payload, "CONV-2025-001"));
    }

    #[test]
    fn generic_descriptions_list_fields_without_ids() {
        let p: Value =
            serde_json::from_str(r#"{"type":"X","dossier_id":"u","amount":"10.00","n":3}"#)
                .unwrap();
        assert_eq!(
            generic(&p, &ReferentialView::default()),
            "Montant : 10,00 € ; n : 3"
        );
    }

    #[test]
    fn generic_descriptions_read_in_french() {
        let p: Value = serde_json::from_str(
            r#"{"abatement_eur":"99763.44","signed_on":"2025-03-14","schedule":[{},{}],
                "programme":{"bailleur":"b","year":2025},"reviewer_kind":"state"}"#,
        )
        .unwrap();
        assert_eq!(
            generic(&p, &ReferentialView::default()),
            "Abattement : 99\u{202f}763,44 € ; Programme : (Bailleur : b, Année : 2025) ; \
             Nature de l'examinateur : État ; Échéancier : 2 éléments ; Signé le : 14/03/2025"
        );
    }
}
