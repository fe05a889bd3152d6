//! `engagements persons list|erase`: the names of the persons the log names by pseudonymous id,
//! kept outside the hash-chained log so that they can be erased (docs/personal-data.md).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use engagements_app::command_json::escape_controls;
use engagements_store::persons::is_person_id;
use engagements_store::persons::ERASED;
use engagements_store::Store;

#[derive(Debug, Args)]
pub struct PersonsArgs {
    #[command(subcommand)]
    pub action: PersonsAction,
}

#[derive(Debug, Subcommand)]
pub enum PersonsAction {
    /// List every person: id, name (or « personne effacée »), when first named, when erased.
    List,
    /// Erase a person's name: events keep the pseudonymous id, the chain stays verifiable, and
    /// every page, history and new bundle then reads « personne effacée ».
    Erase {
        /// The person's id (`person-…`, see `engagements persons list`).
        person_id: String,
    },
}

pub async fn run(db: &str, args: PersonsArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        PersonsAction::List => {
            let store = Store::open_existing(db).await?;
            let persons = store.list_persons().await;
            store.shutdown().await;
            for person in persons? {
                println!(
                    "{}\t{}\tnamed since {}\t{}",
                    person.person_id,
                    person
                        .name
                        .as_deref()
                        .map(escape_controls)
                        .unwrap_or_else(|| ERASED.to_string()),
                    person.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    person
                        .erased_at
                        .map(|t| format!("erased {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PersonsAction::Erase { person_id } => {
            if !is_person_id(&person_id) {
                eprintln!(
                    "'{person_id}' is not a person id (person-…): see `engagements persons list`"
                );
                return Ok(ExitCode::from(1));
            }
            let store = Store::open(db).await?;
            let erased = store.erase_person(&person_id).await;
            store.shutdown().await;
            match erased? {
                Some(_) => {
                    println!("{person_id}: name erased; the events keep the id, the chain is unchanged (run `engagements verify`)");
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("{person_id}: no such person, or already erased: see `engagements persons list`");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
