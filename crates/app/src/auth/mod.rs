//! Who may do what. Every write is recorded with the acting person and organisation; this module
//! decides, before a command is planned, whether that principal may send it.
//!
//! Roles: *admin* (the contract's team: everything), *instructeur* (a financeur's staff: writes
//! only for its own organisation), *bailleur* (its own TFPB facts only), *auditeur* (reads
//! everything, writes nothing), *lecteur* (reads published views only).

mod rules;

use engagements_domain::Actor;
use serde::{Deserialize, Serialize};

use crate::error::CommandError;

/// A role, bound to a person and an organisation by an API token or the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Instructeur,
    Bailleur,
    Auditeur,
    Lecteur,
}

impl Role {
    /// Whether this role may record anything at all.
    pub fn can_write(self) -> bool {
        matches!(self, Role::Admin | Role::Instructeur | Role::Bailleur)
    }

    /// Whether this role may read everything, including audit trails and findings.
    pub fn can_audit(self) -> bool {
        matches!(self, Role::Admin | Role::Auditeur)
    }

    /// Every role, from the most to the least powerful.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Instructeur,
        Role::Bailleur,
        Role::Auditeur,
        Role::Lecteur,
    ];

    /// The role's name as stored with API tokens and written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Instructeur => "instructeur",
            Role::Bailleur => "bailleur",
            Role::Auditeur => "auditeur",
            Role::Lecteur => "lecteur",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown role '{text}': use admin, instructeur, bailleur, auditeur or lecteur"
                )
            })
    }
}

/// The person acting, the organisation they act for (an organisation id of the referential),
/// and their role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub person: String,
    pub organisation: String,
    pub role: Role,
}

impl Principal {
    /// The actor recorded on the events this principal writes.
    pub fn actor(&self) -> Actor {
        Actor::new(self.person.clone(), self.organisation.clone())
    }

    /// An administrator (the CLI acts as one: whoever runs it has the database).
    pub fn admin(actor: &Actor) -> Self {
        Principal {
            person: actor.person.clone(),
            organisation: actor.organisation.clone(),
            role: Role::Admin,
        }
    }
}

/// Below admin, a command may be recorded on behalf of someone of the caller's own organisation
/// only: the role's rules are the organisation's.
pub fn check_on_behalf(
    principal: &Principal,
    metadata: &engagements_domain::Metadata,
) -> Result<(), CommandError> {
    match &metadata.on_behalf_of {
        Some(actor)
            if principal.role != Role::Admin && actor.organisation != principal.organisation =>
        {
            Err(CommandError::Forbidden(format!(
                "on behalf of '{}' of organisation '{}', but role {} acts for '{}' only",
                actor.person,
                actor.organisation,
                principal.role.as_str(),
                principal.organisation
            )))
        }
        _ => Ok(()),
    }
}

pub use rules::{authorize, rule_of, rules_markdown, Rule, Scope, RULES};

/// The TFPB rows `principal` may read: a bailleur reads only its own (asking for another
/// bailleur's is refused); every other role reads what it asks for.
pub fn tfpb_read_filter(
    principal: &Principal,
    requested: engagements_projections::tfpb::TfpbFilter,
) -> Result<engagements_projections::tfpb::TfpbFilter, CommandError> {
    if principal.role != Role::Bailleur {
        return Ok(requested);
    }
    match requested.bailleur.as_deref() {
        Some(other) if other != principal.organisation => Err(CommandError::Forbidden(format!(
            "bailleur '{}' cannot read the TFPB figures of '{other}'",
            principal.organisation
        ))),
        _ => Ok(engagements_projections::tfpb::TfpbFilter {
            bailleur: Some(principal.organisation.clone()),
            ..requested
        }),
    }
}
