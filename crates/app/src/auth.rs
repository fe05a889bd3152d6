//! Who may do what. Every write is recorded with the acting person and organisation; this module
//! decides, before a command is planned, whether that principal may send it.
//!
//! Roles: *admin* (the contract's team: everything), *instructeur* (a financeur's staff: writes
//! only for its own organisation), *bailleur* (its own TFPB facts only), *auditeur* (reads
//! everything, writes nothing), *lecteur* (reads published views only).

use engagements_domain::{Actor, LedgerCommand};
use engagements_projections::Projections;
use serde::{Deserialize, Serialize};

use crate::error::CommandError;

/// A role, bound to a person and an organisation by an API token or the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Refuses the command if `principal` may not send it. Family rules (e.g. a bailleur writes only
/// its own TFPB facts, an instructeur only for its own organisation) live beside each family's
/// handler and are called from here.
pub fn authorize(
    principal: &Principal,
    command: &LedgerCommand,
    projections: &Projections,
) -> Result<(), CommandError> {
    if !principal.role.can_write() {
        return Err(CommandError::Forbidden(format!(
            "role {:?} of {} cannot record anything",
            principal.role, principal.person
        )));
    }
    match (principal.role, command) {
        (Role::Admin, _) => Ok(()),
        (Role::Instructeur, LedgerCommand::Dossier(command)) => {
            instructeur_may_decide(principal, command)
        }
        // An envelope and a CPO's planned amounts are the financeur's own budget.
        (Role::Instructeur, LedgerCommand::Envelope(command)) => {
            instructeur_acts_for(principal, &command.key().financeur)
        }
        (Role::Instructeur, LedgerCommand::Cpo(command)) => {
            use engagements_domain::cpo::CpoCommand;
            match command {
                CpoCommand::Sign { schedule, .. } => schedule
                    .iter()
                    .try_for_each(|line| instructeur_acts_for(principal, &line.financeur)),
                CpoCommand::Revise { line, .. } => instructeur_acts_for(principal, &line.financeur),
                CpoCommand::ConfirmYear { .. } | CpoCommand::Terminate { .. } => Ok(()),
            }
        }
        // A signatory's staff records only its own organisation's droit-commun commitments.
        (
            Role::Instructeur | Role::Bailleur,
            LedgerCommand::Commitment(_)
            | LedgerCommand::Contribution(_)
            | LedgerCommand::Indicator(_),
        ) => crate::handlers::commitment_authorize(principal, command, projections),
        // A bailleur records only its own TFPB facts; an instructeur reviews for its own
        // organisation only.
        (
            Role::Instructeur | Role::Bailleur,
            LedgerCommand::TfpbConvention(_) | LedgerCommand::TfpbProgramme(_),
        ) => crate::handlers::tfpb_authorize(principal, command, projections),
        // Instructeurs register the porteurs whose dossiers they instruct.
        (Role::Instructeur, LedgerCommand::Porteur(_)) => Ok(()),
        // The contract's referential changes only by avenant, recorded by its team.
        (Role::Instructeur | Role::Bailleur, LedgerCommand::Contract(_)) => {
            Err(CommandError::Forbidden(format!(
                "only an admin records avenants to the contract ({} is {:?})",
                principal.person, principal.role
            )))
        }
        // Anything else is refused to a bailleur: listing what it may do keeps a new family
        // closed to it until a rule says otherwise.
        (Role::Bailleur, _) => Err(CommandError::Forbidden(format!(
            "a bailleur ({}) records only its own TFPB facts and commitments",
            principal.organisation
        ))),
        (Role::Auditeur | Role::Lecteur, _) => unreachable!("refused above"),
    }
}

/// An instructeur records decisions, conventions and payments only in the name of its own
/// organisation: a financeur's staff cannot act for another financeur. Every dossier command
/// that names a financeur (decision, convention, payment, reversement, opinion) is covered.
fn instructeur_may_decide(
    principal: &Principal,
    command: &engagements_domain::dossier::DossierCommand,
) -> Result<(), CommandError> {
    match command.financeur() {
        Some(financeur) if financeur != principal.organisation => {
            Err(CommandError::Forbidden(format!(
                "an instructeur of '{}' cannot act for financeur '{financeur}'",
                principal.organisation
            )))
        }
        _ => Ok(()),
    }
}

/// Refuses an instructeur acting for a financeur other than its own organisation.
fn instructeur_acts_for(principal: &Principal, financeur: &str) -> Result<(), CommandError> {
    if financeur == principal.organisation {
        return Ok(());
    }
    Err(CommandError::Forbidden(format!(
        "an instructeur of '{}' cannot act for financeur '{financeur}'",
        principal.organisation
    )))
}

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
