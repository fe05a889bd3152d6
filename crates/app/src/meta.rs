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
    /// On whose behalf the command is recorded, in a commands file (the name files have always
    /// used): it never replaces the operator, who is whoever sends the command (see
    /// [`CommandMeta::resolve`]).
    #[serde(default)]
    pub actor: Option<Actor>,
    /// On whose behalf the command is recorded (the same as `actor` in a file; give one of them).
    #[serde(default)]
    pub on_behalf_of: Option<Actor>,
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
    /// The event metadata this command will be recorded with. The operator is always
    /// `defaults.actor` (who runs the CLI, the API token's person); what the command says about
    /// a person or organisation is recorded apart, as on whose behalf it was recorded (left out
    /// when it is the operator).
    pub fn resolve(&self, defaults: &MetaDefaults) -> Metadata {
        let command_id = self.command_id.unwrap_or_else(Uuid::now_v7);
        let on_behalf_of = self
            .on_behalf_of
            .clone()
            .or_else(|| self.actor.clone())
            .filter(|actor| *actor != defaults.actor);
        Metadata {
            actor: defaults.actor.clone(),
            on_behalf_of,
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
        let meta: CommandMeta = match object.remove("meta") {
            Some(meta) => serde_json::from_value(meta).map_err(|e| format!("meta: {e}"))?,
            None => CommandMeta::default(),
        };
        if let (Some(actor), Some(on_behalf_of)) = (&meta.actor, &meta.on_behalf_of) {
            if actor != on_behalf_of {
                return Err("meta: actor and on_behalf_of name two different people: give only on_behalf_of (the operator is whoever sends the command)".to_string());
            }
        }
        let command = serde_json::from_value(value).map_err(|e| e.to_string())?;
        Ok(CommandLine { command, meta })
    }
}
