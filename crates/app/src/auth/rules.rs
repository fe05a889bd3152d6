//! Who may send which command: one table, [`RULES`], command × role × the relation between the
//! caller's organisation and what the command touches. `docs/http.md` prints the same table (a
//! test compares them), and a test sends every command as every role, from the right and from the
//! wrong organisation.
//!
//! An *admin* (the contract's team) may send every command; an *auditeur* and a *lecteur* none.
//! For an *instructeur* (a financeur's or a signatory's staff) and a *bailleur* (a social
//! landlord's staff) the table names the relation that must hold, or [`Scope::Never`].

use engagements_domain::cpo::CpoCommand;
use engagements_domain::dossier::{DossierCommand, DossierState, FundingRequest, LineStatus};
use engagements_domain::tfpb::{TfpbConventionCommand, TfpbProgrammeCommand};
use engagements_domain::LedgerCommand;
use engagements_projections::Projections;

use super::{Principal, Role};
use crate::error::CommandError;

/// The relation between the caller's organisation and a command that a role needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Refused to this role, whatever its organisation.
    Never,
    /// Any organisation of this role.
    Any,
    /// The financeur the command names (its line of a dossier, its envelope, its CPO lines) is the
    /// caller's organisation.
    OwnFinanceur,
    /// The caller's organisation is one of the financeurs asked in the dossier (or, when filing,
    /// in the request), and the command changes no other financeur's line: it neither changes
    /// another financeur's request nor withdraws a dossier another financeur has decided.
    DossierFinanceur,
    /// Every financeur of the CPO's schedule (of the year, for a confirmation) is the caller's
    /// organisation: a CPO shared with another financeur needs that financeur or an admin.
    CpoFinanceur,
    /// The TFPB programme's or convention's bailleur is the caller's organisation.
    OwnBailleur,
    /// The bailleur whose share of a cross-landlord action is confirmed is the caller's
    /// organisation.
    ShareBailleur,
    /// The reviewer the command names (the State or the EPCI) is the caller's organisation.
    OwnReviewer,
    /// The caller's organisation signs the TFPB convention.
    ConventionSignatory,
    /// The commitment (or the indicator's commitment, or the indicator it defined) is the caller's
    /// organisation's.
    OwnSignatory,
}

impl Scope {
    /// How the table and `docs/http.md` write the relation.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::Never => "—",
            Scope::Any => "toute organisation",
            Scope::OwnFinanceur => "son financeur",
            Scope::DossierFinanceur => "financeur sollicité du dossier",
            Scope::CpoFinanceur => "seul financeur de la CPO",
            Scope::OwnBailleur => "son bailleur",
            Scope::ShareBailleur => "bailleur de la part",
            Scope::OwnReviewer => "son organisation (État ou EPCI)",
            Scope::ConventionSignatory => "signataire de la convention",
            Scope::OwnSignatory => "son organisation signataire",
        }
    }
}

/// One row of the table: the command's name and what an instructeur and a bailleur need.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub command: &'static str,
    pub instructeur: Scope,
    pub bailleur: Scope,
}

impl Rule {
    /// What `role` needs to send this command.
    pub fn scope(&self, role: Role) -> Scope {
        match role {
            Role::Admin => Scope::Any,
            Role::Instructeur => self.instructeur,
            Role::Bailleur => self.bailleur,
            Role::Auditeur | Role::Lecteur => Scope::Never,
        }
    }
}

const fn rule(command: &'static str, instructeur: Scope, bailleur: Scope) -> Rule {
    Rule {
        command,
        instructeur,
        bailleur,
    }
}

use Scope::*;

