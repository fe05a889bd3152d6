//! What is recorded about every event besides its payload: who, when in business time, on which
//! act, and through which command.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The person acting in office and the organisation they act for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// As given by a caller, the person's name; as recorded, the person's pseudonymous id
    /// (`person-<uuid>`): the store keeps names out of the chain, in an erasable table
    /// (`docs/personal-data.md`). Events recorded before that hold the name itself.
    pub person: String,
    pub organisation: String,
}

impl Actor {
    pub fn new(person: impl Into<String>, organisation: impl Into<String>) -> Self {
        Self {
            person: person.into(),
            organisation: organisation.into(),
        }
    }

    /// The ledger itself, for facts it records on its own (e.g. the referential at `init`).
    pub fn system() -> Self {
        Self::new("engagements", "system")
    }
}

/// Through which door a command came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Cli,
    Api,
    Import,
    Demo,
    System,
}

/// The kind of legal act a fact rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActKind {
    /// Délibération of an assembly (conseil communautaire, conseil municipal…).
    Deliberation,
    /// Arrêté (attributif, préfectoral…).
    Arrete,
    /// Comité des financeurs or another committee's decision.
    Comite,
    /// A signed convention or CPO.
    Convention,
    /// Avenant to the contract or to a convention.
    Avenant,
    /// Mandat de paiement.
    Mandat,
    /// Any other act, described by its reference.
    Other,
}

/// The act a fact rests on, e.g. « Comité des financeurs du 12/03/2025, réf. CF-2025-01 ».
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActRef {
    pub kind: ActKind,
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

/// Metadata recorded with every event of one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The operator: who sent the command (the CLI's `--actor`, else the system user; the API
    /// token's person), never what a file says.
    pub actor: Actor,
    /// On whose behalf the operator recorded it, when a commands file or the caller says so
    /// (e.g. a comité's decision typed in by its secretariat). Absent on events recorded before
    /// it existed: their `actor` may then be what a file said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<Actor>,
    /// Idempotency key: the same command id twice records once.
    pub command_id: Uuid,
    pub correlation_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    pub source: Source,
    /// Business date of the fact (comité date, signature, payment date); may be in the past.
    pub effective_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<ActRef>,
    /// SHA-256 (hex) of the command as sent, so that a command id sent again with another body
    /// is told apart from a harmless retry. Absent on events recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_digest: Option<String>,
}

impl Metadata {
    /// Metadata for a new command: fresh command and correlation ids.
    pub fn new(actor: Actor, source: Source, effective_date: NaiveDate) -> Self {
        let command_id = Uuid::now_v7();
        Self {
            actor,
            on_behalf_of: None,
            command_id,
            correlation_id: command_id,
            causation_id: None,
            source,
            effective_date,
            act: None,
            command_digest: None,
        }
    }

    pub fn with_act(mut self, act: ActRef) -> Self {
        self.act = Some(act);
        self
    }

    pub fn with_command_id(mut self, command_id: Uuid) -> Self {
        self.command_id = command_id;
        self
    }

    /// Whose act this is: the person and organisation on whose behalf it was recorded, else the
    /// operator who recorded it.
    pub fn acting_for(&self) -> &Actor {
        self.on_behalf_of.as_ref().unwrap_or(&self.actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_recorded_before_on_behalf_of_existed_still_reads_and_writes_the_same() {
        let old = r#"{"actor":{"person":"Agent","organisation":"etat"},"command_id":"0190f2a0-0000-7000-8000-000000000001","correlation_id":"0190f2a0-0000-7000-8000-000000000001","source":"cli","effective_date":"2025-03-12"}"#;
        let metadata: Metadata = serde_json::from_str(old).unwrap();
        assert_eq!(metadata.on_behalf_of, None);
        assert_eq!(metadata.acting_for().person, "Agent");
        assert_eq!(serde_json::to_string(&metadata).unwrap(), old);
    }
}
