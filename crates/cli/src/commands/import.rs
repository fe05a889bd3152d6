//! `engagements import KIND FILE`: record a file users already keep, all or nothing.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use engagements_app::auth::{Principal, Role};
use engagements_app::{Ledger, MetaDefaults};
use engagements_interop::import::etat::{
    import_extract, read_extract, Extract, ExtractImportError, ExtractOptions, UNMATCHED_LISTED_MAX,
};
use engagements_interop::import::sheet::Sheet;
use engagements_interop::import::tfpb::{
    import_tfpb_sheet, read_tfpb, TfpbImportError, FILE_BYTES_MAX,
};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub kind: ImportKind,
}

/// What the file holds.
#[derive(Debug, Subcommand)]
pub enum ImportKind {
    /// A bailleur's TFPB actions, one row per action (columns: docs/imports.md).
    Tfpb(TfpbArgs),
    /// The comité's programmation sheet, one row per dossier and financeur (CSV or XLSX;
    /// columns: docs/imports.md).
    Programmation(ProgrammationArgs),
    /// A GISPRO extract (the State's payment side): its EJ Chorus, Dauphin and project codes are
    /// recorded on the dossiers they match (CSV or XLSX; columns: docs/imports.md).
    Gispro(ExtractArgs),
    /// ANCT's programme 147 extract: its Dauphin codes are recorded on the dossiers they match
    /// (CSV or XLSX; columns: docs/imports.md).
    Anct(AnctArgs),
    /// Comptes rendus financiers received (Cerfa 15059), one row per dossier and financeur
    /// (CSV or XLSX; columns: docs/imports.md).
    Crf(ProgrammationArgs),
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The extract: XLSX, or CSV (`;`, tab or `,` separated; UTF-8, UTF-16 or Windows-1252).
    pub file: std::path::PathBuf,
    /// The workbook's sheet to read; else the first sheet whose header is the extract's.
    #[arg(long)]
    pub sheet: Option<String>,
    /// The exercice of the extract's rows (the State's extracts are one year each); required
    /// unless the file has an `exercice` column.
    #[arg(long)]
    pub exercice: Option<i32>,
}