/// Every command, by family, with what an instructeur and a bailleur need to send it.
pub const RULES: &[Rule] = &[
    // Porteurs: instructeurs register the porteurs whose dossiers they instruct.
    rule("register_porteur", Any, Never),
    rule("sign_contrat_engagement_republicain", Any, Never),
    // Dossiers: a financeur's staff acts on dossiers that ask its organisation, on its own line.
    rule("file_dossier", DossierFinanceur, Never),
    rule("amend_dossier", DossierFinanceur, Never),
    rule("withdraw_dossier", DossierFinanceur, Never),
    rule("receive_crf", DossierFinanceur, Never),
    rule("record_external_id", DossierFinanceur, Never),
    rule("give_opinion", OwnFinanceur, Never),
    rule("decide_subsidy", OwnFinanceur, Never),
    rule("change_subsidy", OwnFinanceur, Never),
    rule("sign_convention", OwnFinanceur, Never),
    rule("record_payment", OwnFinanceur, Never),
    rule("order_reversement", OwnFinanceur, Never),
    rule("receive_reversement", OwnFinanceur, Never),
    // Sessions of the comité des financeurs: prepared and held by its secretariat, the contract's
    // team (an admin); a session decides for several financeurs at once.
    rule("prepare_comite_session", Never, Never),
    rule("hold_comite_session", Never, Never),
    // Envelopes: a financeur's own budget.
    rule("open_envelope", OwnFinanceur, Never),
    rule("raise_envelope", OwnFinanceur, Never),
    rule("lower_envelope", OwnFinanceur, Never),
    rule("authorise_over_commitment", OwnFinanceur, Never),
    // CPO: the schedule's financeurs.
    rule("sign_cpo", OwnFinanceur, Never),
    rule("revise_cpo", OwnFinanceur, Never),
    rule("confirm_cpo_year", CpoFinanceur, Never),
    rule("terminate_cpo", CpoFinanceur, Never),
    // The contract's referential changes only by avenant, recorded by its team.
    rule("publish_contract", Never, Never),
    rule("add_quartier", Never, Never),
    rule("change_quartier_population", Never, Never),
    rule("add_commune", Never, Never),
    rule("add_signatory", Never, Never),
    rule("rename_objectif", Never, Never),
    // Meetings of the contract's governance bodies: recorded by the contract's team, which
    // keeps their minutes.
    rule("record_governance_meeting", Never, Never),
    // Droit-commun commitments: each signatory its own.
    rule("pledge_commitment", OwnSignatory, OwnSignatory),
    rule("revise_commitment", OwnSignatory, OwnSignatory),
    rule("report_commitment_progress", OwnSignatory, OwnSignatory),
    rule("fulfil_commitment", OwnSignatory, OwnSignatory),
    rule("lapse_commitment", OwnSignatory, OwnSignatory),
    rule("withdraw_commitment", OwnSignatory, OwnSignatory),
    rule("declare_contribution_pending", OwnSignatory, OwnSignatory),
    rule("define_indicator", OwnSignatory, OwnSignatory),
    rule("report_indicator_value", OwnSignatory, OwnSignatory),
    rule("retire_indicator", OwnSignatory, OwnSignatory),
    // TFPB conventions: the bailleur's own; the State's and the EPCI's staff for those they sign.
    rule("sign_tfpb_convention", ConventionSignatory, OwnBailleur),
    rule("amend_tfpb_convention", ConventionSignatory, OwnBailleur),
    rule(
        "terminate_tfpb_convention",
        ConventionSignatory,
        OwnBailleur,
    ),
    // TFPB programmes: the bailleur's own facts; reviews by the State and the EPCI.
    rule("declare_tfpb_abatement", Never, OwnBailleur),
    rule("plan_tfpb_action", Never, OwnBailleur),
    rule("add_tfpb_action", Never, OwnBailleur),
    rule("confirm_tfpb_share", Never, ShareBailleur),
    rule("drop_tfpb_action", Never, OwnBailleur),
    rule("report_tfpb_spending", Never, OwnBailleur),
    rule("correct_tfpb_spending", Never, OwnBailleur),
    rule("submit_tfpb_bilan", Never, OwnBailleur),
    rule("accept_tfpb_bilan", OwnReviewer, Never),
    rule("remark_tfpb_bilan", OwnReviewer, Never),
    // Publications: a financeur's staff records the open-data files of its own grants.
    rule("record_publication", OwnFinanceur, Never),
];

/// The rule of command `name`, if the table has one.
pub fn rule_of(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.command == name)
}

/// The table as `docs/http.md` prints it (Markdown).
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "| commande | admin | instructeur | bailleur | auditeur | lecteur |\n|---|---|---|---|---|---|\n",
    );
    for rule in RULES {
        let cells: Vec<&str> = Role::ALL
            .iter()
            .map(|role| rule.scope(*role).describe())
            .collect();
        out.push_str(&format!("| `{}` | {} |\n", rule.command, cells.join(" | ")));
    }
    out
}

/// Refuses the command unless the table lets `principal` send it.
pub fn authorize(
    principal: &Principal,
    command: &LedgerCommand,
    projections: &Projections,
) -> Result<(), CommandError> {
    let name = command.name();
    let Some(rule) = rule_of(&name) else {
        // A command without a rule is refused to everyone but an admin: a new command stays
        // closed until the table says otherwise (and the table's test fails meanwhile).
        return match principal.role {
            Role::Admin => Ok(()),
            _ => Err(forbidden(
                principal,
                &name,
                "no rule lets this role send it",
            )),
        };
    };
    let scope = rule.scope(principal.role);
    match check(scope, principal, command, projections) {
        Ok(()) => Ok(()),
        Err(why) => Err(forbidden(principal, &name, &why)),
    }
}

fn forbidden(principal: &Principal, command: &str, why: &str) -> CommandError {
    CommandError::Forbidden(format!(
        "{} ({} of '{}') may not send {command}: {why}",
        principal.person,
        principal.role.as_str(),
        principal.organisation
    ))
}

