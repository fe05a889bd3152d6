//! Every command the ledger accepts, as one type: what `engagements apply` reads, one per line.
//!
//! On the wire a command is a JSON object whose `"command"` field names it (e.g.
//! `"register_porteur"`); each family (aggregate) owns a set of names. Unknown fields are refused.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::comite::ComiteCommand;
use crate::commitment::contribution::ContributionCommand;
use crate::commitment::indicator::IndicatorCommand;
use crate::commitment::CommitmentCommand;
use crate::cpo::CpoCommand;
use crate::dossier::DossierCommand;
use crate::envelope::EnvelopeCommand;
use crate::porteur::PorteurCommand;
use crate::publication::PublicationCommand;
use crate::referential::ContractCommand;
use crate::tfpb::{TfpbConventionCommand, TfpbProgrammeCommand};

/// A command of any family.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LedgerCommand {
    Porteur(PorteurCommand),
    Dossier(DossierCommand),
    Envelope(EnvelopeCommand),
    Cpo(CpoCommand),
    Contract(ContractCommand),
    Commitment(CommitmentCommand),
    Contribution(ContributionCommand),
    Indicator(IndicatorCommand),
    TfpbConvention(TfpbConventionCommand),
    TfpbProgramme(TfpbProgrammeCommand),
    Publication(PublicationCommand),
    Comite(ComiteCommand),
}

impl LedgerCommand {
    /// The command's name, as written in its `"command"` field.
    pub fn name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| {
                v.get("command")
                    .and_then(|c| c.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_default()
    }
}

/// The fields that carry a command's business date, in the order they are looked for: the date
/// the fact happened in the world (a decision, a signature, a payment, a receipt).
const BUSINESS_DATE_FIELDS: &[&str] = &[
    "decided_on",
    "signed_on",
    "paid_on",
    "received_on",
    "ordered_on",
    "terminated_on",
    "amended_on",
    "spent_on",
    "submitted_on",
    "reviewed_on",
    "published_on",
];

impl LedgerCommand {
    /// The business date the command states (`decided_on`, `paid_on`, `signed_on`…), if any: the
    /// date its facts take effect unless the caller says otherwise, and never against it.
    pub fn business_date(&self) -> Option<chrono::NaiveDate> {
        business_date_of(&serde_json::to_value(self).ok()?)
    }
}

/// [`LedgerCommand::business_date`] of a command already serialised (one serialisation serves the
/// digest and the date on the write path).
pub fn business_date_of(value: &serde_json::Value) -> Option<chrono::NaiveDate> {
    BUSINESS_DATE_FIELDS.iter().find_map(|field| {
        value
            .get(*field)
            .and_then(|v| v.as_str())
            .and_then(|text| text.parse().ok())
    })
}

/// Tries each family in turn; a family that does not know the name is skipped, and the first
/// family that knows it gives its own, precise error (missing or unknown field, bad amount…).
fn decode_family<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Option<Result<T, serde_json::Error>> {
    match serde_json::from_value::<T>(value.clone()) {
        Ok(command) => Some(Ok(command)),
        Err(error) if error.to_string().starts_with("unknown variant") => None,
        Err(error) => Some(Err(error)),
    }
}

impl<'de> Deserialize<'de> for LedgerCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let name = match value.get("command") {
            Some(serde_json::Value::String(name)) => name.clone(),
            Some(_) => return Err(D::Error::custom("\"command\" must be a string")),
            None => {
                return Err(D::Error::custom(
                    "missing field \"command\" naming the command",
                ))
            }
        };
        macro_rules! family {
            ($variant:ident, $type:ty) => {
                if let Some(result) = decode_family::<$type>(&value) {
                    return result
                        .map(LedgerCommand::$variant)
                        .map_err(D::Error::custom);
                }
            };
        }
        family!(Porteur, PorteurCommand);
        family!(Dossier, DossierCommand);
        family!(Envelope, EnvelopeCommand);
        family!(Cpo, CpoCommand);
        family!(Contract, ContractCommand);
        family!(Commitment, CommitmentCommand);
        family!(Contribution, ContributionCommand);
        family!(Indicator, IndicatorCommand);
        family!(TfpbConvention, TfpbConventionCommand);
        family!(TfpbProgramme, TfpbProgrammeCommand);
        family!(Publication, PublicationCommand);
        family!(Comite, ComiteCommand);
        Err(D::Error::custom(format!(
            "unknown command \"{name}\": see schemas/commands.schema.json for the list"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_by_name_with_precise_errors() {
        let ok: LedgerCommand = serde_json::from_str(
            r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-000000000001","name":"A","kind":"association"}"#,
        )
        .unwrap();
        assert_eq!(ok.name(), "register_porteur");
        let unknown = serde_json::from_str::<LedgerCommand>(r#"{"command":"fly"}"#).unwrap_err();
        assert!(
            unknown.to_string().contains("unknown command \"fly\""),
            "{unknown}"
        );
        let extra = serde_json::from_str::<LedgerCommand>(
            r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-000000000001","name":"A","kind":"association","colour":"red"}"#,
        )
        .unwrap_err();
        assert!(
            extra.to_string().contains("unknown field `colour`"),
            "{extra}"
        );
    }
}
