//! `engagements tokens create|list|revoke`: the API tokens of the server. A secret is printed
//! once, at creation; only its SHA-256 is kept.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use engagements_app::auth::Role;
use engagements_app::command_json::escape_controls;
use engagements_app::Ledger;
use engagements_projections::referential::ReferentialView;
use engagements_store::Store;
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    pub action: TokensAction,
}

#[derive(Debug, Subcommand)]
pub enum TokensAction {
    /// Create a token bound to a person, an organisation and a role; prints its secret once.
    Create {
        /// The person in office who will use it (recorded as the actor of every write).
        #[arg(long)]
        person: String,
        /// The organisation id they act for (e.g. etat, cabbalr, pas-de-calais-habitat).
        #[arg(long)]
        organisation: String,
        /// admin, instructeur, bailleur, auditeur or lecteur.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The organisation is outside the contract's referential (e.g. a chambre régionale des
        /// comptes): allowed for the roles that write nothing, auditeur and lecteur.
        #[arg(long)]
        external: bool,
    },
    /// List every token (never their secrets).
    List,
    /// Revoke a token by its id: it stops working at once.
    Revoke { token_id: Uuid },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

/// Why a token's organisation is refused: a token for an organisation the contract does not
/// know would write in the name of no signatory (a typing mistake, or worse).
fn organisation_problem(
    referential: &ReferentialView,
    organisation: &str,
    role: Role,
    external: bool,
) -> Option<String> {
    let listing = "see `engagements referential organisations`";
    if referential.current().is_none() {
        return Some(
            "no contract is recorded in this ledger: run `engagements init` before creating tokens"
                .to_string(),
        );
    }
    let known = referential.organisation(organisation.trim()).is_some();
    match (known, external) {
        (true, false) => None,
        (true, true) => Some(format!(
            "organisation '{organisation}' is in the referential: leave out --external"
        )),
        (false, true) if matches!(role, Role::Auditeur | Role::Lecteur) => None,
        (false, true) => Some(format!(
            "--external is for the roles that write nothing (auditeur, lecteur), not {}",
            role.as_str()
        )),
        (false, false) => Some(format!(
            "organisation '{}' is not in the contract's referential: {listing} \
             (an auditeur or lecteur from outside the contract takes --external)",
            escape_controls(organisation)
        )),
    }
}

pub async fn run(db: &str, args: TokensArgs) -> anyhow::Result<ExitCode> {
    if let TokensAction::Create {
        organisation,
        role,
        external,
        ..
    } = &args.action
    {
        let ledger = Ledger::open(db).await?;
        let problem = organisation_problem(
            &ledger.projections().await?.referential,
            organisation,
            *role,
            *external,
        );
        ledger.store().shutdown().await;
        if let Some(problem) = problem {
            eprintln!("{problem}");
            return Ok(ExitCode::from(1));
        }
    }
    let store = Store::open(db).await?;
    let code = match args.action {
        TokensAction::Create {
            person,
            organisation,
            role,
            ..
        } => {
            let created = store
                .create_token(&person, &organisation, role.as_str())
                .await?;
            eprintln!(
                "token {} for {} ({}, {}) — keep the secret below: it will not be shown again",
                created.record.token_id,
                created.record.person,
                created.record.organisation,
                created.record.role
            );
            println!("{}", created.secret);
            ExitCode::SUCCESS
        }
        TokensAction::List => {
            for token in store.list_tokens().await? {
                println!(
                    "{}\t{}\t{}\t{}\tcreated {}\t{}",
                    token.token_id,
                    escape_controls(&token.role),
                    escape_controls(&token.organisation),
                    escape_controls(&token.person),
                    token.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    token
                        .revoked_at
                        .map(|t| format!("revoked {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
                        .unwrap_or_else(|| "active".to_string())
                );
            }
            ExitCode::SUCCESS
        }
        TokensAction::Revoke { token_id } => {
            let revoked = store
                .revoke_token(token_id)
                .await
                .context("revoking the token")?;
            if revoked {
                println!("token {token_id} revoked");
                ExitCode::SUCCESS
            } else {
                eprintln!("no active token {token_id}: see `engagements tokens list`");
                ExitCode::from(1)
            }
        }
    };
    store.shutdown().await;
    Ok(code)
}