/// Whether the relation `scope` holds; the error says which relation is missing.
fn check(
    scope: Scope,
    principal: &Principal,
    command: &LedgerCommand,
    projections: &Projections,
) -> Result<(), String> {
    let organisation = principal.organisation.as_str();
    let holds = |ok: bool, why: String| if ok { Ok(()) } else { Err(why) };
    match scope {
        Never => Err(format!(
            "the role {} never sends it",
            principal.role.as_str()
        )),
        Any => Ok(()),
        OwnFinanceur => {
            let financeurs = named_financeurs(command);
            match financeurs.iter().find(|f| *f != organisation) {
                Some(other) => Err(format!("it acts for financeur '{other}'")),
                None if financeurs.is_empty() => Err("it names no financeur".to_string()),
                None => Ok(()),
            }
        }
        DossierFinanceur => match command {
            LedgerCommand::Dossier(command) => {
                dossier_financeur(organisation, command, projections)
            }
            _ => Err("it is not a dossier command".to_string()),
        },
        CpoFinanceur => match command {
            LedgerCommand::Cpo(command) => cpo_financeur(organisation, command, projections),
            _ => Err("it is not a CPO command".to_string()),
        },
        OwnBailleur => match tfpb_bailleur(command, projections) {
            Some(bailleur) => holds(
                bailleur == organisation,
                format!("the TFPB facts are bailleur '{bailleur}''s"),
            ),
            None => Ok(()), // unknown convention: the handler refuses it
        },
        ShareBailleur => match command {
            LedgerCommand::TfpbProgramme(TfpbProgrammeCommand::ConfirmShare {
                bailleur, ..
            }) => holds(
                bailleur == organisation,
                format!("the share is bailleur '{bailleur}''s"),
            ),
            _ => Err("it is not a share confirmation".to_string()),
        },
        OwnReviewer => match command {
            LedgerCommand::TfpbProgramme(
                TfpbProgrammeCommand::AcceptBilan { reviewer, .. }
                | TfpbProgrammeCommand::RemarkBilan { reviewer, .. },
            ) => holds(
                reviewer == organisation,
                format!("it reviews in the name of '{reviewer}'"),
            ),
            _ => Err("it is not a review".to_string()),
        },
        ConventionSignatory => holds(
            convention_signed_by(organisation, command, projections),
            "its organisation does not sign this TFPB convention".to_string(),
        ),
        OwnSignatory => match crate::handlers::written_for(command, projections) {
            Some(signatory) => holds(
                signatory == organisation,
                format!("it is written for '{signatory}': a signatory records only its own"),
            ),
            None => Ok(()), // unknown commitment or indicator: the handler refuses it
        },
    }
}

/// The financeurs whose lines a command acts on by name.
fn named_financeurs(command: &LedgerCommand) -> Vec<String> {
    match command {
        LedgerCommand::Dossier(command) => command
            .financeur()
            .map(str::to_string)
            .into_iter()
            .collect(),
        LedgerCommand::Envelope(command) => vec![command.key().financeur],
        LedgerCommand::Cpo(CpoCommand::Sign { schedule, .. }) => {
            schedule.iter().map(|line| line.financeur.clone()).collect()
        }
        LedgerCommand::Cpo(CpoCommand::Revise { line, .. }) => vec![line.financeur.clone()],
        LedgerCommand::Publication(command) => vec![command.attribuant().to_string()],
        _ => Vec::new(),
    }
}

