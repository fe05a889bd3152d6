//! What a caller says about a command besides the command itself: who, on which act, with which
//! business date, under which command id.

use chrono::NaiveDate;
use engagements_domain::{ActRef, Actor, LedgerCommand, Metadata, Source};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::command_json;

/// The optional `"meta"` object of a command line. What is left out comes from [`MetaDefaults`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandMeta {
    /// Who acts, in office, for which organisation.
    #[serde(default)]
    pub actor: Option<Actor>,
    /// The business date of the fact (comité, signature, payment). Defaults to today.
    #[serde(default)]
    pub effective_date: Option<NaiveDate>,
    /// The act the fact rests on.
    #[serde(default)]
    pub act: Option<ActRef>,
    /// Idempotency key: give one to make re-sending the same command harmless.
    #[serde(default)]
    pub command_id: Option<Uuid>,
    #[serde(default)]
    pub correlation_id: Option<Uuid>,
    #[serde(default)]
    pub causation_id: Option<Uuid>,
}

/// What fills the gaps of a [`CommandMeta`].
#[derive(Debug, Clone)]
pub struct MetaDefaults {
    pub actor: Actor,
    pub source: Source,
    pub today: NaiveDate,
}

impl CommandMeta {
    /// The event metadata this command will be recorded with.
    pub fn resolve(&self, defaults: &MetaDefaults) -> Metadata {
        let command_id = self.command_id.unwrap_or_else(Uuid::now_v7);
        Metadata {
            actor: self.actor.clone().unwrap_or_else(|| defaults.actor.clone()),
            command_id,
            correlation_id: self.correlation_id.unwrap_or(command_id),
            causation_id: self.causation_id,
            source: defaults.source,
            effective_date: self.effective_date.unwrap_or(defaults.today),
            act: self.act.clone(),
            command_digest: None,
        }
    }
}

/// One line of a commands file: the command's own fields, plus an optional `"meta"` object.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandLine {
    pub command: LedgerCommand,
    pub meta: CommandMeta,
}

impl CommandLine {
    /// Reads one JSON line. The error says which field is wrong. A key given twice, a date
    /// outside 1990-01-01..=2100-12-31 and a control character in text are refused
    /// ([`crate::command_json`]) before any field is read.
    pub fn parse(line: &str) -> Result<CommandLine, String> {
        let mut value = command_json::read_line(line).map_err(|e| e.to_string())?;
        command_json::check_values(&value).map_err(|e| e.to_string())?;
        let object = value
            .as_object_mut()
            .ok_or_else(|| "a command is a JSON object with a \"command\" field".to_string())?;
        let meta = match object.remove("meta") {
            Some(meta) => serde_json::from_value(meta).map_err(|e| format!("meta: {e}"))?,
            None => CommandMeta::default(),
        };
        let command = serde_json::from_value(value).map_err(|e| e.to_string())?;
        Ok(CommandLine { command, meta })
    }
}