#[derive(Debug, Args)]
pub struct AnctArgs {
    #[command(flatten)]
    pub extract: ExtractArgs,
    /// Keep only the rows of this contrat de ville (its `Code contrat ville`); the others are
    /// counted and left aside.
    #[arg(long)]
    pub contrat_ville: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProgrammationArgs {
    /// The sheet: XLSX, or CSV (`;`, tab or `,` separated; UTF-8, UTF-16 or Windows-1252).
    pub file: std::path::PathBuf,
    /// The workbook's sheet to read; else the first sheet whose header is a programmation's.
    #[arg(long)]
    pub sheet: Option<String>,
}

#[derive(Debug, Args)]
pub struct TfpbArgs {
    /// The file: XLSX, or CSV (`;`, tab or `,` separated; UTF-8, UTF-16 or Windows-1252).
    pub file: std::path::PathBuf,
    /// The workbook's sheet to read; else the first sheet whose header is a TFPB file's.
    #[arg(long)]
    pub sheet: Option<String>,
    /// The bailleur whose actions these are (an organisation id of the referential).
    #[arg(long)]
    pub bailleur: String,
}

pub async fn run(
    db: &str,
    args: ImportArgs,
    defaults: &MetaDefaults,
    role: Role,
) -> anyhow::Result<ExitCode> {
    let principal = Principal {
        person: defaults.actor.person.clone(),
        organisation: defaults.actor.organisation.clone(),
        role,
    };
    if role != Role::Admin && !matches!(args.kind, ImportKind::Tfpb(_)) {
        anyhow::bail!(
            "the programmation sheet and the State's extracts are imported by an admin (the contract's team): run without --role {}",
            role.as_str()
        );
    }
    match args.kind {
        ImportKind::Tfpb(args) => run_tfpb(db, args, defaults, &principal).await,
        ImportKind::Programmation(args) => run_programmation(db, args, defaults).await,
        ImportKind::Crf(args) => run_crf(db, args, defaults).await,
        ImportKind::Gispro(args) => run_extract(db, Extract::Gispro, args, None, defaults).await,
        ImportKind::Anct(args) => {
            run_extract(
                db,
                Extract::Anct,
                args.extract,
                args.contrat_ville,
                defaults,
            )
            .await
        }
    }
}

async fn run_tfpb(
    db: &str,
    args: TfpbArgs,
    defaults: &MetaDefaults,
    principal: &Principal,
) -> anyhow::Result<ExitCode> {
    let file = args.file.display().to_string();
    let bytes = read_file(&args.file)?;
    let sheet = match read_tfpb(&bytes, args.sheet.as_deref()) {
        Ok(sheet) => sheet,
        Err(error) => {
            eprintln!("{file}: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    eprintln!("{file}: read as {}", sheet.source);
    let ledger = Ledger::open(db).await?;
    let outcome = import_tfpb_sheet(&ledger, &sheet, &args.bailleur, principal, defaults).await;
    ledger.store().shutdown().await;
    match outcome {
        Ok(report) => {
            println!(
                "{file}: {} rows imported for {}: {} actions, {} spendings, {} abatements, {} programmes (bailleur × QPV × year)",
                report.rows,
                args.bailleur,
                report.actions,
                report.spendings,
                report.abatements,
                report.programmes.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(TfpbImportError::Rows(problems)) => {
            for problem in &problems {
                eprintln!("{file}: {problem}");
            }
            eprintln!("{file}: {} problem(s), nothing recorded", problems.len());
            Ok(ExitCode::from(1))
        }
        Err(error) => {
            eprintln!("{file}: {error}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn run_programmation(
    db: &str,
    args: ProgrammationArgs,
    defaults: &MetaDefaults,
) -> anyhow::Result<ExitCode> {
    use engagements_interop::import::programmation::{
        import_programmation, read_programmation, ProgrammationImportError,
    };
    let file = args.file.display().to_string();
    let bytes = read_file(&args.file)?;
    let sheet = match read_programmation(&bytes, args.sheet.as_deref()) {
        Ok(sheet) => sheet,
        Err(error) => {
            eprintln!("{file}: {error}; nothing recorded");
            return Ok(ExitCode::from(1));
        }
    };
    eprintln!("{file}: read as {}", sheet.source);
    let ledger = Ledger::open(db).await?;
    let outcome = import_programmation(&ledger, &sheet, defaults).await;
    ledger.store().shutdown().await;
    match outcome {
        Ok(report) if report.nothing_new() => {
            println!(
                "{file}: {} rows, {} dossiers already recorded: nothing new, nothing recorded",
                report.rows, report.dossiers_known
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(report) => {
            println!(
                "{file}: {} rows imported: {} porteurs registered, {} dossiers, {} opinions, {} decisions, {} identifiers{}",
                report.rows,
                report.porteurs_registered,
                report.dossiers,
                report.opinions,
                report.decisions,
                report.identifiers,
                if report.dossiers_known > 0 {
                    format!(" ({} dossiers were already recorded)", report.dossiers_known)
                } else {
                    String::new()
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ProgrammationImportError::Rows(problems)) => {
            for problem in &problems {
                eprintln!("{file}: {problem}");
            }
            eprintln!("{file}: {} problem(s), nothing recorded", problems.len());
            Ok(ExitCode::from(1))
        }
        Err(error) => {
            eprintln!("{file}: {error}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn run_crf(
    db: &str,
    args: ProgrammationArgs,
    defaults: &MetaDefaults,
) -> anyhow::Result<ExitCode> {
    use engagements_interop::import::crf::{import_crf, read_crf, CrfImportError};
    let file = args.file.display().to_string();
    let bytes = read_file(&args.file)?;
    let sheet = match read_crf(&bytes, args.sheet.as_deref()) {
        Ok(sheet) => sheet,
        Err(error) => {
            eprintln!("{file}: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    eprintln!("{file}: read as {}", sheet.source);
    let ledger = Ledger::open(db).await?;
    let outcome = import_crf(&ledger, &sheet, defaults).await;
    ledger.store().shutdown().await;
    match outcome {
        Ok(report) => {
            println!(
                "{file}: {} rows: {} CRF recorded, {} already recorded",
                report.rows, report.recorded, report.known
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(CrfImportError::Rows(problems)) => {
            for problem in &problems {
                eprintln!("{file}: {problem}");
            }
            eprintln!("{file}: {} problem(s), nothing recorded", problems.len());
            Ok(ExitCode::from(1))
        }
        Err(error) => {
            eprintln!("{file}: {error}");
            Ok(ExitCode::from(1))
        }
    }
}

/// A file's bytes, refused above [`FILE_BYTES_MAX`] before it is read.
fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let file = path.display().to_string();
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {file}"))?
        .len();
    anyhow::ensure!(
        size <= FILE_BYTES_MAX as u64,
        "{file} is {size} bytes, above the limit of {FILE_BYTES_MAX}: split it"
    );
    std::fs::read(path).with_context(|| format!("cannot read {file}"))
}

/// Reads an extract (XLSX or CSV text in a known encoding) and says how it was read.
fn read_sheet(extract: Extract, args: &ExtractArgs) -> anyhow::Result<Sheet> {
    let file = args.file.display().to_string();
    let bytes = read_file(&args.file)?;
    let sheet = read_extract(extract, &bytes, args.sheet.as_deref())
        .with_context(|| format!("cannot read {file}"))?;
    eprintln!("{file}: read as {}", sheet.source);
    Ok(sheet)
}

async fn run_extract(
    db: &str,
    extract: Extract,
    args: ExtractArgs,
    contrat_ville: Option<String>,
    defaults: &MetaDefaults,
) -> anyhow::Result<ExitCode> {
    let file = args.file.display().to_string();
    let sheet = read_sheet(extract, &args)?;
    let options = ExtractOptions {
        exercice: args.exercice,
        contrat_ville,
    };
    let ledger = Ledger::open(db).await?;
    let outcome = import_extract(&ledger, extract, &sheet, &options, defaults).await;
    ledger.store().shutdown().await;
    match outcome {
        Ok(report) => {
            let recorded = if report.identifiers_recorded == 0 {
                "nothing new, nothing recorded".to_string()
            } else {
                format!("{} identifiers recorded", report.identifiers_recorded)
            };
            println!(
                "{file}: {} rows: {} attached to {} dossiers, {recorded}; {} unmatched{}",
                report.rows,
                report.matched,
                report.dossiers.len(),
                report.unmatched.len(),
                if report.other_contracts > 0 {
                    format!(
                        "; {} of other contrats de ville left aside",
                        report.other_contracts
                    )
                } else {
                    String::new()
                }
            );
            for row in report.unmatched.iter().take(UNMATCHED_LISTED_MAX) {
                let about = if row.about.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", row.about)
                };
                println!(
                    "{file}: line {}: unmatched: no dossier of the ledger carries {}{about}; nothing recorded for it",
                    row.line, row.identifiers
                );
            }
            if report.unmatched.len() > UNMATCHED_LISTED_MAX {
                println!(
                    "{file}: … and {} more unmatched rows",
                    report.unmatched.len() - UNMATCHED_LISTED_MAX
                );
            }
            for note in &report.notes {
                println!("{file}: note: {note}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ExtractImportError::Rows(problems)) => {
            for problem in &problems {
                eprintln!("{file}: {problem}");
            }
            eprintln!("{file}: {} problem(s), nothing recorded", problems.len());
            Ok(ExitCode::from(1))
        }
        Err(error) => {
            eprintln!("{file}: {error}");
            Ok(ExitCode::from(1))
        }
    }
}