/// The caller's organisation is asked in the dossier, and the command touches no other
/// financeur's line.
fn dossier_financeur(
    organisation: &str,
    command: &DossierCommand,
    projections: &Projections,
) -> Result<(), String> {
    if let DossierCommand::File { requests, .. } = command {
        return if requests.iter().any(|r| r.financeur == organisation) {
            Ok(())
        } else {
            Err("the dossier does not ask its organisation".to_string())
        };
    }
    if let Some(financeur) = command.financeur() {
        return if financeur == organisation {
            Ok(())
        } else {
            Err(format!("it acts for financeur '{financeur}'"))
        };
    }
    let Some(dossier) = projections.subsidy.dossiers.get(&command.dossier_id()) else {
        return Ok(()); // unknown dossier: the handler refuses it
    };
    if !dossier.lines.keys().any(|(f, _)| f == organisation) {
        return Err("the dossier does not ask its organisation".to_string());
    }
    match command {
        DossierCommand::Amend {
            requests: Some(requests),
            ..
        } => others_requests_unchanged(organisation, dossier, requests),
        DossierCommand::Withdraw { .. } => match decided_by_another(organisation, dossier) {
            Some(other) => Err(format!(
                "financeur '{other}' has decided on it: that financeur or an admin withdraws it"
            )),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// An amendment's requests keep every other financeur's line as it is.
fn others_requests_unchanged(
    organisation: &str,
    dossier: &DossierState,
    requests: &[FundingRequest],
) -> Result<(), String> {
    let mut before: Vec<(&str, &str, String)> = dossier
        .lines
        .iter()
        .filter(|((f, _), _)| f != organisation)
        .map(|((f, d), line)| (f.as_str(), d.as_str(), line.requested.to_string()))
        .collect();
    let mut after: Vec<(&str, &str, String)> = requests
        .iter()
        .filter(|r| r.financeur != organisation)
        .map(|r| {
            (
                r.financeur.as_str(),
                r.dispositif.as_str(),
                r.amount.to_string(),
            )
        })
        .collect();
    before.sort();
    after.sort();
    if before == after {
        return Ok(());
    }
    let changed = before
        .iter()
        .chain(&after)
        .find(|line| !before.contains(line) || !after.contains(line))
        .map(|(f, _, _)| *f)
        .unwrap_or("another financeur");
    Err(format!(
        "it changes the request of financeur '{changed}': that financeur or an admin does"
    ))
}

/// Another financeur whose line is decided (granted, refused, adjourned or cancelled).
fn decided_by_another<'a>(organisation: &str, dossier: &'a DossierState) -> Option<&'a str> {
    dossier
        .lines
        .iter()
        .find(|((f, _), line)| f != organisation && line.status != LineStatus::Requested)
        .map(|((f, _), _)| f.as_str())
}

/// Every financeur of the CPO (of the year confirmed, for a confirmation) is `organisation`.
fn cpo_financeur(
    organisation: &str,
    command: &CpoCommand,
    projections: &Projections,
) -> Result<(), String> {
    let Some(cpo) = projections.subsidy.cpos.get(&command.cpo_id()) else {
        return Ok(()); // unknown CPO: the handler refuses it
    };
    let year = match command {
        CpoCommand::ConfirmYear { exercice, .. } => Some(*exercice),
        _ => None,
    };
    let mut lines = cpo
        .state
        .schedule
        .iter()
        .filter(|line| year.is_none_or(|y| line.exercice == y))
        .peekable();
    if lines.peek().is_none() {
        return Ok(()); // no line for that year: the aggregate refuses it
    }
    let mut asked = false;
    for line in lines {
        if line.financeur != organisation {
            return Err(format!(
                "financeur '{}' funds this CPO too: that financeur or an admin does",
                line.financeur
            ));
        }
        asked = true;
    }
    if asked {
        Ok(())
    } else {
        Err("the CPO does not fund by its organisation".to_string())
    }
}

/// The bailleur of a TFPB programme or convention command (`None` for an unknown convention).
fn tfpb_bailleur<'a>(command: &'a LedgerCommand, projections: &'a Projections) -> Option<&'a str> {
    match command {
        LedgerCommand::TfpbProgramme(command) => Some(command.programme().bailleur.as_str()),
        LedgerCommand::TfpbConvention(TfpbConventionCommand::Sign { bailleur, .. }) => {
            Some(bailleur.as_str())
        }
        LedgerCommand::TfpbConvention(other) => {
            projections.tfpb.convention_bailleur(&other.convention_id())
        }
        _ => None,
    }
}

/// Whether `organisation` signs the TFPB convention (as the command gives it, or as recorded).
fn convention_signed_by(
    organisation: &str,
    command: &LedgerCommand,
    projections: &Projections,
) -> bool {
    match command {
        LedgerCommand::TfpbConvention(TfpbConventionCommand::Sign { signatories, .. }) => {
            signatories.iter().any(|s| s == organisation)
        }
        LedgerCommand::TfpbConvention(other) => projections
            .tfpb
            .conventions
            .get(&other.convention_id())
            .is_none_or(|c| c.signatories.iter().any(|s| s == organisation)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/http.md` prints the table between two markers; `UPDATE_DOCS=1` rewrites it.
    #[test]
    fn the_documented_table_is_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/http.md");
        let text = std::fs::read_to_string(&path).expect("docs/http.md");
        let (start, end) = ("<!-- rules:start -->\n", "<!-- rules:end -->");
        let from = text.find(start).expect("the start marker") + start.len();
        let to = text.find(end).expect("the end marker");
        let table = rules_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{table}{}", &text[..from], &text[to..]);
            std::fs::write(&path, updated).expect("write docs/http.md");
            return;
        }
        assert_eq!(
            &text[from..to],
            table,
            "docs/http.md's table differs from RULES: run UPDATE_DOCS=1 cargo test --workspace the_documented_table_is_the_code"
        );
    }

    #[test]
    fn each_command_has_one_rule() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.command).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a command has two rules");
    }
}
